import Foundation
import SensorLink
import Synchronization
import Testing
import VigilSensors
#if canImport(Glibc)
import Glibc
#endif

/// sensor-sim (the firmware's own code on emulated chips) → pseudo-terminal → SerialSource →
/// decoded samples, compared with the recording sample for sample. sensor-sim is the binary next
/// to the test bundle (`swift build` builds it).
@Suite(.serialized) struct SerialEndToEndTests {
    static let binDir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let recording = root.appendingPathComponent("Models/ecg-rhythm/data/mitbih-208-excerpt.npy").path

    @Test func recordingArrivesExactlyAndInRealTime() async throws { try await withCoresLock {
        let seconds = 5.0
        let expected = try Self.expectedCodes(count: Int(seconds * 360))
        let run = try await Self.play(["--input", Self.recording, "--input-rate", "360", "--duration", "\(seconds)",
                                       "--speed", "realtime"])
        let r = run.report
        #expect(r["frames_lost"] as? Int == 0)
        #expect(r["ecg_samples"] as? Int == expected.count)

        // Every sample, exactly, in order, through the announced scaling.
        #expect(run.ecg.samples.count == expected.count)
        #expect(run.ecg.samples == expected)
        #expect(run.ecg.contiguous)
        let channel = run.hello?.channels.first { $0.id == 0 }
        #expect(channel?.rate == SampleRate(hertz: 360))
        #expect(channel?.offset == 1024 && channel?.scale == Float(1.0 / 200))

        // A clean link: nothing dropped, no gaps, and every frame the sim sent was delivered.
        let s = run.stats
        #expect(s.link.crcErrors == 0 && s.link.cobsErrors == 0 && s.link.shortFrames == 0 && s.link.oversizeFrames == 0)
        #expect(s.link.sequenceGaps == 0 && s.link.framesLost == 0 && s.link.sequenceRewinds == 0)
        #expect(s.link.deviceRestarts == 1)
        #expect(Int(s.frames) == r["frames"] as? Int)

        // Real time: the last sample arrives about `seconds` after the sim announced its pty and
        // began pacing (measured from there, not from launch: process start-up on a loaded CI
        // machine can take seconds and says nothing about the pacing).
        // The lower bounds are the pacing check (a sim that ran as fast as possible would finish in
        // milliseconds); the upper bounds only catch a stall: this test runs in parallel with the
        // whole suite on shared 2-core machines, where CI runs saw the sim's 5 s take over 5.5 s, and
        // once (2026-11-23, three other builds on the same cores) 20 s, the sim blocked on a pty
        // the stalled test process did not read. Latency is measured in the serial end-to-end
        // check (Tools/agent/e2e.py), not here.
        let elapsed = run.lastECGArrival - run.announced
        #expect(elapsed > seconds - 0.3 && elapsed < seconds + 60, "last sample after \(elapsed) s")
        let wall = r["wall_seconds"] as? Double ?? 0
        #expect(wall > seconds - 0.05 && wall < seconds + 60, "sim wall time \(wall) s")
    } }

    @Test func injectedDamageIsCountedAndNothingWrongDelivered() async throws { try await withCoresLock {
        let seconds = 60.0
        let expected = try Self.expectedCodes(count: Int(seconds * 360))
        let run = try await Self.play(["--input", Self.recording, "--input-rate", "360", "--duration", "\(seconds)",
                                       "--speed", "max", "--inject", "corrupt:0.01,drop-bytes:0.0002", "--seed", "7"])
        let r = run.report
        let sent = try #require(r["frames"] as? Int)
        let lost = try #require(r["frames_lost"] as? Int)
        #expect((r["frames_corrupted"] as? Int ?? 0) > 0)
        #expect((r["frames_with_dropped_bytes"] as? Int ?? 0) > 0)
        let s = run.stats
        // Every frame the sim damaged is counted lost by sequence number; every other was delivered.
        #expect(Int(s.link.framesLost) == lost)
        #expect(Int(s.frames) + lost == sent)
        #expect(s.link.sequenceRewinds == 0 && s.link.deviceRestarts == 1)
        let damage = s.link.cobsErrors + s.link.crcErrors + s.link.shortFrames + s.link.oversizeFrames
        #expect(damage >= UInt64(r["frames_corrupted"] as? Int ?? 0) && damage <= UInt64(lost))
        // What was delivered is right, sample for sample; what is missing is what the sim lost.
        var delivered = 0
        for block in run.ecg.blocks {
            let first = Int(block.firstSampleIndex)
            #expect(first + block.samples.count <= expected.count)
            if first + block.samples.count <= expected.count {
                #expect(Array(expected[first..<(first + block.samples.count)]) == block.samples, "block at \(first)")
            }
            delivered += block.samples.count
        }
        #expect(expected.count - delivered == r["ecg_samples_lost"] as? Int)
    } }

    @Test func tcpSourceReconnectsWithoutCountingTheOutageAsAGap() async throws {
        let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        #expect(listener >= 0)
        var addr = sockaddr_in()
        addr.sin_family = sa_family_t(AF_INET)
        addr.sin_addr.s_addr = inet_addr("127.0.0.1")
        var len = socklen_t(MemoryLayout<sockaddr_in>.size)
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, len) } }
        _ = withUnsafeMutablePointer(to: &addr) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(listener, $0, &len) } }
        #expect(listen(listener, 1) == 0)
        let port = UInt16(bigEndian: addr.sin_port)

        func frames(_ sequences: Range<UInt16>, boot: Bool) throws -> [UInt8] {
            var bytes: [UInt8] = [0]
            for s in sequences {
                let payload: Payload = s == sequences.lowerBound && boot
                    ? .hello(Hello(firmware: FirmwareVersion(1, 0, 0), boot: true, channels: []))
                    : .status(DeviceStatus(leadOff: [], batteryPercent: 50, power: [], droppedSamples: 0, faults: []))
                bytes += try Frame(sequence: s, timestamp: UInt64(s) * 1000, payload: payload).encoded()
            }
            return bytes
        }
        let session1 = try frames(0..<10, boot: true)
        let session2 = try frames(500..<520, boot: false)  // the device ran on while unplugged

        let source = SerialSource(tcpHost: "127.0.0.1", port: port, backoff: ReopenBackoff(initial: 0.02, maximum: 0.1))
        let events = Collector()
        let task = Task { for await e in source.events() { events.add(e) } }
        for (i, session) in [session1, session2].enumerated() {
            let client = accept(listener, nil, nil)
            #expect(client >= 0)
            _ = session.withUnsafeBytes { write(client, $0.baseAddress, $0.count) }
            try await Task.sleep(for: .milliseconds(200))
            // After the last session nobody listens, so reconnection attempts fail from here on.
            if i == 1 { close(listener) }
            close(client)  // unplug
        }
        try await Task.sleep(for: .milliseconds(200))
        source.stop()
        await task.value
        let s = source.stats
        #expect(s.opens == 2 && s.reopenCount == 1 && s.openFailures >= 1)
        #expect(s.frames == 30)
        #expect(s.link.sequenceGaps == 0 && s.link.sequenceRewinds == 0 && s.link.framesDropped == 0)
        let log = events.snapshot()
        #expect(log.connected == 2)
        #expect(log.disconnects.contains { $0.code == .endOfFile })
        // The refused reconnections belong to that outage: counted, not reported again.
        #expect(log.disconnects.filter { $0.code == .openFailed }.isEmpty)
    }

    // MARK: - Helpers

    /// The recording's original ADC units: mV × 200 + 1024 (MIT-BIH), checked to be exact.
    static func expectedCodes(count: Int) throws -> [Int32] {
        let data = try Data(contentsOf: URL(fileURLWithPath: recording))
        let headerLength = Int(data[8]) | Int(data[9]) << 8
        let body = 10 + headerLength
        return try (0..<count).map { i in
            let o = body + 4 * i
            let bits = UInt32(data[o]) | UInt32(data[o + 1]) << 8 | UInt32(data[o + 2]) << 16 | UInt32(data[o + 3]) << 24
            let mV = Float(bitPattern: bits)
            let units = (Double(mV) * 200).rounded()
            try #require(Float(units / 200) == mV, "sample \(i)")
            return Int32(units) + 1024
        }
    }

    struct Run {
        var report: [String: Any]
        var stats: SensorLinkSourceStatistics
        var ecg: (samples: [Int32], contiguous: Bool, blocks: [WaveformBlock])
        var hello: Hello?
        var announced: Double
        var lastECGArrival: Double
    }

    /// Runs sensor-sim into a pty, reads it with SerialSource until the sim has exited and every
    /// frame it reports sending has been accounted for (or 30 s pass).
    static func play(_ arguments: [String]) async throws -> Run {
        let sim = binDir.appendingPathComponent("sensor-sim")
        try #require(FileManager.default.isExecutableFile(atPath: sim.path), "build sensor-sim first: \(sim.path)")
        let reportURL = FileManager.default.temporaryDirectory.appendingPathComponent("sensor-sim-\(UUID().uuidString).json")
        defer { try? FileManager.default.removeItem(at: reportURL) }
        let process = Process()
        process.executableURL = sim
        process.arguments = arguments + ["--output", "pty", "--report", reportURL.path, "--hold", "1"]
        let stdout = Pipe()
        process.standardOutput = stdout
        try process.run()
        // First stdout line: "sensor-sim: pty /dev/pts/N".
        var line = Data()
        while !line.contains(0x0A) {
            let chunk = stdout.fileHandleForReading.availableData
            if chunk.isEmpty { break }
            line.append(chunk)
        }
        let text = String(decoding: line, as: UTF8.self)
        let path = try #require(text.split(separator: " ").last.map { String($0).trimmingCharacters(in: .whitespacesAndNewlines) },
                                "no pty path in \(text)")
        try #require(path.hasPrefix("/dev/"), "no pty path in \(text)")
        let announced = now()

        let source = SerialSource(path: path, baud: 921_600, backoff: ReopenBackoff(initial: 0.05, maximum: 0.2))
        let collector = Collector()
        let task = Task { for await e in source.events() { collector.add(e) } }
        let deadline = now() + 30
        while process.isRunning && now() < deadline { try await Task.sleep(for: .milliseconds(50)) }
        let reportData = try Data(contentsOf: reportURL)
        let report = try #require(try JSONSerialization.jsonObject(with: reportData) as? [String: Any])
        let sent = report["frames"] as? Int ?? 0
        while now() < deadline {
            let s = source.stats
            if Int(s.frames + s.link.framesLost) >= sent { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        source.stop()
        await task.value
        let log = collector.snapshot()
        return Run(report: report, stats: source.stats, ecg: (log.ecg, log.ecgContiguous, log.ecgBlocks), hello: log.hello,
                   announced: announced, lastECGArrival: log.lastECGArrival)
    }

    static func now() -> Double {
        var ts = timespec()
        clock_gettime(CLOCK_MONOTONIC, &ts)
        return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
    }
}

/// Collects events from the source's thread; read by the test.
final class Collector: Sendable {
    struct Log {
        var ecg: [Int32] = []
        var ecgBlocks: [WaveformBlock] = []
        var ecgContiguous = true
        var hello: Hello?
        var lastECGArrival = 0.0
        var connected = 0
        var disconnects: [SensorLinkSourceError] = []
    }
    private let log = Mutex(Log())

    func add(_ event: SensorLinkEvent) {
        let t = SerialEndToEndTests.now()
        log.withLock { l in
            switch event {
            case .frame(let f):
                switch f.payload {
                case .waveform(let b) where b.channel == 0:
                    if b.firstSampleIndex != UInt64(l.ecg.count) { l.ecgContiguous = false }
                    l.ecg += b.samples
                    l.ecgBlocks.append(b)
                    l.lastECGArrival = t
                case .hello(let h): if l.hello == nil { l.hello = h }
                default: break
                }
            case .connected: l.connected += 1
            case .disconnected(let e): l.disconnects.append(e)
            default: break
            }
        }
    }

    func snapshot() -> Log { log.withLock { $0 } }
}
