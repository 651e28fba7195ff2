import Foundation
import Testing
@testable import VigilMQTT

/// Against a real mosquitto (Tools/mqtt/broker.sh) and mosquitto_sub as the independent receiver.
@Suite(.serialized, .timeLimit(.minutes(1))) struct BrokerTests {
    func configuration(_ url: String, site: String = "ward-3", device: String = "bed-12", username: String? = nil,
                       password: MQTTConfiguration.Secret? = nil, tls: MQTTConfiguration.TLSFiles? = nil,
                       queueLimit: Int = 1000, protocolChoice: MQTTConfiguration.ProtocolChoice = .v5WithFallback,
                       timeout: Duration = .seconds(3)) throws -> MQTTConfiguration {
        try MQTTConfiguration(brokerURL: url, site: site, device: device, clientID: "vigil-test-\(UUID().uuidString.prefix(8))",
                              username: username, password: password, tls: tls, queueLimit: queueLimit,
                              protocolChoice: protocolChoice, connectTimeout: timeout, softwareVersion: "test")
    }

    func event(_ id: UInt64) -> AlertEventPayload {
        AlertEventPayload(eventID: id, alarmID: 1, sequence: UInt32(id), time: Date(), priority: .high,
                          condition: AlertCondition(kind: .physiological, code: "spo2_low", source: "spo2"),
                          previousState: nil, state: .active, reason: .conditionMet, message: "SpO2 85 % below 90 %")
    }

    /// Connect and expect failure with `code` within `bound`.
    func expectConnectFailure(_ configuration: MQTTConfiguration, _ codes: Set<MQTTError.Code>, within bound: Duration) async throws -> MQTTError? {
        let publisher = try MQTTPublisher(configuration: configuration)
        let start = ContinuousClock.now
        do {
            try await publisher.connect()
            Issue.record("connected to \(configuration.brokerDescription) but expected \(codes)")
            await publisher.disconnect()
            return nil
        } catch {
            let elapsed = ContinuousClock.now - start
            #expect(codes.contains(error.code), "\(error)")
            #expect(elapsed < bound, "took \(elapsed)")
            #expect(publisher.stats.lastError != nil)
            return error
        }
    }

    @Test func publishesWithBrokerAcknowledgement() async throws {
        let broker = try TestBroker()
        let sub = try Subscription(port: broker.port, topic: "vigil/v1/ward-3/bed-12/alerts", count: 2)
        let publisher = try MQTTPublisher(configuration: configuration(broker.url))
        try await publisher.connect()
        #expect(publisher.stats.protocolVersion == "5")
        let first = try await publisher.publishAlert(event(1))
        let second = try await publisher.publishAlert(event(2))
        #expect(first.acknowledged && second.acknowledged && first.qos == .atLeastOnce)
        #expect(first.messageID != second.messageID)
        let lines = sub.lines()
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""event_id":1"#) == true && lines.last?.contains(#""event_id":2"#) == true)
        #expect(publisher.stats.acknowledged >= 3)  // birth + 2 events
        await publisher.disconnect()
    }

    @Test func brokerDownFailsFast() async throws {
        let broker = try TestBroker()
        broker.stop()
        // A refused connection must fail at once, not after the connect timeout: the timeout is
        // 30 s and the bound 10 s, wide enough for a loaded machine (a 2 s bound against a 3 s
        // timeout failed once at 4.0 s while two builds ran beside the tests).
        let error = try await expectConnectFailure(configuration(broker.url, timeout: .seconds(30)), [.unreachable],
                                                   within: .seconds(10))
        #expect(error?.detail.contains("127.0.0.1:\(broker.port)") == true)
    }

    @Test func wrongPasswordFailsFastAndRightOneWorks() async throws {
        let broker = try TestBroker(mode: "auth")
        let error = try await expectConnectFailure(configuration(broker.url, username: "vigil", password: .literal("wrong")),
                                                   [.notAuthorized], within: .seconds(3))
        #expect(error?.detail.contains("wrong") == false)  // the password never appears in errors
        _ = try await expectConnectFailure(configuration(broker.url), [.notAuthorized], within: .seconds(3))
        let publisher = try MQTTPublisher(configuration: configuration(broker.url, username: "vigil", password: .file(broker.path("password"))))
        try await publisher.connect()
        #expect(try await publisher.publishAlert(event(1)).acknowledged)
        await publisher.disconnect()
    }

    @Test func tlsWithClientCertificateAndWrongCA() async throws {
        let broker = try TestBroker(mode: "tls")
        let url = "mqtts://127.0.0.1:\(broker.port)"
        let good = MQTTConfiguration.TLSFiles(caFile: broker.path("ca.pem"), certificateFile: broker.path("client.pem"),
                                              keyFile: broker.path("client.key"))
        let publisher = try MQTTPublisher(configuration: configuration(url, tls: good))
        try await publisher.connect()
        #expect(try await publisher.publishAlert(event(1)).acknowledged)
        await publisher.disconnect()

        let wrongCA = MQTTConfiguration.TLSFiles(caFile: broker.path("wrong-ca.pem"), certificateFile: broker.path("client.pem"),
                                                 keyFile: broker.path("client.key"))
        let error = try await expectConnectFailure(configuration(url, tls: wrongCA), [.tls], within: .seconds(3))
        #expect(error?.detail.contains("127.0.0.1:\(broker.port)") == true)
        // No client certificate: the broker ends the handshake.
        let noCertificate = try await expectConnectFailure(configuration(url, tls: .init(caFile: broker.path("ca.pem"))),
                                                           [.tls, .disconnected, .unreachable, .timeout, .protocol], within: .seconds(5))
        #expect(noCertificate?.detail.contains("3.1.1") == false, "a TLS failure was taken for a refusal of MQTT 5: \(String(describing: noCertificate))")
        // A missing file is a configuration error naming the file, before any network traffic.
        _ = try await expectConnectFailure(configuration(url, tls: .init(caFile: "/nonexistent/ca.pem")),
                                           [.invalidConfiguration], within: .seconds(1))
    }

    @Test func overflowDropsQoS0FirstAndCountsIt() async throws {
        let broker = try TestBroker()
        let sub = try Subscription(port: broker.port, topic: "vigil/v1/ward-3/bed-12/#", count: 4)
        let publisher = try MQTTPublisher(configuration: configuration(broker.url, queueLimit: 3))
        let topics = publisher.topics
        // Not connected yet: everything waits in the bounded queue.
        try publisher.enqueue(data: Data("w1".utf8), to: try topics.waveforms("ecg"), qos: .atMostOnce)
        try publisher.enqueue(data: Data("a1".utf8), to: topics.alerts, qos: .atLeastOnce)
        try publisher.enqueue(data: Data("a2".utf8), to: topics.alerts, qos: .atLeastOnce)
        try publisher.enqueue(data: Data("a3".utf8), to: topics.alerts, qos: .atLeastOnce)  // drops w1
        #expect(throws: MQTTError.self) {
            try publisher.enqueue(data: Data("a4".utf8), to: topics.alerts, qos: .atLeastOnce)
        }
        var stats = publisher.stats
        #expect(stats.queued == 3 && stats.droppedQoS0Overflow == 1 && stats.refusedQueueFull == 1)
        try await publisher.connect()
        let lines = sub.lines()
        let topicsSeen: [String] = lines.map { String($0.split(separator: " ").first ?? "") }
        let expectedTail: [String] = ["vigil/v1/ward-3/bed-12/alerts a1", "vigil/v1/ward-3/bed-12/alerts a2",
                                      "vigil/v1/ward-3/bed-12/alerts a3"]
        #expect(topicsSeen.first == "vigil/v1/ward-3/bed-12/status")  // the birth jumps the queue
        #expect(Array(lines.dropFirst()) == expectedTail)
        stats = publisher.stats
        #expect(stats.queued == 0)
        await publisher.disconnect()
    }

    @Test func receiptWaitsForTheBrokerAcrossARestart() async throws {
        let broker = try TestBroker()
        let publisher = try MQTTPublisher(configuration: configuration(broker.url))
        try await publisher.connect()
        broker.stop()
        try await Task.sleep(for: .milliseconds(200))
        let done = Flag()
        let task = Task {
            defer { done.set() }
            return try await publisher.publishAlert(event(9))
        }
        try await Task.sleep(for: .milliseconds(800))
        #expect(!done.value, "the receipt came while the broker was down")
        #expect(publisher.stats.connectionLosses == 1 && !publisher.stats.connected)
        broker.restart()
        let receipt = try await task.value
        #expect(receipt.acknowledged)
        #expect(publisher.stats.connects == 2)
        await publisher.disconnect()
    }

    /// MQTT 5 asks for the will with DISCONNECT reason 0x04; 3.1.1 has no such reason (its
    /// DISCONNECT discards the will), so there the publisher ends the TCP connection instead.
    @Test(arguments: [MQTTConfiguration.ProtocolChoice.v5, .v311])
    func ungracefulDisconnectSendsTheWill(_ protocolChoice: MQTTConfiguration.ProtocolChoice) async throws {
        let broker = try TestBroker()
        let sub = try Subscription(port: broker.port, topic: "vigil/v1/ward-3/bed-12/status", count: 2)
        let publisher = try MQTTPublisher(configuration: configuration(broker.url, protocolChoice: protocolChoice))
        try await publisher.connect()
        #expect(publisher.stats.protocolVersion == protocolChoice.rawValue)
        await publisher.disconnect(graceful: false)
        let lines = sub.lines()
        #expect(lines.count == 2)
        #expect(lines.first?.contains(#""state":"online""#) == true)
        #expect(lines.last?.contains(#""reason":"connection_lost""#) == true && lines.last?.contains(#""state":"offline""#) == true)
    }
}

/// A thread-safe boolean for the tests.
final class Flag: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched with `lock` held.
    private let lock = NSLock()
    private var stored = false
    func set() { lock.lock(); stored = true; lock.unlock() }
    var value: Bool { lock.lock(); defer { lock.unlock() }; return stored }
}
