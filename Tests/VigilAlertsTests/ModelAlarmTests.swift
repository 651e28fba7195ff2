import Testing
@testable import VigilAlerts

/// Model alarms: k consecutive accepted windows over a threshold; the signal-quality gate.
@Suite struct ModelAlarmTests {
    static let v1 = ModelIdentity(id: "ecg-rhythm", version: "1.0.0", digest: "sha256:abc")
    static let v2 = ModelIdentity(id: "ecg-rhythm", version: "1.1.0", digest: "sha256:def")
    static let af = ModelAlarmRule(code: "af_detected", modelID: "ecg-rhythm", classIndex: 1, label: "AF",
                                   threshold: 0.8, consecutiveWindows: 3, hysteresis: 0.1, priority: .medium)

    func engine() throws -> AlarmEngine { try AlarmEngine(profile: profile(models: [Self.af])) }

    func window(_ p: Double, accepted: Bool = true, model: ModelIdentity = v1) -> ModelWindow {
        ModelWindow(model: model, probabilities: [1 - p, p], qualityAccepted: accepted)
    }

    @Test func kConsecutiveWindows() throws {
        var e = try engine()
        #expect(try e.record(window(0.9), at: at(0)).isEmpty)
        #expect(try e.record(window(0.95), at: at(5)).isEmpty)
        let ev = try e.record(window(0.92), at: at(10))
        #expect(lines(ev) == ["1.1 -->active condition_met @10"])
        let a = ev[0]
        #expect(a.condition == AlarmCondition(kind: .model, code: "af_detected", source: "ecg-rhythm"))
        #expect(a.model == Self.v1)
        #expect(a.value == 0.92 && a.threshold == 0.8 && a.unit == "1")
        #expect(a.message == "AF probability 0.92 over 0.8 for 3 consecutive accepted windows (ecg-rhythm 1.0.0)")
    }

    /// "Over" is strict, and a window at or below the threshold breaks the run.
    @Test func thresholdIsStrictAndRunsMustBeConsecutive() throws {
        var e = try engine()
        var ev: [AlarmEvent] = []
        for (k, p) in [0.9, 0.9, 0.8, 0.9, 0.9, 0.5, 0.9, 0.9].enumerated() { ev += try e.record(window(p), at: at(Double(k))) }
        #expect(ev.isEmpty)
        #expect(lines(try e.record(window(0.81), at: at(8))) == ["1.1 -->active condition_met @8"])
    }

    /// The signal-quality gate: rejected windows never count, break the run, and never raise an
    /// alarm, even at probability 1.
    @Test func rejectedWindowsNeverAlarm() throws {
        var e = try engine()
        var ev: [AlarmEvent] = []
        for k in 0..<20 { ev += try e.record(window(1.0, accepted: false), at: at(Double(k))) }
        #expect(ev.isEmpty)
        #expect(e.withheldWindows == 20)
        // Two accepted, one rejected, two accepted: still no run of three.
        for (k, ok) in [true, true, false, true, true].enumerated() {
            ev += try e.record(window(0.99, accepted: ok), at: at(Double(20 + k)))
        }
        #expect(ev.isEmpty)
        #expect(e.withheldWindows == 21)
        #expect(lines(try e.record(window(0.99), at: at(25))) == ["1.1 -->active condition_met @25"])

        // k = 1 makes the gate the only thing standing between a rejected window and an alarm.
        let single = ModelAlarmRule(code: "vf", modelID: "ecg-rhythm", classIndex: 1, label: "VF", threshold: 0.5,
                                    consecutiveWindows: 1, priority: .high)
        var s = try AlarmEngine(profile: profile(models: [single]))
        #expect(try s.record(window(1.0, accepted: false), at: at(0)).isEmpty)
        #expect(try s.record(window(1.0), at: at(1)).count == 1)
    }

    /// Rejected windows do not clear an alarm either: no evidence either way. Clearing needs an
    /// accepted window at or below threshold - hysteresis.
    @Test func rejectedWindowsDoNotClear() throws {
        var e = try engine()
        for k in 0..<3 { _ = try e.record(window(0.9), at: at(Double(k))) }
        #expect(try e.record(window(0.0, accepted: false), at: at(3)).isEmpty)
        #expect(try e.record(window(0.75), at: at(4)).isEmpty) // above 0.7: stays
        let ev = try e.record(window(0.7), at: at(5))
        #expect(lines(ev) == ["1.2 active->resolved condition_cleared @5"])
        #expect(ev[0].threshold == 0.7)
        #expect(ev[0].message == "AF probability 0.7 at or below 0.7 (ecg-rhythm 1.0.0)")
    }

    /// A new model version restarts the count: k windows always come from one model. Events name
    /// the model of the window that caused them.
    @Test func modelVersionChangeRestartsTheRun() throws {
        var e = try engine()
        _ = try e.record(window(0.9, model: Self.v1), at: at(0))
        _ = try e.record(window(0.9, model: Self.v1), at: at(1))
        #expect(try e.record(window(0.9, model: Self.v2), at: at(2)).isEmpty)
        _ = try e.record(window(0.9, model: Self.v2), at: at(3))
        let ev = try e.record(window(0.9, model: Self.v2), at: at(4))
        #expect(ev.count == 1 && ev[0].model == Self.v2)
        let clear = try e.record(window(0.1, model: Self.v2), at: at(5))
        #expect(clear[0].model == Self.v2)
    }

    @Test func otherModelsAreIgnored() throws {
        var e = try engine()
        let other = ModelIdentity(id: "ppg-quality", version: "1")
        for k in 0..<10 { #expect(try e.record(ModelWindow(model: other, probabilities: [0, 1], qualityAccepted: true), at: at(Double(k))).isEmpty) }
    }

    @Test func badWindowsAreRefused() throws {
        var e = try engine()
        expectRefusal(.invalidValue) { _ = try e.record(ModelWindow(model: Self.v1, probabilities: [0.5, .nan], qualityAccepted: true), at: at(0)) }
        expectRefusal(.invalidValue) { _ = try e.record(ModelWindow(model: Self.v1, probabilities: [-0.1, 1.1], qualityAccepted: true), at: at(0)) }
        let detail = expectRefusal(.invalidValue) { _ = try e.record(ModelWindow(model: Self.v1, probabilities: [1], qualityAccepted: true), at: at(0)) }
        #expect(detail.contains("class 1"))
        #expect(e.time == nil)
    }

    /// Decimal settings mean what they say: threshold 0.3 with hysteresis 0.1 clears at 0.2
    /// (0.3 - 0.1 is 0.19999999999999998 as a Double).
    @Test func clearingLevelIsDecimal() throws {
        let rule = ModelAlarmRule(code: "x", modelID: "ecg-rhythm", classIndex: 1, label: "X", threshold: 0.3,
                                  consecutiveWindows: 1, hysteresis: 0.1, priority: .low)
        #expect(rule.clearingLevel == 0.2)
        var e = try AlarmEngine(profile: profile(models: [rule]))
        _ = try e.record(window(0.5), at: at(0))
        #expect(try e.record(window(0.21), at: at(1)).isEmpty)
        #expect(try e.record(window(0.2), at: at(2)).map(\.state) == [.resolved])
    }
}
