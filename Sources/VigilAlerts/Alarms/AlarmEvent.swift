/// One transition of one alarm. Every change of state or priority is an event; nothing changes
/// silently.
public struct AlarmEvent: Sendable, Hashable {
    /// Engine-wide event id: strictly increasing by one per event, starting at the engine's
    /// `firstEventID`. A consumer that sees a gap has lost an event.
    public var id: UInt64
    /// The alarm this event belongs to. Alarm ids increase in order of activation.
    public var alarmID: UInt64
    /// The transition's number within its alarm: 1 for the activation, then 2, 3, ...
    public var sequence: UInt32
    /// When it happened on the session timeline (for timers, the exact time they ran out).
    public var time: Timestamp
    /// What the alarm is about.
    public var condition: AlarmCondition
    /// The priority after this transition.
    public var priority: AlarmPriority
    /// The state before, or `nil` for the activation.
    public var previousState: AlarmState?
    /// The state after.
    public var state: AlarmState
    /// Why.
    public var reason: TransitionReason
    /// The value that caused the transition (vital value, NEWS2 aggregate, class probability);
    /// for operator actions and timers, the last value seen. `nil` for on/off technical conditions.
    public var value: Double?
    /// The threshold the value was compared with: the limit for activation, the clearing level
    /// (limit minus hysteresis) for `conditionCleared`.
    public var threshold: Double?
    /// UCUM unit of `value` and `threshold` (`/min`, `%`, `mm[Hg]`, `Cel`, `1` for scores and
    /// probabilities), when there is a value.
    public var unit: String?
    /// For model alarms, the model that produced the window.
    public var model: ModelIdentity?
    /// For `silenced`, when the silence ends.
    public var silencedUntil: Timestamp?
    /// Why the alarm fired or changed, in words a clinician reads: "HR 135 /min above the high
    /// limit 130 /min for 10 s".
    public var message: String
}
