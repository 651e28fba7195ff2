import ArgumentParser
import Foundation
import VigilSync

/// Test driver for VigilSync: the outbox writer the kill tests SIGKILL, plus a status dump and the
/// outbox benchmark.
@main
struct SyncProbe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-sync-probe",
        abstract: "Drive the VigilSync outbox and uploader (tests and benchmarks).",
        discussion: """
            Example:
              vigil-sync-probe write --state-dir /tmp/s --url http://127.0.0.1:8080/fhir --count 1000 --rate 400
              vigil-sync-probe status --state-dir /tmp/s
              vigil-sync-probe bench --state-dir /tmp/b --count 2000 --url http://127.0.0.1:8080/fhir
            """,
        subcommands: [Write.self, Status.self, Bench.self])
}

/// Exit codes the check scripts rely on.
enum ProbeExit {
    static let notDrained: Int32 = 3
}

struct OutboxOptions: ParsableArguments {
    @Option(help: "State directory (created 0700).")
    var stateDir: String
    @Option(help: "Byte cap of pending entries.")
    var byteCap: Int = 64 << 20
    @Option(help: "TTL of telemetry and predictions, seconds.")
    var ttl: Double = 86_400
    @Option(help: "Patient reference stamped on entries.")
    var patient: String = "Patient/probe-pseudonym-1"
    @Option(help: "Device reference stamped on entries.")
    var device: String = "Device/vigil-probe"

    func open() throws -> OutboxStore {
        try OutboxStore(directory: URL(fileURLWithPath: stateDir), byteCap: byteCap, ttl: ttl,
                        subject: FHIRSubject(patientReference: patient, deviceReference: device))
    }
}

struct UploadOptions: ParsableArguments {
    @Option(help: "FHIR base URL (transaction Bundles are POSTed here).")
    var url: String?
    @Option(help: "Entries per transaction Bundle.")
    var batchSize: Int = 50
    @Option(help: "Request timeout, seconds.")
    var requestTimeout: Double = 5
    @Option(help: "Longest backoff, seconds.")
    var backoffMax: Double = 2
    @Option(help: "File holding a bearer token.")
    var tokenFile: String?
    @Option(help: "PEM client certificate for mutual TLS.")
    var clientCert: String?
    @Option(help: "PEM client key for mutual TLS.")
    var clientKey: String?
    @Option(help: "PEM CA bundle to trust for the server.")
    var caFile: String?

    func configuration() throws -> SyncConfiguration? {
        guard let url else { return nil }
        guard let u = URL(string: url) else { throw ValidationError("--url \(url) is not a URL") }
        return SyncConfiguration(baseURL: u, bearerTokenFile: tokenFile, clientCert: clientCert,
                                 clientKey: clientKey, caFile: caFile, batchSize: batchSize,
                                 requestTimeout: requestTimeout, backoffBase: 0.05, backoffMax: backoffMax,
                                 pollInterval: 0.05)
    }
}

/// The probe's events are exactly defined: event k (0 ≤ k < N) is an alert when
/// k % alertEvery == 0, otherwise a vital sign cycling through the five kinds; each carries the
/// text "probe event k" so the receiver side can count each k.
func probeEvent(_ k: Int, alertEvery: Int, uuidSeed: UInt64?) -> OutboxItem {
    let time = Date(timeIntervalSince1970: 1_790_000_000 + Double(k) / 10)
    let id = uuidSeed.map { seededUUID(seed: $0, k: UInt64(k)) } ?? UUID()
    let tag = "probe event \(k)"
    if alertEvery > 0 && k % alertEvery == 0 {
        return .alert(AlertEvent(alarmID: "probe-alarm-\(k)", condition: "probe-high", priority: .high,
                                 state: "active", message: tag, time: time), id: id)
    }
    let m: VitalMeasurement = switch k % 5 {
    case 0: .heartRate(60 + Double(k % 40))
    case 1: .respiratoryRate(12 + Double(k % 8))
    case 2: .oxygenSaturation(90 + Double(k % 10))
    case 3: .bodyTemperature(36.5 + Double(k % 10) / 10)
    default: .bloodPressure(systolic: 110 + Double(k % 30), diastolic: 70 + Double(k % 15))
    }
    return .vital(m, time: time, note: tag, id: id)
}

/// A UUID from (seed, k) by SplitMix64, so tests can name an entry's identifier in advance.
func seededUUID(seed: UInt64, k: UInt64) -> UUID {
    func mix(_ x: UInt64) -> UInt64 {
        var z = x &+ 0x9E37_79B9_7F4A_7C15
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    let a = mix(seed &* 31 &+ k), b = mix(a ^ k)
    var bytes = [UInt8](repeating: 0, count: 16)
    for i in 0..<8 {
        bytes[i] = UInt8(truncatingIfNeeded: a >> (8 * UInt64(i)))
        bytes[8 + i] = UInt8(truncatingIfNeeded: b >> (8 * UInt64(i)))
    }
    bytes[6] = (bytes[6] & 0x0F) | 0x40
    bytes[8] = (bytes[8] & 0x3F) | 0x80
    return UUID(uuid: (bytes[0], bytes[1], bytes[2], bytes[3], bytes[4], bytes[5], bytes[6], bytes[7],
                       bytes[8], bytes[9], bytes[10], bytes[11], bytes[12], bytes[13], bytes[14], bytes[15]))
}

func printJSON(_ object: Any) {
    if let data = try? JSONSerialization.data(withJSONObject: object, options: [.sortedKeys]),
       let text = String(data: data, encoding: .utf8) {
        print(text)
    }
}

func statisticsJSON(_ s: OutboxStatistics) -> [String: Any] {
    var by: [String: Int] = [:]
    for p in OutboxPriority.allCases { by[p.name] = s.pendingByPriority[p] ?? 0 }
    return ["pending_count": s.pendingCount, "pending_bytes": s.pendingBytes, "pending": by, "sent": s.sent,
            "dead_letters": s.deadLetterCount, "evicted": s.losses.evicted, "dropped": s.losses.dropped,
            "expired": s.losses.expired, "alerts_over_cap": s.losses.alertsOverCap,
            "last_success": s.lastSuccess.map { FHIRMapping.dateTime($0) } ?? NSNull()]
}

struct Write: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Enqueue events 0..<count at a steady pace while uploading; resumes after a crash.",
        discussion: """
            Event k is enqueued in the same transaction that records k+1 as the durable checkpoint \
            `probe.next`, so a restarted probe continues exactly after the last event it stored. \
            After the last event it keeps uploading until the outbox is empty (exit 0) or \
            --drain-timeout passes (exit 3). Without --url it only enqueues.
            """)

    @OptionGroup var outbox: OutboxOptions
    @OptionGroup var upload: UploadOptions
    @Option(help: "Number of events N.")
    var count: Int
    @Option(help: "Events per second (0 = as fast as possible).")
    var rate: Double = 0
    @Option(help: "Event k is an alert when k % alert-every == 0 (0 = no alerts).")
    var alertEvery: Int = 5
    @Option(help: "Derive entry UUIDs from this seed and k instead of random ones.")
    var uuidSeed: UInt64?
    @Option(help: "Seconds to keep uploading after the last event before giving up.")
    var drainTimeout: Double = 60

    mutating func validate() throws {
        guard count >= 0 else { throw ValidationError("--count must be >= 0") }
        guard rate >= 0 else { throw ValidationError("--rate must be >= 0") }
    }

    func run() async throws {
        let store = try outbox.open()
        let uploader = try upload.configuration().map { try FHIRUploader(store: store, configuration: $0) }
        let task = uploader.map { u in Task { try await u.run() } }
        let start = Int(try store.checkpoint("probe.next") ?? 0)
        let began = Date()
        var dropped = 0
        if start < count {
            for k in start..<count {
                if rate > 0 {
                    let due = began.addingTimeInterval(Double(k - start) / rate).timeIntervalSinceNow
                    if due > 0 { try await Task.sleep(nanoseconds: UInt64(due * 1e9)) }
                }
                let r = try store.enqueue(probeEvent(k, alertEvery: alertEvery, uuidSeed: uuidSeed),
                                          checkpoint: OutboxCheckpoint(key: "probe.next", value: Int64(k + 1)))
                if !r.stored { dropped += 1 }
            }
        }
        var drained = true
        if let task {
            let deadline = Date().addingTimeInterval(drainTimeout)
            while true {
                let s = try store.statistics()
                if s.pendingCount == 0 {
                    // A status report may be enqueued by the uploader after losses; let one more round run.
                    try await Task.sleep(nanoseconds: 200_000_000)
                    if try store.statistics().pendingCount == 0 { break }
                }
                if Date() > deadline { drained = false; break }
                try await Task.sleep(nanoseconds: 20_000_000)
            }
            task.cancel()
            _ = try? await task.value
        }
        var out = statisticsJSON(try store.statistics())
        out["resumed_at"] = start
        out["dropped_this_run"] = dropped
        out["drained"] = drained
        printJSON(out)
        if !drained { throw ExitCode(ProbeExit.notDrained) }
    }
}

struct Status: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Print outbox counters and dead letters as JSON.")

    @OptionGroup var outbox: OutboxOptions

    func run() async throws {
        let store = try outbox.open()
        var out = statisticsJSON(try store.statistics())
        out["checkpoint"] = try store.checkpoint("probe.next") ?? 0
        out["dead_letter_entries"] = try store.deadLetters().map { d in
            ["id": d.id.uuidString.lowercased(), "status": d.status, "outcome": d.outcome] as [String: Any]
        }
        out["pending_order"] = try store.pendingItems().map { $0.priority.name }
        printJSON(out)
    }
}

struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Outbox write latency (alerts with fsync, telemetry without) and upload throughput.")

    @OptionGroup var outbox: OutboxOptions
    @OptionGroup var upload: UploadOptions
    @Option(help: "Writes measured per priority.")
    var count: Int = 1000
    @Option(help: "Entries uploaded for the throughput figure (needs --url).")
    var uploadCount: Int = 2000

    func run() async throws {
        let store = try outbox.open()
        var alert: [Double] = [], telemetry: [Double] = []
        // Interleaved so both see the same WAL size and page cache state.
        for k in 0..<(2 * count) {
            let item = probeEvent(k, alertEvery: 2, uuidSeed: nil)
            let t0 = DispatchTime.now().uptimeNanoseconds
            try store.enqueue(item)
            let us = Double(DispatchTime.now().uptimeNanoseconds - t0) / 1000
            if item.priority == .alert { alert.append(us) } else { telemetry.append(us) }
        }
        func pct(_ xs: [Double], _ p: Double) -> Double {
            let s = xs.sorted()
            return s.isEmpty ? 0 : s[min(s.count - 1, Int((Double(s.count - 1) * p).rounded()))]
        }
        var out: [String: Any] = [
            "alert_write_us": ["p50": pct(alert, 0.5), "p99": pct(alert, 0.99), "n": alert.count],
            "telemetry_write_us": ["p50": pct(telemetry, 0.5), "p99": pct(telemetry, 0.99), "n": telemetry.count],
        ]
        if let config = try upload.configuration() {
            let uploader = try FHIRUploader(store: store, configuration: config)
            _ = await uploader.drain(timeout: 120)
            for k in 0..<uploadCount {
                try store.enqueue(probeEvent(100_000 + k, alertEvery: 0, uuidSeed: nil))
            }
            let t0 = Date()
            let left = await uploader.drain(timeout: 300)
            let seconds = Date().timeIntervalSince(t0)
            out["upload"] = ["entries": uploadCount - left, "seconds": seconds,
                             "entries_per_s": Double(uploadCount - left) / seconds, "batch_size": config.batchSize]
        }
        printJSON(out)
    }
}
