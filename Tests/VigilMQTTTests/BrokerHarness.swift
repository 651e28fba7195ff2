import Foundation
@testable import VigilMQTT

/// The repository root, found from this file's path.
let repositoryRoot = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

/// Runs a program to completion and returns its exit status and standard output.
@discardableResult
func run(_ executable: String, _ arguments: [String]) throws -> (status: Int32, output: String) {
    let process = Process()
    process.executableURL = URL(fileURLWithPath: executable)
    process.arguments = arguments
    let pipe = Pipe()
    process.standardOutput = pipe
    process.standardError = FileHandle.nullDevice
    try process.run()
    let data = pipe.fileHandleForReading.readDataToEndOfFile()
    process.waitUntilExit()
    return (process.terminationStatus, String(decoding: data, as: UTF8.self))
}

/// A mosquitto of our own on a free loopback port, made by Tools/mqtt/broker.sh (the same helper
/// the Python checks use) and stopped by PID.
final class TestBroker: Sendable {
    let directory: String
    let port: Int

    init(mode: String = "plain") throws {
        directory = NSTemporaryDirectory() + "vigil-mqtt-test-" + UUID().uuidString
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        let result = try run("/bin/bash", [repositoryRoot.appendingPathComponent("Tools/mqtt/broker.sh").path, "start", directory, mode])
        guard result.status == 0, let port = Int(result.output.trimmingCharacters(in: .whitespacesAndNewlines)) else {
            throw MQTTError(.unreachable, "broker.sh start failed: \(result.output)")
        }
        self.port = port
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }
    func path(_ name: String) -> String { directory + "/" + name }

    func stop() { _ = try? run("/bin/bash", [repositoryRoot.appendingPathComponent("Tools/mqtt/broker.sh").path, "stop", directory]) }
    func restart() { _ = try? run("/bin/bash", [repositoryRoot.appendingPathComponent("Tools/mqtt/broker.sh").path, "restart", directory]) }

    deinit {
        stop()
        try? FileManager.default.removeItem(atPath: directory)
    }
}

/// `mosquitto_sub` collecting `count` messages (topic and payload per line) within `seconds`.
final class Subscription: @unchecked Sendable {
    // @unchecked Sendable: the Process and Pipe are only touched by the test that made them.
    private let process = Process()
    private let pipe = Pipe()

    init(port: Int, topic: String, count: Int, seconds: Int = 10, extra: [String] = []) throws {
        process.executableURL = URL(fileURLWithPath: "/usr/bin/mosquitto_sub")
        process.arguments = ["-h", "127.0.0.1", "-p", "\(port)", "-t", topic, "-C", "\(count)", "-W", "\(seconds)",
                             "-v", "-q", "1", "-V", "mqttv5"] + extra
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        // mosquitto_sub's -W relies on SIGALRM, which the test runner may leave blocked in its
        // children: enforce the deadline from here, by PID, so a missing message fails the test
        // instead of hanging it.
        let pid = process.processIdentifier
        DispatchQueue.global().asyncAfter(deadline: .now() + .seconds(seconds + 1)) { [process] in
            if process.isRunning { kill(pid, SIGKILL) }
        }
        Thread.sleep(forTimeInterval: 0.3)  // let the SUBSCRIBE reach the broker
    }

    /// Lines `topic payload`, after the subscriber exits (count reached or timeout).
    func lines() -> [String] {
        let data = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return String(decoding: data, as: UTF8.self).split(separator: "\n").map(String.init)
    }
}

func seconds(_ d: Duration) -> Double { Double(d.components.seconds) + Double(d.components.attoseconds) / 1e18 }

extension TestBroker {
    /// The broker's process id (from broker.sh's pid file), while it runs.
    var pid: pid_t? {
        guard let text = try? String(contentsOfFile: path("pid"), encoding: .utf8) else { return nil }
        return pid_t(text.trimmingCharacters(in: .whitespacesAndNewlines))
    }
}

/// Tools/mqtt/fake_v311_broker.py: a broker that refuses MQTT 5 (`refuse`: "connack" answers
/// with the 3.1.1 return code 1, "close" hangs up) and speaks 3.1.1, logging what it received.
/// Stopped with SIGKILL by PID.
final class FakeV311Broker: Sendable {
    let process: Process
    let port: Int
    let logPath: String

    init(refuse: String) throws {
        logPath = NSTemporaryDirectory() + "vigil-fake-v311-" + UUID().uuidString + ".jsonl"
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/python3")
        process.arguments = [repositoryRoot.appendingPathComponent("Tools/mqtt/fake_v311_broker.py").path,
                             "--refuse", refuse, "--log", logPath]
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        var line = Data()
        while line.last != UInt8(ascii: "\n") {
            let byte = pipe.fileHandleForReading.readData(ofLength: 1)
            if byte.isEmpty { break }
            line.append(byte)
        }
        guard let port = Int(String(decoding: line, as: UTF8.self).trimmingCharacters(in: .whitespacesAndNewlines)) else {
            kill(process.processIdentifier, SIGKILL)
            throw MQTTError(.unreachable, "fake_v311_broker.py did not print its port")
        }
        self.process = process
        self.port = port
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    /// Every event logged so far, in order.
    func events() throws -> [[String: Any]] {
        guard let data = FileManager.default.contents(atPath: logPath) else { return [] }
        return try String(decoding: data, as: UTF8.self).split(separator: "\n").map { line in
            guard let object = try JSONSerialization.jsonObject(with: Data(line.utf8)) as? [String: Any] else {
                throw MQTTError(.payload, "fake broker log line is not an object: \(line)")
            }
            return object
        }
    }

    deinit {
        kill(process.processIdentifier, SIGKILL)
        process.waitUntilExit()
        try? FileManager.default.removeItem(atPath: logPath)
    }
}

/// A loopback TCP listener that accepts connections (the kernel completes the handshake) and
/// never says anything: a broker that hangs.
final class SilentListener: Sendable {
    let fd: Int32
    let port: Int

    init() throws {
        let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafeMutablePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { pointer in
                bind(fd, pointer, length) == 0 && listen(fd, 8) == 0 && getsockname(fd, pointer, &length) == 0
            }
        }
        guard fd >= 0, bound else { throw MQTTError(.library, "silent listener: errno \(errno)") }
        self.fd = fd
        self.port = Int(UInt16(bigEndian: address.sin_port))
    }

    var url: String { "mqtt://127.0.0.1:\(port)" }

    deinit { close(fd) }
}

/// Runs `body` and returns how long it took, or nil if it had not finished within `bound` (a hang
/// check, not a timing test: the body is left running and the caller records the failure).
func elapsed(within bound: Duration, _ body: @escaping @Sendable () async -> Void) async -> Duration? {
    let finished = Flag()
    let start = ContinuousClock.now
    let task = Task {
        await body()
        finished.set()
    }
    while !finished.value {
        if ContinuousClock.now - start > bound { return nil }
        try? await Task.sleep(for: .milliseconds(10))
    }
    await task.value
    return ContinuousClock.now - start
}
