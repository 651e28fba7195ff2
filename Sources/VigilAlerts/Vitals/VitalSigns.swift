/// A numeric vital sign that limit alarms watch and NEWS2 scores.
public enum Vital: String, CaseIterable, Sendable, Hashable {
    /// Respiration rate, breaths per minute.
    case respirationRate = "rr"
    /// Peripheral oxygen saturation, percent.
    case spo2 = "spo2"
    /// Systolic blood pressure, mmHg.
    case systolicBP = "sbp"
    /// Heart rate or pulse rate, beats per minute.
    case heartRate = "hr"
    /// Body temperature, degrees Celsius.
    case temperature = "temp"

    /// The short code used in tables, JSON and condition names (`rr`, `spo2`, `sbp`, `hr`, `temp`).
    public var code: String { rawValue }

    /// The unit as a person reads it.
    public var unit: String {
        switch self {
        case .respirationRate, .heartRate: "/min"
        case .spo2: "%"
        case .systolicBP: "mmHg"
        case .temperature: "°C"
        }
    }

    /// The UCUM unit (as used by the FHIR vital-signs profile) for machine consumers.
    public var ucum: String {
        switch self {
        case .respirationRate, .heartRate: "/min"
        case .spo2: "%"
        case .systolicBP: "mm[Hg]"
        case .temperature: "Cel"
        }
    }

    /// The name a clinician reads in an alarm message.
    public var displayName: String {
        switch self {
        case .respirationRate: "RR"
        case .spo2: "SpO2"
        case .systolicBP: "Systolic BP"
        case .heartRate: "HR"
        case .temperature: "Temp"
        }
    }
}

/// Level of consciousness on the ACVPU scale used by NEWS2 (RCP 2017): Alert, new Confusion,
/// responds to Voice, responds to Pain, Unresponsive.
public enum Consciousness: String, CaseIterable, Sendable, Hashable {
    /// Alert (NEWS2: 0).
    case alert = "A"
    /// New confusion (NEWS2: 3).
    case newConfusion = "C"
    /// Responds to voice (NEWS2: 3).
    case voice = "V"
    /// Responds to pain (NEWS2: 3).
    case pain = "P"
    /// Unresponsive (NEWS2: 3).
    case unresponsive = "U"
}

/// One set of observations taken at one time. `nil` means "not measured": it is never read as a
/// normal value (a NEWS2 over it is marked partial, a limit alarm sees no new evidence).
public struct VitalSigns: Sendable, Hashable {
    /// Breaths per minute.
    public var respirationRate: Double?
    /// Percent.
    public var spo2: Double?
    /// `true` when the patient is on supplemental oxygen, `false` on room air.
    public var supplementalOxygen: Bool?
    /// mmHg.
    public var systolicBP: Double?
    /// Beats per minute (NEWS2 calls it pulse).
    public var heartRate: Double?
    /// ACVPU.
    public var consciousness: Consciousness?
    /// Degrees Celsius.
    public var temperature: Double?

    /// A set of observations; leave out what was not measured.
    public init(respirationRate: Double? = nil, spo2: Double? = nil, supplementalOxygen: Bool? = nil,
                systolicBP: Double? = nil, heartRate: Double? = nil, consciousness: Consciousness? = nil,
                temperature: Double? = nil) {
        self.respirationRate = respirationRate
        self.spo2 = spo2
        self.supplementalOxygen = supplementalOxygen
        self.systolicBP = systolicBP
        self.heartRate = heartRate
        self.consciousness = consciousness
        self.temperature = temperature
    }

    /// The measured value of a numeric vital, or `nil` when it was not measured.
    public subscript(vital: Vital) -> Double? {
        get {
            switch vital {
            case .respirationRate: respirationRate
            case .spo2: spo2
            case .systolicBP: systolicBP
            case .heartRate: heartRate
            case .temperature: temperature
            }
        }
        set {
            switch vital {
            case .respirationRate: respirationRate = newValue
            case .spo2: spo2 = newValue
            case .systolicBP: systolicBP = newValue
            case .heartRate: heartRate = newValue
            case .temperature: temperature = newValue
            }
        }
    }
}

extension Vital {
    /// Display resolution in steps per unit: 10 for temperature (0.1 °C), 1 for the others. Limits
    /// and NEWS2 both see values at this resolution.
    var stepsPerUnit: Double { self == .temperature ? 10 : 1 }

    /// `value` rounded to display resolution (half away from zero), or `nil` if it is not finite.
    func displayed(_ value: Double) -> Double? {
        NEWS2.chartValue(value, stepsPerUnit: stepsPerUnit).map { Double($0) / stepsPerUnit }
    }
}

/// `135` for whole numbers, otherwise the shortest text that reads back as the same `Double`.
func formatNumber(_ x: Double) -> String {
    if x.isFinite, x == x.rounded(), abs(x) < 1e15 { return String(Int64(x)) }
    return "\(x)"
}
