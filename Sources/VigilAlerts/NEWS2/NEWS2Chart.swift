// Every threshold in this file is from the NEWS2 observation chart and "Chart 1: The NEWS scoring
// system" in: Royal College of Physicians. National Early Warning Score (NEWS) 2: Standardising the
// assessment of acute-illness severity in the NHS. Updated report of a working party. London: RCP,
// December 2017. The chart prints whole numbers for every parameter except temperature, which it
// prints to 0.1 °C; the functions here take values at that resolution (see `NEWS2.score` for how
// measured values are brought to it).

/// The NEWS2 parameters in chart order.
public enum NEWS2Parameter: String, CaseIterable, Sendable, Hashable, Comparable {
    /// Respiration rate (per minute).
    case respirationRate = "rr"
    /// SpO2, on scale 1 or scale 2 as the patient's profile prescribes.
    case spo2 = "spo2"
    /// Air or supplemental oxygen.
    case airOrOxygen = "o2"
    /// Systolic blood pressure (mmHg).
    case systolicBP = "sbp"
    /// Pulse (per minute).
    case pulse = "hr"
    /// Consciousness (ACVPU).
    case consciousness = "acvpu"
    /// Temperature (°C).
    case temperature = "temp"

    /// The column / JSON key for this parameter: `rr`, `spo2`, `o2`, `sbp`, `hr`, `acvpu`, `temp`.
    public var code: String { rawValue }

    public static func < (a: NEWS2Parameter, b: NEWS2Parameter) -> Bool {
        allCases.firstIndex(of: a)! < allCases.firstIndex(of: b)!
    }
}

/// Which SpO2 row of the chart applies (RCP 2017, "SpO2 Scale 1" and "SpO2 Scale 2").
public enum SpO2Scale: Int, Sendable, Hashable {
    /// The default for every patient.
    case scale1 = 1
    /// Only for patients with a prescribed target saturation of 88-92 %, e.g. in hypercapnic
    /// respiratory failure, and only on the decision of a competent clinician (RCP 2017).
    case scale2 = 2
}

/// The NEWS2 chart as pure functions of values at chart resolution.
public enum NEWS2Chart {
    /// Respiration rate, breaths per minute (RCP 2017 chart): <=8 -> 3, 9-11 -> 1, 12-20 -> 0,
    /// 21-24 -> 2, >=25 -> 3.
    public static func respirationRate(_ perMinute: Int) -> Int {
        switch perMinute {
        case ...8: 3
        case 9...11: 1
        case 12...20: 0
        case 21...24: 2
        default: 3 // >= 25
        }
    }

    /// SpO2 scale 1, percent (RCP 2017 chart): <=91 -> 3, 92-93 -> 2, 94-95 -> 1, >=96 -> 0.
    public static func spo2Scale1(_ percent: Int) -> Int {
        switch percent {
        case ...91: 3
        case 92...93: 2
        case 94...95: 1
        default: 0 // >= 96
        }
    }

    /// SpO2 scale 2, percent (RCP 2017 chart): <=83 -> 3, 84-85 -> 2, 86-87 -> 1, 88-92 -> 0,
    /// >=93 on air -> 0; on oxygen 93-94 -> 1, 95-96 -> 2, >=97 -> 3.
    ///
    /// At 93 % and above the score depends on air or oxygen; when that is not known the score is
    /// `nil` (undetermined) rather than a guess.
    public static func spo2Scale2(_ percent: Int, onOxygen: Bool?) -> Int? {
        switch percent {
        case ...83: return 3
        case 84...85: return 2
        case 86...87: return 1
        case 88...92: return 0
        default:
            guard let onOxygen else { return nil }
            guard onOxygen else { return 0 } // >= 93 on air
            switch percent {
            case 93...94: return 1
            case 95...96: return 2
            default: return 3 // >= 97 on oxygen
            }
        }
    }

    /// Air or oxygen (RCP 2017 chart): oxygen -> 2, air -> 0.
    public static func airOrOxygen(onOxygen: Bool) -> Int { onOxygen ? 2 : 0 }

    /// Systolic blood pressure, mmHg (RCP 2017 chart): <=90 -> 3, 91-100 -> 2, 101-110 -> 1,
    /// 111-219 -> 0, >=220 -> 3.
    public static func systolicBP(_ mmHg: Int) -> Int {
        switch mmHg {
        case ...90: 3
        case 91...100: 2
        case 101...110: 1
        case 111...219: 0
        default: 3 // >= 220
        }
    }

    /// Pulse, per minute (RCP 2017 chart): <=40 -> 3, 41-50 -> 1, 51-90 -> 0, 91-110 -> 1,
    /// 111-130 -> 2, >=131 -> 3.
    public static func pulse(_ perMinute: Int) -> Int {
        switch perMinute {
        case ...40: 3
        case 41...50: 1
        case 51...90: 0
        case 91...110: 1
        case 111...130: 2
        default: 3 // >= 131
        }
    }

    /// Consciousness (RCP 2017 chart): Alert -> 0; new Confusion, Voice, Pain, Unresponsive -> 3.
    public static func consciousness(_ level: Consciousness) -> Int { level == .alert ? 0 : 3 }

    /// Temperature in tenths of a degree Celsius (RCP 2017 chart): <=35.0 -> 3, 35.1-36.0 -> 1,
    /// 36.1-38.0 -> 0, 38.1-39.0 -> 1, >=39.1 -> 2.
    public static func temperature(tenthsCelsius t: Int) -> Int {
        switch t {
        case ...350: 3
        case 351...360: 1
        case 361...380: 0
        case 381...390: 1
        default: 2 // >= 39.1
        }
    }
}
