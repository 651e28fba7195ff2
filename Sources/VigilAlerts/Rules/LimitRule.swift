/// A high or low limit on one vital sign, with a condition delay and hysteresis.
///
/// The value is compared at the vital's display resolution (whole numbers; temperature 0.1 °C),
/// the same values NEWS2 scores, so what the clinician sees, what NEWS2 scores and what alarms
/// always agree. It behaves as a Schmitt trigger with a delay:
/// - the condition is *met* by a value at or beyond `threshold` (`>=` for high, `<=` for low);
/// - it *clears* only when a value is past the threshold by more than `hysteresis` (for a high
///   limit: `value < threshold - hysteresis`);
/// - values in between (the hysteresis band) change nothing: a pending condition keeps its onset
///   time and an active alarm stays active, so a signal oscillating around the limit neither
///   chatters nor escapes the alarm;
/// - the alarm activates on the first sample at or beyond the threshold that comes at least
///   `conditionDelay` after the onset (the first such sample since the value last cleared).
public struct LimitRule: Sendable, Hashable {
    /// Which side of the normal range.
    public enum Direction: String, Sendable, Hashable {
        /// Alarm at or above the threshold.
        case high
        /// Alarm at or below the threshold.
        case low
    }

    /// Stable condition code; by default `<vital>_<direction>` (`hr_high`). Give tiers distinct
    /// codes (`spo2_low_extreme`).
    public var code: String
    /// The vital watched.
    public var vital: Vital
    /// High or low.
    public var direction: Direction
    /// The alarm threshold, in the vital's unit and at its display resolution (a finer threshold is
    /// rounded to it); reaching it meets the condition.
    public var threshold: Double
    /// How far past the threshold (back toward normal) a value must be to clear the condition, at
    /// display resolution.
    public var hysteresis: Double
    /// How long the condition must persist before the alarm activates.
    public var conditionDelay: Duration
    /// The priority at activation.
    public var priority: AlarmPriority
    /// Latching behaviour.
    public var latching: Latching
    /// Escalation when unanswered, or `nil` for none.
    public var escalation: Escalation?
    /// Where the threshold comes from (shown in docs and kept with the profile).
    public var source: String

    /// A limit rule.
    public init(_ vital: Vital, _ direction: Direction, threshold: Double, hysteresis: Double,
                conditionDelay: Duration = .zero, priority: AlarmPriority, latching: Latching = .whenHighPriority,
                escalation: Escalation? = nil, code: String? = nil, source: String = "") {
        self.code = code ?? "\(vital.code)_\(direction.rawValue)"
        self.vital = vital
        self.direction = direction
        self.threshold = threshold
        self.hysteresis = hysteresis
        self.conditionDelay = conditionDelay
        self.priority = priority
        self.latching = latching
        self.escalation = escalation
        self.source = source
    }

    /// The level a value must pass to clear the condition (threshold minus hysteresis for a high
    /// limit, plus for a low one), at display resolution.
    public var clearingLevel: Double { Double(clearingSteps) / vital.stepsPerUnit }

    // Comparisons are made in whole display steps (1 /min, 1 %, 1 mmHg, 0.1 °C), never on binary
    // fractions: 39.1 - 0.3 is 38.800000000000004 in Double, which would let 38.8 clear a limit
    // that should need 38.7.
    private var thresholdSteps: Int { NEWS2.chartValue(threshold, stepsPerUnit: vital.stepsPerUnit) ?? 0 }
    private var clearingSteps: Int {
        let h = NEWS2.chartValue(hysteresis, stepsPerUnit: vital.stepsPerUnit) ?? 0
        return direction == .high ? thresholdSteps - h : thresholdSteps + h
    }
    private func steps(_ v: Double) -> Int { NEWS2.chartValue(v, stepsPerUnit: vital.stepsPerUnit) ?? 0 }

    func meets(_ v: Double) -> Bool { direction == .high ? steps(v) >= thresholdSteps : steps(v) <= thresholdSteps }
    func clears(_ v: Double) -> Bool { direction == .high ? steps(v) < clearingSteps : steps(v) > clearingSteps }

    var condition: AlarmCondition { AlarmCondition(kind: .physiological, code: code, source: vital.code) }
}
