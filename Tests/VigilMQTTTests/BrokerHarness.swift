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
