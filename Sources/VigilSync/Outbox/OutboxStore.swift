import Foundation
import Logging

/// The FHIR references stamped on each entry when it is enqueued, so a backlog recorded before a
/// patient change is still attributed to the patient it was measured on.
public struct FHIRSubject: Sendable, Codable, Hashable {
    /// Pseudonymous patient reference, e.g. `Patient/bed-12-pseudo-7f3a`.
    public var patientReference: String
    /// The bedside device, e.g. `Device/vigil-0042`.
    public var deviceReference: String

    /// References.
    public init(patientReference: String, deviceReference: String) {
        self.patientReference = patientReference
        self.deviceReference = deviceReference
    }
}

/// What `enqueue` did with an item.
public struct EnqueueResult: Sendable, Hashable {
    /// False when a non-alert item was refused because nothing less or equally important could be
    /// evicted to make room (counted as `dropped`).
    public var stored: Bool
    /// How many older entries were evicted to make room.
    public var evicted: Int
    /// True when an alert was stored although the outbox is over its byte cap.
    public var overCap: Bool
}

/// A durable value written in the same transaction as an enqueue, so a producer can record how far
/// it got ("event k enqueued") atomically with the event itself and resume exactly after a crash.
public struct OutboxCheckpoint: Sendable, Hashable {
    /// Key, chosen by the producer.
    public var key: String
    /// Value.
    public var value: Int64

    /// A checkpoint.
    public init(key: String, value: Int64) {
        self.key = key
        self.value = value
    }
}

/// An entry rejected by the server, kept with the server's OperationOutcome.
public struct DeadLetter: Sendable, Hashable {
    /// The entry's UUID.
    public var id: UUID
    /// The original item (nil only if the stored payload could not be decoded).
    public var item: OutboxItem?
    /// HTTP status of the rejection (entry status or bundle status).
    public var status: Int
    /// The server's OperationOutcome (JSON text) or a local explanation.
    public var outcome: String
    /// When it was moved here.
    public var failedAt: Date
}

/// Counters and sizes of the outbox, read in one transaction.
public struct OutboxStatistics: Sendable, Hashable {
    /// Entries waiting for upload.
    public var pendingCount: Int
    /// Their accounted bytes (what the byte cap applies to).
    public var pendingBytes: Int
    /// Waiting entries per priority.
    public var pendingByPriority: [OutboxPriority: Int]
    /// Entries confirmed by the server since the store was created.
    public var sent: Int
    /// Entries in the dead-letter table.
    public var deadLetterCount: Int
    /// Cumulative losses.
    public var losses: OutboxLossCounts
    /// Last time the server confirmed a batch.
    public var lastSuccess: Date?
}

/// One pending row handed to the uploader.
struct PendingEntry: Sendable {
    var seq: Int64
    var id: UUID
    var priority: OutboxPriority
    var item: OutboxItem?
    var subject: FHIRSubject
    var rawPayload: Data
}

/// Durable store-and-forward outbox on SQLite (WAL), one connection (SQLite.swift says why not GRDB).
///
/// Durability: the database runs in WAL mode with `synchronous=NORMAL` on its single
/// connection. An enqueue of an alert switches that connection to `synchronous=FULL` for its own
/// transaction, so the WAL is fsynced before `enqueue` returns; since the WAL is sequential that
/// fsync also makes every earlier telemetry commit durable. Telemetry commits without fsync: a
/// process crash (kill -9) loses nothing committed (the WAL is in the page cache), a power cut may
/// lose the last telemetry commits since the previous fsync or checkpoint, never an alert.
///
/// Space: `byteCap` bounds the accounted bytes of pending entries (payload plus a fixed per-row
/// overhead). When an item does not fit, the oldest entries of the least important priority that
/// is not more important than the item are evicted first (telemetry, then predictions); alerts
/// are never evicted. An alert that still does not fit is stored anyway (counted as over-cap):
/// the cap gives way before an alarm is lost. Telemetry or a prediction that cannot fit is refused
/// and counted. Every eviction, refusal and expiry is counted in the `stats` table.
///
/// Files: the state directory is created 0700 and the database files 0600.
public final class OutboxStore: Sendable {
    /// Fixed per-row overhead added to the payload size for the byte cap (row header, indexes).
    public static let rowOverhead = 96

    /// Pending entries' byte budget.
    public let byteCap: Int
    /// Lifetime of telemetry and predictions; older entries are dropped and counted.
    public let ttl: TimeInterval
    /// Lifetime of alerts; nil keeps them until uploaded or dead-lettered.
    public let alertTTL: TimeInterval?
    /// Path of the SQLite file.
    public let databasePath: String

    let database: SerializedDatabase
    private let subjectBox: LockedBox<FHIRSubject>
    private let clock: @Sendable () -> Date
    private let logger: Logger

    /// Opens (creating if needed) the outbox in `directory`.
    /// - Parameters:
    ///   - directory: state directory; created 0700, tightened to 0700 if it exists.
    ///   - byteCap: budget for pending entries in bytes.
    ///   - ttl: lifetime of telemetry and predictions in seconds.
    ///   - subject: references stamped on entries enqueued from now on.
    ///   - alertTTL: lifetime of alerts; nil (default) never expires them.
    ///   - clock: wall clock used for TTL and timestamps (tests inject one).
    public init(directory: URL, byteCap: Int, ttl: TimeInterval, subject: FHIRSubject,
                alertTTL: TimeInterval? = nil, logger: Logger = Logger(label: "vigil.sync.outbox"),
                clock: @escaping @Sendable () -> Date = { Date() }) throws {
        guard byteCap > 0 else { throw SyncError(.configuration, "byteCap must be positive, got \(byteCap)") }
        guard ttl > 0 else { throw SyncError(.configuration, "ttl must be positive, got \(ttl)") }
        self.byteCap = byteCap
        self.ttl = ttl
        self.alertTTL = alertTTL
        self.clock = clock
        self.logger = logger
        self.subjectBox = LockedBox(subject)
        let dir = directory.path
        try Self.secureDirectory(dir)
        let path = directory.appendingPathComponent("outbox.sqlite").path
        self.databasePath = path
        // Create the file ourselves with 0600 before SQLite does: SQLite gives the -wal and -shm
        // files the main file's mode, so this also covers them, without touching the process umask.
        let fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0o600)
        guard fd >= 0 else { throw SyncError(.storage, "\(path): cannot create (errno \(errno))") }
        fchmod(fd, 0o600)
        close(fd)

        do {
            let connection = try SQLiteConnection(path: path)
            try Self.switchToWAL(connection)
            try connection.execute("PRAGMA synchronous = NORMAL")
            try Self.migrate(connection)
            database = SerializedDatabase(connection)
        } catch {
            throw SyncError(.storage, "\(path): \(error)")
        }
        for suffix in ["-wal", "-shm"] where FileManager.default.fileExists(atPath: path + suffix) {
            chmod(path + suffix, 0o600)
        }
    }

    private static func secureDirectory(_ dir: String) throws {
        var isDir: ObjCBool = false
        if FileManager.default.fileExists(atPath: dir, isDirectory: &isDir) {
            guard isDir.boolValue else { throw SyncError(.storage, "\(dir): exists and is not a directory") }
        } else {
            do {
                try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true,
                                                        attributes: [.posixPermissions: 0o700])
            } catch {
                throw SyncError(.storage, "\(dir): cannot create: \(error)")
            }
        }
        guard chmod(dir, 0o700) == 0 else { throw SyncError(.storage, "\(dir): cannot chmod 0700 (errno \(errno))") }
    }

    /// Schema version in `PRAGMA user_version`.
    static let schemaVersion = 1

    /// Creates the schema in an empty file. A file at version 0 that already has the `outbox` table
    /// was written by the GRDB-based store (same v1 schema, with a `grdb_migrations` table): it is
    /// adopted as is. A newer version is refused rather than misread.
    /// Puts the database in WAL mode. On a new file this needs an exclusive lock, and when two
    /// processes open the same new outbox at once (a writer and a `status` reader, say) SQLite
    /// answers SQLITE_BUSY at once, without its busy handler: one connection holds a shared lock
    /// and waits to escalate, so waiting could deadlock. The switch is retried with backoff
    /// for up to 10 s, as long as the busy timeout a locked database is waited for anyway.
    static func switchToWAL(_ connection: SQLiteConnection, deadline: TimeInterval = 10) throws {
        let start = Date()
        var pause: useconds_t = 2_000
        while true {
            do {
                let journal = try connection.query("PRAGMA journal_mode = WAL").first?.text(0)
                guard journal == "wal" else {
                    throw SQLiteError(code: 0, message: "cannot switch to WAL (journal_mode is \(journal ?? "unknown"))")
                }
                return
            } catch let error as SQLiteError where error.isBusy
                                                 && Date().timeIntervalSince(start) < deadline {
                usleep(pause + useconds_t.random(in: 0...pause))
                pause = min(pause * 2, 100_000)
            }
        }
    }

    private static func migrate(_ db: SQLiteConnection) throws {
        try db.transaction {
            let version = try db.int("PRAGMA user_version") ?? 0
            guard version <= schemaVersion else {
                throw SQLiteError(code: 0, message: "schema version \(version) is newer than this build's \(schemaVersion)")
            }
            guard version < schemaVersion else { return }
            let existing = try db.int("SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = 'outbox'") ?? 0
            if existing == 0 { try db.executeScript(schemaV1) }
            try db.execute("PRAGMA user_version = \(schemaVersion)")
        }
    }

    static let schemaV1 = """
                CREATE TABLE outbox (
                    seq INTEGER PRIMARY KEY AUTOINCREMENT,
                    id TEXT NOT NULL UNIQUE,
                    priority INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    patient_ref TEXT NOT NULL,
                    device_ref TEXT NOT NULL,
                    bytes INTEGER NOT NULL,
                    created_at REAL NOT NULL,
                    expires_at REAL
                );
                CREATE INDEX outbox_order ON outbox(priority, seq);
                CREATE INDEX outbox_expiry ON outbox(expires_at) WHERE expires_at IS NOT NULL;
                CREATE TABLE dead_letter (
                    id TEXT PRIMARY KEY,
                    priority INTEGER NOT NULL,
                    payload BLOB NOT NULL,
                    patient_ref TEXT NOT NULL,
                    device_ref TEXT NOT NULL,
                    http_status INTEGER NOT NULL,
                    outcome TEXT NOT NULL,
                    failed_at REAL NOT NULL
                );
                CREATE TABLE stats (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                CREATE TABLE checkpoint (key TEXT PRIMARY KEY, value INTEGER NOT NULL) WITHOUT ROWID;
                INSERT INTO stats(key, value) VALUES ('pending_count', 0), ('pending_bytes', 0);
                CREATE TRIGGER outbox_added AFTER INSERT ON outbox BEGIN
                    UPDATE stats SET value = value + 1 WHERE key = 'pending_count';
                    UPDATE stats SET value = value + NEW.bytes WHERE key = 'pending_bytes';
                END;
                CREATE TRIGGER outbox_removed AFTER DELETE ON outbox BEGIN
                    UPDATE stats SET value = value - 1 WHERE key = 'pending_count';
                    UPDATE stats SET value = value - OLD.bytes WHERE key = 'pending_bytes';
                END;
                """

    /// References stamped on entries enqueued from now on (change it on a patient change).
    public var subject: FHIRSubject {
        get { subjectBox.value }
        set { subjectBox.value = newValue }
    }

    // MARK: - Enqueue

    /// Stores an item durably (fsync for alerts), applying TTL expiry and the cap policy.
    @discardableResult
    public func enqueue(_ item: OutboxItem) throws -> EnqueueResult {
        try enqueue(item, checkpoint: nil)
    }

    /// Stores an item and, in the same transaction, a producer checkpoint.
    @discardableResult
    public func enqueue(_ item: OutboxItem, checkpoint: OutboxCheckpoint?) throws -> EnqueueResult {
        try item.validate()
        let payload: Data
        do { payload = try Self.encoder.encode(item) } catch {
            throw SyncError(.invalidEvent, "item \(item.id): cannot encode: \(error)")
        }
        let subject = self.subject
        let bytes = payload.count + subject.patientReference.utf8.count + subject.deviceReference.utf8.count
            + Self.rowOverhead
        let now = clock()
        let priority = item.priority
        let life = priority == .alert ? alertTTL : ttl
        let durable = priority == .alert
        do {
            return try database.withConnection { db in
                if durable { try db.execute("PRAGMA synchronous = FULL") }
                defer { if durable { _ = try? db.execute("PRAGMA synchronous = NORMAL") } }
                return try db.transaction {
                    try Self.purgeExpired(db, now: now)
                    var result = EnqueueResult(stored: true, evicted: 0, overCap: false)
                    let pendingBytes = try Self.stat(db, "pending_bytes")
                    if pendingBytes + bytes > byteCap {
                        result = try self.makeRoom(db, priority: priority, need: pendingBytes + bytes - byteCap)
                        if !result.stored {
                            try Self.bump(db, "dropped_\(priority.name)")
                            if let checkpoint { try Self.setCheckpoint(db, checkpoint) }
                            return result
                        }
                        if result.overCap { try Self.bump(db, "alerts_over_cap") }
                    }
                    try db.execute("""
                        INSERT INTO outbox(id, priority, payload, patient_ref, device_ref, bytes, created_at, expires_at)
                        VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                        """, [.text(item.id.uuidString.lowercased()), .int(priority.rawValue), .blob(payload),
                              .text(subject.patientReference), .text(subject.deviceReference), .int(bytes),
                              .real(now.timeIntervalSince1970), .optionalReal(life.map { now.timeIntervalSince1970 + $0 })])
                    if let checkpoint { try Self.setCheckpoint(db, checkpoint) }
                    return result
                }
            }
        } catch let e as SyncError {
            throw e
        } catch let e as SQLiteError where e.isConstraintViolation {
            throw SyncError(.invalidEvent, "item \(item.id): already in the outbox (\(e.message))")
        } catch {
            throw SyncError(.storage, "\(databasePath): enqueue \(item.id): \(error)")
        }
    }

    /// Evicts the oldest entries of the least important evictable priority until `need` bytes are
    /// free. Alerts are never candidates. A non-alert item only evicts entries of its own priority
    /// or less important ones, and evicts nothing unless that frees enough (refused instead).
    private func makeRoom(_ db: SQLiteConnection, priority: OutboxPriority, need: Int) throws -> EnqueueResult {
        let floor = max(priority.rawValue, OutboxPriority.prediction.rawValue)
        var victims: [Int64] = []
        var victimPriorities: [Int] = []
        var freed = 0
        // One index-ordered scan per priority, least important first (no sort over the table).
        for p in OutboxPriority.allCases.reversed() where p.rawValue >= floor && freed < need {
            try db.forEachRow("SELECT seq, bytes FROM outbox WHERE priority = ? ORDER BY seq", [.int(p.rawValue)]) { row in
                victims.append(row.int64(0))
                victimPriorities.append(p.rawValue)
                freed += row.int(1)
                return freed < need
            }
        }
        if freed < need && priority != .alert {
            return EnqueueResult(stored: false, evicted: 0, overCap: false)
        }
        for chunk in stride(from: 0, to: victims.count, by: 500) {
            let part = Array(victims[chunk..<min(chunk + 500, victims.count)])
            try db.execute("DELETE FROM outbox WHERE seq IN (\(part.map { String($0) }.joined(separator: ",")))")
        }
        for p in OutboxPriority.allCases {
            let n = victimPriorities.filter { $0 == p.rawValue }.count
            if n > 0 { try Self.bump(db, "evicted_\(p.name)", by: n) }
        }
        if !victims.isEmpty {
            logger.warning("outbox full: evicted entries", metadata: ["evicted": "\(victims.count)", "for": "\(priority.name)"])
        }
        return EnqueueResult(stored: true, evicted: victims.count, overCap: freed < need)
    }

    private static func purgeExpired(_ db: SQLiteConnection, now: Date) throws {
        let t = now.timeIntervalSince1970
        let rows = try db.query("""
            SELECT priority, COUNT(*) AS n FROM outbox WHERE expires_at IS NOT NULL AND expires_at <= ? GROUP BY priority
            """, [.real(t)])
        guard !rows.isEmpty else { return }
        try db.execute("DELETE FROM outbox WHERE expires_at IS NOT NULL AND expires_at <= ?", [.real(t)])
        for row in rows {
            let p = OutboxPriority(rawValue: row.int(0)) ?? .telemetry
            try bump(db, "expired_\(p.name)", by: row.int(1))
        }
    }

    /// Drops entries past their TTL now (also done on every enqueue and before every upload batch).
    public func purgeExpired() throws {
        let now = clock()
        do { try database.write { db in try Self.purgeExpired(db, now: now) } } catch {
            throw SyncError(.storage, "\(databasePath): purge: \(error)")
        }
    }

    // MARK: - Checkpoints

    /// The producer checkpoint stored under `key`, if any.
    public func checkpoint(_ key: String) throws -> Int64? {
        do {
            return try database.read { db in
                try db.query("SELECT value FROM checkpoint WHERE key = ?", [.text(key)]).first?.int64(0)
            }
        } catch { throw SyncError(.storage, "\(databasePath): checkpoint \(key): \(error)") }
    }

    private static func setCheckpoint(_ db: SQLiteConnection, _ c: OutboxCheckpoint) throws {
        try db.execute("INSERT INTO checkpoint(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                       [.text(c.key), .integer(c.value)])
    }

    // MARK: - Counters

    static func stat(_ db: SQLiteConnection, _ key: String) throws -> Int {
        try db.int("SELECT value FROM stats WHERE key = ?", [.text(key)]) ?? 0
    }

    static func bump(_ db: SQLiteConnection, _ key: String, by n: Int = 1) throws {
        try db.execute("INSERT INTO stats(key, value) VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = value + excluded.value",
                       [.text(key), .int(n)])
    }

    static func lossCounts(_ db: SQLiteConnection) throws -> OutboxLossCounts {
        var c = OutboxLossCounts()
        let rows = try db.query("SELECT key, value FROM stats")
        var map: [String: Int] = [:]
        for r in rows { map[r.text(0)] = r.int(1) }
        for p in OutboxPriority.allCases {
            if let v = map["evicted_\(p.name)"], v > 0 { c.evicted[p.name] = v }
            if let v = map["dropped_\(p.name)"], v > 0 { c.dropped[p.name] = v }
            if let v = map["expired_\(p.name)"], v > 0 { c.expired[p.name] = v }
        }
        c.deadLettered = map["dead_lettered"] ?? 0
        c.alertsOverCap = map["alerts_over_cap"] ?? 0
        return c
    }

    /// Counters, sizes and the last success time.
    public func statistics() throws -> OutboxStatistics {
        do {
            return try database.read { db in
                var byPriority: [OutboxPriority: Int] = [:]
                for row in try db.query("SELECT priority, COUNT(*) AS n FROM outbox GROUP BY priority") {
                    if let p = OutboxPriority(rawValue: row.int(0)) { byPriority[p] = row.int(1) }
                }
                let last = try Self.stat(db, "last_success_ms")
                return OutboxStatistics(
                    pendingCount: try Self.stat(db, "pending_count"),
                    pendingBytes: try Self.stat(db, "pending_bytes"),
                    pendingByPriority: byPriority,
                    sent: try Self.stat(db, "sent"),
                    deadLetterCount: try db.int("SELECT COUNT(*) FROM dead_letter") ?? 0,
                    losses: try Self.lossCounts(db),
                    lastSuccess: last > 0 ? Date(timeIntervalSince1970: Double(last) / 1000) : nil)
            }
        } catch { throw SyncError(.storage, "\(databasePath): statistics: \(error)") }
    }

    /// Every pending item in upload order (alerts first, then by age). For tools and tests.
    public func pendingItems() throws -> [OutboxItem] {
        try pendingBatch(limit: Int.max).compactMap(\.item)
    }

    /// The dead-letter table, oldest first.
    public func deadLetters() throws -> [DeadLetter] {
        do {
            return try database.read { db in
                try db.query("SELECT id, payload, http_status, outcome, failed_at FROM dead_letter ORDER BY failed_at, id").map { row in
                    let data = row.blob(1)
                    return DeadLetter(id: UUID(uuidString: row.text(0)) ?? UUID(),
                                      item: try? Self.decoder.decode(OutboxItem.self, from: data),
                                      status: row.int(2), outcome: row.text(3),
                                      failedAt: Date(timeIntervalSince1970: row.double(4)))
                }
            }
        } catch { throw SyncError(.storage, "\(databasePath): dead letters: \(error)") }
    }

    // MARK: - Uploader side

    /// The next entries to upload: alerts first, then predictions, then telemetry, oldest first.
    func pendingBatch(limit: Int) throws -> [PendingEntry] {
        do {
            // Rows are copied under the lock and decoded after it, so an alert's enqueue never waits
            // for JSON decoding of an upload batch.
            let rows = try database.read { db in
                try db.query("""
                    SELECT seq, id, priority, payload, patient_ref, device_ref FROM outbox
                    ORDER BY priority, seq LIMIT ?
                    """, [.int(min(limit, Int(Int32.max)))])
            }
            return rows.map { row in
                let data = row.blob(3)
                return PendingEntry(seq: row.int64(0), id: UUID(uuidString: row.text(1)) ?? UUID(),
                                    priority: OutboxPriority(rawValue: row.int(2)) ?? .telemetry,
                                    item: try? Self.decoder.decode(OutboxItem.self, from: data),
                                    subject: FHIRSubject(patientReference: row.text(4), deviceReference: row.text(5)),
                                    rawPayload: data)
            }
        } catch { throw SyncError(.storage, "\(databasePath): read batch: \(error)") }
    }

    /// Removes entries the server confirmed and counts them as sent.
    func markSent(_ seqs: [Int64]) throws {
        guard !seqs.isEmpty else { return }
        let now = clock()
        do {
            try database.write { db in
                // An entry evicted while in flight was still delivered; count what was actually deleted.
                let deleted = try db.execute("DELETE FROM outbox WHERE seq IN (\(seqs.map { String($0) }.joined(separator: ",")))")
                try Self.bump(db, "sent", by: deleted)
                try db.execute("INSERT INTO stats(key, value) VALUES ('last_success_ms', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               [.integer(Int64(now.timeIntervalSince1970 * 1000))])
            }
        } catch { throw SyncError(.storage, "\(databasePath): mark sent: \(error)") }
    }

    /// Moves a rejected entry to the dead-letter table with the server's answer.
    func deadLetter(_ entry: PendingEntry, status: Int, outcome: String) throws {
        let now = clock()
        do {
            try database.write { db in
                guard try db.execute("DELETE FROM outbox WHERE seq = ?", [.integer(entry.seq)]) > 0 else { return }
                try db.execute("""
                    INSERT OR REPLACE INTO dead_letter(id, priority, payload, patient_ref, device_ref, http_status, outcome, failed_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, ?)
                    """, [.text(entry.id.uuidString.lowercased()), .int(entry.priority.rawValue), .blob(entry.rawPayload),
                          .text(entry.subject.patientReference), .text(entry.subject.deviceReference), .int(status),
                          .text(outcome), .real(now.timeIntervalSince1970)])
                try Self.bump(db, "dead_lettered")
            }
        } catch { throw SyncError(.storage, "\(databasePath): dead-letter \(entry.id): \(error)") }
        logger.error("entry rejected by server, moved to dead letters", metadata: ["id": "\(entry.id)", "status": "\(status)"])
    }

    /// If anything was lost since the last report, enqueues a status report with the cumulative
    /// counts (in the same transaction that records it as reported). Returns whether it did.
    @discardableResult
    public func enqueueStatusReportIfNeeded() throws -> Bool {
        let now = clock()
        let subject = self.subject
        do {
            return try database.write { db in
                let counts = try Self.lossCounts(db)
                let reported = try Self.stat(db, "loss_reported")
                guard counts.total > reported else { return false }
                let item = OutboxItem(.outboxStatus(OutboxStatusReport(counts: counts, time: now)))
                let payload = try Self.encoder.encode(item)
                let bytes = payload.count + Self.rowOverhead
                try db.execute("""
                    INSERT INTO outbox(id, priority, payload, patient_ref, device_ref, bytes, created_at, expires_at)
                    VALUES (?, ?, ?, ?, ?, ?, ?, NULL)
                    """, [.text(item.id.uuidString.lowercased()), .int(item.priority.rawValue), .blob(payload),
                          .text(subject.patientReference), .text(subject.deviceReference), .int(bytes),
                          .real(now.timeIntervalSince1970)])
                try db.execute("INSERT INTO stats(key, value) VALUES ('loss_reported', ?) ON CONFLICT(key) DO UPDATE SET value = excluded.value",
                               [.int(counts.total)])
                return true
            }
        } catch { throw SyncError(.storage, "\(databasePath): status report: \(error)") }
    }

    static let encoder: JSONEncoder = {
        let e = JSONEncoder()
        e.dateEncodingStrategy = .millisecondsSince1970
        e.outputFormatting = [.sortedKeys]
        return e
    }()

    static let decoder: JSONDecoder = {
        let d = JSONDecoder()
        d.dateDecodingStrategy = .millisecondsSince1970
        return d
    }()
}

/// A value behind a lock.
/// @unchecked Sendable: every access to `stored` goes through `lock`.
final class LockedBox<T: Sendable>: @unchecked Sendable {
    private let lock = NSLock()
    private var stored: T
    init(_ value: T) { stored = value }
    var value: T {
        get { lock.withLock { stored } }
        set { lock.withLock { stored = newValue } }
    }
    func withValue<R>(_ body: (inout T) throws -> R) rethrows -> R {
        try lock.withLock { try body(&stored) }
    }
}
