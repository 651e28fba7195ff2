import Foundation
import Testing
@testable import VigilSync

/// A clock tests move by hand.
final class TestClock: @unchecked Sendable {
    // @unchecked Sendable: tests touch it from one task at a time.
    var now = Date(timeIntervalSince1970: 1_800_000_000)
}

let testSubject = FHIRSubject(patientReference: "Patient/pseudo-1", deviceReference: "Device/vigil-test")

func tempDir() -> URL {
    FileManager.default.temporaryDirectory.appendingPathComponent("vigil-sync-tests-\(UUID().uuidString)/state")
}

func makeStore(_ dir: URL = tempDir(), cap: Int = 1 << 20, ttl: TimeInterval = 3600, alertTTL: TimeInterval? = nil,
               clock: TestClock = TestClock()) throws -> OutboxStore {
    try OutboxStore(directory: dir, byteCap: cap, ttl: ttl, subject: testSubject, alertTTL: alertTTL, clock: { clock.now })
}

func hr(_ k: Int) -> OutboxItem { .vital(.heartRate(60), time: Date(timeIntervalSince1970: 1_800_000_000), note: "t\(k)") }
func alarm(_ k: Int) -> OutboxItem {
    .alert(AlertEvent(alarmID: "a\(k)", condition: "hr-high", priority: .high, state: "active",
                      message: "a\(k)", time: Date(timeIntervalSince1970: 1_800_000_000)))
}
func prediction(_ k: Int) -> OutboxItem {
    .prediction(ModelPrediction(model: ModelIdentity(id: "ecg", version: "1.0", digest: "ab"), label: "p\(k)",
                                scores: [ClassScore(label: "p\(k)", score: 0.9)], time: Date(timeIntervalSince1970: 1_800_000_000)))
}

func tag(_ item: OutboxItem) -> String {
    switch item.event {
    case .vital(let v): v.note ?? ""
    case .alert(let a): a.message
    case .prediction(let p): p.label
    case .outboxStatus: "status"
    }
}

/// Accounted size of one entry like `item`, measured by storing it in a scratch outbox.
func entrySize(_ item: OutboxItem) throws -> Int {
    let s = try makeStore()
    try s.enqueue(item)
    return try s.statistics().pendingBytes
}

@Suite struct OutboxStoreTests {
    @Test func uploadOrderIsAlertsThenPredictionsThenTelemetryOldestFirst() throws {
        let s = try makeStore()
        for item in [hr(1), prediction(2), alarm(3), hr(4), alarm(5)] { try s.enqueue(item) }
        #expect(try s.pendingItems().map(tag) == ["a3", "a5", "p2", "t1", "t4"])
        let stats = try s.statistics()
        #expect(stats.pendingCount == 5)
        #expect(stats.pendingByPriority[.alert] == 2)
    }

    @Test func capEvictsOldestTelemetryAndNeverAlerts() throws {
        let size = try entrySize(hr(10))
        let s = try makeStore(cap: size * 10)
        for k in 10..<30 { try s.enqueue(hr(k)) }
        var stats = try s.statistics()
        #expect(stats.pendingCount == 10)
        #expect(stats.pendingBytes <= size * 10)
        #expect(stats.losses.evicted["telemetry"] == 10)
        #expect(try s.pendingItems().map(tag) == (20..<30).map { "t\($0)" })

        // Alerts push out all telemetry, then exceed the cap rather than evict an alert.
        for k in 0..<15 {
            let r = try s.enqueue(alarm(k))
            #expect(r.stored)
        }
        stats = try s.statistics()
        #expect(stats.pendingByPriority[.alert] == 15)
        #expect(stats.pendingByPriority[.telemetry] == nil)
        #expect(stats.losses.evicted["telemetry"] == 20)
        #expect(stats.losses.evicted["alert"] == nil)
        #expect(stats.losses.alertsOverCap > 0)

        // Telemetry cannot evict alerts: it is refused and counted.
        let r = try s.enqueue(hr(99))
        #expect(!r.stored)
        stats = try s.statistics()
        #expect(stats.losses.dropped["telemetry"] == 1)
        #expect(stats.pendingByPriority[.alert] == 15)
        #expect(stats.losses.total == 20 + 1 + stats.losses.alertsOverCap)
    }

    @Test func predictionEvictsTelemetryBeforeOlderPredictions() throws {
        let size = max(try entrySize(prediction(0)), try entrySize(hr(0)))
        let s = try makeStore(cap: size * 4)
        try s.enqueue(prediction(0))
        try s.enqueue(hr(1))
        try s.enqueue(prediction(2))
        try s.enqueue(hr(3))
        try s.enqueue(prediction(4))
        try s.enqueue(prediction(5))
        let tags = try s.pendingItems().map(tag)
        #expect(!tags.contains("t1") && !tags.contains("t3"))
        #expect(tags.contains("p5") && tags.contains("p4"))
        let stats = try s.statistics()
        #expect(stats.losses.evicted["telemetry"] == 2)
        #expect((stats.losses.evicted["prediction"] ?? 0) == 6 - 2 - stats.pendingCount)
    }

    @Test func ttlExpiresTelemetryButNotAlertsByDefault() throws {
        let clock = TestClock()
        let s = try makeStore(ttl: 60, clock: clock)
        try s.enqueue(hr(1))
        try s.enqueue(alarm(2))
        try s.enqueue(prediction(3))
        clock.now += 61
        try s.purgeExpired()
        #expect(try s.pendingItems().map(tag) == ["a2"])
        let losses = try s.statistics().losses
        #expect(losses.expired == ["telemetry": 1, "prediction": 1])
    }

    @Test func alertTTLWhenConfigured() throws {
        let clock = TestClock()
        let s = try makeStore(ttl: 60, alertTTL: 120, clock: clock)
        try s.enqueue(alarm(1))
        clock.now += 100
        try s.enqueue(hr(2)) // enqueue purges too
        #expect(try s.pendingItems().count == 2)
        clock.now += 30 // alert (120 s) expired; t2 (60 s from +100) not yet
        try s.enqueue(hr(3))
        #expect(try s.pendingItems().map(tag) == ["t2", "t3"])
        #expect(try s.statistics().losses.expired == ["alert": 1])
        clock.now += 31
        try s.purgeExpired()
        #expect(try s.pendingItems().map(tag) == ["t3"])
        #expect(try s.statistics().losses.expired == ["alert": 1, "telemetry": 1])
    }

    @Test func lossesAreReportedOnceAsAStatusEntry() throws {
        let size = try entrySize(hr(0))
        let s = try makeStore(cap: size * 3)
        for k in 0..<5 { try s.enqueue(hr(k)) }
        #expect(try s.enqueueStatusReportIfNeeded())
        #expect(try !s.enqueueStatusReportIfNeeded())
        let status = try s.pendingItems().compactMap { item -> OutboxLossCounts? in
            if case .outboxStatus(let r) = item.event { return r.counts }
            return nil
        }
        #expect(status.count == 1)
        #expect(status.first?.evicted["telemetry"] == 2)
        // The report is a prediction-priority entry: it leaves before telemetry.
        #expect(try s.pendingItems().first?.priority == .prediction)
    }

    @Test func deadLetterKeepsOutcomeAndRemovesEntry() throws {
        let s = try makeStore()
        try s.enqueue(alarm(1))
        try s.enqueue(hr(2))
        let batch = try s.pendingBatch(limit: 10)
        try s.deadLetter(batch[1], status: 422, outcome: #"{"resourceType":"OperationOutcome"}"#)
        try s.markSent([batch[0].seq])
        let stats = try s.statistics()
        #expect(stats.pendingCount == 0)
        #expect(stats.sent == 1)
        #expect(stats.deadLetterCount == 1)
        #expect(stats.losses.deadLettered == 1)
        let dead = try s.deadLetters()
        #expect(dead.map(\.id) == [batch[1].id])
        #expect(dead.first?.status == 422)
        #expect(dead.first?.outcome.contains("OperationOutcome") == true)
        #expect(dead.first?.item.map(tag) == "t2")
    }

    @Test func checkpointIsStoredWithTheEntryAndSurvivesReopen() throws {
        let dir = tempDir()
        do {
            let s = try makeStore(dir)
            try s.enqueue(hr(1), checkpoint: OutboxCheckpoint(key: "producer", value: 42))
        }
        let s = try makeStore(dir)
        #expect(try s.checkpoint("producer") == 42)
        #expect(try s.checkpoint("other") == nil)
        #expect(try s.statistics().pendingCount == 1)
    }

    @Test func duplicateIdIsRefused() throws {
        let s = try makeStore()
        let item = hr(1)
        try s.enqueue(item)
        #expect(throws: SyncError.self) { try s.enqueue(item) }
        #expect(try s.statistics().pendingCount == 1)
    }

    @Test func nonFiniteValueIsRefused() throws {
        let s = try makeStore()
        #expect(throws: SyncError.self) { try s.enqueue(.vital(.heartRate(.nan), time: Date())) }
    }

    @Test func filesAreCreatedPrivate() throws {
        let dir = tempDir()
        let s = try makeStore(dir)
        try s.enqueue(alarm(1))
        func mode(_ path: String) throws -> Int {
            (try FileManager.default.attributesOfItem(atPath: path)[.posixPermissions] as? Int ?? -1) & 0o777
        }
        #expect(try mode(dir.path) == 0o700)
        #expect(try mode(s.databasePath) == 0o600)
        #expect(try mode(s.databasePath + "-wal") == 0o600)
    }

    @Test func adoptsAnOutboxWrittenByTheGRDBStoreAndRefusesANewerSchema() throws {
        // A file as the GRDB-based store left it: the v1 schema plus GRDB's migrations table,
        // user_version 0, one pending alert.
        let dir = tempDir()
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let path = dir.appendingPathComponent("outbox.sqlite").path
        do {
            let c = try SQLiteConnection(path: path)
            try c.executeScript(OutboxStore.schemaV1 + """
                CREATE TABLE grdb_migrations (identifier TEXT NOT NULL PRIMARY KEY);
                INSERT INTO grdb_migrations VALUES ('v1');
                """)
        }
        do {
            let old = try makeStore(dir)
            try old.enqueue(alarm(1))
            try old.database.withConnection { try $0.execute("PRAGMA user_version = 0") }
        }
        let s = try makeStore(dir)
        #expect(try s.statistics().pendingCount == 1)
        try s.enqueue(alarm(2))
        #expect(try s.pendingItems().count == 2)
        #expect(try s.database.withConnection { try $0.int("PRAGMA user_version") } == OutboxStore.schemaVersion)

        try s.database.withConnection { try $0.execute("PRAGMA user_version = \(OutboxStore.schemaVersion + 1)") }
        #expect(throws: SyncError.self) { try makeStore(dir) }
    }

    @Test func alertWriteRestoresNormalSynchronous() throws {
        let s = try makeStore()
        try s.enqueue(alarm(1))
        let mode = try s.database.withConnection { db in try db.int("PRAGMA synchronous") }
        #expect(mode == 1) // NORMAL
        let journal = try s.database.withConnection { db in try db.query("PRAGMA journal_mode").first?.text(0) }
        #expect(journal == "wal")
    }

    @Test func backoffGrowsAndStaysWithinBounds() {
        var rng = SystemRandomNumberGenerator()
        let b = Backoff(base: 0.5, max: 8)
        for attempt in 1...10 {
            let d = min(8, 0.5 * pow(2, Double(attempt - 1)))
            let x = b.delay(attempt: attempt, using: &rng)
            #expect(x >= d / 2 && x <= d)
        }
    }
}

@Suite struct OutboxOpenRaceTests {
    /// Two connections opening the same new outbox at once (the agent's writer and a `status`
    /// reader): the loser of the WAL switch gets SQLITE_BUSY without SQLite's busy handler, and
    /// must retry rather than fail. Without the retry 3 of 180 opens failed here.
    @Test func concurrentOpensOfANewOutboxAllSucceed() throws {
        let rounds = 60
        let failures = LockedBox<[String]>([])
        for _ in 0..<rounds {
            let dir = tempDir()
            try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
            DispatchQueue.concurrentPerform(iterations: 3) { _ in
                do {
                    let store = try makeStore(dir)
                    try store.enqueue(hr(1))
                } catch {
                    failures.withValue { $0.append("\(error)") }
                }
            }
            let store = try makeStore(dir)
            #expect(try store.statistics().pendingCount == 3)
            try? FileManager.default.removeItem(at: dir.deletingLastPathComponent())
        }
        #expect(failures.value == [])
    }
}
