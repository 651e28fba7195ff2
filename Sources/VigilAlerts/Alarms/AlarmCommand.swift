/// An operator command, as it arrives from a bedside screen or the MQTT `cmd/...` topics. The
/// engine validates every command against the alarm's current state and refuses what does not
/// apply with an `AlertsError` (never a crash, never a silent no-op).
public enum AlarmCommand: Sendable, Hashable {
    /// Acknowledge an alarm: an active or silenced alarm becomes `acknowledged` (its audio stops
    /// until the condition clears); a latched alarm resolves.
    case acknowledge(alarmID: UInt64)
    /// Pause an active alarm's audio for `duration` (the profile's default when `nil`), at most the
    /// profile's `maxSilence`. Silencing a silenced alarm restarts its silence.
    case silence(alarmID: UInt64, duration: Duration?)

    /// The alarm the command names.
    public var alarmID: UInt64 {
        switch self {
        case .acknowledge(let id), .silence(let id, _): id
        }
    }
}

/// An open alarm as a display or the retained `alerts/active` topic shows it.
public struct AlarmSnapshot: Sendable, Hashable {
    /// The alarm id commands refer to.
    public var alarmID: UInt64
    /// What it is about.
    public var condition: AlarmCondition
    /// Its state (never `resolved`: resolved alarms are not open).
    public var state: AlarmState
    /// Its current priority.
    public var priority: AlarmPriority
    /// When it activated.
    public var activatedAt: Timestamp
    /// The last value seen for its condition.
    public var lastValue: Double?
    /// The threshold it activated on.
    public var threshold: Double?
    /// For a silenced alarm, when the silence ends.
    public var silencedUntil: Timestamp?
    /// For a model alarm, the model of the last window.
    public var model: ModelIdentity?
}
