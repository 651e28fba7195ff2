import Testing
@testable import VigilAlerts

/// The NEWS2 chart, pinned at every band edge: for each edge the last value of one band and the
/// first of the next. The expected scores are typed from "Chart 1: The NEWS scoring system"
/// (RCP 2017), not derived from the code under test.
@Suite struct NEWS2ChartTests {
    /// Respiration rate: <=8 -> 3, 9-11 -> 1, 12-20 -> 0, 21-24 -> 2, >=25 -> 3.
    @Test(arguments: [(0, 3), (8, 3), (9, 1), (11, 1), (12, 0), (20, 0), (21, 2), (24, 2), (25, 3), (60, 3)])
    func respirationRate(_ value: Int, _ score: Int) {
        #expect(NEWS2Chart.respirationRate(value) == score)
        #expect(NEWS2.score(VitalSigns(respirationRate: Double(value)))[.respirationRate] == .scored(score))
    }

    /// SpO2 scale 1: <=91 -> 3, 92-93 -> 2, 94-95 -> 1, >=96 -> 0.
    @Test(arguments: [(50, 3), (91, 3), (92, 2), (93, 2), (94, 1), (95, 1), (96, 0), (100, 0)])
    func spo2Scale1(_ value: Int, _ score: Int) {
        #expect(NEWS2Chart.spo2Scale1(value) == score)
        // Scale 1 does not depend on air or oxygen.
        for o2 in [nil, false, true] {
            #expect(NEWS2.score(VitalSigns(spo2: Double(value), supplementalOxygen: o2), scale: .scale1)[.spo2] == .scored(score))
        }
    }

    /// SpO2 scale 2 at or below 92 %: <=83 -> 3, 84-85 -> 2, 86-87 -> 1, 88-92 -> 0, whatever the
    /// oxygen (and scored even when air/oxygen is unknown).
    @Test(arguments: [(70, 3), (83, 3), (84, 2), (85, 2), (86, 1), (87, 1), (88, 0), (92, 0)])
    func spo2Scale2Low(_ value: Int, _ score: Int) {
        for o2: Bool? in [nil, false, true] {
            #expect(NEWS2Chart.spo2Scale2(value, onOxygen: o2) == score)
            #expect(NEWS2.score(VitalSigns(spo2: Double(value), supplementalOxygen: o2), scale: .scale2)[.spo2] == .scored(score))
        }
    }

    /// SpO2 scale 2 at 93 % and above: 0 on air; on oxygen 93-94 -> 1, 95-96 -> 2, >=97 -> 3.
    @Test(arguments: [(93, 0, 1), (94, 0, 1), (95, 0, 2), (96, 0, 2), (97, 0, 3), (100, 0, 3)])
    func spo2Scale2High(_ value: Int, _ onAir: Int, _ onOxygen: Int) {
        #expect(NEWS2Chart.spo2Scale2(value, onOxygen: false) == onAir)
        #expect(NEWS2Chart.spo2Scale2(value, onOxygen: true) == onOxygen)
        #expect(NEWS2.score(VitalSigns(spo2: Double(value), supplementalOxygen: false), scale: .scale2)[.spo2] == .scored(onAir))
        #expect(NEWS2.score(VitalSigns(spo2: Double(value), supplementalOxygen: true), scale: .scale2)[.spo2] == .scored(onOxygen))
    }

    /// On scale 2, 93 % and above cannot be scored without knowing air or oxygen: undetermined,
    /// not guessed; 92 % can.
    @Test func spo2Scale2NeedsOxygenAbove92() {
        #expect(NEWS2Chart.spo2Scale2(93, onOxygen: nil) == nil)
        #expect(NEWS2Chart.spo2Scale2(92, onOxygen: nil) == 0)
        let s = NEWS2.score(VitalSigns(spo2: 95), scale: .scale2)
        guard case .undetermined(let why) = s[.spo2] else { Issue.record("expected undetermined, got \(s[.spo2])"); return }
        #expect(why.contains("air or oxygen"))
        #expect(s.unscored.contains(.spo2))
        #expect(!s.isComplete)
    }

    /// Air or oxygen: oxygen -> 2, air -> 0 (on both scales).
    @Test func airOrOxygen() {
        #expect(NEWS2Chart.airOrOxygen(onOxygen: true) == 2)
        #expect(NEWS2Chart.airOrOxygen(onOxygen: false) == 0)
        for scale in [SpO2Scale.scale1, .scale2] {
            #expect(NEWS2.score(VitalSigns(supplementalOxygen: true), scale: scale)[.airOrOxygen] == .scored(2))
            #expect(NEWS2.score(VitalSigns(supplementalOxygen: false), scale: scale)[.airOrOxygen] == .scored(0))
        }
    }

    /// Systolic BP: <=90 -> 3, 91-100 -> 2, 101-110 -> 1, 111-219 -> 0, >=220 -> 3.
    @Test(arguments: [(40, 3), (90, 3), (91, 2), (100, 2), (101, 1), (110, 1), (111, 0), (219, 0), (220, 3), (300, 3)])
    func systolicBP(_ value: Int, _ score: Int) {
        #expect(NEWS2Chart.systolicBP(value) == score)
        #expect(NEWS2.score(VitalSigns(systolicBP: Double(value)))[.systolicBP] == .scored(score))
    }

    /// Pulse: <=40 -> 3, 41-50 -> 1, 51-90 -> 0, 91-110 -> 1, 111-130 -> 2, >=131 -> 3.
    @Test(arguments: [(20, 3), (40, 3), (41, 1), (50, 1), (51, 0), (90, 0), (91, 1), (110, 1), (111, 2), (130, 2), (131, 3), (250, 3)])
    func pulse(_ value: Int, _ score: Int) {
        #expect(NEWS2Chart.pulse(value) == score)
        #expect(NEWS2.score(VitalSigns(heartRate: Double(value)))[.pulse] == .scored(score))
    }

    /// Consciousness: Alert -> 0; new Confusion, Voice, Pain, Unresponsive -> 3.
    @Test(arguments: [(Consciousness.alert, 0), (.newConfusion, 3), (.voice, 3), (.pain, 3), (.unresponsive, 3)])
    func consciousness(_ level: Consciousness, _ score: Int) {
        #expect(NEWS2Chart.consciousness(level) == score)
        #expect(NEWS2.score(VitalSigns(consciousness: level))[.consciousness] == .scored(score))
    }

    /// Temperature: <=35.0 -> 3, 35.1-36.0 -> 1, 36.1-38.0 -> 0, 38.1-39.0 -> 1, >=39.1 -> 2.
    @Test(arguments: [(30.0, 3), (35.0, 3), (35.1, 1), (36.0, 1), (36.1, 0), (38.0, 0), (38.1, 1), (39.0, 1), (39.1, 2), (42.0, 2)])
    func temperature(_ value: Double, _ score: Int) {
        #expect(NEWS2Chart.temperature(tenthsCelsius: Int((value * 10).rounded())) == score)
        #expect(NEWS2.score(VitalSigns(temperature: value))[.temperature] == .scored(score))
    }

    /// Values between the chart's printed steps are rounded half away from zero to its resolution,
    /// decimal halves included (36.05 is stored as 36.04999...).
    @Test(arguments: [
        (Vital.heartRate, 90.4, NEWS2Parameter.pulse, 0), (.heartRate, 90.5, .pulse, 1),
        (.respirationRate, 20.49, .respirationRate, 0), (.respirationRate, 20.5, .respirationRate, 2),
        (.temperature, 36.04, .temperature, 1), (.temperature, 36.05, .temperature, 0),
        (.temperature, 38.05, .temperature, 1), (.temperature, 35.04, .temperature, 3), (.temperature, 35.05, .temperature, 1),
        (.systolicBP, 110.5, .systolicBP, 0), (.spo2, 95.5, .spo2, 0),
    ])
    func betweenSteps(_ vital: Vital, _ value: Double, _ parameter: NEWS2Parameter, _ score: Int) {
        var v = VitalSigns()
        v[vital] = value
        #expect(NEWS2.score(v)[parameter] == .scored(score), "\(vital.code) \(value)")
    }

    /// An independent reading of the chart as printed rows (inclusive ranges), checked against the
    /// scoring functions for every whole value from 0 to 300: no gaps, no overlaps, no drift.
    @Test func everyValueMatchesThePrintedRows() {
        typealias Rows = [(ClosedRange<Int>, Int)]
        func lookup(_ rows: Rows, _ v: Int) -> Int? {
            let hits = rows.filter { $0.0.contains(v) }
            return hits.count == 1 ? hits[0].1 : nil
        }
        let rr: Rows = [(0...8, 3), (9...11, 1), (12...20, 0), (21...24, 2), (25...300, 3)]
        let s1: Rows = [(0...91, 3), (92...93, 2), (94...95, 1), (96...300, 0)]
        let sbp: Rows = [(0...90, 3), (91...100, 2), (101...110, 1), (111...219, 0), (220...300, 3)]
        let hr: Rows = [(0...40, 3), (41...50, 1), (51...90, 0), (91...110, 1), (111...130, 2), (131...300, 3)]
        let t: Rows = [(0...350, 3), (351...360, 1), (361...380, 0), (381...390, 1), (391...600, 2)]
        let s2air: Rows = [(0...83, 3), (84...85, 2), (86...87, 1), (88...92, 0), (93...300, 0)]
        let s2o2: Rows = [(0...83, 3), (84...85, 2), (86...87, 1), (88...92, 0), (93...94, 1), (95...96, 2), (97...300, 3)]
        for v in 0...300 {
            #expect(NEWS2Chart.respirationRate(v) == lookup(rr, v), "rr \(v)")
            #expect(NEWS2Chart.spo2Scale1(v) == lookup(s1, v), "spo2 scale 1 \(v)")
            #expect(NEWS2Chart.systolicBP(v) == lookup(sbp, v), "sbp \(v)")
            #expect(NEWS2Chart.pulse(v) == lookup(hr, v), "pulse \(v)")
            #expect(NEWS2Chart.spo2Scale2(v, onOxygen: false) == lookup(s2air, v), "spo2 scale 2 air \(v)")
            #expect(NEWS2Chart.spo2Scale2(v, onOxygen: true) == lookup(s2o2, v), "spo2 scale 2 oxygen \(v)")
        }
        for v in 0...600 { #expect(NEWS2Chart.temperature(tenthsCelsius: v) == lookup(t, v), "temp \(v)") }
    }

    /// NaN and infinities are never scored (and never crash): the parameter is undetermined.
    @Test func nonFiniteValuesAreUndetermined() {
        let s = NEWS2.score(VitalSigns(respirationRate: .nan, spo2: .infinity, heartRate: -.infinity, temperature: .nan))
        for p in [NEWS2Parameter.respirationRate, .spo2, .pulse, .temperature] {
            guard case .undetermined = s[p] else { Issue.record("\(p) should be undetermined: \(s[p])"); continue }
        }
        #expect(s.aggregate == nil)
        #expect(s.riskBand == nil)
    }
}
