import Testing
@testable import VigilAlerts

/// Aggregates and clinical risk bands (RCP 2017, Chart 2), the "3 in a single parameter" rule and
/// partial assessments.
@Suite struct NEWS2RiskBandTests {
    /// A complete set scoring 0 everywhere: RR 16, SpO2 97 on air, SBP 120, pulse 70, Alert, 37.0.
    static let normal = VitalSigns(respirationRate: 16, spo2: 97, supplementalOxygen: false, systolicBP: 120,
                                   heartRate: 70, consciousness: .alert, temperature: 37.0)

    @Test func allNormalIsZeroLowComplete() {
        let s = NEWS2.score(Self.normal)
        #expect(s.aggregate == 0)
        #expect(s.isComplete)
        #expect(s.unscored.isEmpty)
        #expect(s.riskBand == .low)
        #expect(s.parameters.map(\.parameter) == NEWS2Parameter.allCases)
    }

    /// Band edges: 4 low, 5 medium, 6 medium, 7 high; 20 (every parameter at its worst) high.
    @Test(arguments: [(0, NEWS2RiskBand.low), (1, .low), (4, .low), (5, .medium), (6, .medium), (7, .high), (20, .high)])
    func bandsWithoutARedScore(_ aggregate: Int, _ band: NEWS2RiskBand) {
        #expect(NEWS2RiskBand.band(aggregate: aggregate, anySingleParameterScored3: false) == band)
    }

    /// A 3 in one parameter lifts an aggregate of 3-4 to low-medium; from 5 up the aggregate decides.
    @Test(arguments: [(3, NEWS2RiskBand.lowMedium), (4, .lowMedium), (5, .medium), (6, .medium), (7, .high)])
    func bandsWithARedScore(_ aggregate: Int, _ band: NEWS2RiskBand) {
        #expect(NEWS2RiskBand.band(aggregate: aggregate, anySingleParameterScored3: true) == band)
    }

    /// From observations: one parameter at 3 alone (pulse 131) is low-medium with aggregate 3;
    /// the same 3 from three 1s (RR 10, SpO2 94, temp 38.5) is low.
    @Test func redScoreFromObservations() {
        var single = Self.normal
        single.heartRate = 131
        let a = NEWS2.score(single)
        #expect(a.aggregate == 3)
        #expect(a.hasSingleParameterScore3)
        #expect(a.riskBand == .lowMedium)

        var spread = Self.normal
        spread.respirationRate = 10
        spread.spo2 = 94
        spread.temperature = 38.5
        let b = NEWS2.score(spread)
        #expect(b.aggregate == 3)
        #expect(!b.hasSingleParameterScore3)
        #expect(b.riskBand == .low)
    }

    /// Each "score 3" cell of the chart gives low-medium on its own.
    @Test func everyRedCellIsLowMedium() {
        var cases: [VitalSigns] = []
        for (vital, value) in [(Vital.respirationRate, 8.0), (.respirationRate, 25), (.spo2, 91), (.systolicBP, 90),
                               (.systolicBP, 220), (.heartRate, 40), (.heartRate, 131), (.temperature, 35.0)] {
            var v = Self.normal
            v[vital] = value
            cases.append(v)
        }
        for level in [Consciousness.newConfusion, .voice, .pain, .unresponsive] {
            var v = Self.normal
            v.consciousness = level
            cases.append(v)
        }
        for v in cases {
            let s = NEWS2.score(v)
            #expect(s.aggregate == 3 && s.riskBand == .lowMedium, "\(v)")
        }
    }

    /// Oxygen (2) + SpO2 93 on oxygen (scale 1: 2) + pulse 95 (1) = 5: medium.
    /// Add RR 22 (2): 7, high.
    @Test func aggregatesFromObservations() {
        var v = Self.normal
        v.supplementalOxygen = true
        v.spo2 = 93
        v.heartRate = 95
        #expect(NEWS2.score(v).aggregate == 5)
        #expect(NEWS2.score(v).riskBand == .medium)
        v.respirationRate = 22
        #expect(NEWS2.score(v).aggregate == 7)
        #expect(NEWS2.score(v).riskBand == .high)
    }

    /// Scale 2: SpO2 97 on oxygen scores 3 (plus 2 for oxygen) where scale 1 would score 0.
    @Test func scale2ChangesTheAggregate() {
        var v = Self.normal
        v.supplementalOxygen = true
        v.spo2 = 97
        #expect(NEWS2.score(v, scale: .scale1).aggregate == 2)
        #expect(NEWS2.score(v, scale: .scale2).aggregate == 5)
        #expect(NEWS2.score(v, scale: .scale2).riskBand == .medium)
        #expect(NEWS2.score(v, scale: .scale2).scale == .scale2)
    }

    /// A missing parameter is never a silent 0: the aggregate is over what was scored and marked
    /// partial, naming what is missing; its band is a lower bound.
    @Test func missingParametersMakeAPartialScore() {
        var v = Self.normal
        v.temperature = nil
        v.consciousness = nil
        let s = NEWS2.score(v)
        #expect(!s.isComplete)
        #expect(s.unscored == [.consciousness, .temperature])
        #expect(s[.temperature] == .notMeasured)
        #expect(s.aggregate == 0)
        #expect(s.riskBand == .low)

        // A partial score can already be high: RR 25 (3) + SpO2 91 (3) + oxygen (2) = 8.
        let worst = NEWS2.score(VitalSigns(respirationRate: 25, spo2: 91, supplementalOxygen: true))
        #expect(worst.aggregate == 8)
        #expect(worst.riskBand == .high)
        #expect(!worst.isComplete)
        #expect(worst.unscored == [.systolicBP, .pulse, .consciousness, .temperature])
    }

    /// Nothing measured: no aggregate and no band, rather than 0 / low.
    @Test func nothingMeasuredHasNoScore() {
        let s = NEWS2.score(VitalSigns())
        #expect(s.aggregate == nil)
        #expect(s.riskBand == nil)
        #expect(s.unscored == NEWS2Parameter.allCases)
    }

    @Test func bandNamesAndOrder() {
        #expect(NEWS2RiskBand.allCases.map(\.name) == ["low", "low-medium", "medium", "high"])
        #expect(NEWS2RiskBand.low < .lowMedium && NEWS2RiskBand.lowMedium < .medium && NEWS2RiskBand.medium < .high)
    }
}
