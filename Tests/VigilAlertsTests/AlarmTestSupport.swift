import Testing
@testable import VigilAlerts

/// Seconds to a timestamp.
func at(_ seconds: Double) -> Timestamp { Timestamp(milliseconds: Int64((seconds * 1000).rounded())) }

/// `alarm.sequence from->to reason @time`, e.g. `1.1 -->active condition_met @10`: events as a
/// reader of the timeline sees them, so expectations read like the timeline.
func line(_ e: AlarmEvent) -> String {
    "\(e.alarmID).\(e.sequence) \(e.previousState?.rawValue ?? "-")->\(e.state.rawValue) \(e.reason.rawValue) @\(e.time)"
}

func lines(_ events: [AlarmEvent]) -> [String] { events.map(line) }

/// A profile with only the rules a test names (technical rules for every kind so technical tests
/// can use them).
func profile(limits: [LimitRule] = [], news2: NEWS2AlarmRule? = nil, models: [ModelAlarmRule] = [],
             technical: [TechnicalAlarmRule]? = nil, stale: [StaleDataRule] = [],
             maxSilence: Duration = .seconds(120)) -> PatientProfile {
    PatientProfile(name: "test", limits: limits, news2Alarm: news2,
                   technical: technical ?? TechnicalCondition.allCases.map { TechnicalAlarmRule($0, priority: .medium) },
                   staleData: stale, models: models, maxSilence: maxSilence, defaultSilence: min(.seconds(60), maxSilence))
}

/// HR >= 131 with 10 s delay and 5 /min hysteresis, medium, no escalation unless given.
func hrHigh(delay: Duration = .seconds(10), latching: Latching = .never, escalation: Escalation? = nil,
            priority: AlarmPriority = .medium) -> LimitRule {
    LimitRule(.heartRate, .high, threshold: 131, hysteresis: 5, conditionDelay: delay, priority: priority,
              latching: latching, escalation: escalation)
}

extension AlarmEngine {
    /// Records a heart rate alone.
    mutating func hr(_ value: Double, _ seconds: Double) throws -> [AlarmEvent] {
        try record(VitalSigns(heartRate: value), at: at(seconds)).events
    }

    /// Records an SpO2 alone.
    mutating func spo2(_ value: Double, _ seconds: Double) throws -> [AlarmEvent] {
        try record(VitalSigns(spo2: value), at: at(seconds)).events
    }
}

/// Runs `body` expecting an `AlertsError` with `code`; returns its detail.
@discardableResult
func expectRefusal(_ code: AlertsError.Code, sourceLocation: SourceLocation = #_sourceLocation,
                   _ body: () throws -> Void) -> String {
    do {
        try body()
        Issue.record("expected \(code.rawValue), but the input was accepted", sourceLocation: sourceLocation)
    } catch let e as AlertsError {
        #expect(e.code == code, "\(e)", sourceLocation: sourceLocation)
        return e.detail
    } catch {
        Issue.record("unexpected error \(error)", sourceLocation: sourceLocation)
    }
    return ""
}
