import Testing
@testable import VigilAlerts

/// Random sessions against every rule kind at once: whatever the inputs, the engine never crashes,
/// ids are gapless, every transition is legal and follows the alarm's previous state, and the same
/// session replays to the same events.
@Suite struct EngineInvariantTests {
    struct Rng {
        var state: UInt64
        mutating func next(_ n: Int) -> Int {
            state = state &* 6364136223846793005 &+ 1442695040888963407
            return Int((state >> 33) % UInt64(n))
        }
        mutating func chance(_ percent: Int) -> Bool { next(100) < percent }
    }

    static let model = ModelIdentity(id: "m", version: "1")
    static var fullProfile: PatientProfile {
        var p = PatientProfile.adult
        p.staleData = [StaleDataRule(channel: "hr", after: .seconds(20)), StaleDataRule(channel: "ecg", after: .seconds(3))]
        p.models = [ModelAlarmRule(code: "af", modelID: "m", classIndex: 1, label: "AF", threshold: 0.7,
                                   consecutiveWindows: 2, priority: .high, escalation: Escalation(after: .seconds(30)))]
        p.technical = TechnicalCondition.allCases.map {
            TechnicalAlarmRule($0, conditionDelay: .seconds(2), priority: .low, latching: .whenHighPriority,
                               escalation: Escalation(after: .seconds(40)))
        }
        return p
    }

    /// One random session; returns every accepted event, and counts refusals.
    static func session(seed: UInt64, steps: Int) throws -> (events: [AlarmEvent], refusals: Int) {
        var rng = Rng(state: seed)
        var e = try AlarmEngine(profile: fullProfile)
        var ms: Int64 = 0
        var events: [AlarmEvent] = []
        var refusals = 0
        for _ in 0..<steps {
            ms += Int64(rng.next(4000))
            if rng.chance(3) { ms -= 5000 } // sometimes go back in time
            let t = Timestamp(milliseconds: ms)
            do {
                switch rng.next(6) {
                case 0, 1:
                    var v = VitalSigns()
                    if rng.chance(80) { v.heartRate = Double(30 + rng.next(120)) }
                    if rng.chance(70) { v.spo2 = Double(80 + rng.next(21)) }
                    if rng.chance(50) { v.respirationRate = Double(4 + rng.next(30)) }
                    if rng.chance(30) { v.systolicBP = Double(70 + rng.next(180)) }
                    if rng.chance(30) { v.temperature = Double(340 + rng.next(70)) / 10 }
                    if rng.chance(30) { v.supplementalOxygen = rng.chance(50) }
                    if rng.chance(30) { v.consciousness = Consciousness.allCases[rng.next(5)] }
                    if rng.chance(2) { v.heartRate = .nan }
                    events += try e.record(v, at: t).events
                case 2:
                    // stale_data included: the engine must refuse it from outside.
                    let kind = TechnicalCondition.allCases[rng.next(TechnicalCondition.allCases.count)]
                    events += try e.report(kind, source: ["ecg", "ppg"][rng.next(2)], present: rng.chance(50), at: t)
                case 3:
                    let p = Double(rng.next(101)) / 100
                    let probabilities = rng.chance(2) ? [p] : [1 - p, p]
                    events += try e.record(ModelWindow(model: fullProfileModel(rng.next(5) == 0), probabilities: probabilities,
                                                       qualityAccepted: rng.chance(75)), at: t)
                case 4:
                    let id = UInt64(rng.next(12))
                    let command: AlarmCommand = rng.chance(50)
                        ? .acknowledge(alarmID: id)
                        : .silence(alarmID: id, duration: rng.chance(80) ? .seconds(Int64(rng.next(150))) : nil)
                    events += try e.apply(command, at: t)
                default:
                    if rng.chance(50) { events += try e.noteSample(channel: "ecg", at: t) } else { events += try e.advance(to: t) }
                }
            } catch {
                refusals += 1
                if rng.chance(50) { ms = e.time?.milliseconds ?? 0 }
            }
        }
        return (events, refusals)
    }

    static func fullProfileModel(_ newer: Bool) -> ModelIdentity { newer ? ModelIdentity(id: "m", version: "2") : model }

    @Test(arguments: [1, 2, 3, 4, 5, 6, 7, 8] as [UInt64])
    func invariants(seed: UInt64) throws {
        let (events, refusals) = try Self.session(seed: seed, steps: 1500)
        #expect(events.count > 20, "session too quiet to test anything: \(events.count) events")
        #expect(refusals > 0)
        // Gapless event ids, non-decreasing times.
        #expect(events.map(\.id) == Array(1...UInt64(events.count)))
        for (a, b) in zip(events, events.dropFirst()) {
            #expect(a.time <= b.time, "\(line(a)) then \(line(b))")
        }

        var state: [UInt64: AlarmState] = [:]
        var sequence: [UInt64: UInt32] = [:]
        var lastNewAlarm: UInt64 = 0
        for ev in events {
            let known = state[ev.alarmID]
            if known == nil {
                #expect(ev.previousState == nil && ev.sequence == 1 && ev.state == .active && ev.reason == .conditionMet, "\(line(ev))")
                #expect(ev.alarmID == lastNewAlarm + 1, "alarm ids in activation order")
                lastNewAlarm = ev.alarmID
            } else {
                #expect(known != .resolved, "event after resolution: \(line(ev))")
                #expect(ev.previousState == known, "\(line(ev)) but the alarm was \(known!.rawValue)")
                #expect(ev.sequence == sequence[ev.alarmID]! + 1)
                let legal: Bool = switch (known!, ev.reason, ev.state) {
                case (.active, .acknowledged, .acknowledged), (.silenced, .acknowledged, .acknowledged),
                     (.latched, .acknowledged, .resolved),
                     (.active, .silenced, .silenced), (.silenced, .silenced, .silenced),
                     (.silenced, .silenceExpired, .active),
                     (.active, .escalated, .active),
                     (.active, .conditionWorsened, .active), (.silenced, .conditionWorsened, .active),
                     (.acknowledged, .conditionWorsened, .active),
                     (.latched, .conditionMet, .active),
                     (.active, .conditionCleared, .latched), (.silenced, .conditionCleared, .latched),
                     (.active, .conditionCleared, .resolved), (.silenced, .conditionCleared, .resolved),
                     (.acknowledged, .conditionCleared, .resolved): true
                default: false
                }
                #expect(legal, "illegal transition \(line(ev))")
            }
            if ev.reason == .escalated { #expect(ev.priority > .low) }
            if ev.condition.kind == .model { #expect(ev.model != nil) }
            if ev.state == .silenced { #expect(ev.silencedUntil.map { $0 > ev.time } == true) }
            state[ev.alarmID] = ev.state
            sequence[ev.alarmID] = ev.sequence
        }
        // Same session, same events.
        #expect(try Self.session(seed: seed, steps: 1500).events == events)
    }

    /// The random sessions reach every kind of transition and condition, so the invariants above
    /// are checked on all of them.
    @Test func sessionsCoverEveryTransition() throws {
        var reasons: Set<String> = [], kinds: Set<String> = [], pairs: Set<String> = []
        for seed in 1...8 as ClosedRange<UInt64> {
            for e in try Self.session(seed: seed, steps: 1500).events {
                reasons.insert(e.reason.rawValue)
                kinds.insert(e.condition.kind.rawValue)
                pairs.insert("\(e.previousState?.rawValue ?? "-")>\(e.state.rawValue)")
            }
        }
        #expect(reasons == ["condition_met", "condition_cleared", "acknowledged", "silenced", "silence_expired",
                            "escalated", "condition_worsened"])
        #expect(kinds == ["physiological", "technical", "model"])
        for p in ["->active", "active>acknowledged", "active>silenced", "silenced>active", "silenced>acknowledged",
                  "active>latched", "latched>active", "latched>resolved", "acknowledged>resolved", "active>resolved"] {
            #expect(pairs.contains(p), "no \(p) transition in the random sessions")
        }
    }
}
