/// The state of one alarm, from its activation to its resolution.
///
/// ```
///             condition met (after its delay)
///   (none) ─────────────────────────────────────► active ◄──────── silence expires
///                                                  │  │  ╲ silence ──► silenced
///                                      acknowledge │  │   ╲               │ acknowledge ► acknowledged
///                                                  ▼  │    escalate (priority up, stays active)
///                                      acknowledged   │ condition clears
///                                                  │  ├─ latching ────► latched ── acknowledge ──► resolved
///                               condition clears   │  │                  │ condition returns ► active
///                                                  ▼  └─ not latching ──────────────────────────► resolved
///                                               resolved
/// ```
/// `silenced` behaves like `active` when the condition clears. `resolved` is final: the next
/// occurrence of the same condition is a new alarm with a new id.
public enum AlarmState: String, Sendable, Hashable {
    /// The condition is present and nobody has responded: the alarm signal sounds; escalation runs.
    case active
    /// The operator acknowledged it (IEC 60601-1-8 "acknowledged": the auditory signal stops
    /// while the condition lasts). Resolves when the condition clears.
    case acknowledged
    /// Audio paused by the operator for a bounded time; returns to `active` when the time runs out
    /// and the condition is still present.
    case silenced
    /// The condition has cleared but the alarm latches (IEC 60601-1-8 "latching alarm signal"):
    /// it stays until acknowledged, so a transient event is not missed.
    case latched
    /// Over. No further transitions.
    case resolved
}

/// Why a transition happened.
public enum TransitionReason: String, Sendable, Hashable {
    /// The condition was met (after its condition delay); also a latched alarm whose condition returned.
    case conditionMet = "condition_met"
    /// The condition cleared (past the hysteresis band).
    case conditionCleared = "condition_cleared"
    /// An operator acknowledged the alarm.
    case acknowledged = "acknowledged"
    /// An operator silenced the alarm for a bounded time.
    case silenced = "silenced"
    /// The silence ran out while the condition was still present.
    case silenceExpired = "silence_expired"
    /// Unacknowledged for the escalation time: priority raised one level.
    case escalated = "escalated"
    /// The condition got worse while open (a higher NEWS2 band): priority raised, and an
    /// acknowledged or silenced alarm sounds again.
    case conditionWorsened = "condition_worsened"
}
