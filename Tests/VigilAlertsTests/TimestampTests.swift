import Testing
@testable import VigilAlerts

/// Extreme times and durations saturate instead of wrapping into the past.
@Suite struct ExtremeTimeTests {
    @Test func hugeEscalationNeverFires() throws {
        let rule = hrHigh(delay: .zero, escalation: Escalation(after: .seconds(Int64.max)))
        var e = try AlarmEngine(profile: profile(limits: [rule]))
        _ = try e.hr(140, 0)
        #expect(try e.advance(to: Timestamp(milliseconds: .max - 1)).isEmpty)
    }

    @Test func timelineEnds() throws {
        var e = try AlarmEngine(profile: profile(limits: [hrHigh(delay: .seconds(10))]))
        #expect(try e.record(VitalSigns(heartRate: 140), at: Timestamp(milliseconds: .min)).events.isEmpty)
        #expect(try e.record(VitalSigns(heartRate: 140), at: Timestamp(milliseconds: .max)).events.count == 1)
        #expect(Timestamp(milliseconds: .max).description == "9223372036854775.807")
        #expect(Timestamp(milliseconds: -250).description == "-0.25")
    }
}
