/// An alarm on the NEWS2 risk band: one condition (`news2`) whose priority follows the band.
///
/// - It activates when a score's band reaches `minimumBand`. A partial score (some parameters not
///   measured) may activate it, because a partial band is a lower bound.
/// - If the band rises while the alarm is open, the priority rises with it and an acknowledged
///   or silenced alarm becomes active again (`condition_worsened`): deterioration re-alarms.
/// - It clears only on a *complete* score below `minimumBand`: a partial set of observations is
///   no evidence of improvement.
public struct NEWS2AlarmRule: Sendable, Hashable {
    /// The lowest band that alarms.
    public var minimumBand: NEWS2RiskBand
    /// Priority for the low-medium band (a single parameter scoring 3).
    public var lowMediumPriority: AlarmPriority
    /// Priority for the medium band (aggregate 5-6).
    public var mediumPriority: AlarmPriority
    /// Priority for the high band (aggregate 7 or more).
    public var highPriority: AlarmPriority
    /// Latching behaviour.
    public var latching: Latching
    /// Escalation when unanswered, or `nil`.
    public var escalation: Escalation?

    /// A NEWS2 alarm rule.
    public init(minimumBand: NEWS2RiskBand = .medium, lowMediumPriority: AlarmPriority = .low,
                mediumPriority: AlarmPriority = .medium, highPriority: AlarmPriority = .high,
                latching: Latching = .whenHighPriority, escalation: Escalation? = nil) {
        self.minimumBand = minimumBand
        self.lowMediumPriority = lowMediumPriority
        self.mediumPriority = mediumPriority
        self.highPriority = highPriority
        self.latching = latching
        self.escalation = escalation
    }

    func priority(for band: NEWS2RiskBand) -> AlarmPriority {
        switch band {
        case .low, .lowMedium: lowMediumPriority
        case .medium: mediumPriority
        case .high: highPriority
        }
    }

    /// The score at which a band starts (RCP 2017 Chart 2): 3 in one parameter for low-medium,
    /// aggregate 5 for medium, 7 for high.
    static func threshold(of band: NEWS2RiskBand) -> Double {
        switch band {
        case .low: 0
        case .lowMedium: 3
        case .medium: 5
        case .high: 7
        }
    }

    static let condition = AlarmCondition(kind: .physiological, code: "news2", source: "news2")
}
