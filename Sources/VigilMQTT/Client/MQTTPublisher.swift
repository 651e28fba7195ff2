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
/// Threading: one network thread of our own per connection runs libmosquitto's loop
/// (`mosquitto_loop`, the library told it is threaded externally), reconnects with exponential
/// backoff after a lost connection, and gets our callbacks. It is ours rather than
/// `mosquitto_loop_start`'s so that closing never waits on the library: with the broker down that
/// thread checks for a stop only around its backoff sleep, a wake-up written outside the sleep is
/// drained by the next one (the stop then waits out a backoff of up to 30 s), and a stop that
/// lands during a reconnect is overwritten by it (the reconnect resets the client state), after
/// which `mosquitto_loop_stop` joins forever; an earlier version was seen blocking there.
/// Callers publish from any task. All mutable state is guarded by `lock`; the lock is never held
/// while calling into libmosquitto or into caller code (completions, the command handler), so
/// neither side can deadlock the other.
///
/// Delivery: `publish` resumes when the broker acknowledged a QoS 1 message (PUBACK) or when a
/// QoS 0 message was written; only then may an outbox delete its copy. Unacknowledged messages
/// live in RAM (our queue and libmosquitto's); durability belongs to the outbox.
///
/// Lifetime: while its network thread runs the publisher keeps itself alive (the C library holds
/// a pointer to it); call `disconnect(graceful:)` to close the link and release it. Closing is
/// bounded: it never waits longer than `timeout` plus 2.5 s, broker up or down.
public final class MQTTPublisher: @unchecked Sendable {
    // @unchecked Sendable: every stored `var` below is read and written only with `lock` held;
    // `mosq` is set once in init and libmosquitto's API is thread-safe in threaded mode (it locks
    // internally around its queues and socket, and publishes from other threads only queue and
    // wake the network thread); `configuration`, `logger`, `startInstant`, `parser` and
    // `closeSignal` are immutable references to thread-safe objects.

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
    /// Resolved when the current network thread has exited (nil before the first attempt).
    private var networkDone: ConnectGate?
    /// Reconnect attempts since the last successful CONNACK (the backoff exponent).
    private var reconnectFailures = 0
    /// MQTT 5 DISCONNECT reason the network thread sends when it sees `.closed` (0 normal,
    /// 4 "disconnect with will message").
    private var closeReason: Int32 = 0
    /// Signalled once by `disconnect` to cut short the network thread's backoff wait.
    private let closeSignal = DispatchSemaphore(value: 0)
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
        // Our own thread runs the loop: publishes from other threads must only queue and wake it.
        mosquitto_threaded_set(handle, true)
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
        // Only reached when no network thread runs (a running one holds `self`).
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
                } catch where error.suggestsProtocolDowngrade {
                    logger.notice("broker refused MQTT 5; falling back to 3.1.1",
                                  metadata: ["broker": "\(configuration.brokerDescription)", "refusal": "\(error)"])
                    do throws(MQTTError) {
                        try await attempt(v5: false, deadline: deadline)
                    } catch var second {
                        second.detail += " (MQTT 3.1.1 attempt, after MQTT 5 was refused: \(error.detail))"
                        throw second
                    }
                    withLock { statsValue.protocolFallback = true }
                    logger.warning("""
                        MQTT 3.1.1 in use: retained vitals carry no message expiry (stale values stay until \
                        overwritten), PUBACKs carry no failure reason, our cmd/reply comes back to us (ignored), \
                        and an ungraceful disconnect closes the socket instead of sending reason 0x04
                        """, metadata: ["broker": "\(configuration.brokerDescription)"])
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
    /// discards the will). Not graceful: disconnects with reason 0x04 (MQTT 5) or closes the
    /// socket without a DISCONNECT (3.1.1) so the broker publishes the will. Waiters of messages
    /// still unsent or unacknowledged fail with `disconnected`. Returns within `timeout` plus 2.5 s
    /// whatever the broker does, also when it is down or was never reachable; a
    /// network thread still blocked in a TCP connect then exits on its own when that returns.
    public func disconnect(graceful: Bool = true, timeout: Duration = .seconds(3)) async {
        let wasConnected = withLock { state == .connected && linkUp }
        if graceful && wasConnected {
            let deadline = ContinuousClock.now + timeout
            while ContinuousClock.now < deadline, withLock({ linkUp && (!queue.isEmpty || !inFlight.isEmpty || reserved > 0) }) {
                try? await Task.sleep(for: .milliseconds(10))
            }
            if withLock({ linkUp }), let data = try? PayloadCoding.encode(composeStatus(.offline, .shutdown)) {
                let gate = ConnectGate()
                try? enqueue(data: data, to: topics.status, qos: .atLeastOnce, retain: true) { result in
                    gate.resolve(result.map { _ in () })
                }
                gate.arm(timeout: max(deadline - ContinuousClock.now, .milliseconds(500)), what: "offline status")
                _ = await gate.wait()
            }
        }
        let (pending, done, gate, alreadyClosed) = withLock { () -> ([PendingMessage], ConnectGate?, ConnectGate?, Bool) in
            let already = state == .closed
            state = .closed
            linkUp = false
            closeReason = graceful ? 0 : 4  // MQTT 5: 0 normal, 4 "disconnect with will message"
            let pending = queue.removeAll() + inFlight.values
            inFlight.removeAll()
            return (pending, networkDone, connectGate, already)
        }
        guard !alreadyClosed else { return }
        closeSignal.signal()
        gate?.resolve(.failure(MQTTError(.notConnected, "disconnect() was called while connecting to \(configuration.brokerDescription)")))
        // The network thread sees `.closed` within one loop turn (100 ms) or at once if it waits
        // to reconnect, says goodbye to the broker (bounded) and exits.
        var finished = true
        if let done {
            finished = await Self.waitFor(done, until: ContinuousClock.now + .seconds(2))
        } else {
            mosquitto_disconnect_v5(mosq, 0, nil)  // never connected: just mark the session closed
        }
        for message in pending {
            message.completion?(.failure(MQTTError(.disconnected, "publisher closed before \(message.topic) was acknowledged")))
        }
        if !finished {
            logger.warning("MQTT network thread is still blocked in a connect; it exits when that returns",
                           metadata: ["broker": "\(configuration.brokerDescription)"])
        }
        logger.info("MQTT disconnected", metadata: ["broker": "\(configuration.brokerDescription)", "graceful": "\(graceful)"])
    }

    /// Waits (polling; only used for short, bounded waits) until `gate` is resolved or `deadline`
    /// passes; true if it was resolved.
    private static func waitFor(_ gate: ConnectGate, until deadline: ContinuousClock.Instant) async -> Bool {
        while !gate.isResolved {
            if ContinuousClock.now >= deadline { return false }
            try? await Task.sleep(for: .milliseconds(5))
        }
        return true
    }

    // MARK: - Connecting

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
        let done = ConnectGate()
        try withLock { () throws(MQTTError) in
            if let previous = networkDone, !previous.isResolved {
                throw MQTTError(.timeout, "an earlier connect to \(broker) is still blocked in the network")
            }
            guard state == .connecting else {
                throw MQTTError(.notConnected, "disconnect() was called while connecting to \(broker)")
            }
            protocolV5 = v5
            connectGate = gate
            networkDone = done
            reconnectFailures = 0
            recentErrors.removeAll()
        }
        let remaining = deadline - ContinuousClock.now
        gate.arm(timeout: max(remaining, .milliseconds(1)), what: "connect to \(broker)")
        // The blocking connect (TCP and TLS handshake) runs on the network thread so the deadline
        // holds even when the network does not answer.
        let host = c.host, port = Int32(c.port), keepAlive = Int32(c.keepAlive)
        Thread.detachNewThread { [self] in
            runNetwork(gate: gate, host: host, port: port, keepAlive: keepAlive)
            done.resolve(.success(()))
        }
        let result = await gate.wait()
        withLock { if connectGate === gate { connectGate = nil } }
        switch result {
        case .success:
            let closedMeanwhile = withLock { () -> Bool in
                guard state == .connecting else { return true }
                state = .connected
                return false
            }
            if closedMeanwhile {
                throw MQTTError(.notConnected, "disconnect() was called while connecting to \(broker)")
            }
            logger.info("MQTT connected", metadata: ["broker": "\(broker)", "client_id": "\(c.clientID)",
                                                     "protocol": "\(v5 ? "5" : "3.1.1")"])
        case .failure(let error):
            // After a refusal the thread is done at once; after a timeout it may still be blocked
            // in the network and cleans up by itself when that returns.
            _ = await Self.waitFor(done, until: max(deadline, ContinuousClock.now + .milliseconds(200)))
            throw withRecentErrors(error)
        }
    }

    // MARK: - The network thread

    /// The network thread of one connect attempt: connects, runs libmosquitto's loop until the
    /// CONNACK (or the gate's timeout), then, if accepted, serves the link until `disconnect`.
    private func runNetwork(gate: ConnectGate, host: String, port: Int32, keepAlive: Int32) {
        let broker = configuration.brokerDescription
        let rc = mosquitto_connect_bind_v5(mosq, host, port, keepAlive, nil, nil)
        if rc != MOSQ_ERR_SUCCESS.rawValue {
            gate.resolve(.failure(withRecentErrors(mosquittoError(rc, "connect to \(broker)"))))
            return
        }
        while !gate.isResolved {
            let rc = mosquitto_loop(mosq, 50, 1)
            if rc != MOSQ_ERR_SUCCESS.rawValue && !gate.isResolved {
                gate.resolve(.failure(markingDowngrade(withRecentErrors(mosquittoError(rc, "connect to \(broker)")))))
            }
        }
        guard case .success = gate.result else {
            // Refused, timed out or closed meanwhile: leave nothing open behind us.
            closeLink(reason: 0, v5: withLock { protocolV5 })
            return
        }
        serve()
    }

    /// Runs the accepted link: libmosquitto's loop (reads, writes, keep-alive; 100 ms turns so a
    /// close is seen promptly), and after a loss a backoff wait that `disconnect` cuts short,
    /// then a reconnect. Ends by closing the link the way `disconnect` asked.
    private func serve() {
        let broker = configuration.brokerDescription
        let (initial, maximum) = configuration.reconnectDelay
        while true {
            if withLock({ state == .closed }) { break }
            if mosquitto_loop(mosq, 100, 1) == MOSQ_ERR_SUCCESS.rawValue { continue }
            // The link is down (libmosquitto has called handleDisconnect if it was up).
            let delay = withLock { () -> Int? in
                guard state != .closed else { return nil }
                let delay = min(initial << min(reconnectFailures, 20), maximum)
                reconnectFailures += 1
                return delay
            }
            guard let delay else { break }
            if closeSignal.wait(timeout: .now() + .seconds(delay)) == .success { break }
            if withLock({ state == .closed }) { break }
            // Blocking TCP (and TLS) connect, then CONNECT; the CONNACK comes through the loop.
            let rc = mosquitto_reconnect(mosq)
            if rc != MOSQ_ERR_SUCCESS.rawValue {
                let error = withRecentErrors(mosquittoError(rc, "reconnect to \(broker)"))
                withLock { statsValue.lastError = error.description }
                logger.debug("MQTT reconnect failed", metadata: ["error": "\(error)"])
            }
        }
        let (reason, v5) = withLock { (closeReason, protocolV5) }
        closeLink(reason: reason, v5: v5)
    }

    /// Ends the session on this (the network) thread, waiting at most 500 ms for the socket to
    /// close. `reason` 4 asks for the will: MQTT 5 sends it as the DISCONNECT reason; MQTT 3.1.1
    /// has no such reason and a DISCONNECT would make the broker discard the will, so the TCP
    /// connection is ended without one, as a crash would end it.
    private func closeLink(reason: Int32, v5: Bool) {
        let socket = mosquitto_socket(mosq)
        if socket >= 0 && reason != 0 && !v5 {
            // Write what is already queued first (the birth may still be there), as the MQTT 5
            // DISCONNECT, queued behind it, would.
            let flushDeadline = ContinuousClock.now + .milliseconds(200)
            while mosquitto_want_write(mosq) && ContinuousClock.now < flushDeadline {
                if mosquitto_loop(mosq, 20, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
            }
            _ = shutdown(socket, Int32(SHUT_RDWR))
        } else {
            mosquitto_disconnect_v5(mosq, v5 ? reason : 0, nil)
        }
        let deadline = ContinuousClock.now + .milliseconds(500)
        while mosquitto_socket(mosq) >= 0 && ContinuousClock.now < deadline {
            if mosquitto_loop(mosq, 50, 1) != MOSQ_ERR_SUCCESS.rawValue { break }
        }
    }

    /// Marks a failure before the CONNACK of an MQTT 5 attempt as a reason to try 3.1.1 when it
    /// is how brokers that only speak 3.1.1 answer a level-5 CONNECT: a CONNACK libmosquitto
    /// cannot parse as MQTT 5 (`MOSQ_ERR_PROTOCOL`, not an errno) or the connection closed without
    /// any CONNACK. TLS failures never qualify.
    private func markingDowngrade(_ error: MQTTError) -> MQTTError {
        guard withLock({ protocolV5 }), error.code != .tls,
              error.mosquittoCode == MOSQ_ERR_PROTOCOL.rawValue || error.mosquittoCode == MOSQ_ERR_CONN_LOST.rawValue
        else { return error }
        var copy = error
        copy.suggestsProtocolDowngrade = true
        return copy
    }

    /// Appends libmosquitto's own error lines (e.g. OpenSSL's reason) to an error's detail, once.
    private func withRecentErrors(_ error: MQTTError) -> MQTTError {
        let lines = withLock { recentErrors }
        guard !lines.isEmpty else { return error }
        var copy = error
        let suffix = " [" + lines.suffix(3).joined(separator: "; ") + "]"
        if !copy.detail.hasSuffix(suffix) { copy.detail += suffix }
        // OpenSSL's lines name the real cause of a "lost connection" or reset during the handshake
        // (e.g. a TLS 1.3 "certificate required" alert when we have no client certificate).
        if [.library, .unreachable, .disconnected, .protocol].contains(copy.code),
           lines.contains(where: { $0.contains("OpenSSL") || $0.contains("SSL") }) {
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
        if let expiry = message.expirySeconds {
            if v5 {
                _ = mosquitto_property_add_int32(&properties, Int32(MQTT_PROP_MESSAGE_EXPIRY_INTERVAL.rawValue), expiry)
            } else {
                withLock { statsValue.expiryDropped += 1 }  // 3.1.1 has no message expiry
            }
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
            var error = connackError(rc, protocolV5: v5, broker: configuration.brokerDescription)
            // 132 "unsupported protocol version" (libmosquitto also reports a 3.1.1 CONNACK with
            // return code 1 this way), or 1 itself from a broker that answered in 3.1.1 framing.
            error.suggestsProtocolDowngrade = v5 && (rc == 132 || rc == 1)
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
            reconnectFailures = 0
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
        // Hand the birth to libmosquitto before connect() returns: a disconnect right after it
        // then queues its DISCONNECT (or, over 3.1.1, its flush) behind the birth.
        pump()
        gate?.resolve(.success(()))
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
            gate.resolve(.failure(markingDowngrade(withRecentErrors(mosquittoError(rc == 0 ? MOSQ_ERR_CONN_LOST.rawValue : rc,
                                                                                   "connection to \(configuration.brokerDescription)")))))
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
