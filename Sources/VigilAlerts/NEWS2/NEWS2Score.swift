/// NEWS2 clinical risk: the bands of "Chart 2: NEWS thresholds and triggers" (RCP 2017), with the
/// clinical response of "Chart 4: Clinical response to the NEWS trigger thresholds". Ordered from
/// lowest to highest risk.
public enum NEWS2RiskBand: Int, Comparable, Sendable, Hashable, CaseIterable {
    /// Aggregate 0-4 with no single parameter scoring 3. Chart 4: for 1-4, the registered nurse
    /// assesses the patient; monitoring at least 4-6 hourly (12-hourly at 0).
    case low
    /// Aggregate 0-4 with a score of 3 in any single parameter ("red score"). Chart 4: the
    /// registered nurse informs the medical team; monitoring at least hourly.
    case lowMedium
    /// Aggregate 5-6. Chart 4: urgent response threshold.
    case medium
    /// Aggregate 7 or more. Chart 4: emergency response threshold; continuous monitoring.
    case high

    /// `low`, `low-medium`, `medium`, `high`.
    public var name: String {
        switch self {
        case .low: "low"
        case .lowMedium: "low-medium"
        case .medium: "medium"
        case .high: "high"
        }
    }

    /// The band for an aggregate and whether any single parameter scored 3 (RCP 2017, Chart 2):
    /// >= 7 high, 5-6 medium, otherwise low-medium when a single parameter scored 3, else low.
    public static func band(aggregate: Int, anySingleParameterScored3: Bool) -> NEWS2RiskBand {
        if aggregate >= 7 { return .high }
        if aggregate >= 5 { return .medium }
        return anySingleParameterScored3 ? .lowMedium : .low
    }

    public static func < (a: NEWS2RiskBand, b: NEWS2RiskBand) -> Bool { a.rawValue < b.rawValue }
}

/// How one parameter fared in a NEWS2 assessment.
public enum NEWS2ParameterStatus: Sendable, Hashable {
    /// Scored from a measured value.
    case scored(Int)
    /// No value was given.
    case notMeasured
    /// A value was given but cannot be scored; the reason says why (e.g. SpO2 >= 93 % on scale 2
    /// with air/oxygen unknown, or a value that is not a finite number).
    case undetermined(String)
}

/// One parameter's line in a NEWS2 assessment.
public struct NEWS2ParameterScore: Sendable, Hashable {
    /// Which parameter.
    public var parameter: NEWS2Parameter
    /// Its status.
    public var status: NEWS2ParameterStatus

    /// The score, or `nil` when the parameter was not scored.
    public var score: Int? {
        if case .scored(let s) = status { return s }
        return nil
    }
}

/// A NEWS2 assessment of one set of observations.
///
/// A parameter that was not measured is never counted as 0 silently: the aggregate is then the sum
/// over the scored parameters only, `isComplete` is `false` and `unscored` names what is missing.
/// Because every parameter scores 0 or more, a partial aggregate (and its band) is a lower bound
/// of what the complete assessment would give.
public struct NEWS2Score: Sendable, Hashable {
    /// The SpO2 scale used.
    public var scale: SpO2Scale
    /// All seven parameters, in chart order.
    public var parameters: [NEWS2ParameterScore]

    /// The sum over scored parameters, or `nil` when no parameter could be scored.
    public var aggregate: Int? {
        let scores = parameters.compactMap(\.score)
        return scores.isEmpty ? nil : scores.reduce(0, +)
    }

    /// `true` when all seven parameters were scored.
    public var isComplete: Bool { parameters.allSatisfy { $0.score != nil } }

    /// The parameters that were not scored (not measured or undetermined), in chart order.
    public var unscored: [NEWS2Parameter] { parameters.filter { $0.score == nil }.map(\.parameter) }

    /// `true` when any single parameter scored 3 (RCP's "red score").
    public var hasSingleParameterScore3: Bool { parameters.contains { $0.score == 3 } }

    /// The clinical risk band, or `nil` when nothing could be scored. For a partial assessment it is
    /// the lowest band the complete assessment could fall in.
    public var riskBand: NEWS2RiskBand? {
        aggregate.map { NEWS2RiskBand.band(aggregate: $0, anySingleParameterScored3: hasSingleParameterScore3) }
    }

    /// The status of one parameter.
    public subscript(parameter: NEWS2Parameter) -> NEWS2ParameterStatus {
        parameters.first { $0.parameter == parameter }!.status
    }
}

/// NEWS2 scoring of measured vital signs (RCP 2017).
public enum NEWS2 {
    /// Scores one set of observations.
    ///
    /// Measured values are brought to the chart's resolution before scoring: whole numbers for
    /// respiration rate, SpO2, systolic BP and pulse, 0.1 °C for temperature, rounding half away
    /// from zero (so a pulse of 90.5 scores as 91 and a temperature of 38.05 as 38.1). The chart
    /// itself has no values between its bands; this is Vigil's rule for monitor averages.
    public static func score(_ v: VitalSigns, scale: SpO2Scale = .scale1) -> NEWS2Score {
        func numeric(_ x: Double?, per unit: Double, _ chart: (Int) -> Int?) -> NEWS2ParameterStatus {
            guard let x else { return .notMeasured }
            guard let n = chartValue(x, stepsPerUnit: unit) else { return .undetermined("\(x) is not a finite number") }
            guard let s = chart(n) else {
                return .undetermined("SpO2 \(n) % on scale 2 scores by air or oxygen, which was not measured")
            }
            return .scored(s)
        }
        let spo2: NEWS2ParameterStatus = switch scale {
        case .scale1: numeric(v.spo2, per: 1) { NEWS2Chart.spo2Scale1($0) }
        case .scale2: numeric(v.spo2, per: 1) { NEWS2Chart.spo2Scale2($0, onOxygen: v.supplementalOxygen) }
        }
        return NEWS2Score(scale: scale, parameters: [
            NEWS2ParameterScore(parameter: .respirationRate, status: numeric(v.respirationRate, per: 1, NEWS2Chart.respirationRate)),
            NEWS2ParameterScore(parameter: .spo2, status: spo2),
            NEWS2ParameterScore(parameter: .airOrOxygen,
                                status: v.supplementalOxygen.map { .scored(NEWS2Chart.airOrOxygen(onOxygen: $0)) } ?? .notMeasured),
            NEWS2ParameterScore(parameter: .systolicBP, status: numeric(v.systolicBP, per: 1, NEWS2Chart.systolicBP)),
            NEWS2ParameterScore(parameter: .pulse, status: numeric(v.heartRate, per: 1, NEWS2Chart.pulse)),
            NEWS2ParameterScore(parameter: .consciousness,
                                status: v.consciousness.map { .scored(NEWS2Chart.consciousness($0)) } ?? .notMeasured),
            NEWS2ParameterScore(parameter: .temperature, status: numeric(v.temperature, per: 10) { NEWS2Chart.temperature(tenthsCelsius: $0) }),
        ])
    }

    /// `x` in chart steps (`stepsPerUnit` 1 for whole numbers, 10 for tenths), rounded half away
    /// from zero; `nil` for NaN, infinities and absurd magnitudes. The product is first snapped to a
    /// millionth of a step so that decimal input like 36.05 (stored as 36.04999...) rounds as written.
    static func chartValue(_ x: Double, stepsPerUnit: Double) -> Int? {
        guard x.isFinite, abs(x) < 1e9 else { return nil }
        let steps = ((x * stepsPerUnit) * 1e6).rounded() / 1e6
        return Int(steps.rounded(.toNearestOrAwayFromZero))
    }
}
