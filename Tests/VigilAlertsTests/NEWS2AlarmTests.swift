import Testing
@testable import VigilAlerts

/// The NEWS2 alarm: priority follows the band, deterioration re-alarms, partial scores can raise
/// but never clear.
@Suite struct NEWS2AlarmTests {
    static let rule = NEWS2AlarmRule(minimumBand: .medium, mediumPriority: .medium, highPriority: .high)
    /// NEWS2 5 (medium): SpO2 93 on oxygen (2 + 2) and pulse 95 (1).
    static let five = VitalSigns(respirationRate: 16, spo2: 93, supplementalOxygen: true, systolicBP: 120,
                                 heartRate: 95, consciousness: .alert, temperature: 37.0)
    static var seven: VitalSigns { var v = five; v.respirationRate = 22; return v }
    static var two: VitalSigns { var v = five; v.spo2 = 97; v.heartRate = 70; return v }

    func engine() throws -> AlarmEngine { try AlarmEngine(profile: profile(news2: Self.rule)) }

    @Test func activatesAtTheMinimumBand() throws {
        var e = try engine()
        var low = Self.five
        low.heartRate = 80 // 4: low
        #expect(try e.record(low, at: at(0)).events.isEmpty)
        let r = try e.record(Self.five, at: at(60))
        #expect(r.news2.aggregate == 5)
        #expect(lines(r.events) == ["1.1 -->active condition_met @60"])
        #expect(r.events[0].condition == AlarmCondition(kind: .physiological, code: "news2", source: "news2"))
        #expect(r.events[0].priority == .medium)
        #expect(r.events[0].value == 5 && r.events[0].threshold == 5 && r.events[0].unit == "{score}")
        #expect(r.events[0].message == "NEWS2 5, medium risk")
    }

    /// Worsening to the high band raises the priority and makes an acknowledged alarm sound again.
    @Test func worseningReAlarms() throws {
        var e = try engine()
        _ = try e.record(Self.five, at: at(0))
        _ = try e.apply(.acknowledge(alarmID: 1), at: at(10))
        #expect(try e.record(Self.five, at: at(60)).events.isEmpty)
        let ev = try e.record(Self.seven, at: at(120)).events
        #expect(lines(ev) == ["1.3 acknowledged->active condition_worsened @120"])
        #expect(ev[0].priority == .high && ev[0].value == 7 && ev[0].threshold == 7)
        // Improving back to medium does not lower the priority of the open alarm.
        #expect(try e.record(Self.five, at: at(180)).events.isEmpty)
        #expect(e.openAlarms.first?.priority == .high)
    }

    /// A partial score is a lower bound: it can raise the alarm but cannot clear it.
    @Test func partialScores() throws {
        var e = try engine()
        let partialHigh = VitalSigns(respirationRate: 25, spo2: 91, supplementalOxygen: true) // 8, partial
        let r = try e.record(partialHigh, at: at(0))
        #expect(!r.news2.isComplete)
        #expect(lines(r.events) == ["1.1 -->active condition_met @0"])
        #expect(r.events[0].priority == .high)
        #expect(r.events[0].message == "NEWS2 8, high risk (partial: sbp, hr, acvpu, temp not scored)")
        // A partial low score is no evidence of improvement.
        #expect(try e.record(VitalSigns(heartRate: 70), at: at(60)).events.isEmpty)
        // A complete low score clears it; a high-priority alarm latches (default) until acknowledged.
        let clear = try e.record(Self.two, at: at(120)).events
        #expect(lines(clear) == ["1.2 active->latched condition_cleared @120"])
        #expect(clear[0].threshold == 5)
        #expect(lines(try e.apply(.acknowledge(alarmID: 1), at: at(130))) == ["1.3 latched->resolved acknowledged @130"])
    }

    /// With the minimum lowered to low-medium, a single red parameter alarms (low priority by default).
    @Test func lowMediumOnRequest() throws {
        var e = try AlarmEngine(profile: profile(news2: NEWS2AlarmRule(minimumBand: .lowMedium)))
        var v = Self.two
        v.supplementalOxygen = false
        v.consciousness = .voice // 3 alone
        let ev = try e.record(v, at: at(0)).events
        #expect(ev.count == 1 && ev[0].priority == .low && ev[0].threshold == 3)
    }

    /// The adult profile: limits at the red edges, the NEWS2 alarm from the medium band.
    @Test func adultProfileOnADeterioration() throws {
        var e = try AlarmEngine(profile: .adult)
        let r = try e.record(Self.seven, at: at(0))
        #expect(r.news2.aggregate == 7 && r.news2.riskBand == .high)
        #expect(r.events.map(\.condition.code) == ["news2"])
        #expect(r.events[0].priority == .high)
    }
}
