// vigil-mqtt-probe: drives VigilMQTT against a real broker for the checks in Tools/mqtt/
// (schema validation, broker restart, last will, throughput). Not part of the device binary.
import ArgumentParser
import Foundation
import VigilMQTT

struct BrokerOptions: ParsableArguments {
    @Option(help: "Broker URL, mqtt://host:port or mqtts://host:port.")
    var broker: String = "mqtt://127.0.0.1:1883"
    @Option(help: "Site id.") var site: String = "ward-3"
    @Option(help: "Device id.") var device: String = "bed-12"
    @Option(help: "Client id (default vigil-<site>-<device>).") var clientID: String?
    @Option(help: "User name.") var username: String?
    @Option(help: "File holding the password.") var passwordFile: String?
    @Option(help: "CA certificate (PEM) for mqtts.") var caFile: String?
    @Option(help: "Client certificate (PEM).") var certFile: String?
    @Option(help: "Client key (PEM).") var keyFile: String?
    @Option(help: "Queue limit.") var queueLimit: Int = 100_000
    @Option(help: "Max in-flight messages.") var maxInFlight: Int = 100
    @Option(help: "Protocol: 5-or-3.1.1, 5, 3.1.1.") var protocolVersion: String = "5-or-3.1.1"
    @Option(help: "Keep-alive seconds.") var keepAlive: Int = 30

    func configuration() throws -> MQTTConfiguration {
        guard let choice = MQTTConfiguration.ProtocolChoice(rawValue: protocolVersion) else {
            throw ValidationError("--protocol-version must be 5-or-3.1.1, 5 or 3.1.1")
        }
        let tls = caFile != nil || certFile != nil
            ? MQTTConfiguration.TLSFiles(caFile: caFile, certificateFile: certFile, keyFile: keyFile) : nil
        return try MQTTConfiguration(brokerURL: broker, site: site, device: device, clientID: clientID,
                                     username: username, password: passwordFile.map { .file($0) }, tls: tls,
                                     keepAlive: keepAlive, queueLimit: queueLimit, maxInFlight: maxInFlight,
                                     protocolChoice: choice, softwareVersion: "0.1.0-probe")
    }
}

func emit(_ object: [String: Any]) {
    let data = try! JSONSerialization.data(withJSONObject: object, options: [.sortedKeys])
    print(String(decoding: data, as: UTF8.self))
    fflush(nil)
}

func cpuSeconds() -> Double {
    var usage = rusage()
    getrusage(RUSAGE_SELF.rawValue, &usage)
    return Double(usage.ru_utime.tv_sec) + Double(usage.ru_utime.tv_usec) / 1e6
        + Double(usage.ru_stime.tv_sec) + Double(usage.ru_stime.tv_usec) / 1e6
}

let exampleModel = ModelInfo(id: "ecg-rhythm", version: "1.0.0",
                             digest: "sha256:" + String(repeating: "ab", count: 32))

@main
struct Probe: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-mqtt-probe",
        abstract: "Publishes Vigil MQTT payloads for the broker checks.",
        discussion: "Example: vigil-mqtt-probe samples --broker mqtt://127.0.0.1:1883",
        subcommands: [Samples.self, Stream.self, Hold.self, Bench.self, ConnectCheck.self])
}

/// One message of every payload kind, then a graceful disconnect.
struct Samples: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish one payload of each kind.")
    @OptionGroup var broker: BrokerOptions

    func run() async throws {
        let publisher = try MQTTPublisher(configuration: broker.configuration())
        try await publisher.connect()
        let now = Date()
        let health = StatusPayload.Health(overall: .degraded, components: [
            .init(name: "ecg-source", level: .ok),
            .init(name: "spo2-probe", level: .degraded, detail: "poor perfusion signal"),
        ])
        try await publisher.publishStatus(reason: .healthChanged, models: [exampleModel], health: health)
        try await publisher.publishVital(VitalPayload(kind: "hr", value: 72, unit: "/min", time: now,
                                                      quality: 0.93, source: "ecg"), expiry: .seconds(30))
        try await publisher.publishPrediction(PredictionPayload(
            model: exampleModel, label: "normal", score: 0.91,
            scores: [.init(label: "normal", score: 0.91), .init(label: "af", score: 0.06), .init(label: "other", score: 0.03)],
            windowStart: now.addingTimeInterval(-10), windowEnd: now, signalQuality: 0.88, inferenceMicroseconds: 61.5))
        let condition = AlertCondition(kind: .model, code: "af_probable", source: "ecg-rhythm")
        try await publisher.publishAlert(AlertEventPayload(
            eventID: 41, alarmID: 7, sequence: 1, time: now, priority: .medium, condition: condition,
            previousState: nil, state: .active, reason: .conditionMet,
            message: "ecg-rhythm: af probability 0.86 over 0.80 for 3 windows", value: 0.86, threshold: 0.8,
            unit: "1", model: exampleModel))
        try await publisher.publishAlert(AlertEventPayload(
            eventID: 42, alarmID: 3, sequence: 2, time: now, priority: .high,
            condition: AlertCondition(kind: .physiological, code: "hr_high", source: "hr"),
            previousState: .active, state: .silenced, reason: .silenced,
            message: "HR 135 /min above the high limit 130 /min for 10 s; silenced by operator",
            silencedUntil: now.addingTimeInterval(120)))
        try await publisher.publishActiveAlerts(ActiveAlertsPayload(time: now, alarms: [
            .init(alarmID: 3, condition: AlertCondition(kind: .physiological, code: "hr_high", source: "hr"),
                  state: .silenced, priority: .high, activatedAt: now.addingTimeInterval(-30),
                  message: "HR above 130 /min", lastValue: 135, threshold: 130, unit: "/min",
                  silencedUntil: now.addingTimeInterval(120)),
            .init(alarmID: 7, condition: condition, state: .active, priority: .medium, activatedAt: now, model: exampleModel),
        ]))
        try await publisher.publish(WaveformPayload(channel: "ecg", sequence: 1, rateHz: 250, start: now, unit: "mV",
                                                    samples: (0..<50).map { sin(Double($0) / 8) }),
                                    to: try publisher.topics.waveforms("ecg"), qos: .atMostOnce)
        await publisher.disconnect(graceful: true)
        let stats = publisher.stats
        emit(["acknowledged": stats.acknowledged, "sent_qos0": stats.sentUnacknowledged])
    }
}

/// Numbered QoS 1 alert events, for the broker-restart check: event_id runs 1...count.
struct Stream: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Publish numbered alert events and wait for every PUBACK.")
    @OptionGroup var broker: BrokerOptions
    @Option(help: "How many events.") var count: Int = 300
    @Option(help: "Milliseconds between events.") var intervalMs: Int = 10
    @Option(help: "Seconds to wait for the last PUBACK.") var timeout: Double = 60

    func run() async throws {
        let publisher = try MQTTPublisher(configuration: broker.configuration())
        try await publisher.connect()
        let start = Date()
        let condition = AlertCondition(kind: .physiological, code: "spo2_low", source: "spo2")
        let acked = try await withThrowingTaskGroup(of: Bool.self) { group in
            for i in 1...count {
                let event = AlertEventPayload(eventID: UInt64(i), alarmID: 1, sequence: UInt32(i), time: Date(),
                                              priority: .high, condition: condition, previousState: .active,
                                              state: .active, reason: .escalated, message: "stream event \(i)")
                group.addTask {
                    do {
                        let receipt = try await publisher.publishAlert(event)
                        return receipt.acknowledged
                    } catch {
                        FileHandle.standardError.write(Data("event \(i): \(error)\n".utf8))
                        return false
                    }
                }
                if i % 50 == 0 { emit(["queued": i, "stats_connected": publisher.stats.connected]) }
                try await Task.sleep(for: .milliseconds(intervalMs))
                if Date().timeIntervalSince(start) > timeout { break }
            }
            var n = 0
            for try await ok in group where ok { n += 1 }
            return n
        }
        let stats = publisher.stats
        await publisher.disconnect(graceful: true)
        emit(["published": count, "acknowledged": acked, "connects": stats.connects,
              "connection_losses": stats.connectionLosses, "refused_queue_full": stats.refusedQueueFull])
        if acked != count { throw ExitCode(1) }
    }
}

/// Connects, publishes the birth, answers commands (ack and silence accepted, reload of a model
/// other than ecg-rhythm failed), prints each command as a JSON line, then waits to be killed
/// (last-will and command checks).
struct Hold: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Connect, answer commands and wait (to be killed).")
    @OptionGroup var broker: BrokerOptions
    @Option(help: "Seconds to stay connected.") var seconds: Double = 60

    func run() async throws {
        let publisher = try MQTTPublisher(configuration: broker.configuration())
        publisher.setStatus(models: [exampleModel], health: .init(overall: .ok))
        publisher.onCommand { command in
            switch command {
            case .acknowledge(let c):
                emit(["command": "ack", "request_id": c.requestID, "alarm_id": c.alarmID])
                return .accepted
            case .silence(let c):
                emit(["command": "silence", "request_id": c.requestID, "alarm_id": c.alarmID, "duration_s": c.durationSeconds])
                return .accepted
            case .reload(let c):
                emit(["command": "reload", "request_id": c.requestID, "model_id": c.modelID])
                return c.modelID == exampleModel.id ? .accepted : .failed(code: "unknown_model", detail: "no model '\(c.modelID)' is loaded")
            }
        }
        try await publisher.connect()
        try await publisher.publishStatus(reason: .startup, models: [exampleModel], health: .init(overall: .ok))
        emit(["state": "connected", "pid": Int(getpid())])
        try await Task.sleep(for: .seconds(seconds))
        await publisher.disconnect(graceful: true)
    }
}

/// Sustained throughput: `count` messages of `payload-bytes` at one QoS, as fast as the bounded
/// in-flight window allows; reports messages/s and CPU seconds of this process.
struct Bench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: "Measure publish throughput.")
    @OptionGroup var broker: BrokerOptions
    @Option(help: "Messages.") var count: Int = 100_000
    @Option(help: "QoS 0 or 1.") var qos: Int = 1
    @Option(help: "Payload bytes (a waveform-sized JSON is about 1000).") var payloadBytes: Int = 256

    func run() async throws {
        guard let level = QoS(rawValue: Int32(qos)) else { throw ValidationError("--qos must be 0 or 1") }
        let publisher = try MQTTPublisher(configuration: broker.configuration())
        try await publisher.connect()
        let topic = try publisher.topics.waveforms("bench")
        let payload = Data(repeating: UInt8(ascii: "x"), count: payloadBytes)
        let window = AsyncWindow(limit: broker.maxInFlight * 4)
        let cpu0 = cpuSeconds()
        let t0 = ContinuousClock.now
        var refused = 0
        for _ in 0..<count {
            await window.acquire()
            do {
                try publisher.enqueue(data: payload, to: topic, qos: level) { _ in window.release() }
            } catch {
                refused += 1
                window.release()
            }
        }
        await window.drain()
        let elapsed = ContinuousClock.now - t0
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let cpu = cpuSeconds() - cpu0
        let stats = publisher.stats
        await publisher.disconnect(graceful: true)
        emit(["qos": qos, "messages": count, "payload_bytes": payloadBytes, "seconds": seconds,
              "messages_per_s": Double(count) / seconds, "cpu_s": cpu, "cpu_us_per_message": cpu / Double(count) * 1e6,
              "acknowledged": stats.acknowledged, "sent_qos0": stats.sentUnacknowledged, "refused": refused,
              "dropped": stats.droppedQoS0Overflow])
    }
}

/// Tries to connect and reports how it went and how long it took (error checks).
struct ConnectCheck: AsyncParsableCommand {
    static let configuration = CommandConfiguration(commandName: "connect-check", abstract: "Try to connect; print the result and the time taken.")
    @OptionGroup var broker: BrokerOptions

    func run() async throws {
        let publisher = try MQTTPublisher(configuration: broker.configuration())
        let t0 = ContinuousClock.now
        do {
            try await publisher.connect()
            let elapsed = ContinuousClock.now - t0
            emit(["ok": true, "protocol": publisher.stats.protocolVersion ?? "", "seconds": Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18])
            await publisher.disconnect(graceful: true)
        } catch {
            let elapsed = ContinuousClock.now - t0
            emit(["ok": false, "code": error.code.rawValue, "detail": error.detail,
                  "seconds": Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18])
            throw ExitCode(2)
        }
    }
}

/// A counting window so the benchmark keeps a bounded number of messages outstanding.
final class AsyncWindow: @unchecked Sendable {
    // @unchecked Sendable: `available` and `waiters` are only touched with `lock` held.
    private let lock = NSLock()
    private var available: Int
    private let limit: Int
    private var waiters: [CheckedContinuation<Void, Never>] = []

    init(limit: Int) {
        self.limit = limit
        self.available = limit
    }

    func acquire() async {
        await withCheckedContinuation { continuation in
            lock.lock()
            if available > 0 {
                available -= 1
                lock.unlock()
                continuation.resume()
            } else {
                waiters.append(continuation)
                lock.unlock()
            }
        }
    }

    func release() {
        lock.lock()
        if waiters.isEmpty {
            available += 1
            lock.unlock()
        } else {
            let next = waiters.removeFirst()
            lock.unlock()
            next.resume()
        }
    }

    func drain() async {
        for _ in 0..<limit { await acquire() }
    }
}
