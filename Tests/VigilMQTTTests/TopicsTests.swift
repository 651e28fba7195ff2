import Foundation
import Testing
@testable import VigilMQTT

@Suite struct TopicsTests {
    @Test func namespaceLayout() throws {
        let topics = try Topics(site: "ward-3", device: "bed-12")
        #expect(topics.status.name == "vigil/v1/ward-3/bed-12/status")
        #expect(try topics.vitals("hr").name == "vigil/v1/ward-3/bed-12/vitals/hr")
        #expect(try topics.predictions("ecg-rhythm").name == "vigil/v1/ward-3/bed-12/predictions/ecg-rhythm")
        #expect(topics.alerts.name == "vigil/v1/ward-3/bed-12/alerts")
        #expect(topics.activeAlerts.name == "vigil/v1/ward-3/bed-12/alerts/active")
        #expect(try topics.waveforms("ecg").name == "vigil/v1/ward-3/bed-12/waveforms/ecg")
        #expect(topics.commandFilter == "vigil/v1/ward-3/bed-12/cmd/+")
        #expect(topics.commandReply.name == "vigil/v1/ward-3/bed-12/cmd/reply")
        #expect(topics.commandName(of: "vigil/v1/ward-3/bed-12/cmd/ack") == "ack")
        #expect(topics.commandName(of: "vigil/v1/ward-3/bed-13/cmd/ack") == nil)
        #expect(topics.commandName(of: "vigil/v1/ward-3/bed-12/cmd/") == nil)
        #expect(topics.commandName(of: "vigil/v1/ward-3/bed-12/cmd/a/b") == nil)
    }

    @Test(arguments: ["", "a/b", "a+b", "#", "bed#1", "$SYS", String(repeating: "x", count: 65), "a\u{0}b", "tab\there"])
    func invalidIdsAreRefused(id: String) {
        #expect(throws: MQTTError.self) { try Topics(site: id, device: "bed-12") }
        #expect(throws: MQTTError.self) { try Topics(site: "ward-3", device: id) }
        let topics = try? Topics(site: "ward-3", device: "bed-12")
        #expect(throws: MQTTError.self) { try topics?.vitals(id) }
        #expect(throws: MQTTError.self) { try topics?.waveforms(id) }
    }

    @Test func errorNamesTheOffendingLevel() {
        do {
            _ = try Topics(site: "ward+3", device: "bed-12")
            Issue.record("accepted a wildcard")
        } catch {
            #expect(error.code == .invalidTopic)
            #expect(error.detail.contains("site id 'ward+3'"))
        }
    }
}

@Suite struct ConfigurationTests {
    @Test func brokerURLs() throws {
        let plain = try MQTTConfiguration(brokerURL: "mqtt://broker.local", site: "s", device: "d")
        #expect(plain.host == "broker.local" && plain.port == 1883 && !plain.usesTLS)
        #expect(plain.clientID == "vigil-s-d")
        let tls = try MQTTConfiguration(brokerURL: "mqtts://10.0.0.2:18883/", site: "s", device: "d")
        #expect(tls.host == "10.0.0.2" && tls.port == 18883 && tls.usesTLS)
        let v6 = try MQTTConfiguration(brokerURL: "mqtts://[::1]:8884", site: "s", device: "d")
        #expect(v6.host == "::1" && v6.port == 8884)
        #expect(try MQTTConfiguration(brokerURL: "mqtts://h", site: "s", device: "d").port == 8883)
        for bad in ["http://h:1883", "mqtt://", "mqtt://h:0", "mqtt://h:70000", "mqtt://h:x", "mqtt://h/path", "h:1883"] {
            #expect(throws: MQTTError.self, "\(bad)") { try MQTTConfiguration(brokerURL: bad, site: "s", device: "d") }
        }
        #expect(throws: MQTTError.self) { try MQTTConfiguration(brokerURL: "mqtt://h", site: "s", device: "d", queueLimit: 0) }
        #expect(throws: MQTTError.self) { try MQTTConfiguration(brokerURL: "mqtt://h", site: "s", device: "d", keepAlive: 1) }
    }

    @Test func passwordsAreReadNotShown() throws {
        let file = NSTemporaryDirectory() + "vigil-mqtt-pw-" + UUID().uuidString
        try "s3cret-value\n".write(toFile: file, atomically: true, encoding: .utf8)
        defer { try? FileManager.default.removeItem(atPath: file) }
        #expect(try MQTTConfiguration.Secret.file(file).read() == "s3cret-value")
        let literal = try MQTTConfiguration(brokerURL: "mqtt://h", site: "s", device: "d", username: "u",
                                            password: .literal("s3cret-value"))
        #expect(!literal.description.contains("s3cret"))
        #expect(!"\(literal.password!)".contains("s3cret"))
        do {
            _ = try MQTTConfiguration.Secret.file("/nonexistent/vigil-pw").read()
            Issue.record("read a missing file")
        } catch {
            #expect(error.code == .invalidConfiguration && error.detail.contains("/nonexistent/vigil-pw"))
        }
        #expect(throws: MQTTError.self) { try MQTTConfiguration.Secret.environment("VIGIL_TEST_UNSET_VARIABLE_42").read() }
    }
}

@Suite struct OutgoingQueueTests {
    func message(_ topic: String, _ qos: QoS) -> PendingMessage {
        PendingMessage(topic: topic, payload: Data(), qos: qos, retain: false, expirySeconds: nil, completion: nil)
    }

    @Test func overflowDropsOldestQoS0ThenRefuses() {
        var queue = OutgoingQueue(limit: 3)
        #expect(queue.enqueue(message("w1", .atMostOnce)).isQueued)
        #expect(queue.enqueue(message("a1", .atLeastOnce)).isQueued)
        #expect(queue.enqueue(message("w2", .atMostOnce)).isQueued)
        guard case .queuedDropping(let dropped) = queue.enqueue(message("a2", .atLeastOnce)) else {
            Issue.record("expected a drop"); return
        }
        #expect(dropped.topic == "w1")
        guard case .queuedDropping(let dropped2) = queue.enqueue(message("a3", .atLeastOnce)) else {
            Issue.record("expected a drop"); return
        }
        #expect(dropped2.topic == "w2")
        guard case .refused(let refused) = queue.enqueue(message("a4", .atLeastOnce)) else {
            Issue.record("a QoS 1 message was dropped to make room"); return
        }
        #expect(refused.topic == "a4")
        guard case .refused = queue.enqueue(message("w3", .atMostOnce)) else {
            Issue.record("expected refusal"); return
        }
        #expect(queue.count == 3)
        let order: [String?] = [queue.popFirst()?.topic, queue.popFirst()?.topic, queue.popFirst()?.topic]
        #expect(order == ["a1", "a2", "a3"])
        #expect(queue.popFirst() == nil)
    }

    @Test func fifoAcrossCompaction() {
        var queue = OutgoingQueue(limit: 5000)
        for i in 0..<3000 { _ = queue.enqueue(message("\(i)", .atLeastOnce)) }
        var seen: [String] = []
        for _ in 0..<2000 { seen.append(queue.popFirst()!.topic) }
        queue.pushFront(message("again", .atLeastOnce))
        for i in 3000..<3500 { _ = queue.enqueue(message("\(i)", .atLeastOnce)) }
        while let m = queue.popFirst() { seen.append(m.topic) }
        var expected: [String] = (0..<2000).map { String($0) }
        expected.append("again")
        expected += (2000..<3500).map { String($0) }
        #expect(seen == expected)
    }
}

extension OutgoingQueue.Admission {
    var isQueued: Bool { if case .queued = self { true } else { false } }
}
