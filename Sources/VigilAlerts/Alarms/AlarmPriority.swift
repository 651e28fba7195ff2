/// Alarm priority in the sense of IEC 60601-1-8: the urgency of the operator response the alarm
/// condition needs. High: immediate response; medium: prompt response; low: awareness.
///
/// IEC 60601-1-8 (Table 1) assigns priority from the potential result of failing to respond and
/// how soon harm could follow: death or irreversible injury -> high if immediate or prompt, medium
/// if delayed; reversible injury -> high / medium / low; minor discomfort -> medium / low / low.
public enum AlarmPriority: Int, Comparable, Sendable, Hashable, CaseIterable {
    /// Operator awareness is required.
    case low = 1
    /// Prompt operator response is required.
    case medium = 2
    /// Immediate operator response is required.
    case high = 3

    /// `low`, `medium`, `high`.
    public var name: String {
        switch self {
        case .low: "low"
        case .medium: "medium"
        case .high: "high"
        }
    }

    /// One level up, or `nil` at high.
    public var raised: AlarmPriority? { AlarmPriority(rawValue: rawValue + 1) }

    public static func < (a: AlarmPriority, b: AlarmPriority) -> Bool { a.rawValue < b.rawValue }
}
