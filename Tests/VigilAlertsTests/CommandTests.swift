import Testing
@testable import VigilAlerts

/// Operator commands are validated against the alarm's state; every refusal is a clear error and
/// leaves the engine exactly as it was.
@Suite struct CommandTests {
    func engineWithActiveAlarm() throws -> AlarmEngine {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero, latching: .always)], maxSilence: .seconds(120)))
        _ = try e.hr(140, 0)
        return e
    }

    @Test func unknownAlarm() throws {
        var e = try engineWithActiveAlarm()
        let detail = expectRefusal(.unknownAlarm) { _ = try e.apply(.acknowledge(alarmID: 7), at: at(1)) }
        #expect(detail.contains("no alarm 7"))
        expectRefusal(.unknownAlarm) { _ = try e.apply(.silence(alarmID: 0, duration: nil), at: at(1)) }
        expectRefusal(.unknownAlarm) { _ = try e.apply(.acknowledge(alarmID: .max), at: at(1)) }
    }

    @Test func resolvedAlarm() throws {
        var e = try engineWithActiveAlarm()
        _ = try e.hr(100, 1) // latched
        _ = try e.apply(.acknowledge(alarmID: 1), at: at(2)) // resolved
        expectRefusal(.alarmResolved) { _ = try e.apply(.acknowledge(alarmID: 1), at: at(3)) }
        expectRefusal(.alarmResolved) { _ = try e.apply(.silence(alarmID: 1, duration: nil), at: at(3)) }
    }

    @Test func wrongState() throws {
        var e = try engineWithActiveAlarm()
        _ = try e.apply(.acknowledge(alarmID: 1), at: at(1))
        #expect(expectRefusal(.wrongState) { _ = try e.apply(.acknowledge(alarmID: 1), at: at(2)) }.contains("already acknowledged"))
        #expect(expectRefusal(.wrongState) { _ = try e.apply(.silence(alarmID: 1, duration: nil), at: at(2)) }.contains("acknowledged"))

        var l = try engineWithActiveAlarm()
        _ = try l.hr(100, 1) // latched
        #expect(expectRefusal(.wrongState) { _ = try l.apply(.silence(alarmID: 1, duration: nil), at: at(2)) }.contains("latched"))
    }

    @Test func silenceDurationBounds() throws {
        var e = try engineWithActiveAlarm()
        expectRefusal(.invalidDuration) { _ = try e.apply(.silence(alarmID: 1, duration: .zero), at: at(1)) }
        expectRefusal(.invalidDuration) { _ = try e.apply(.silence(alarmID: 1, duration: .seconds(-5)), at: at(1)) }
        expectRefusal(.invalidDuration) { _ = try e.apply(.silence(alarmID: 1, duration: .milliseconds(120_001)), at: at(1)) }
        #expect(lines(try e.apply(.silence(alarmID: 1, duration: .seconds(120)), at: at(1))) == ["1.2 active->silenced silenced @1"])
    }

    /// Silencing again restarts the silence; acknowledging a silenced alarm ends the silence for good.
    @Test func resilenceAndAcknowledgeWhileSilenced() throws {
        var e = try engineWithActiveAlarm()
        _ = try e.apply(.silence(alarmID: 1, duration: .seconds(60)), at: at(0))
        let again = try e.apply(.silence(alarmID: 1, duration: .seconds(60)), at: at(50))
        #expect(lines(again) == ["1.3 silenced->silenced silenced @50"])
        #expect(again[0].silencedUntil == at(110))
        #expect(try e.advance(to: at(100)).isEmpty)
        #expect(lines(try e.apply(.acknowledge(alarmID: 1), at: at(101))) == ["1.4 silenced->acknowledged acknowledged @101"])
        #expect(try e.advance(to: at(1000)).isEmpty)
    }

    /// Time is an input and must not run backwards; a refused input (of any kind) changes nothing,
    /// not even the timers it would have fired, and ids stay gapless.
    @Test func refusalsLeaveTheEngineUnchanged() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .zero, escalation: Escalation(after: .seconds(60)))]))
        _ = try e.hr(140, 10)
        let before = e.openAlarms
        expectRefusal(.timeWentBackwards) { _ = try e.hr(150, 9.999) }
        expectRefusal(.timeWentBackwards) { _ = try e.advance(to: at(0)) }
        // Escalation is due at 70; a refused command at 100 must not consume it.
        expectRefusal(.unknownAlarm) { _ = try e.apply(.acknowledge(alarmID: 99), at: at(100)) }
        #expect(e.openAlarms == before)
        #expect(e.time == at(10))
        let ev = try e.advance(to: at(100))
        #expect(lines(ev) == ["1.2 active->active escalated @70"])
        #expect(ev[0].id == 2)
        // Equal times are fine.
        #expect(throws: Never.self) { _ = try e.advance(to: at(100)) }
    }

    /// Commands at the same time as a timer see the timer first: a silence that runs out at 65
    /// and an acknowledgement at 65 give expiry, then acknowledgement.
    @Test func timersBeforeCommandsAtTheSameTime() throws {
        var e = try engineWithActiveAlarm()
        _ = try e.apply(.silence(alarmID: 1, duration: .seconds(65)), at: at(0))
        let ev = try e.apply(.acknowledge(alarmID: 1), at: at(65))
        #expect(lines(ev) == ["1.3 silenced->active silence_expired @65", "1.4 active->acknowledged acknowledged @65"])
    }
}
