/// A technical alarm condition: the equipment cannot monitor properly. Technical alarms say why a
/// physiological alarm might be missing; they are never silent failures.
public enum TechnicalCondition: String, Sendable, Hashable, CaseIterable {
    /// An ECG electrode is off (reported by the sensor's device status).
    case leadOff = "lead_off"
    /// A sensor reports a fault (probe off, hardware error).
    case sensorFault = "sensor_fault"
    /// The signal-quality index of a channel is below its acceptance level.
    case poorSignalQuality = "poor_signal_quality"
    /// A channel delivered no sample for its stale-data time (detected by the engine itself).
    case staleData = "stale_data"
    /// The link to the sensor is down.
    case linkLoss = "link_loss"

    /// Words for messages.
    var words: String {
        switch self {
        case .leadOff: "lead off"
        case .sensorFault: "sensor fault"
        case .poorSignalQuality: "poor signal quality"
        case .staleData: "no data"
        case .linkLoss: "link lost"
        }
    }
}

/// How one kind of technical condition alarms.
public struct TechnicalAlarmRule: Sendable, Hashable {
    /// Which condition.
    public var condition: TechnicalCondition
    /// How long the condition must be reported present before the alarm activates. Unlike a
    /// vital's delay this runs on the clock: a present condition stays present until reported gone.
    public var conditionDelay: Duration
    /// Priority at activation.
    public var priority: AlarmPriority
    /// Latching behaviour.
    public var latching: Latching
    /// Escalation when unanswered, or `nil`.
    public var escalation: Escalation?

    /// A technical alarm rule.
    public init(_ condition: TechnicalCondition, conditionDelay: Duration = .zero, priority: AlarmPriority,
                latching: Latching = .never, escalation: Escalation? = nil) {
        self.condition = condition
        self.conditionDelay = conditionDelay
        self.priority = priority
        self.latching = latching
        self.escalation = escalation
    }
}

/// Stale-data watch on one channel: a technical alarm when no sample arrives for `after`.
public struct StaleDataRule: Sendable, Hashable {
    /// The channel: a vital code (`hr`, `spo2`, ...) fed through `record(_:at:)`, or any name the
    /// caller passes to `noteSample(channel:at:)` (e.g. `ecg`).
    public var channel: String
    /// The longest acceptable gap between samples.
    public var after: Duration

    /// A stale-data rule.
    public init(channel: String, after: Duration) {
        self.channel = channel
        self.after = after
    }
}
