import Foundation
import Logging
import VigilAlerts

/// One vital-sign reading as the agent publishes and uploads it.
public struct VitalReading: Sendable, Equatable {
    public var vital: Vital
    /// nil when the signal-quality gate withheld it ("unavailable", not a number).
    public var value: Double?
    public var quality: String
    /// The pipeline or source that measured it.
    public var source: String
    public var time: Date
}

/// One inference result.
public struct PredictionRecord: Sendable {
    public var pipeline: String
    public var model: ModelIdentity
    public var labels: [String]
    public var scores: [Float]
    /// The top class, or nil when the window was withheld for poor signal quality.
    public var label: String? {
        guard accepted, let i = scores.indices.max(by: { scores[$0] < scores[$1] }) else { return nil }
        return labels[i]
    }
    /// Whether the signal-quality gate accepted the window.
    public var accepted: Bool
    public var windowStart: Date
    public var windowEnd: Date
    public var inferenceMicros: Int
}

/// Where results go: the MQTT publisher, the outbox, the status line.
public protocol AgentSink: Sendable {
    func vital(_ reading: VitalReading) async
    func prediction(_ record: PredictionRecord) async
    /// Alarm events in order, then the open alarms after them; `clock` maps engine times to dates.
    func alarms(_ events: [AlarmEvent], active: [AlarmSnapshot], clock: EngineClock) async
    func waveform(pipeline: String, block: SampleBlock, start: Date) async
    /// The health of the agent's parts changed (for the `status` topic).
    func health(_ components: [HealthComponent]) async
}

extension AgentSink {
    public func health(_ components: [HealthComponent]) async {}
}

/// Maps the alarm engine's times (milliseconds since the hub started) to wall-clock dates, one
/// mapping for every sink, so an event carries the same time on MQTT and in the FHIR outbox.
public struct EngineClock: Sendable {
    /// Wall-clock time of engine time zero.
    public let start: Date
    public func date(_ t: Timestamp) -> Date { start.addingTimeInterval(Double(t.milliseconds) / 1000) }
}

/// One part of the agent and how it is doing: a pipeline's signal, a source's link.
public struct HealthComponent: Sendable, Equatable {
    public enum Level: String, Sendable { case ok, degraded, failed }
    public var name: String
    public var level: Level
    public var detail: String?
}

/// The agent's single point of truth for alarms: every pipeline reports here, the alarm engine
/// (one per patient) turns reports into events, and the hub fans results out to the sinks.
///
/// Time: the engine runs on the agent's monotonic clock (milliseconds since start), so stale-data
/// and delay timers keep running when a source falls silent.
public actor AgentHub {
    private var engine: AlarmEngine
    private let sinks: [any AgentSink]
    private let clock = ContinuousClock()
    private let started: ContinuousClock.Instant
    /// The wall clock at `started`.
    public nonisolated let engineClock: EngineClock
    private let logger: Logger
    private var latest = VitalSigns()
    private var latestTimes: [Vital: Timestamp] = [:]
    /// Counters for the status line and the `status` topic.
    public private(set) var predictions = 0
    public private(set) var withheld = 0
    public private(set) var lastPrediction: PredictionRecord?
    /// The last NEWS2 aggregate (partial when not all seven parameters are measured).
    public private(set) var lastNEWS2: Int?
    public private(set) var news2Complete = false

    public init(profile: PatientProfile, sinks: [any AgentSink], logger: Logger) throws(AgentError) {
        do { engine = try AlarmEngine(profile: profile) } catch { throw AgentError(.config, "alert profile: \(error)") }
        self.sinks = sinks
        self.logger = logger
        started = clock.now
        engineClock = EngineClock(start: Date())
    }

    /// Milliseconds since the agent started, the engine's time.
    public var now: Timestamp { Timestamp(milliseconds: Int64((clock.now - started) / .milliseconds(1))) }

    public var activeAlarms: [AlarmSnapshot] { engine.openAlarms }
    public var vitals: VitalSigns { latest }

    /// A measured vital; nil means the quality gate withheld it.
    public func vital(_ reading: VitalReading) async {
        let t = now
        latest[reading.vital] = reading.value
        if reading.value != nil { latestTimes[reading.vital] = t }
        for s in sinks { await s.vital(reading) }
        guard reading.value != nil else { return }
        // Score only fresh values: a vital older than 60 s is not "current" for NEWS2 or limits.
        var current = VitalSigns()
        for v in Vital.allCases {
            if let x = latest[v], let at = latestTimes[v], t.milliseconds - at.milliseconds <= 60_000 { current[v] = x }
        }
        do {
            let outcome = try engine.record(current, at: t)
            lastNEWS2 = outcome.news2.aggregate
            news2Complete = outcome.news2.isComplete
            await emit(outcome.events)
        } catch {
            logger.error("alarm engine refused vitals", metadata: ["error": "\(error)"])
        }
    }

    public func prediction(_ record: PredictionRecord) async {
        predictions += 1
        if !record.accepted { withheld += 1 }
        lastPrediction = record
        for s in sinks { await s.prediction(record) }
        let window = ModelWindow(model: record.model, probabilities: record.scores.map { min(max(Double($0), 0), 1) },
                                 qualityAccepted: record.accepted)
        do { await emit(try engine.record(window, at: now)) } catch {
            logger.error("alarm engine refused a window", metadata: ["model": "\(record.model.id)", "error": "\(error)"])
        }
    }

    /// Technical conditions present per component, for health.
    private var conditions: [String: Set<TechnicalCondition>] = [:]

    public var health: [HealthComponent] {
        conditions.keys.sorted().map { name in
            let present = conditions[name]!
            if present.isEmpty { return HealthComponent(name: name, level: .ok, detail: nil) }
            let level: HealthComponent.Level = present.contains(.linkLoss) || present.contains(.sensorFault) ? .failed : .degraded
            return HealthComponent(name: name, level: level, detail: present.map(\.rawValue).sorted().joined(separator: ","))
        }
    }

    public func technical(_ condition: TechnicalCondition, source: String, present: Bool) async {
        var set = conditions[source] ?? []
        let before = health
        if present { set.insert(condition) } else { set.remove(condition) }
        conditions[source] = set
        let after = health
        if after != before { for s in sinks { await s.health(after) } }
        do { await emit(try engine.report(condition, source: source, present: present, at: now)) } catch {
            logger.error("alarm engine refused a technical report", metadata: ["error": "\(error)"])
        }
    }

    /// A waveform channel delivered samples (feeds the stale-data watch) and maybe a display batch.
    public func samples(pipeline: String, channel: String, block: SampleBlock?, start: Date) async {
        do { await emit(try engine.noteSample(channel: channel, at: now)) } catch {
            logger.error("alarm engine refused a sample note", metadata: ["error": "\(error)"])
        }
        if let block { for s in sinks { await s.waveform(pipeline: pipeline, block: block, start: start) } }
    }

    /// An operator command from MQTT; returns the events or throws the engine's refusal.
    public func command(_ command: AlarmCommand) async throws(AlertsError) -> [AlarmEvent] {
        let events = try engine.apply(command, at: now)
        await emit(events)
        return events
    }

    /// Fires timers (delays, escalation, silence expiry, stale data) due by now.
    public func tick() async {
        do { await emit(try engine.advance(to: now)) } catch {
            logger.error("alarm engine refused to advance", metadata: ["error": "\(error)"])
        }
    }

    private func emit(_ events: [AlarmEvent]) async {
        guard !events.isEmpty else { return }
        for e in events {
            logger.notice("alarm \(e.state.rawValue): \(e.message)",
                          metadata: ["alarm": "\(e.alarmID)", "condition": "\(e.condition)", "priority": "\(e.priority.name)"])
        }
        let active = engine.openAlarms
        for s in sinks { await s.alarms(events, active: active, clock: engineClock) }
    }
}
