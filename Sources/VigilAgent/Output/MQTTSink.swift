import Foundation
import Logging
import ServiceLifecycle
import VigilAlerts
import VigilMQTT

/// Publishes the hub's results on the MQTT topic contract (docs/MQTT.md, docs/asyncapi.yaml) and
/// turns inbound `cmd/...` messages into alarm commands and model reloads.
///
/// The sink never waits for the broker: messages go into the publisher's bounded queue (QoS 1
/// waits there through an outage; overflow is counted in the publisher's stats), so a slow or absent
/// broker cannot stall a pipeline. Durability for the cloud belongs to the outbox, not to MQTT.
final class MQTTSink: AgentSink, Service, @unchecked Sendable {  // mutable state only under `lock`
    let publisher: MQTTPublisher
    let config: AgentConfiguration
    let logger: Logger
    private let lock = NSLock()
    private var hub: AgentHub?
    private var reloadHandler: (@Sendable (String) -> CommandOutcome)?
    private var waveformSequence: [String: UInt64] = [:]
    private var models: [ModelInfo] = []

    init(config: AgentConfiguration, logger: Logger) throws(AgentError) {
        guard let broker = config.mqtt.broker else { throw AgentError(.config, "no MQTT broker configured") }
        var tls: MQTTConfiguration.TLSFiles?
        if config.mqtt.caFile != nil || config.mqtt.certFile != nil {
            tls = .init(caFile: config.mqtt.caFile, certificateFile: config.mqtt.certFile, keyFile: config.mqtt.keyFile)
        }
        do {
            let mqttConfig = try MQTTConfiguration(
                brokerURL: broker, site: config.device.site, device: config.device.id,
                clientID: "vigil-\(config.device.site)-\(config.device.id)",
                username: config.mqtt.username, password: config.mqtt.passwordFile.map { .file($0) }, tls: tls,
                softwareVersion: agentVersion)
            publisher = try MQTTPublisher(configuration: mqttConfig, logger: logger)
        } catch {
            throw AgentError(.config, "\(config.origin): mqtt: \(error)")
        }
        self.config = config
        self.logger = logger
    }

    func attach(hub: AgentHub, models: [ModelInfo], reload: @escaping @Sendable (String) -> CommandOutcome) {
        lock.withLock {
            self.hub = hub
            self.models = models
            reloadHandler = reload
        }
        publisher.setStatus(models: models, health: StatusPayload.Health(overall: .ok, components: []))
        publisher.onCommand { [weak self] command in
            guard let self else { return .failed(code: "shutting_down", detail: "the agent is stopping") }
            return await self.execute(command)
        }
    }

    private func execute(_ command: VigilCommand) async -> CommandOutcome {
        let (hub, reload) = lock.withLock { (self.hub, reloadHandler) }
        guard let hub else { return .failed(code: "not_ready", detail: "the agent is starting") }
        switch command {
        case .acknowledge(let c):
            do { _ = try await hub.command(.acknowledge(alarmID: c.alarmID)) } catch {
                return .failed(code: error.code.rawValue, detail: error.detail)
            }
            logger.notice("alarm acknowledged over MQTT", metadata: ["alarm": "\(c.alarmID)", "operator": "\(c.operatorID ?? "-")"])
            return .accepted
        case .silence(let c):
            do { _ = try await hub.command(.silence(alarmID: c.alarmID, duration: .seconds(c.durationSeconds))) } catch {
                return .failed(code: error.code.rawValue, detail: error.detail)
            }
            logger.notice("alarm silenced over MQTT", metadata: ["alarm": "\(c.alarmID)", "seconds": "\(c.durationSeconds)", "operator": "\(c.operatorID ?? "-")"])
            return .accepted
        case .reload(let c):
            return reload?(c.modelID) ?? .failed(code: "not_ready", detail: "no model to reload")
        }
    }

    /// Connects (retrying in the background if the broker is down), then waits for shutdown and
    /// disconnects gracefully: queued messages go out and `status` becomes offline.
    func run() async throws {
        do {
            try await publisher.connect()
            logger.info("MQTT connected", metadata: ["broker": "\(config.mqtt.broker ?? "")"])
        } catch {
            // A broker that is down at start is not fatal at the bedside: the publisher keeps
            // reconnecting and queues meanwhile. Wrong credentials or TLS are logged loudly.
            logger.error("MQTT connect failed; retrying in the background", metadata: ["error": "\(error)"])
        }
        try? await gracefulShutdown()
        await publisher.disconnect(graceful: true, timeout: .seconds(3))
        logger.info("MQTT disconnected", metadata: ["stats": "\(publisher.stats)"])
    }

    // MARK: AgentSink

    private func send(_ payload: some Encodable, to topic: @autoclosure () throws(MQTTError) -> Topic, qos: QoS,
                      retain: Bool = false, expiry: Duration? = nil) {
        do {
            let data = try PayloadCoding.encode(payload)
            try publisher.enqueue(data: data, to: try topic(), qos: qos, retain: retain, expiry: expiry)
        } catch {
            logger.warning("MQTT publish refused", metadata: ["error": "\(error)"])
        }
    }

    func vital(_ reading: VitalReading) async {
        // Unavailable (quality-gated) vitals are not published as numbers: the retained value
        // expires instead, and the technical alarm says why.
        guard let value = reading.value else { return }
        let payload = VitalPayload(kind: reading.vital.mqttKind, value: value, unit: reading.vital.ucum, time: reading.time,
                                   quality: 1, source: reading.source)
        send(payload, to: try publisher.topics.vitals(reading.vital.mqttKind), qos: .atLeastOnce, retain: true,
             expiry: .seconds(Int64(config.mqtt.vitalsExpirySeconds)))
    }

    func prediction(_ record: PredictionRecord) async {
        guard let label = record.label, let top = record.scores.max() else { return }  // withheld windows are not published as results
        let payload = PredictionPayload(
            model: ModelInfo(id: record.model.id, version: record.model.version, digest: record.model.digest),
            label: label, score: Double(top),
            scores: zip(record.labels, record.scores).map { .init(label: $0, score: Double($1)) },
            windowStart: record.windowStart, windowEnd: record.windowEnd, signalQuality: 1,
            inferenceMicroseconds: Double(record.inferenceMicros))
        send(payload, to: try publisher.topics.predictions(record.model.id), qos: .atLeastOnce)
    }

    func alarms(_ events: [AlarmEvent], active: [AlarmSnapshot], clock: EngineClock) async {
        for e in events {
            send(AlertEventPayload(event: e, clock: clock), to: publisher.topics.alerts, qos: .atLeastOnce)
        }
        let snapshot = ActiveAlertsPayload(time: Date(), alarms: active.map { ActiveAlertsPayload.Alarm(snapshot: $0, clock: clock) })
        send(snapshot, to: publisher.topics.activeAlerts, qos: .atLeastOnce, retain: true)
    }

    func waveform(pipeline: String, block: SampleBlock, start: Date) async {
        let seq = lock.withLock { () -> UInt64 in
            let s = waveformSequence[block.channel, default: 0]
            waveformSequence[block.channel] = s + 1
            return s
        }
        let payload = WaveformPayload(channel: block.channel, sequence: seq, rateHz: block.rate, start: start,
                                      unit: block.channel == "ecg" ? "mV" : "1", samples: block.samples.map { Double($0) })
        do { try publisher.publishWaveform(payload) } catch {
            logger.debug("waveform not queued", metadata: ["error": "\(error)"])
        }
    }

    func health(_ components: [HealthComponent]) async {
        let overall: StatusPayload.HealthLevel = components.contains { $0.level == .failed } ? .failed
            : components.contains { $0.level == .degraded } ? .degraded : .ok
        let health = StatusPayload.Health(overall: overall, components: components.map {
            StatusPayload.Component(name: $0.name, level: StatusPayload.HealthLevel(rawValue: $0.level.rawValue) ?? .degraded, detail: $0.detail)
        })
        let models = lock.withLock { self.models }
        // Not awaited inline: the PUBACK must not hold up the pipeline that reported the change.
        let publisher = self.publisher
        let logger = self.logger
        Task {
            do { try await publisher.publishStatus(reason: .healthChanged, models: models, health: health) } catch {
                logger.warning("status not published", metadata: ["error": "\(error)"])
            }
        }
    }

}

extension Vital {
    /// The `vitals/<kind>` topic level.
    var mqttKind: String {
        switch self {
        case .heartRate: "heart_rate"
        case .respirationRate: "respiration_rate"
        case .spo2: "spo2"
        case .systolicBP: "systolic_bp"
        case .temperature: "temperature"
        }
    }
}

extension AlertEventPayload {
    /// The wire form of an engine event, its times mapped by `clock`.
    init(event e: AlarmEvent, clock: EngineClock) {
        self.init(eventID: e.id, alarmID: e.alarmID, sequence: e.sequence,
                  time: clock.date(e.time),
                  priority: AlertPriority(e.priority), condition: AlertCondition(e.condition),
                  previousState: e.previousState.map(AlertState.init), state: AlertState(e.state),
                  reason: AlertEventPayload.Reason(e.reason), message: e.message, value: e.value, threshold: e.threshold,
                  unit: e.unit, model: e.model.map { ModelInfo(id: $0.id, version: $0.version, digest: $0.digest) },
                  silencedUntil: e.silencedUntil.map(clock.date))
    }
}

extension ActiveAlertsPayload.Alarm {
    init(snapshot s: AlarmSnapshot, clock: EngineClock) {
        self.init(alarmID: s.alarmID, condition: AlertCondition(s.condition), state: AlertState(s.state),
                  priority: AlertPriority(s.priority), activatedAt: clock.date(s.activatedAt),
                  lastValue: s.lastValue, threshold: s.threshold,
                  silencedUntil: s.silencedUntil.map(clock.date),
                  model: s.model.map { ModelInfo(id: $0.id, version: $0.version, digest: $0.digest) })
    }
}

extension AlertPriority {
    init(_ p: AlarmPriority) {
        switch p {
        case .low: self = .low
        case .medium: self = .medium
        case .high: self = .high
        }
    }
}

extension AlertCondition {
    init(_ c: AlarmCondition) {
        self.init(kind: AlertCondition.Kind(rawValue: c.kind.rawValue) ?? .technical, code: c.code, source: c.source)
    }
}

extension AlertState {
    init(_ s: AlarmState) { self = AlertState(rawValue: s.rawValue) ?? .active }
}

extension AlertEventPayload.Reason {
    init(_ r: TransitionReason) { self = AlertEventPayload.Reason(rawValue: r.rawValue) ?? .conditionMet }
}

let agentVersion = "0.2.0"
