import Testing
@testable import VigilAlerts

/// Vital-sign limits: condition delay, hysteresis, latching, acknowledgement, silence, escalation.
@Suite struct LimitAlarmTests {
    /// The alarm activates on the first sample at least the delay after the onset, and says so.
    @Test func conditionDelay() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh()]))
        for s in 0..<10 { #expect(try e.hr(135, Double(s)).isEmpty, "too early at \(s) s") }
        let ev = try e.hr(136, 10)
        #expect(lines(ev) == ["1.1 -->active condition_met @10"])
        let a = try #require(ev.first)
        #expect(a.id == 1 && a.alarmID == 1)
        #expect(a.condition == AlarmCondition(kind: .physiological, code: "hr_high", source: "hr"))
        #expect(a.priority == .medium)
        #expect(a.value == 136 && a.threshold == 131 && a.unit == "/min")
        #expect(a.message == "HR 136 /min at or above the high limit 131 /min for 10 s (delay 10 s)")
    }

    /// A value that clears (past the hysteresis) restarts the delay; the threshold itself meets it.
    @Test func delayRestartsWhenTheValueClears() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh()]))
        for s in 0...5 { #expect(try e.hr(131, Double(s)).isEmpty) }
        #expect(try e.hr(125, 6).isEmpty) // < 126: cleared
        for s in 7...16 { #expect(try e.hr(140, Double(s)).isEmpty) }
        #expect(lines(try e.hr(140, 17)) == ["1.1 -->active condition_met @17"])
    }

    /// A dip into the hysteresis band (below the limit but not past it) keeps the onset: a signal
    /// hovering at the limit cannot dodge the delay forever.
    @Test func hysteresisBandKeepsTheOnset() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh()]))
        #expect(try e.hr(135, 0).isEmpty)
        #expect(try e.hr(127, 5).isEmpty) // 126...130: band
        #expect(try e.hr(130, 8).isEmpty)
        #expect(lines(try e.hr(132, 10)) == ["1.1 -->active condition_met @10"])
    }

    /// No chattering: a value oscillating around the limit gives one activation and, once it
    /// clears the hysteresis band, one resolution.
    @Test func noChatteringAroundTheLimit() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        var all: [AlarmEvent] = []
        for s in 0..<120 { all += try e.hr(s % 2 == 0 ? 133 : 128, Double(s)) }
        #expect(lines(all) == ["1.1 -->active condition_met @0"])
        all = try e.hr(126, 120) // still in the band (clears below 126)
        #expect(all.isEmpty)
        all = try e.hr(125, 121)
        #expect(lines(all) == ["1.2 active->resolved condition_cleared @121"])
        #expect(all[0].value == 125 && all[0].threshold == 126)
        #expect(all[0].message == "HR 125 /min back below 126 /min (limit 131 minus hysteresis 5)")
    }

    /// A low limit mirrors it: <= threshold meets, > threshold + hysteresis clears.
    @Test func lowLimit() throws {
        let rule = LimitRule(.spo2, .low, threshold: 91, hysteresis: 2, priority: .medium)
        var e = try AlarmEngine(profile: profile(limits: [rule]))
        #expect(try e.spo2(92, 0).isEmpty)
        let on = try e.spo2(91, 1)
        #expect(lines(on) == ["1.1 -->active condition_met @1"])
        #expect(on[0].message == "SpO2 91 % at or below the low limit 91 %")
        #expect(try e.spo2(93, 2).isEmpty) // band: clears above 93
        #expect(lines(try e.spo2(94, 3)) == ["1.2 active->resolved condition_cleared @3"])
    }

    /// Without a sample there is no evidence: an open alarm stays open when the vital is not measured.
    @Test func notMeasuredChangesNothing() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        _ = try e.hr(140, 0)
        #expect(try e.record(VitalSigns(spo2: 97), at: at(10)).events.isEmpty)
        #expect(e.openAlarms.map(\.state) == [.active])
    }

    /// Values are compared at display resolution: 130.6 shows as 131 and alarms; 130.4 does not.
    @Test func valuesAreComparedAsDisplayed() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        #expect(try e.hr(130.4, 0).isEmpty)
        let ev = try e.hr(130.6, 1)
        #expect(ev.count == 1 && ev[0].value == 131)
    }

    /// A latching alarm keeps its signal after the condition clears until acknowledged; if the
    /// condition returns meanwhile it is the same alarm, active again.
    @Test func latching() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero, latching: .always)]))
        var all = try e.hr(140, 0)
        all += try e.hr(120, 5)
        all += try e.hr(120, 6)
        all += try e.hr(140, 7)
        all += try e.hr(120, 8)
        all += try e.apply(.acknowledge(alarmID: 1), at: at(9))
        #expect(lines(all) == [
            "1.1 -->active condition_met @0",
            "1.2 active->latched condition_cleared @5",
            "1.3 latched->active condition_met @7",
            "1.4 active->latched condition_cleared @8",
            "1.5 latched->resolved acknowledged @9",
        ])
        #expect(all[1].message.hasSuffix("; latched until acknowledged"))
        #expect(e.openAlarms.isEmpty)
        #expect(all.map(\.id) == [1, 2, 3, 4, 5])
    }

    /// The default latches only alarms that are high priority when they clear.
    @Test func latchesWhenHighPriority() throws {
        let medium = hrHigh(delay: .zero, latching: .whenHighPriority)
        let high = LimitRule(.spo2, .low, threshold: 85, hysteresis: 2, priority: .high, latching: .whenHighPriority)
        var e = try AlarmEngine(profile: profile(limits: [medium, high]))
        _ = try e.record(VitalSigns(spo2: 80, heartRate: 140), at: at(0))
        let ev = try e.record(VitalSigns(spo2: 95, heartRate: 100), at: at(1)).events
        // Simultaneous events come in profile rule order.
        #expect(lines(ev) == ["1.2 active->resolved condition_cleared @1", "2.2 active->latched condition_cleared @1"])
    }

    /// Acknowledged: quiet while the condition lasts, never escalates, resolves when it clears.
    @Test func acknowledgement() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero, escalation: Escalation(after: .seconds(30)))]))
        _ = try e.hr(140, 0)
        let ack = try e.apply(.acknowledge(alarmID: 1), at: at(10))
        #expect(lines(ack) == ["1.2 active->acknowledged acknowledged @10"])
        #expect(ack[0].value == 140 && ack[0].threshold == 131)
        #expect(try e.advance(to: at(600)).isEmpty) // no escalation
        #expect(lines(try e.hr(120, 601)) == ["1.3 acknowledged->resolved condition_cleared @601"])
    }

    /// Silence is bounded: it runs out at exactly its end time and the alarm is active again if the
    /// condition is still there; escalation counts from the end of the silence.
    @Test func silenceExpiry() throws {
        let esc = Escalation(after: .seconds(120))
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero, escalation: esc)]))
        _ = try e.hr(140, 0)
        let s = try e.apply(.silence(alarmID: 1, duration: .seconds(60)), at: at(5))
        #expect(lines(s) == ["1.2 active->silenced silenced @5"])
        #expect(s[0].silencedUntil == at(65))
        #expect(e.openAlarms.first?.silencedUntil == at(65))
        #expect(try e.advance(to: at(64.999)).isEmpty)
        let ev = try e.advance(to: at(400))
        #expect(lines(ev) == ["1.3 silenced->active silence_expired @65", "1.4 active->active escalated @185"])
        #expect(ev[1].priority == .high)
    }

    /// The condition clearing while silenced resolves (or latches) the alarm; no expiry follows.
    @Test func clearingWhileSilenced() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        _ = try e.hr(140, 0)
        _ = try e.apply(.silence(alarmID: 1, duration: nil), at: at(1)) // default 60 s in the test profile
        #expect(lines(try e.hr(100, 10)) == ["1.3 silenced->resolved condition_cleared @10"])
        #expect(try e.advance(to: at(500)).isEmpty)
    }

    /// Escalation: one level per period while unanswered, up to the ceiling, at exact times.
    @Test func escalation() throws {
        let low = LimitRule(.temperature, .high, threshold: 39.1, hysteresis: 0.2, priority: .low,
                            escalation: Escalation(after: .seconds(120), ceiling: .high))
        var e = try AlarmEngine(profile: profile(limits: [low]))
        _ = try e.record(VitalSigns(temperature: 39.5), at: at(0))
        let ev = try e.advance(to: at(1000))
        #expect(lines(ev) == ["1.2 active->active escalated @120", "1.3 active->active escalated @240"])
        #expect(ev.map(\.priority) == [.medium, .high])
        #expect(ev[0].message == "unanswered for 120 s: priority raised from low to medium")

        let capped = LimitRule(.temperature, .high, threshold: 39.1, hysteresis: 0.2, priority: .low,
                               escalation: Escalation(after: .seconds(120), ceiling: .medium))
        var c = try AlarmEngine(profile: profile(limits: [capped]))
        _ = try c.record(VitalSigns(temperature: 39.5), at: at(0))
        #expect(lines(try c.advance(to: at(1000))) == ["1.2 active->active escalated @120"])
    }

    /// Timers fire at their own time, not at the time of the tick that notices them: ticking every
    /// second or jumping straight to the end gives the same events.
    @Test func timersDoNotDependOnTickSpacing() throws {
        let rule = hrHigh(delay: .zero, escalation: Escalation(after: .seconds(45)))
        func run(step: Double?) throws -> [AlarmEvent] {
            var e = try AlarmEngine(profile: profile(limits: [rule]))
            var all = try e.hr(140, 0)
            all += try e.apply(.silence(alarmID: 1, duration: .seconds(30)), at: at(10))
            if let step {
                var s = 10.0
                while s < 300 { s += step; all += try e.advance(to: at(s)) }
            } else {
                all += try e.advance(to: at(300))
            }
            return all
        }
        let jump = try run(step: nil)
        #expect(lines(jump) == ["1.1 -->active condition_met @0", "1.2 active->silenced silenced @10",
                                "1.3 silenced->active silence_expired @40", "1.4 active->active escalated @85"])
        #expect(try run(step: 1) == jump)
        #expect(try run(step: 7.3) == jump)
    }

    /// After a resolution the next occurrence is a new alarm: new alarm id, sequence from 1, event
    /// ids continuing without a gap.
    @Test func newOccurrenceIsANewAlarm() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        var all = try e.hr(140, 0)
        all += try e.hr(100, 1)
        all += try e.hr(140, 2)
        #expect(lines(all) == ["1.1 -->active condition_met @0", "1.2 active->resolved condition_cleared @1",
                               "2.1 -->active condition_met @2"])
        #expect(all.map(\.id) == [1, 2, 3])
    }

    /// Ids can continue from where a previous run of the agent stopped.
    @Test func idsContinueAfterRestart() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]), firstEventID: 500, firstAlarmID: 40)
        let ev = try e.hr(140, 0)
        #expect(ev[0].id == 500 && ev[0].alarmID == 40)
        expectRefusal(.unknownAlarm) { _ = try e.apply(.acknowledge(alarmID: 39), at: at(1)) }
    }

    /// The adult profile's limits sit at the NEWS2 "score 3" edges: each alarms exactly where the
    /// chart scores 3 (after its delay), and not one display step before.
    @Test func adultLimitsAreTheNEWS2RedEdges() throws {
        let cases: [(Vital, Double, Double)] = [ // (vital, first value scoring 3, last value below it)
            (.respirationRate, 8, 9), (.respirationRate, 25, 24), (.spo2, 91, 92), (.systolicBP, 90, 91),
            (.systolicBP, 220, 219), (.heartRate, 40, 41), (.heartRate, 131, 130), (.temperature, 35.0, 35.1),
        ]
        for (vital, red, notRed) in cases {
            var v = VitalSigns(); v[vital] = red
            var w = VitalSigns(); w[vital] = notRed
            #expect(NEWS2.score(v)[NEWS2Parameter(rawValue: vital.code)!] == .scored(3))
            #expect(NEWS2.score(w)[NEWS2Parameter(rawValue: vital.code)!] != .scored(3))
            var e = try AlarmEngine(profile: .adult)
            var fired: [AlarmEvent] = []
            for s in stride(from: 0.0, through: 20, by: 5) { fired += try e.record(w, at: at(s)).events }
            #expect(fired.filter { $0.condition.source == vital.code }.isEmpty, "\(vital.code) \(notRed) alarmed")
            for s in stride(from: 25.0, through: 45, by: 5) { fired += try e.record(v, at: at(s)).events }
            #expect(fired.filter { $0.condition.source == vital.code }.count == 1, "\(vital.code) \(red) did not alarm once")
        }
    }

    /// Bad values are refused, not alarmed on, and leave the engine unchanged.
    @Test func invalidValuesAreRefused() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero)]))
        expectRefusal(.invalidValue) { _ = try e.hr(.nan, 0) }
        expectRefusal(.invalidValue) { _ = try e.hr(-5, 0) }
        expectRefusal(.invalidValue) { _ = try e.spo2(101, 0) }
        expectRefusal(.invalidValue) { _ = try e.record(VitalSigns(temperature: .infinity), at: at(0)) }
        #expect(e.time == nil)
        #expect(try e.hr(140, 0).map(\.id) == [1])
    }

    /// Profiles are checked when an engine is made.
    @Test func invalidProfilesAreRefused() {
        let badH = LimitRule(.heartRate, .high, threshold: 131, hysteresis: -1, priority: .medium)
        expectRefusal(.invalidConfiguration) { _ = try AlarmEngine(profile: profile(limits: [badH])) }
        expectRefusal(.invalidConfiguration) { _ = try AlarmEngine(profile: profile(limits: [hrHigh(), hrHigh()])) }
        let badK = ModelAlarmRule(code: "x", modelID: "m", classIndex: 0, label: "x", threshold: 0.5, consecutiveWindows: 0, priority: .low)
        expectRefusal(.invalidConfiguration) { _ = try AlarmEngine(profile: profile(models: [badK])) }
        let badP = ModelAlarmRule(code: "x", modelID: "m", classIndex: 0, label: "x", threshold: 1.5, consecutiveWindows: 1, priority: .low)
        expectRefusal(.invalidConfiguration) { _ = try AlarmEngine(profile: profile(models: [badP])) }
        expectRefusal(.invalidConfiguration) {
            _ = try AlarmEngine(profile: profile(limits: [hrHigh(escalation: Escalation(after: .zero))]))
        }
        #expect(throws: Never.self) { _ = try AlarmEngine(profile: .adult) }
        #expect(throws: Never.self) { _ = try AlarmEngine(profile: .adultHypercapnic) }
    }
}

extension LimitAlarmTests {
    /// Limits compare whole display steps, not binary fractions: with a 39.1 °C limit and 0.3 °C
    /// hysteresis, 38.8 is still in the band (39.1 - 0.3 is 38.800000000000004 as a Double) and
    /// 38.7 clears; messages show 38.8, not 38.800000000000004.
    @Test func decimalLimitsCompareInDisplaySteps() throws {
        #expect(39.1 - 0.3 != 38.8) // the trap this test is about
        let rule = LimitRule(.temperature, .high, threshold: 39.1, hysteresis: 0.3, priority: .low)
        #expect(rule.clearingLevel == 38.8)
        var e = try AlarmEngine(profile: profile(limits: [rule]))
        #expect(try e.record(VitalSigns(temperature: 39.0), at: at(0)).events.isEmpty)
        #expect(try e.record(VitalSigns(temperature: 39.1), at: at(1)).events.count == 1)
        #expect(try e.record(VitalSigns(temperature: 38.8), at: at(2)).events.isEmpty)
        let ev = try e.record(VitalSigns(temperature: 38.7), at: at(3)).events
        #expect(lines(ev) == ["1.2 active->resolved condition_cleared @3"])
        #expect(ev[0].threshold == 38.8)
        #expect(ev[0].message == "Temp 38.7 °C back below 38.8 °C (limit 39.1 minus hysteresis 0.3)")

        let low = LimitRule(.temperature, .low, threshold: 35.0, hysteresis: 0.2, priority: .medium)
        var l = try AlarmEngine(profile: profile(limits: [low]))
        #expect(try l.record(VitalSigns(temperature: 35.0), at: at(0)).events.count == 1)
        #expect(try l.record(VitalSigns(temperature: 35.2), at: at(1)).events.isEmpty)
        #expect(try l.record(VitalSigns(temperature: 35.3), at: at(2)).events.count == 1)
    }
}
