internal import CMosquitto
import Foundation
import Logging

/// libmosquitto wants one global init per process before the first client.
private let libraryInitialised: Bool = {
    mosquitto_lib_init()
    return true
}()

/// The MQTT link of one device: publishes status, vitals, predictions, alerts and waveforms under
/// `vigil/v1/<site>/<device>/`, and receives validated `cmd/...` commands.
///
/// Threading: libmosquitto runs its network loop on its own thread (`mosquitto_loop_start`),
/// reconnects with exponential backoff after a lost connection, and calls our callbacks there.
/// Callers publish from any task. All mutable state is guarded by `lock`; the lock is never held
/// while calling into libmosquitto or into caller code (completions, the command handler), so
/// neither side can deadlock the other.
///
/// Delivery: `publish` resumes when the broker acknowledged a QoS 1 message (PUBACK) or when a
/// QoS 0 message was written; only then may an outbox delete its copy. Unacknowledged messages
/// live in RAM (our queue and libmosquitto's); durability belongs to the outbox.
///
/// Lifetime: while connected the publisher keeps itself alive (the C library holds a pointer to
/// it); call `disconnect(graceful:)` to close the link and release it.
public final class MQTTPublisher: @unchecked Sendable {
    // @unchecked Sendable: every stored `var` below is read and written only with `lock` held;
    // `mosq` is set once in init and libmosquitto's API is thread-safe once its loop thread runs
    // (it locks internally around its queues and socket); `configuration`, `logger` and
    // `startInstant` are immutable.

    /// The configuration this publisher was made with.
    public let configuration: MQTTConfiguration
    private let logger: Logger
    private let mosq: OpaquePointer
    private let startInstant = ContinuousClock.now
    private let parser: CommandParser

    private enum LinkState { case idle, connecting, connected, closed }

    private let lock = NSLock()
    private var state = LinkState.idle
    private var linkUp = false
    private var protocolV5 = true
    private var queue: OutgoingQueue
    private var inFlight: [Int32: PendingMessage] = [:]
    /// Message ids whose on_publish arrived before `mosquitto_publish_v5` returned to us.
    private var earlyDone: [Int32: Int32] = [:]
    private var reserved = 0
    private var pumping = false
    private var statsValue = MQTTStats()
    private var commandHandler: (@Sendable (VigilCommand) async -> CommandOutcome)?
    private var connectGate: ConnectGate?
    private var connectAttemptRunning = false
    private var loopRunning = false
    private var selfRetain: Unmanaged<MQTTPublisher>?
    private var statusModels: [ModelInfo] = []
    private var statusHealth: StatusPayload.Health?
    private var recentErrors: [String] = []

    /// A publisher; nothing is sent until `connect()`.
    public init(configuration: MQTTConfiguration, logger: Logger = Logger(label: "vigil.mqtt")) throws(MQTTError) {
        _ = libraryInitialised
        self.configuration = configuration
        self.logger = logger
        self.queue = OutgoingQueue(limit: configuration.queueLimit)
        self.parser = CommandParser(maxSilenceSeconds: configuration.maxSilenceSeconds)
        // Clean session: the broker keeps nothing for us between connections; unacknowledged
        // messages are resent by libmosquitto from RAM and, beyond that, by the outbox.
        guard let handle = mosquitto_new(configuration.clientID, true, nil) else {
            throw MQTTError(.library, "mosquitto_new for client \(configuration.clientID) failed (errno \(errno))")
        }
        self.mosq = handle
        mosquitto_user_data_set(handle, Unmanaged.passUnretained(self).toOpaque())
        mosquitto_connect_v5_callback_set(handle) { _, userdata, rc, _, _ in
            MQTTPublisher.from(userdata)?.handleConnect(rc)
        }
        mosquitto_disconnect_v5_callback_set(handle) { _, userdata, rc, _ in
            MQTTPublisher.from(userdata)?.handleDisconnect(rc)
        }
        mosquitto_publish_v5_callback_set(handle) { _, userdata, mid, reason, _ in
            MQTTPublisher.from(userdata)?.handlePublished(mid: mid, reason: reason)
        }
        mosquitto_message_v5_callback_set(handle) { _, userdata, message, _ in
            guard let message else { return }
            MQTTPublisher.from(userdata)?.handleMessage(message.pointee)
        }
        mosquitto_log_callback_set(handle) { _, userdata, level, text in
            guard let text else { return }
            MQTTPublisher.from(userdata)?.handleLog(level: level, String(cString: text))
        }
    }

    deinit {
        // Only reached when the loop is not running (a running loop holds `selfRetain`).
        mosquitto_destroy(mosq)
    }

    private static func from(_ userdata: UnsafeMutableRawPointer?) -> MQTTPublisher? {
        guard let userdata else { return nil }
        return Unmanaged<MQTTPublisher>.fromOpaque(userdata).takeUnretainedValue()
    }

    private func withLock<T, E: Error>(_ body: () throws(E) -> T) throws(E) -> T {
        lock.lock()
        defer { lock.unlock() }
        return try body()
    }

    // MARK: - Public API

    /// The namespace this publisher writes under.
    public var topics: Topics { configuration.topics }

    /// Counters and gauges now.
    public var stats: MQTTStats {
        withLock {
            var s = statsValue
            s.connected = linkUp
            s.queued = queue.count
            s.inFlight = inFlight.count + reserved
            return s
        }
    }

    /// Sets the handler for validated inbound commands. It runs on a task of its own per command;
    /// its outcome is published on `cmd/reply`. Malformed commands never reach it.
    public func onCommand(_ handler: @escaping @Sendable (VigilCommand) async -> CommandOutcome) {
        withLock { commandHandler = handler }
    }

    /// Connects (MQTT 5, or 3.1.1 if the broker refuses 5 and the configuration allows it),
    /// registers the last will (retained offline status), publishes the birth status and
    /// subscribes to `cmd/+`. Fails within `connectTimeout` with `unreachable`, `tls`,
    /// `notAuthorized`, `refused` or `timeout`; after the first success, lost connections are
    /// re-established in the background with backoff.
    public func connect() async throws(MQTTError) {
        try withLock { () throws(MQTTError) in
            switch state {
            case .idle: state = .connecting
            case .connecting, .connected: throw MQTTError(.invalidConfiguration, "connect() called twice for \(configuration.brokerDescription)")
            case .closed: throw MQTTError(.notConnected, "the publisher for \(configuration.brokerDescription) was closed")
            }
        }
        do throws(MQTTError) {
            try configureSession()
            let deadline = ContinuousClock.now + configuration.connectTimeout
            switch configuration.protocolChoice {
            case .v311:
                try await attempt(v5: false, deadline: deadline)
            case .v5:
                try await attempt(v5: true, deadline: deadline)
            case .v5WithFallback:
                do throws(MQTTError) {
                    try await attempt(v5: true, deadline: deadline)
                } catch where Self.isProtocolRefusal(error) {
                    logger.notice("broker refused MQTT 5; falling back to 3.1.1",
                                  metadata: ["broker": "\(configuration.brokerDescription)"])
                    try await attempt(v5: false, deadline: deadline)
                }
            }
        } catch {
            withLock {
                if state == .connecting { state = .idle }
                statsValue.lastError = error.description
            }
            throw error
        }
    }

    /// Publishes one payload and waits for its receipt: the broker's PUBACK for QoS 1, the socket
    /// write for QoS 0. `expiry` (MQTT 5 message expiry, whole seconds) makes a retained value
    /// vanish when stale. Throws `queueFull` when the queue cannot take it, `disconnected` if the
    /// publisher closed first, `payload` if it cannot be encoded or the broker refused it.
    @discardableResult
    public func publish(_ payload: some Encodable, to topic: Topic, qos: QoS, retain: Bool = false,
                        expiry: Duration? = nil) async throws(MQTTError) -> PublishReceipt {
        let data = try PayloadCoding.encode(payload)
        return try await publish(data: data, to: topic, qos: qos, retain: retain, expiry: expiry)
    }

    /// Publishes bytes as they are (see `publish(_:to:qos:retain:expiry:)`).
    @discardableResult
    public func publish(data: Data, to topic: Topic, qos: QoS, retain: Bool = false,
                        expiry: Duration? = nil) async throws(MQTTError) -> PublishReceipt {
        let result: Result<PublishReceipt, MQTTError> = await withCheckedContinuation { continuation in
            do throws(MQTTError) {
                try enqueue(data: data, to: topic, qos: qos, retain: retain, expiry: expiry) { result in
                    continuation.resume(returning: result)
                }
            } catch {
                continuation.resume(returning: .failure(error))
            }
        }
        return try result.get()
    }

    /// Queues bytes without waiting; `completion` (if any) is called once with the receipt or the
    /// error, on libmosquitto's thread or the caller's. Throws at once if the queue refuses it.
    /// For high-rate QoS 0 streams (waveforms) pass no completion.
    public func enqueue(data: Data, to topic: Topic, qos: QoS, retain: Bool = false, expiry: Duration? = nil,
                        completion: (@Sendable (Result<PublishReceipt, MQTTError>) -> Void)? = nil) throws(MQTTError) {
        var expirySeconds: UInt32?
        if let expiry {
            let seconds = expiry.components.seconds
            guard seconds >= 1, seconds <= Int64(UInt32.max) else {
                throw MQTTError(.invalidConfiguration, "message expiry \(expiry) for \(topic) must be at least 1 s")
            }
            expirySeconds = UInt32(seconds)
        }
        let message = PendingMessage(topic: topic.name, payload: data, qos: qos, retain: retain,
                                     expirySeconds: expirySeconds, completion: completion)
        let admission = try withLock { () throws(MQTTError) -> OutgoingQueue.Admission in
            guard state != .closed else {
                throw MQTTError(.notConnected, "the publisher for \(configuration.brokerDescription) was closed; \(topic) not sent")
            }
            let admission = queue.enqueue(message)
            switch admission {
            case .queued: break
            case .queuedDropping: statsValue.droppedQoS0Overflow += 1
            case .refused: statsValue.refusedQueueFull += 1
            }
            return admission
        }
        switch admission {
        case .queued:
            break
        case .queuedDropping(let dropped):
            logger.debug("queue full: dropped the oldest QoS 0 message", metadata: ["topic": "\(dropped.topic)"])
            dropped.completion?(.failure(MQTTError(.queueFull, "dropped from the full queue (\(configuration.queueLimit)) to make room: \(dropped.topic)")))
        case .refused:
            throw MQTTError(.queueFull, "queue of \(configuration.queueLimit) messages is full of QoS 1 messages; \(topic) refused")
        }
        pump()
    }

    /// Sets the models and health the birth (and will) status carries, without publishing; call it
    /// before `connect()` so the first birth message is complete.
    public func setStatus(models: [ModelInfo], health: StatusPayload.Health?) {
        withLock {
            statusModels = models
            statusHealth = health
        }
    }

    /// Publishes a status (retained, QoS 1) and remembers models and health for the birth message
    /// sent on every reconnect.
    @discardableResult
    public func publishStatus(reason: StatusPayload.Reason = .healthChanged, models: [ModelInfo],
                              health: StatusPayload.Health?) async throws(MQTTError) -> PublishReceipt {
        withLock {
            statusModels = models
            statusHealth = health
        }
        return try await publish(composeStatus(.online, reason), to: topics.status, qos: .atLeastOnce, retain: true)
    }

    /// Publishes the latest value of a vital (retained, QoS 1, expiring after `expiry`).
    @discardableResult
    public func publishVital(_ vital: VitalPayload, expiry: Duration = .seconds(60)) async throws(MQTTError) -> PublishReceipt {
        try await publish(vital, to: try topics.vitals(vital.kind), qos: .atLeastOnce, retain: true, expiry: expiry)
    }

    /// Publishes an inference result (QoS 1).
    @discardableResult
    public func publishPrediction(_ prediction: PredictionPayload) async throws(MQTTError) -> PublishReceipt {
        try await publish(prediction, to: try topics.predictions(prediction.model.id), qos: .atLeastOnce)
    }

    /// Publishes an alarm event (QoS 1; the receipt proves the broker has it).
    @discardableResult
    public func publishAlert(_ event: AlertEventPayload) async throws(MQTTError) -> PublishReceipt {
        try await publish(event, to: topics.alerts, qos: .atLeastOnce)
    }

    /// Publishes the snapshot of open alarms (retained, QoS 1).
    @discardableResult
    public func publishActiveAlerts(_ snapshot: ActiveAlertsPayload) async throws(MQTTError) -> PublishReceipt {
        try await publish(snapshot, to: topics.activeAlerts, qos: .atLeastOnce, retain: true)
    }

    /// Queues a waveform block (QoS 0) without waiting; under overflow the oldest blocks go first.
    public func publishWaveform(_ block: WaveformPayload) throws(MQTTError) {
        try enqueue(data: try PayloadCoding.encode(block), to: try topics.waveforms(block.channel), qos: .atMostOnce)
    }

    /// Closes the link. Graceful: waits up to `timeout` for queued messages to go out, publishes
    /// the retained offline status and waits for its PUBACK, then disconnects normally (the broker
    /// discards the will). Not graceful: disconnects with reason 0x04 so an MQTT 5 broker publishes
    /// the will. Waiters of messages still unsent fail with `disconnected`.
    public func disconnect(graceful: Bool = true, timeout: Duration = .seconds(3)) async {
        let wasConnected = withLock { state == .connected && linkUp }
        if graceful && wasConnected {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline, withLock({ !queue.isEmpty || !inFlight.isEmpty || reserved > 0 }) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if let data = try? PayloadCoding.encode(composeStatus(.offline, .shutdown)) {
                let gate = ConnectGate()
                try? enqueue(data: data, to: topics.status, qos: .atLeastOnce, retain: true) { result in
                    gate.resolve(result.map { _ in () })
                }
                gate.arm(timeout: max(deadline - ContinuousClock.now, .milliseconds(500)), what: "offline status")
                _ = await gate.wait()
            }
        }
        let (pending, stopLoop) = withLock { () -> ([PendingMessage], Bool) in
            state = .closed
            linkUp = false
            let pending = queue.removeAll() + inFlight.values
            inFlight.removeAll()
            let stop = loopRunning
            loopRunning = false
            return (pending, stop)
        }
        let reason: Int32 = graceful ? 0 : 4  // MQTT 5: 0 normal, 4 "disconnect with will message"
        mosquitto_disconnect_v5(mosq, protocolV5Now ? reason : 0, nil)
        if stopLoop {
            mosquitto_loop_stop(mosq, false)
        }
        for message in pending {
            message.completion?(.failure(MQTTError(.disconnected, "publisher closed before \(message.topic) was acknowledged")))
        }
        let retain = withLock { () -> Unmanaged<MQTTPublisher>? in
            defer { selfRetain = nil }
            return selfRetain
        }
        retain?.release()
        logger.info("MQTT disconnected", metadata: ["broker": "\(configuration.brokerDescription)", "graceful": "\(graceful)"])
    }

    // MARK: - Connecting

    private var protocolV5Now: Bool { withLock { protocolV5 } }

    private static func isProtocolRefusal(_ error: MQTTError) -> Bool {
        error.code == .protocol || error.detail.contains("(reason code 132)") || error.detail.contains("(reason code 1)")
    }

    private func configureSession() throws(MQTTError) {
        let c = configuration
        let broker = c.brokerDescription
        if let username = c.username {
            let password = try c.password?.read()
            try check(mosquitto_username_pw_set(mosq, username, password), "mosquitto_username_pw_set for user \(username)")
        }
        if c.usesTLS {
            let files = c.tls ?? MQTTConfiguration.TLSFiles(caFile: nil)
            for path in [files.caFile, files.certificateFile, files.keyFile].compactMap({ $0 }) {
                guard FileManager.default.isReadableFile(atPath: path) else {
                    throw MQTTError(.invalidConfiguration, "TLS file \(path) is missing or unreadable")
                }
            }
            if (files.certificateFile == nil) != (files.keyFile == nil) {
                throw MQTTError(.invalidConfiguration, "a TLS client certificate needs its key file, and a key its certificate")
            }
            if files.caFile == nil {
                try check(mosquitto_int_option(mosq, MOSQ_OPT_TLS_USE_OS_CERTS, 1), "use the system CA store for \(broker)")
            }
            try check(mosquitto_tls_set(mosq, files.caFile, nil, files.certificateFile, files.keyFile, nil),
                      "mosquitto_tls_set (CA \(files.caFile ?? "system"), certificate \(files.certificateFile ?? "none"))")
            // 1 = SSL_VERIFY_PEER: the broker's certificate must verify; hostname checking stays on.
            try check(mosquitto_tls_opts_set(mosq, 1, "tlsv1.2", nil), "mosquitto_tls_opts_set for \(broker)")
            try check(mosquitto_tls_insecure_set(mosq, false), "mosquitto_tls_insecure_set for \(broker)")
        }
        try check(mosquitto_reconnect_delay_set(mosq, UInt32(c.reconnectDelay.initial), UInt32(c.reconnectDelay.maximum), true),
                  "mosquitto_reconnect_delay_set")
        try check(mosquitto_max_inflight_messages_set(mosq, UInt32(c.maxInFlight)), "mosquitto_max_inflight_messages_set")
    }

    private func attempt(v5: Bool, deadline: ContinuousClock.Instant) async throws(MQTTError) {
        let c = configuration
        let broker = c.brokerDescription
        try check(mosquitto_int_option(mosq, MOSQ_OPT_PROTOCOL_VERSION, v5 ? MQTT_PROTOCOL_V5 : MQTT_PROTOCOL_V311),
                  "set MQTT protocol version")
        if v5 {
            // Receive maximum the broker may use towards us; send maximum caps our in-flight QoS 1.
            try check(mosquitto_int_option(mosq, MOSQ_OPT_SEND_MAXIMUM, Int32(c.maxInFlight)), "MOSQ_OPT_SEND_MAXIMUM")
        }
        let will = try PayloadCoding.encode(composeStatus(.offline, .connectionLost))
        let willRC = will.withUnsafeBytes { bytes in
            mosquitto_will_set_v5(mosq, topics.status.name, Int32(bytes.count), bytes.baseAddress, 1, true, nil)
        }
        try check(willRC, "mosquitto_will_set_v5 on \(topics.status)")

        let gate = ConnectGate()
        try withLock { () throws(MQTTError) in
            guard !connectAttemptRunning else {
                throw MQTTError(.timeout, "an earlier connect to \(broker) is still blocked in the network")
            }
            connectAttemptRunning = true
            protocolV5 = v5
            connectGate = gate
            recentErrors.removeAll()
        }
        let remaining = deadline - ContinuousClock.now
        gate.arm(timeout: max(remaining, .milliseconds(1)), what: "connect to \(broker)")
        // The blocking connect (TCP and TLS handshake) runs on a thread of its own so the deadline
        // holds even when the network does not answer.
        let host = c.host, port = Int32(c.port), keepAlive = Int32(c.keepAlive)
        Thread.detachNewThread { [self] in
            let rc = mosquitto_connect_bind_v5(mosq, host, port, keepAlive, nil, nil)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                let error = mosquittoError(rc, "connect to \(broker)")
                withLock { connectAttemptRunning = false }
                gate.resolve(.failure(withRecentErrors(error)))
                return
            }
            // Until the CONNACK, this thread runs the network loop itself: a refused or silent
            // broker then leaves no libmosquitto thread behind to stop (stopping one that is busy
            // reconnecting can block). libmosquitto's own thread takes over after success.
            while !gate.isResolved {
                let rc = mosquitto_loop(mosq, 50, 1)
                if rc != MOSQ_ERR_SUCCESS.rawValue && !gate.isResolved {
                    gate.resolve(.failure(withRecentErrors(mosquittoError(rc, "connect to \(broker)"))))
                }
            }
            guard case .success = gate.result else {
                mosquitto_disconnect(mosq)
                withLock { connectAttemptRunning = false }
                return
            }
            let loopRC = withLock { () -> Int32 in
                connectAttemptRunning = false
                guard !loopRunning else { return MOSQ_ERR_SUCCESS.rawValue }
                let rc = mosquitto_loop_start(mosq)
                if rc == MOSQ_ERR_SUCCESS.rawValue {
                    loopRunning = true
                    if selfRetain == nil { selfRetain = Unmanaged.passRetained(self) }
                }
                return rc
            }
            if loopRC != MOSQ_ERR_SUCCESS.rawValue {
                logger.error("MQTT network thread did not start", metadata: ["error": "\(mosquittoError(loopRC, "mosquitto_loop_start"))"])
            }
        }
        let result = await gate.wait()
        withLock { if connectGate === gate { connectGate = nil } }
        switch result {
        case .success:
            // The connect thread starts libmosquitto's loop right after the CONNACK; wait for it.
            while withLock({ connectAttemptRunning }) { try? await Task.sleep(for: .milliseconds(1)) }
            withLock { state = .connected }
            logger.info("MQTT connected", metadata: ["broker": "\(broker)", "client_id": "\(c.clientID)",
                                                     "protocol": "\(v5 ? "5" : "3.1.1")"])
        case .failure(let error):
            // A timeout can leave the connect thread blocked in the network; it cleans up itself.
            let deadline = ContinuousClock.now + .milliseconds(200)
            while withLock({ connectAttemptRunning }) && ContinuousClock.now < deadline {
                try? await Task.sleep(for: .milliseconds(2))
            }
            throw withRecentErrors(error)
        }
    }

    /// Appends libmosquitto's own error lines (e.g. OpenSSL's reason) to an error's detail.
    private func withRecentErrors(_ error: MQTTError) -> MQTTError {
        let lines = withLock { recentErrors }
        guard !lines.isEmpty else { return error }
        var copy = error
        copy.detail += " [" + lines.suffix(3).joined(separator: "; ") + "]"
        if copy.code == .library || copy.code == .unreachable, lines.contains(where: { $0.contains("OpenSSL") || $0.contains("SSL") }) {
            copy.code = .tls
        }
        return copy
    }

    private func composeStatus(_ state: StatusPayload.State, _ reason: StatusPayload.Reason) -> StatusPayload {
        let (models, health) = withLock { (statusModels, statusHealth) }
        let uptime = ContinuousClock.now - startInstant
        let seconds = Double(uptime.components.seconds) + Double(uptime.components.attoseconds) / 1e18
        return StatusPayload(state: state, reason: reason, time: Date(), softwareVersion: configuration.softwareVersion,
                             uptimeSeconds: (seconds * 1000).rounded() / 1000, models: models, health: health)
    }

    // MARK: - Sending

    /// Hands queued messages to libmosquitto while connected and under the in-flight bound. One
    /// thread pumps at a time (others just leave their message in the queue), which keeps order.
    private func pump() {
        let start = withLock { () -> Bool in
            if pumping { return false }
            pumping = true
            return true
        }
        guard start else { return }
        while true {
            let next = withLock { () -> PendingMessage? in
                guard linkUp, inFlight.count + reserved < configuration.maxInFlight, let message = queue.popFirst() else {
                    pumping = false
                    return nil
                }
                reserved += 1
                return message
            }
            guard let message = next else { return }
            send(message)
        }
    }

    private func send(_ message: PendingMessage) {
        var mid: Int32 = 0
        var properties: OpaquePointer?
        let v5 = withLock { protocolV5 }
        if v5, let expiry = message.expirySeconds {
            _ = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), expiry)
        }
        let rc = message.payload.withUnsafeBytes { bytes in
            mosquitto_publish_v5(mosq, &mid, message.topic, Int32(bytes.count), bytes.baseAddress,
                                 message.qos.rawValue, message.retain, properties)
        }
        mosquitto_property_free_all(&properties)
        var completeNow: (PendingMessage, Int32)?
        var failure: MQTTError?
        withLock {
            reserved -= 1
            if rc == MOSQ_ERR_SUCCESS.rawValue {
                statsValue.handedToLibrary += 1
                if let reason = earlyDone.removeValue(forKey: mid) {
                    completeNow = (message, reason)
                    countCompletion(message, reason: reason)
                } else {
                    inFlight[mid] = message
                }
                if reserved == 0 { earlyDone.removeAll() }  // nothing in flight can claim them now
            } else if rc == MOSQ_ERR_NO_CONN.rawValue || rc == MOSQ_ERR_CONN_LOST.rawValue {
                // The link went down under us: keep the message first in line for the reconnect.
                queue.pushFront(message)
                linkUp = false
            } else {
                statsValue.failed += 1
                failure = mosquittoError(rc, "publish to \(message.topic)")
            }
        }
        if let (message, reason) = completeNow { complete(message, mid: mid, reason: reason) }
        if let failure {
            logger.warning("MQTT publish failed", metadata: ["topic": "\(message.topic)", "error": "\(failure)"])
            message.completion?(.failure(failure))
        }
    }

    /// Counts a finished message (lock held).
    private func countCompletion(_ message: PendingMessage, reason: Int32) {
        if reason >= 128 {
            statsValue.failed += 1
        } else if message.qos == .atLeastOnce {
            statsValue.acknowledged += 1
        } else {
            statsValue.sentUnacknowledged += 1
        }
    }

    private func complete(_ message: PendingMessage, mid: Int32, reason: Int32) {
        guard let completion = message.completion else { return }
        if reason >= 128 {  // MQTT 5 PUBACK failure reason (not authorized, quota exceeded, ...)
            let text = String(cString: mosquitto_reason_string(reason))
            completion(.failure(MQTTError(.refused, "broker refused \(message.topic): \(text) (reason code \(reason))")))
        } else {
            completion(.success(PublishReceipt(topic: message.topic, qos: message.qos, messageID: mid,
                                               acknowledged: message.qos == .atLeastOnce)))
        }
    }

    // MARK: - libmosquitto callbacks (on its loop thread)

    private func handleConnect(_ rc: Int32) {
        if rc != 0 {
            let v5 = withLock { protocolV5 }
            let error = connackError(rc, protocolV5: v5, broker: configuration.brokerDescription)
            let gate = withLock { () -> ConnectGate? in
                statsValue.lastError = error.description
                return connectGate
            }
            logger.error("MQTT connect refused", metadata: ["error": "\(error)"])
            gate?.resolve(.failure(error))
            return
        }
        let (gate, first, v5) = withLock { () -> (ConnectGate?, Bool, Bool) in
            linkUp = true
            statsValue.connects += 1
            statsValue.protocolVersion = protocolV5 ? "5" : "3.1.1"
            return (connectGate, statsValue.connects == 1, protocolV5)
        }
        // No-local (MQTT 5) keeps our own cmd/reply from coming back to us.
        let options: Int32 = v5 ? Int32(MQTT_SUB_OPT_NO_LOCAL.rawValue) : 0
        let subRC = mosquitto_subscribe_v5(mosq, nil, topics.commandFilter, 1, options, nil)
        if subRC != MOSQ_ERR_SUCCESS.rawValue {
            logger.error("MQTT subscribe to commands failed", metadata: ["error": "\(mosquittoError(subRC, "subscribe \(topics.commandFilter)"))"])
        }
        if let birth = try? PayloadCoding.encode(composeStatus(.online, first ? .startup : .reconnected)) {
            withLock {
                queue.pushFront(PendingMessage(topic: topics.status.name, payload: birth, qos: .atLeastOnce,
                                               retain: true, expirySeconds: nil, completion: nil))
            }
        }
        if !first { logger.notice("MQTT reconnected", metadata: ["broker": "\(configuration.brokerDescription)"]) }
        gate?.resolve(.success(()))
        pump()
    }

    private func handleDisconnect(_ rc: Int32) {
        let (gate, lost, closing) = withLock { () -> (ConnectGate?, [PendingMessage], Bool) in
            let wasUp = linkUp
            linkUp = false
            // libmosquitto drops QoS 0 packets it has not written; QoS 1 ones it resends itself.
            var lost: [PendingMessage] = []
            for (mid, message) in inFlight where message.qos == .atMostOnce {
                inFlight.removeValue(forKey: mid)
                lost.append(message)
            }
            statsValue.lostQoS0OnDisconnect += UInt64(lost.count)
            if wasUp && state != .closed { statsValue.connectionLosses += 1 }
            if rc != 0 && state != .closed {
                statsValue.lastError = mosquittoError(rc, "connection to \(configuration.brokerDescription)").description
            }
            return (connectGate, lost, state == .closed)
        }
        if !closing && rc != 0 {
            logger.warning("MQTT connection lost; reconnecting with backoff",
                           metadata: ["broker": "\(configuration.brokerDescription)", "rc": "\(rc)"])
        }
        if let gate {
            gate.resolve(.failure(withRecentErrors(mosquittoError(rc == 0 ? MOSQ_ERR_CONN_LOST.rawValue : rc,
                                                                  "connection to \(configuration.brokerDescription)"))))
        }
        for message in lost {
            message.completion?(.failure(MQTTError(.disconnected, "connection lost before QoS 0 \(message.topic) was written")))
        }
    }

    private func handlePublished(mid: Int32, reason: Int32) {
        let message = withLock { () -> PendingMessage? in
            guard let message = inFlight.removeValue(forKey: mid) else {
                // Only a publish call still between mosquitto_publish_v5 and its registration can
                // own this id; otherwise it is a late callback for a message already given up
                // (QoS 0 lost at a disconnect) and must not complete a future message that
                // reuses the id.
                if reserved > 0 { earlyDone[mid] = reason }
                return nil
            }
            countCompletion(message, reason: reason)
            return message
        }
        if let message { complete(message, mid: mid, reason: reason) }
        pump()
    }

    private func handleLog(level: Int32, _ text: String) {
        if level == MOSQ_LOG_ERR || level == MOSQ_LOG_WARNING {
            withLock {
                recentErrors.append(text)
                if recentErrors.count > 8 { recentErrors.removeFirst() }
            }
            logger.debug("libmosquitto: \(text)")
        } else {
            logger.trace("libmosquitto: \(text)")
        }
    }

    private func handleMessage(_ message: mosquitto_message) {
        guard let topicPointer = message.topic else { return }
        let topic = String(cString: topicPointer)
        let payload = message.payload.map { Data(bytes: $0, count: Int(message.payloadlen)) } ?? Data()
        guard let name = topics.commandName(of: topic), name != "reply" else { return }
        let outcome: Result<VigilCommand, CommandRejection>
        if message.retain {
            outcome = .failure(CommandRejection("retained", "retained commands are never acted on (they would replay on every connect)"))
        } else {
            do throws(CommandRejection) {
                outcome = .success(try parser.parse(name: name, payload: payload))
            } catch {
                outcome = .failure(error)
            }
        }
        switch outcome {
        case .failure(let rejection):
            withLock { statsValue.commandsRejected += 1 }
            logger.warning("MQTT command rejected", metadata: ["topic": "\(topic)", "reason": "\(rejection)"])
            reply(CommandReplyPayload(requestID: CommandParser.bestEffortRequestID(payload), command: name, status: .rejected,
                                      error: .init(code: rejection.code, detail: rejection.detail), time: Date()))
        case .success(let command):
            let handler = withLock { commandHandler }
            guard let handler else {
                withLock { statsValue.commandsFailed += 1 }
                reply(CommandReplyPayload(requestID: command.requestID, command: name, status: .failed,
                                          error: .init(code: "no_handler", detail: "the agent has no command handler"), time: Date()))
                return
            }
            logger.info("MQTT command", metadata: ["command": "\(name)", "request_id": "\(command.requestID)"])
            Task {
                let result = await handler(command)
                switch result {
                case .accepted:
                    withLock { statsValue.commandsAccepted += 1 }
                    reply(CommandReplyPayload(requestID: command.requestID, command: name, status: .accepted, error: nil, time: Date()))
                case .failed(let code, let detail):
                    withLock { statsValue.commandsFailed += 1 }
                    reply(CommandReplyPayload(requestID: command.requestID, command: name, status: .failed,
                                              error: .init(code: code, detail: detail), time: Date()))
                }
            }
        }
    }

    private func reply(_ payload: CommandReplyPayload) {
        guard let data = try? PayloadCoding.encode(payload) else { return }
        do {
            try enqueue(data: data, to: topics.commandReply, qos: .atLeastOnce)
        } catch {
            logger.warning("MQTT command reply not queued", metadata: ["error": "\(error)"])
        }
    }
}

/// A one-shot rendezvous between a waiting task and whichever comes first: the libmosquitto
/// callback, the connect thread, or the timeout.
final class ConnectGate: @unchecked Sendable {
    // @unchecked Sendable: `result` and `continuation` are only touched with `lock` held, and the
    // continuation is resumed exactly once, outside the lock.
    private let lock = NSLock()
    private var stored: Result<Void, MQTTError>?
    private var continuation: CheckedContinuation<Result<Void, MQTTError>, Never>?

    var isResolved: Bool { result != nil }

    /// The outcome, once resolved.
    var result: Result<Void, MQTTError>? {
        lock.lock()
        defer { lock.unlock() }
        return stored
    }

    func resolve(_ value: Result<Void, MQTTError>) {
        lock.lock()
        guard stored == nil else { lock.unlock(); return }
        stored = value
        let waiting = continuation
        continuation = nil
        lock.unlock()
        waiting?.resume(returning: value)
    }

    func arm(timeout: Duration, what: String) {
        let nanoseconds = max(0, timeout.components.seconds * 1_000_000_000 + timeout.components.attoseconds / 1_000_000_000)
        DispatchQueue.global().asyncAfter(deadline: .now() + .nanoseconds(Int(nanoseconds))) { [self] in
            resolve(.failure(MQTTError(.timeout, "\(what): no answer within \(timeout)")))
        }
    }

    func wait() async -> Result<Void, MQTTError> {
        await withCheckedContinuation { continuation in
            lock.lock()
            if let stored {
                lock.unlock()
                continuation.resume(returning: stored)
            } else {
                self.continuation = continuation
                lock.unlock()
            }
        }
    }
}
