/// When an alarm latches: keeps its signal after the condition clears, until acknowledged.
public enum Latching: String, Sendable, Hashable {
    /// Never latches: resolves as soon as the condition clears.
    case never
    /// Always latches.
    case always
    /// Latches when its priority is high at the moment the condition clears (including a priority
    /// reached by escalation). Vigil's default: a transient high-priority event must be seen.
    case whenHighPriority = "when_high_priority"

    func latches(at priority: AlarmPriority) -> Bool {
        switch self {
        case .never: false
        case .always: true
        case .whenHighPriority: priority == .high
        }
    }
}

/// Escalation of an unanswered alarm: after `after` in the `active` state (not acknowledged, not
/// silenced) its priority rises one level, and again after each further `after`, up to `ceiling`.
public struct Escalation: Sendable, Hashable {
    /// Time unanswered before each step up.
    public var after: Duration
    /// The highest priority escalation reaches.
    public var ceiling: AlarmPriority

    /// An escalation policy.
    public init(after: Duration, ceiling: AlarmPriority = .high) {
        self.after = after
        self.ceiling = ceiling
    }
}
