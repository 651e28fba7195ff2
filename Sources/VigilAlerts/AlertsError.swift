/// An input or command the alerts engine refused. The engine's state is unchanged by a refused
/// input. New codes can be added without breaking callers that switch on `code` with a default.
public struct AlertsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal.
    public enum Code: String, Sendable, Hashable {
        /// The input's time is earlier than an input already processed.
        case timeWentBackwards = "time_went_backwards"
        /// A value is NaN, infinite or otherwise unusable.
        case invalidValue = "invalid_value"
        /// A command names an alarm id the engine never issued.
        case unknownAlarm = "unknown_alarm"
        /// A command names an alarm that has already resolved.
        case alarmResolved = "alarm_resolved"
        /// The command does not apply to the alarm's current state.
        case wrongState = "wrong_state"
        /// A silence duration that is not positive or longer than the profile allows.
        case invalidDuration = "invalid_duration"
        /// A rule or profile is inconsistent (e.g. negative hysteresis).
        case invalidConfiguration = "invalid_configuration"
    }

    /// The kind of refusal.
    public var code: Code
    /// A human explanation that names the offending thing.
    public var detail: String

    /// An error.
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
