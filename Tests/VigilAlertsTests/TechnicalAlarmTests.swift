import Testing
@testable import VigilAlerts

/// Technical alarms: lead off, sensor fault, poor signal quality, stale data, link loss.
@Suite struct TechnicalAlarmTests {
    @Test func leadOffActivatesAtOnceAndResolves() throws {
        var e = try AlarmEngine(profile: .adult)
        let on = try e.report(.leadOff, source: "ecg", present: true, at: at(3))
        #expect(lines(on) == ["1.1 -->active condition_met @3"])
        #expect(on[0].condition == AlarmCondition(kind: .technical, code: "lead_off", source: "ecg"))
        #expect(on[0].priority == .medium)
        #expect(on[0].value == nil && on[0].threshold == nil && on[0].unit == nil)
        #expect(on[0].message == "lead off on ecg")
        #expect(try e.report(.leadOff, source: "ecg", present: true, at: at(4)).isEmpty) // repeated: no change
        #expect(lines(try e.report(.leadOff, source: "ecg", present: false, at: at(9))) == ["1.2 active->resolved condition_cleared @9"])
        #expect(try e.report(.leadOff, source: "ecg", present: false, at: at(10)).isEmpty)
    }

    /// Poor signal quality must persist 10 s (adult default); the alarm comes at exactly onset + 10
    /// even with no input then, and a repeated report does not restart the delay.
    @Test func poorSignalQualityDelay() throws {
        var e = try AlarmEngine(profile: .adult)
        _ = try e.report(.poorSignalQuality, source: "ppg", present: true, at: at(0))
        _ = try e.report(.poorSignalQuality, source: "ppg", present: true, at: at(6))
        #expect(try e.advance(to: at(9.999)).isEmpty)
        let ev = try e.advance(to: at(60))
        #expect(lines(ev) == ["1.1 -->active condition_met @10"])
        #expect(ev[0].priority == .low)
        #expect(ev[0].message == "poor signal quality on ppg for 10 s")

        var brief = try AlarmEngine(profile: .adult)
        _ = try brief.report(.poorSignalQuality, source: "ppg", present: true, at: at(0))
        _ = try brief.report(.poorSignalQuality, source: "ppg", present: false, at: at(9))
        #expect(try brief.advance(to: at(60)).isEmpty)
    }

    /// Conditions on different sources are different alarms.
    @Test func sourcesAreSeparate() throws {
        var e = try AlarmEngine(profile: .adult)
        var ev = try e.report(.sensorFault, source: "spo2-probe", present: true, at: at(0))
        ev += try e.report(.sensorFault, source: "nibp-cuff", present: true, at: at(0))
        ev += try e.report(.linkLoss, source: "uart0", present: true, at: at(0))
        ev += try e.advance(to: at(5))
        #expect(lines(ev) == ["1.1 -->active condition_met @0", "2.1 -->active condition_met @0", "3.1 -->active condition_met @5"])
        #expect(ev.map(\.condition.description) == ["sensor_fault@spo2-probe", "sensor_fault@nibp-cuff", "link_loss@uart0"])
    }

    /// Stale data: more than `after` without a sample raises it at exactly that time; a sample
    /// exactly `after` late is on time; the next sample resolves it.
    @Test func staleData() throws {
        var p = PatientProfile.adult
        p.staleData = [StaleDataRule(channel: "hr", after: .seconds(15))]
        var e = try AlarmEngine(profile: p)
        _ = try e.hr(80, 0)
        #expect(try e.hr(80, 15).isEmpty) // exactly on time
        #expect(try e.advance(to: at(30)).isEmpty)
        let ev = try e.advance(to: at(100))
        #expect(lines(ev) == ["1.1 -->active condition_met @30.001"])
        #expect(ev[0].condition == AlarmCondition(kind: .technical, code: "stale_data", source: "hr"))
        #expect(ev[0].message == "no sample on hr for 15 s")
        let back = try e.hr(80, 101)
        #expect(lines(back) == ["1.2 active->resolved condition_cleared @101"])
        #expect(back[0].message == "samples on hr again")
        // Other vitals do not feed the hr watch.
        _ = try e.record(VitalSigns(spo2: 97), at: at(110))
        #expect(lines(try e.advance(to: at(120))) == ["2.1 -->active condition_met @116.001"])
    }

    /// A channel that never delivers is stale from the engine's first input.
    @Test func neverDeliveredIsStale() throws {
        var p = PatientProfile.adult
        p.staleData = [StaleDataRule(channel: "ecg", after: .seconds(5))]
        var e = try AlarmEngine(profile: p)
        _ = try e.advance(to: at(100))
        #expect(lines(try e.advance(to: at(200))) == ["1.1 -->active condition_met @105.001"])
        #expect(lines(try e.noteSample(channel: "ecg", at: at(201))) == ["1.2 active->resolved condition_cleared @201"])
    }

    /// A technical condition with no rule in the profile is accepted and ignored.
    @Test func conditionWithoutARuleIsIgnored() throws {
        var e = try AlarmEngine(profile: profile(technical: [TechnicalAlarmRule(.leadOff, priority: .medium)]))
        #expect(try e.report(.linkLoss, source: "uart0", present: true, at: at(0)).isEmpty)
        #expect(try e.advance(to: at(100)).isEmpty)
    }

    /// A latching technical alarm whose condition returns is active again (same alarm).
    @Test func latchedTechnicalReturns() throws {
        var e = try AlarmEngine(profile: profile(technical: [TechnicalAlarmRule(.leadOff, priority: .high, latching: .always)]))
        var ev = try e.report(.leadOff, source: "ecg", present: true, at: at(0))
        ev += try e.report(.leadOff, source: "ecg", present: false, at: at(1))
        ev += try e.report(.leadOff, source: "ecg", present: true, at: at(2))
        #expect(lines(ev) == ["1.1 -->active condition_met @0", "1.2 active->latched condition_cleared @1",
                              "1.3 latched->active condition_met @2"])
    }
}

extension TechnicalAlarmTests {
    /// Stale data is the engine's own judgement from sample times; reporting it is refused.
    @Test func staleDataCannotBeReported() throws {
        var e = try AlarmEngine(profile: .adult)
        expectRefusal(.invalidValue) { _ = try e.report(.staleData, source: "hr", present: true, at: at(0)) }
    }
}
