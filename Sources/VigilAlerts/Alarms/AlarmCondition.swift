/// What an alarm is about. Two alarms with equal conditions are the same condition: the engine
/// holds at most one open alarm per condition.
public struct AlarmCondition: Sendable, Hashable, CustomStringConvertible {
    /// The family of the condition.
    public enum Kind: String, Sendable, Hashable {
        /// A vital sign beyond a limit, or a NEWS2 band reached.
        case physiological
        /// The equipment cannot monitor properly (lead off, sensor fault, poor signal, stale data, link loss).
        case technical
        /// A model's class probability over its threshold.
        case model
    }

    /// Physiological, technical or model.
    public var kind: Kind
    /// A stable machine name: `hr_high`, `spo2_low`, `news2_high`, `lead_off`, `stale_data`, or a
    /// model rule's code.
    public var code: String
    /// What it concerns: the vital (`hr`), a channel or sensor (`ecg`, `spo2-probe`), a model id,
    /// or `news2`.
    public var source: String

    /// A condition.
    public init(kind: Kind, code: String, source: String) {
        self.kind = kind
        self.code = code
        self.source = source
    }

    /// `code@source`, e.g. `hr_high@hr`, `lead_off@ecg`.
    public var description: String { "\(code)@\(source)" }
}

/// The model behind a model alarm, so every alarm can be traced to the exact model file.
public struct ModelIdentity: Sendable, Hashable {
    /// The model's id (its metadata name).
    public var id: String
    /// The model's version.
    public var version: String
    /// The model file's digest (e.g. `sha256:...`), when known.
    public var digest: String?

    /// A model identity.
    public init(id: String, version: String, digest: String? = nil) {
        self.id = id
        self.version = version
        self.digest = digest
    }
}
