import Foundation

/// IEC 60601-1-8 alarm priority as published.
public enum AlertPriority: String, Codable, Sendable, Hashable {
    /// Immediate operator response is required.
    case high
    /// Prompt operator response is required.
    case medium
    /// Operator awareness is required.
    case low
}

/// An alarm state as published (see VigilAlerts `AlarmState`).
public enum AlertState: String, Codable, Sendable, Hashable {
    /// Present, nobody has responded.
    case active
    /// Acknowledged by an operator.
    case acknowledged
    /// Audio paused for a bounded time.
    case silenced
    /// Condition cleared, kept until acknowledged.
    case latched
    /// Over.
    case resolved
}

/// What an alarm is about.
public struct AlertCondition: Codable, Sendable, Hashable {
    /// The family of the condition.
    public enum Kind: String, Codable, Sendable, Hashable {
        /// A vital beyond a limit or a NEWS2 band.
        case physiological
        /// The equipment cannot monitor properly.
        case technical
        /// A model's class probability over its threshold.
        case model
    }

    /// Physiological, technical or model.
    public var kind: Kind
    /// Stable machine name: `hr_high`, `spo2_low`, `news2_high`, `lead_off`, a model rule's code.
    public var code: String
    /// What it concerns: a vital (`hr`), a channel or sensor, a model id, or `news2`.
    public var source: String

    /// A condition.
    public init(kind: Kind, code: String, source: String) {
        self.kind = kind
        self.code = code
        self.source = source
    }
}

/// `vigil/v1/<site>/<device>/alerts` (QoS 1, not retained): one transition of one alarm.
public struct AlertEventPayload: MQTTPayload, Hashable {
    /// Why the transition happened.
    public enum Reason: String, Codable, Sendable, Hashable {
        /// The condition was met (after its delay).
        case conditionMet = "condition_met"
        /// The condition cleared.
        case conditionCleared = "condition_cleared"
        /// An operator acknowledged it.
        case acknowledged
        /// An operator silenced it.
        case silenced
        /// The silence ran out with the condition still present.
        case silenceExpired = "silence_expired"
        /// Unacknowledged too long: priority raised.
        case escalated
        /// The condition got worse: priority raised.
        case conditionWorsened = "condition_worsened"
    }

    /// Engine-wide event id, +1 per event: a consumer that sees a gap has lost an event.
    public var eventID: UInt64
    /// The alarm this event belongs to (what `cmd/ack` and `cmd/silence` name).
    public var alarmID: UInt64
    /// The transition's number within its alarm: 1 for the activation, then 2, 3, ...
    public var sequence: UInt32
    /// When it happened.
    public var time: Date
    /// The priority after the transition.
    public var priority: AlertPriority
    /// What the alarm is about.
    public var condition: AlertCondition
    /// The state before; absent for the activation.
    public var previousState: AlertState?
    /// The state after.
    public var state: AlertState
    /// Why the transition happened.
    public var reason: Reason
    /// Why the alarm fired or changed, in words a clinician reads.
    public var message: String
    /// The value behind the transition, when there is one.
    public var value: Double?
    /// The threshold the value was compared with.
    public var threshold: Double?
    /// UCUM unit of `value` and `threshold`.
    public var unit: String?
    /// For model alarms, the model that produced the window.
    public var model: ModelInfo?
    /// For `silenced`, when the silence ends.
    public var silencedUntil: Date?

    /// An alarm event.
    public init(eventID: UInt64, alarmID: UInt64, sequence: UInt32, time: Date, priority: AlertPriority,
                condition: AlertCondition, previousState: AlertState?, state: AlertState, reason: Reason,
                message: String, value: Double? = nil, threshold: Double? = nil, unit: String? = nil,
                model: ModelInfo? = nil, silencedUntil: Date? = nil) {
        self.eventID = eventID
        self.alarmID = alarmID
        self.sequence = sequence
        self.time = time
        self.priority = priority
        self.condition = condition
        self.previousState = previousState
        self.state = state
        self.reason = reason
        self.message = message
        self.value = value
        self.threshold = threshold
        self.unit = unit
        self.model = model
        self.silencedUntil = silencedUntil
    }

    enum CodingKeys: String, CodingKey {
        case sequence, time, priority, condition, state, reason, message, value, threshold, unit, model
        case eventID = "event_id"
        case alarmID = "alarm_id"
        case previousState = "previous_state"
        case silencedUntil = "silenced_until"
    }
}

/// `vigil/v1/<site>/<device>/alerts/active` (retained, QoS 1): every open alarm, republished on
/// each change so a dashboard that subscribes late sees the whole picture at once.
public struct ActiveAlertsPayload: MQTTPayload, Hashable {
    /// One open alarm.
    public struct Alarm: Codable, Sendable, Hashable {
        /// The alarm id commands refer to.
        public var alarmID: UInt64
        /// What it is about.
        public var condition: AlertCondition
        /// Its state (never `resolved`).
        public var state: AlertState
        /// Its current priority.
        public var priority: AlertPriority
        /// When it activated.
        public var activatedAt: Date
        /// Why it is open, in words a clinician reads.
        public var message: String?
        /// The last value seen for its condition.
        public var lastValue: Double?
        /// The threshold it activated on.
        public var threshold: Double?
        /// UCUM unit of `last_value` and `threshold`.
        public var unit: String?
        /// For a silenced alarm, when the silence ends.
        public var silencedUntil: Date?
        /// For a model alarm, the model of the last window.
        public var model: ModelInfo?

        /// An open alarm.
        public init(alarmID: UInt64, condition: AlertCondition, state: AlertState, priority: AlertPriority,
                    activatedAt: Date, message: String? = nil, lastValue: Double? = nil, threshold: Double? = nil,
                    unit: String? = nil, silencedUntil: Date? = nil, model: ModelInfo? = nil) {
            self.alarmID = alarmID
            self.condition = condition
            self.state = state
            self.priority = priority
            self.activatedAt = activatedAt
            self.message = message
            self.lastValue = lastValue
            self.threshold = threshold
            self.unit = unit
            self.silencedUntil = silencedUntil
            self.model = model
        }

        enum CodingKeys: String, CodingKey {
            case condition, state, priority, message, threshold, unit, model
            case alarmID = "alarm_id"
            case activatedAt = "activated_at"
            case lastValue = "last_value"
            case silencedUntil = "silenced_until"
        }
    }

    /// When the snapshot was taken.
    public var time: Date
    /// The open alarms, highest priority first (the agent's order is kept).
    public var alarms: [Alarm]

    /// A snapshot.
    public init(time: Date, alarms: [Alarm]) {
        self.time = time
        self.alarms = alarms
    }
}
