import Foundation
import Testing
@testable import VigilMQTT

// Part of the serialized BrokerTests suite: these start brokers too, and timing bounds hold
// better when broker tests do not run side by side on a loaded machine.
extension BrokerTests {
    // MARK: - MQTT 5 with 3.1.1 fallback (against Tools/mqtt/fake_v311_broker.py)

    /// A broker that only speaks 3.1.1 refuses a level-5 CONNECT with return code 1 or by hanging
    /// up; the publisher must reconnect at level 4, publish, and still surface each PUBACK.
    @Test(arguments: ["connack", "close"])
    func fallsBackToMQTT311WhenTheBrokerRefuses5(_ refuse: String) async throws {
        let fake = try FakeV311Broker(refuse: refuse)
        let publisher = try MQTTPublisher(configuration: configuration(fake.url))
        try await publisher.connect()
        var stats = publisher.stats
        #expect(stats.protocolVersion == "3.1.1")
        #expect(stats.protocolFallback)

        // A receipt that never comes must fail the test, not hang it: bound each wait.
        let receipts = ReceiptBox()
        let vital = VitalPayload(kind: "hr", value: 72, unit: "/min", time: Date(), quality: 0.9, source: "ecg")
        let waited = await elapsed(within: .seconds(5)) {
            receipts.add(try? await publisher.publishAlert(event(1)))
            receipts.add(try? await publisher.publishVital(vital, expiry: .seconds(60)))
        }
        try #require(waited != nil, "no PUBACK receipts within 5 s over the 3.1.1 fallback")
        let (alert, vitalReceipt) = (receipts.all.first ?? nil, receipts.all.last ?? nil)
        #expect(alert?.acknowledged == true && alert?.qos == .atLeastOnce)
        #expect(vitalReceipt?.acknowledged == true && receipts.all.count == 2)
        stats = publisher.stats
        #expect(stats.expiryDropped == 1)
        #expect(stats.acknowledged >= 3)  // birth, alert, vital: each a PUBACK from the fake broker

        let took = await elapsed(within: .seconds(5)) { await publisher.disconnect() }
        try #require(took != nil, "graceful disconnect from the 3.1.1 broker did not return within 5 s")

        // What the fake broker saw, in order.
        let events = try fake.events()
        #expect(!events.contains { $0["event"] as? String == "error" }, "the fake broker found protocol errors: \(events)")
        let connects = events.filter { $0["event"] as? String == "connect" }
        #expect(connects.map { $0["level"] as? Int } == [5, 4])
        #expect(connects.first?["result"] as? String == "refused-\(refuse)")
        #expect(connects.last?["result"] as? String == "accepted")
        let will = connects.last?["will"] as? [String: Any]
        #expect(will?["topic"] as? String == "vigil/v1/ward-3/bed-12/status")
        #expect(will?["retain"] as? Bool == true && will?["qos"] as? Int == 1)
        #expect((will?["text"] as? String)?.contains(#""reason":"connection_lost""#) == true)
        #expect(events.contains { ($0["filters"] as? [String]) == ["vigil/v1/ward-3/bed-12/cmd/+"] })

        let publishes = events.filter { $0["event"] as? String == "publish" }
        let summary = publishes.map { "\($0["topic"] as? String ?? "?") qos \($0["qos"] as? Int ?? -1) retain \($0["retain"] as? Bool ?? false)" }
        #expect(summary == ["vigil/v1/ward-3/bed-12/status qos 1 retain true",
                            "vigil/v1/ward-3/bed-12/alerts qos 1 retain false",
                            "vigil/v1/ward-3/bed-12/vitals/hr qos 1 retain true",
                            "vigil/v1/ward-3/bed-12/status qos 1 retain true"])
        // Each payload is exactly our JSON (no MQTT 5 property bytes slipped into a 3.1.1 PUBLISH).
        let documents = publishes.compactMap { ($0["text"] as? String).flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [String: Any] } }
        #expect(documents.count == 4)
        #expect(documents.first?["state"] as? String == "online" && documents.first?["reason"] as? String == "startup")
        #expect(documents.dropFirst().first?["event_id"] as? Int == 1)
        #expect(documents.dropFirst(2).first?["kind"] as? String == "hr")
        #expect(documents.last?["state"] as? String == "offline" && documents.last?["reason"] as? String == "shutdown")
        #expect(events.last?["event"] as? String == "disconnect")
    }

    /// Without the fallback the same refusal is a clear error, quickly.
    @Test(arguments: [("connack", MQTTError.Code.refused), ("close", .disconnected)])
    func mqtt5OnlyAgainstA311BrokerIsAClearError(_ refuse: String, _ code: MQTTError.Code) async throws {
        let fake = try FakeV311Broker(refuse: refuse)
        let error = try await expectConnectFailure(configuration(fake.url, protocolChoice: .v5), [code], within: .seconds(3))
        #expect(error?.detail.contains("127.0.0.1:\(fake.port)") == true)
        #expect(try fake.events().filter { $0["event"] as? String == "connect" }.map { $0["level"] as? Int } == [5])
    }

    /// Real mosquitto speaks both; told to speak 3.1.1 the publisher delivers to an MQTT 5
    /// subscriber and the payloads are intact.
    @Test func forcedMQTT311DeliversToARealBroker() async throws {
        let broker = try TestBroker()
        let sub = try Subscription(port: broker.port, topic: "vigil/v1/ward-3/bed-12/#", count: 3)
        let publisher = try MQTTPublisher(configuration: configuration(broker.url, protocolChoice: .v311))
        try await publisher.connect()
        #expect(publisher.stats.protocolVersion == "3.1.1" && !publisher.stats.protocolFallback)
        #expect(try await publisher.publishAlert(event(5)).acknowledged)
        let vital = VitalPayload(kind: "spo2", value: 97, unit: "%", time: Date(), quality: 0.95, source: "ppg")
        #expect(try await publisher.publishVital(vital).acknowledged)
        #expect(publisher.stats.expiryDropped == 1)
        let lines = sub.lines()
        #expect(lines.count == 3)
        #expect(lines.first?.hasPrefix(#"vigil/v1/ward-3/bed-12/status {"#) == true)
        #expect(lines.dropFirst().first?.hasPrefix(#"vigil/v1/ward-3/bed-12/alerts {"#) == true && lines.dropFirst().first?.contains(#""event_id":5"#) == true)
        #expect(lines.last?.hasPrefix(#"vigil/v1/ward-3/bed-12/vitals/spo2 {"#) == true)
        await publisher.disconnect()
    }

    // MARK: - Closing never hangs

    /// When the broker goes away (stopped by PID), closing must not wait on the dead link or on
    /// a reconnect in progress: `phase` is when `disconnect` is called. A QoS 1 message waiting
    /// for its PUBACK is released with `disconnected`, and a closed publisher stays closed when
    /// the broker comes back.
    @Test(arguments: ["at once", "after the loss", "during the backoff"])
    func disconnectWithTheBrokerStoppedReturnsPromptly(_ phase: String) async throws {
        let broker = try TestBroker()
        let publisher = try MQTTPublisher(configuration: configuration(broker.url))
        try await publisher.connect()
        #expect(try await publisher.publishAlert(event(1)).acknowledged)
        let pid = try #require(broker.pid)
        broker.stop()  // SIGTERM to that PID, waits until it is gone
        #expect(kill(pid, 0) != 0 || (try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8))?.contains(") Z ") == true)
        let waiter = ResultBox()  // a QoS 1 message queued (synchronously) while the broker is gone
        try publisher.enqueue(data: try PayloadCoding.encode(event(2)), to: publisher.topics.alerts, qos: .atLeastOnce) { waiter.set($0) }
        switch phase {
        case "after the loss":
            let deadline = ContinuousClock.now + .seconds(5)
            while publisher.stats.connected && ContinuousClock.now < deadline { try await Task.sleep(for: .milliseconds(10)) }
            #expect(!publisher.stats.connected)
        case "during the backoff":
            // Loss, 1 s wait, refused reconnect, then a 2 s wait: land in the middle of it.
            try await Task.sleep(for: .milliseconds(2500))
            #expect(publisher.stats.connectionLosses == 1)
        default:
            break
        }
        let took = await elapsed(within: .seconds(5)) { await publisher.disconnect() }
        try #require(took != nil, "disconnect() with the broker down did not return within 5 s (\(phase))")
        switch waiter.value {
        case .failure(let error)?: #expect(error.code == .disconnected, "\(error)")
        case .success(let receipt)?: Issue.record("acknowledged with the broker down: \(receipt)")
        case nil: Issue.record("disconnect() did not release the waiting QoS 1 message")
        }

        // The closed publisher must not come back as a ghost client when the broker does.
        broker.restart()
        try await Task.sleep(for: .milliseconds(2500))
        #expect(publisher.stats.connects == 1, "a closed publisher reconnected")
    }

    /// Closing a publisher whose broker was never reachable, or that never tried, returns at once
    /// and releases queued waiters.
    @Test func disconnectWhenTheBrokerWasNeverReachable() async throws {
        let broker = try TestBroker()
        broker.stop()
        let publisher = try MQTTPublisher(configuration: configuration(broker.url))
        let waiter = ResultBox()
        try publisher.enqueue(data: try PayloadCoding.encode(event(1)), to: publisher.topics.alerts, qos: .atLeastOnce) { waiter.set($0) }
        await #expect(throws: MQTTError.self) { try await publisher.connect() }
        var took = await elapsed(within: .seconds(5)) { await publisher.disconnect() }
        try #require(took != nil, "disconnect() after a failed connect did not return within 5 s")
        switch waiter.value {
        case .failure(let error)?: #expect(error.code == .disconnected, "\(error)")
        case let other: Issue.record("the queued message did not fail with disconnected at disconnect(): \(String(describing: other))")
        }
        await #expect(throws: MQTTError.self) { try await publisher.connect() }  // closed stays closed

        let never = try MQTTPublisher(configuration: configuration(broker.url))
        took = await elapsed(within: .seconds(5)) { await never.disconnect(graceful: false) }
        #expect(took != nil, "disconnect() without connect() did not return within 5 s")
    }

    /// A broker that accepts TCP and then says nothing: `disconnect` during the pending connect
    /// ends it well before its 20 s timeout, and connect() reports that it was closed.
    @Test func disconnectDuringAConnectToASilentBroker() async throws {
        let silent = try SilentListener()
        let publisher = try MQTTPublisher(configuration: configuration(silent.url, protocolChoice: .v5, timeout: .seconds(20)))
        let start = ContinuousClock.now
        let connecting = Task { try await publisher.connect() }
        try await Task.sleep(for: .milliseconds(300))
        let took = await elapsed(within: .seconds(5)) { await publisher.disconnect() }
        try #require(took != nil, "disconnect() during a pending connect did not return within 5 s")
        let outcome = await connecting.result
        #expect(ContinuousClock.now - start < .seconds(10), "connect() waited for its own timeout")
        if case .failure(let error as MQTTError) = outcome {
            #expect(error.code == .notConnected, "\(error)")
        } else {
            Issue.record("connect() to a silent broker did not fail: \(outcome)")
        }
    }
}

/// Receipts collected by a bounded task.
final class ReceiptBox: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched with `lock` held.
    private let lock = NSLock()
    private var stored: [PublishReceipt?] = []
    func add(_ receipt: PublishReceipt?) { lock.lock(); stored.append(receipt); lock.unlock() }
    var all: [PublishReceipt?] { lock.lock(); defer { lock.unlock() }; return stored }
}

/// The one result a completion handler delivered, if any.
final class ResultBox: @unchecked Sendable {
    // @unchecked Sendable: `stored` is only touched with `lock` held.
    private let lock = NSLock()
    private var stored: Result<PublishReceipt, MQTTError>?
    func set(_ result: Result<PublishReceipt, MQTTError>) { lock.lock(); if stored == nil { stored = result }; lock.unlock() }
    var value: Result<PublishReceipt, MQTTError>? { lock.lock(); defer { lock.unlock() }; return stored }
}
