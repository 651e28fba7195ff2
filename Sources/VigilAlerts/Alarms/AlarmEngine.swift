/// The alarm engine: turns vitals, technical status, model windows, operator commands and the
/// passage of time into alarm events.
///
/// It is a value with no clock, no I/O and no randomness: every input names its `Timestamp`, and
/// the same inputs in the same order always give the same events (ids, times, messages). Timers
/// (technical condition delays, stale data, silence expiry, escalation) fire at the exact time
/// they run out, whatever the spacing of the inputs, so a replay does not depend on how often the
/// caller ticks; call `advance(to:)` periodically to let them fire without other inputs.
///
/// Inputs are transactional: an input that is refused (`AlertsError`) leaves the engine exactly
/// as it was, including its time. Inputs must not go back in time; equal times are fine.
public struct AlarmEngine: Sendable {
    /// The profile the engine was created with.
    public let profile: PatientProfile
    /// The time of the last accepted input, or `nil` before the first.
    public private(set) var time: Timestamp?
    /// How many model windows the signal-quality gate rejected (withheld, never alarmed on).
    public private(set) var withheldWindows = 0

    private var nextEventID: UInt64
    private var nextAlarmID: UInt64
    private let firstAlarmID: UInt64
    private var open: [OpenAlarm] = []
    /// Onset of a pending (not yet alarmed) condition, parallel to `profile.limits`.
    private var limitOnsets: [Timestamp?]
    private var technicalStates: [TechnicalTracker] = []
    /// Last sample per stale-data rule, parallel to `profile.staleData`.
    private var lastSamples: [Timestamp?]
    private var modelTrackers: [ModelTracker]

    /// An engine for one patient. `firstEventID` and `firstAlarmID` let an agent continue its id
    /// sequences after a restart so ids stay unique in its outbox.
    public init(profile: PatientProfile, firstEventID: UInt64 = 1, firstAlarmID: UInt64 = 1) throws(AlertsError) {
        try profile.validate()
        guard firstEventID > 0, firstAlarmID > 0 else {
            throw AlertsError(.invalidConfiguration, "first event and alarm ids must be >= 1")
        }
        self.profile = profile
        nextEventID = firstEventID
        nextAlarmID = firstAlarmID
        self.firstAlarmID = firstAlarmID
        limitOnsets = Array(repeating: nil, count: profile.limits.count)
        lastSamples = Array(repeating: nil, count: profile.staleData.count)
        modelTrackers = Array(repeating: ModelTracker(), count: profile.models.count)
    }

    /// The open (not yet resolved) alarms, in order of activation.
    public var openAlarms: [AlarmSnapshot] {
        open.map {
            AlarmSnapshot(alarmID: $0.id, condition: $0.condition, state: $0.state, priority: $0.priority,
                          activatedAt: $0.activatedAt, lastValue: $0.lastValue, threshold: $0.threshold,
                          silencedUntil: $0.state == .silenced ? $0.silencedUntil : nil, model: $0.model)
        }
    }

    // MARK: Inputs

    /// The result of recording a set of vital signs.
    public struct VitalsOutcome: Sendable, Hashable {
        /// The NEWS2 assessment of these observations alone (values at display resolution).
        public var news2: NEWS2Score
        /// Events caused by timers that ran out up to this time, then by these observations.
        public var events: [AlarmEvent]
    }

    /// Records one set of observations taken at `t`: refreshes stale-data watches, evaluates every
    /// limit rule on the measured vitals, scores NEWS2 and evaluates the NEWS2 alarm.
    ///
    /// Values are rounded to display resolution first. Refused: a value that is NaN or infinite, a
    /// negative rate or pressure, SpO2 outside 0...100.
    public mutating func record(_ vitals: VitalSigns, at t: Timestamp) throws(AlertsError) -> VitalsOutcome {
        var shown = vitals
        for v in Vital.allCases {
            guard let x = vitals[v] else { continue }
            guard let d = v.displayed(x) else { throw AlertsError(.invalidValue, "\(v.code): \(x) is not a finite number") }
            if v != .temperature, d < 0 { throw AlertsError(.invalidValue, "\(v.code): \(formatNumber(d)) is negative") }
            if v == .spo2, d > 100 { throw AlertsError(.invalidValue, "spo2: \(formatNumber(d)) % is above 100") }
            shown[v] = d
        }
        let score = NEWS2.score(shown, scale: profile.spo2Scale)
        let events = try transact(at: t) { (e: inout AlarmEngine, ev: inout [AlarmEvent]) throws(AlertsError) in
            var channels = Vital.allCases.filter { shown[$0] != nil }.map(\.code)
            if shown.supplementalOxygen != nil { channels.append("o2") }
            if shown.consciousness != nil { channels.append("acvpu") }
            for c in channels { e.sample(channel: c, at: t, into: &ev) }
            for i in e.profile.limits.indices {
                if let x = shown[e.profile.limits[i].vital] { e.evaluateLimit(i, x, at: t, into: &ev) }
            }
            e.evaluateNEWS2(score, at: t, into: &ev)
        }
        return VitalsOutcome(news2: score, events: events)
    }

    /// Reports that a technical condition on `source` (a channel, sensor or link name) is present or
    /// gone. Repeating the current state is harmless. Conditions without a rule in the profile are
    /// accepted and ignored. Stale data is refused here: the engine detects it from sample times
    /// (`noteSample(channel:at:)`, `record(_:at:)`), and an outside report would fight its watch.
    public mutating func report(_ kind: TechnicalCondition, source: String, present: Bool, at t: Timestamp) throws(AlertsError) -> [AlarmEvent] {
        guard kind != .staleData else {
            throw AlertsError(.invalidValue, "stale_data on \(source) is detected by the engine from sample times; report samples with noteSample(channel:at:)")
        }
        return try transact(at: t) { (e: inout AlarmEngine, ev: inout [AlarmEvent]) throws(AlertsError) in
            e.setTechnical(kind, source: source, present: present, at: t, into: &ev)
        }
    }

    /// Notes that `channel` delivered a sample at `t` (for stale-data watches on channels that do
    /// not go through `record(_:at:)`, such as waveforms).
    public mutating func noteSample(channel: String, at t: Timestamp) throws(AlertsError) -> [AlarmEvent] {
        try transact(at: t) { (e: inout AlarmEngine, ev: inout [AlarmEvent]) throws(AlertsError) in
            e.sample(channel: channel, at: t, into: &ev)
        }
    }

    /// Records one inference window. A window the signal-quality gate rejected is withheld: it
    /// resets the consecutive-window counts of its model's rules and changes nothing else.
    /// Refused: a probability that is not finite or outside 0...1, or a rule's class index beyond
    /// the window's classes.
    public mutating func record(_ window: ModelWindow, at t: Timestamp) throws(AlertsError) -> [AlarmEvent] {
        for (k, p) in window.probabilities.enumerated() where !(p.isFinite && p >= 0 && p <= 1) {
            throw AlertsError(.invalidValue, "model \(window.model.id): probability \(p) of class \(k) is not within 0...1")
        }
        for r in profile.models where r.modelID == window.model.id && r.classIndex >= window.probabilities.count {
            throw AlertsError(.invalidValue, "model \(r.modelID): rule \(r.code) reads class \(r.classIndex) but the window has \(window.probabilities.count) classes")
        }
        return try transact(at: t) { (e: inout AlarmEngine, ev: inout [AlarmEvent]) throws(AlertsError) in
            if !window.qualityAccepted { e.withheldWindows += 1 }
            for i in e.profile.models.indices where e.profile.models[i].modelID == window.model.id {
                e.evaluateModel(i, window, at: t, into: &ev)
            }
        }
    }

    /// Applies an operator command at `t`. Refused (with the engine unchanged): an alarm id the
    /// engine never issued, an alarm already resolved, a command that does not fit the alarm's
    /// state, a silence that is not positive or longer than the profile's `maxSilence`.
    public mutating func apply(_ command: AlarmCommand, at t: Timestamp) throws(AlertsError) -> [AlarmEvent] {
        try transact(at: t) { (e: inout AlarmEngine, ev: inout [AlarmEvent]) throws(AlertsError) in
            try e.execute(command, at: t, into: &ev)
        }
    }

    /// Lets time pass to `t` with no other input: fires the timers that run out by then.
    public mutating func advance(to t: Timestamp) throws(AlertsError) -> [AlarmEvent] {
        try transact(at: t) { (_: inout AlarmEngine, _: inout [AlarmEvent]) throws(AlertsError) in }
    }

    /// Runs `body` on a copy after firing the timers due by `t`, fires timers again (zero delays),
    /// and commits the copy only if nothing threw.
    private mutating func transact(at t: Timestamp,
                                   _ body: (inout AlarmEngine, inout [AlarmEvent]) throws(AlertsError) -> Void) throws(AlertsError) -> [AlarmEvent] {
        if let now = time, t < now {
            throw AlertsError(.timeWentBackwards, "input at \(t) s is earlier than the last input at \(now) s")
        }
        var next = self
        var events: [AlarmEvent] = []
        next.runTimers(until: t, notBefore: time ?? t, into: &events)
        try body(&next, &events)
        next.runTimers(until: t, notBefore: t, into: &events)
        next.time = t
        self = next
        return events
    }
}

// MARK: - State

/// One open alarm.
struct OpenAlarm: Sendable {
    let id: UInt64
    let condition: AlarmCondition
    var state: AlarmState
    var priority: AlarmPriority
    var sequence: UInt32
    let latching: Latching
    let escalation: Escalation?
    let activatedAt: Timestamp
    /// Start of the current unanswered `active` period (escalation counts from here).
    var escalationStart: Timestamp
    var silencedUntil: Timestamp?
    var lastValue: Double?
    let threshold: Double?
    let unit: String?
    var model: ModelIdentity?
}

struct TechnicalTracker: Sendable {
    let kind: TechnicalCondition
    let source: String
    var present: Bool
    var onset: Timestamp
    var condition: AlarmCondition { AlarmCondition(kind: .technical, code: kind.rawValue, source: source) }
}

struct ModelTracker: Sendable {
    var streak = 0
    var identity: ModelIdentity?
}

// MARK: - Evaluation

extension AlarmEngine {
    private func openIndex(_ c: AlarmCondition) -> Int? { open.firstIndex { $0.condition == c } }

    private mutating func evaluateLimit(_ i: Int, _ x: Double, at t: Timestamp, into ev: inout [AlarmEvent]) {
        let r = profile.limits[i]
        let v = r.vital
        let side = r.direction == .high ? "at or above the high limit" : "at or below the low limit"
        if let j = openIndex(r.condition) {
            open[j].lastValue = x
            if r.meets(x), open[j].state == .latched {
                transition(j, to: .active, .conditionMet, at: t, value: x, threshold: r.threshold,
                           "\(v.displayName) \(formatNumber(x)) \(v.unit) \(side) \(formatNumber(r.threshold)) \(v.unit) again", into: &ev)
            } else if r.clears(x) {
                limitOnsets[i] = nil
                let back = r.direction == .high ? "back below" : "back above"
                let how = r.direction == .high ? "minus" : "plus"
                clear(j, at: t, value: x, threshold: r.clearingLevel,
                      "\(v.displayName) \(formatNumber(x)) \(v.unit) \(back) \(formatNumber(r.clearingLevel)) \(v.unit) (limit \(formatNumber(r.threshold)) \(how) hysteresis \(formatNumber(r.hysteresis)))",
                      into: &ev)
            }
            return
        }
        if r.meets(x) {
            let onset = limitOnsets[i] ?? t
            limitOnsets[i] = onset
            let held = t - onset
            guard held >= r.conditionDelay else { return }
            let during = r.conditionDelay > .zero ? " for \(held.secondsText) s (delay \(r.conditionDelay.secondsText) s)" : ""
            activate(r.condition, priority: r.priority, latching: r.latching, escalation: r.escalation,
                     value: x, threshold: r.threshold, unit: v.ucum, model: nil, at: t,
                     "\(v.displayName) \(formatNumber(x)) \(v.unit) \(side) \(formatNumber(r.threshold)) \(v.unit)\(during)",
                     into: &ev)
            limitOnsets[i] = nil
        } else if r.clears(x) {
            limitOnsets[i] = nil
        }
        // In the hysteresis band a pending onset is kept: the value has not returned to normal.
    }

    private mutating func evaluateNEWS2(_ score: NEWS2Score, at t: Timestamp, into ev: inout [AlarmEvent]) {
        guard let rule = profile.news2Alarm, let band = score.riskBand, let aggregate = score.aggregate else { return }
        let value = Double(aggregate)
        let partial = score.isComplete ? "" : " (partial: \(score.unscored.map(\.code).joined(separator: ", ")) not scored)"
        let what = "NEWS2 \(aggregate), \(band.name) risk\(partial)"
        let present = band >= rule.minimumBand
        if let j = openIndex(NEWS2AlarmRule.condition) {
            open[j].lastValue = value
            if present {
                let p = max(open[j].priority, rule.priority(for: band))
                if open[j].state == .latched {
                    open[j].priority = p
                    transition(j, to: .active, .conditionMet, at: t, value: value, threshold: NEWS2AlarmRule.threshold(of: band),
                               "\(what): \(band.name) band again", into: &ev)
                } else if p > open[j].priority {
                    open[j].priority = p
                    open[j].escalationStart = t
                    transition(j, to: .active, .conditionWorsened, at: t, value: value, threshold: NEWS2AlarmRule.threshold(of: band),
                               "\(what): worsened to the \(band.name) band", into: &ev)
                }
            } else if score.isComplete {
                clear(j, at: t, value: value, threshold: NEWS2AlarmRule.threshold(of: rule.minimumBand),
                      "\(what): below the \(rule.minimumBand.name) band on a complete score", into: &ev)
            }
        } else if present {
            activate(NEWS2AlarmRule.condition, priority: rule.priority(for: band), latching: rule.latching,
                     escalation: rule.escalation, value: value, threshold: NEWS2AlarmRule.threshold(of: band),
                     unit: "{score}", model: nil, at: t, "\(what)", into: &ev)
        }
    }

    private mutating func evaluateModel(_ i: Int, _ w: ModelWindow, at t: Timestamp, into ev: inout [AlarmEvent]) {
        let r = profile.models[i]
        if modelTrackers[i].identity != w.model {
            modelTrackers[i] = ModelTracker(streak: 0, identity: w.model)
        }
        guard w.qualityAccepted else {
            modelTrackers[i].streak = 0
            return
        }
        let p = w.probabilities[r.classIndex]
        let over = p > r.threshold
        modelTrackers[i].streak = over ? modelTrackers[i].streak + 1 : 0
        let who = "\(w.model.id) \(w.model.version)"
        if let j = openIndex(r.condition) {
            open[j].model = w.model
            open[j].lastValue = p
            if over, open[j].state == .latched {
                transition(j, to: .active, .conditionMet, at: t, value: p, threshold: r.threshold,
                           "\(r.label) probability \(formatNumber(p)) over \(formatNumber(r.threshold)) again (\(who))", into: &ev)
            } else if p <= r.clearingLevel {
                clear(j, at: t, value: p, threshold: r.clearingLevel,
                      "\(r.label) probability \(formatNumber(p)) at or below \(formatNumber(r.clearingLevel)) (\(who))", into: &ev)
            }
        } else if modelTrackers[i].streak >= r.consecutiveWindows {
            activate(r.condition, priority: r.priority, latching: r.latching, escalation: r.escalation,
                     value: p, threshold: r.threshold, unit: "1", model: w.model, at: t,
                     "\(r.label) probability \(formatNumber(p)) over \(formatNumber(r.threshold)) for \(modelTrackers[i].streak) consecutive accepted windows (\(who))",
                     into: &ev)
        }
    }

    private mutating func setTechnical(_ kind: TechnicalCondition, source: String, present: Bool, at t: Timestamp,
                                       into ev: inout [AlarmEvent]) {
        guard profile.technical.contains(where: { $0.condition == kind }) else { return }
        let k: Int
        if let found = technicalStates.firstIndex(where: { $0.kind == kind && $0.source == source }) {
            k = found
        } else {
            technicalStates.append(TechnicalTracker(kind: kind, source: source, present: false, onset: t))
            k = technicalStates.count - 1
        }
        let cond = technicalStates[k].condition
        if present {
            guard !technicalStates[k].present else { return }
            technicalStates[k].present = true
            technicalStates[k].onset = t
            if let j = openIndex(cond), open[j].state == .latched {
                transition(j, to: .active, .conditionMet, at: t, value: nil, threshold: nil,
                           "\(kind.words) on \(source) again", into: &ev)
            }
            // A new condition activates from `runTimers` once its delay has run (at once for 0).
        } else {
            guard technicalStates[k].present else { return }
            technicalStates[k].present = false
            if let j = openIndex(cond) {
                let ended = kind == .staleData ? "samples on \(source) again" : "\(kind.words) on \(source) ended"
                clear(j, at: t, value: nil, threshold: nil, ended, into: &ev)
            }
        }
    }

    private mutating func sample(channel: String, at t: Timestamp, into ev: inout [AlarmEvent]) {
        guard let i = profile.staleData.firstIndex(where: { $0.channel == channel }) else { return }
        lastSamples[i] = t
        setTechnical(.staleData, source: channel, present: false, at: t, into: &ev)
    }

    // MARK: Commands

    private mutating func execute(_ command: AlarmCommand, at t: Timestamp, into ev: inout [AlarmEvent]) throws(AlertsError) {
        let id = command.alarmID
        guard let j = open.firstIndex(where: { $0.id == id }) else {
            if id >= firstAlarmID, id < nextAlarmID {
                throw AlertsError(.alarmResolved, "alarm \(id) has already resolved")
            }
            throw AlertsError(.unknownAlarm, "no alarm \(id) (alarm ids issued so far: \(firstAlarmID)..<\(nextAlarmID))")
        }
        let a = open[j]
        switch command {
        case .acknowledge:
            switch a.state {
            case .active, .silenced:
                open[j].silencedUntil = nil
                transition(j, to: .acknowledged, .acknowledged, at: t, value: nil, threshold: a.threshold,
                           "acknowledged; audio off until the condition clears", into: &ev)
            case .latched:
                transition(j, to: .resolved, .acknowledged, at: t, value: nil, threshold: a.threshold,
                           "latched alarm acknowledged after its condition cleared", into: &ev)
            case .acknowledged:
                throw AlertsError(.wrongState, "alarm \(id) (\(a.condition)) is already acknowledged")
            case .resolved:
                throw AlertsError(.alarmResolved, "alarm \(id) has already resolved")
            }
        case .silence(_, let requested):
            let d = requested ?? profile.defaultSilence
            guard d > .zero, d <= profile.maxSilence else {
                throw AlertsError(.invalidDuration, "silence of \(d.secondsText) s for alarm \(id): must be more than 0 and at most \(profile.maxSilence.secondsText) s")
            }
            switch a.state {
            case .active, .silenced:
                open[j].silencedUntil = t + d
                transition(j, to: .silenced, .silenced, at: t, value: nil, threshold: a.threshold,
                           "audio paused for \(d.secondsText) s, until \(t + d) s", into: &ev)
            case .acknowledged:
                throw AlertsError(.wrongState, "alarm \(id) (\(a.condition)) is acknowledged; its audio is already off until the condition clears")
            case .latched:
                throw AlertsError(.wrongState, "alarm \(id) (\(a.condition)) is latched after its condition cleared; acknowledge it to reset it")
            case .resolved:
                throw AlertsError(.alarmResolved, "alarm \(id) has already resolved")
            }
        }
    }

    // MARK: Timers

    private enum Timer {
        case staleDetected(rule: Int)
        case technicalDue(tracker: Int)
        case silenceExpired(alarm: Int)
        case escalation(alarm: Int)
    }

    /// The earliest timer due, in a fixed order for timers due at the same time: stale detection,
    /// technical activation, silence expiry, escalation; then in rule, tracker or alarm order.
    private func nextTimer() -> (Timestamp, Timer)? {
        var best: (Timestamp, Timer)?
        func consider(_ due: Timestamp, _ timer: Timer) {
            if best == nil || due < best!.0 { best = (due, timer) }
        }
        for (i, rule) in profile.staleData.enumerated() {
            guard let last = lastSamples[i] else { continue }
            let stale = technicalStates.first { $0.kind == .staleData && $0.source == rule.channel }
            // Stale when *more* than `after` passes: a sample exactly `after` late is on time.
            if stale?.present != true { consider(last + rule.after + .milliseconds(1), .staleDetected(rule: i)) }
        }
        for (k, tr) in technicalStates.enumerated() where tr.present && openIndex(tr.condition) == nil {
            let delay = profile.technical.first { $0.condition == tr.kind }!.conditionDelay
            consider(tr.onset + delay, .technicalDue(tracker: k))
        }
        for (j, a) in open.enumerated() {
            if a.state == .silenced, let until = a.silencedUntil { consider(until, .silenceExpired(alarm: j)) }
            if a.state == .active, let e = a.escalation, a.priority < e.ceiling {
                consider(a.escalationStart + e.after, .escalation(alarm: j))
            }
        }
        return best
    }

    /// Fires every timer due by `t`, each at its due time but never before `notBefore` (the time of
    /// events already emitted), so the timeline never runs backwards.
    private mutating func runTimers(until t: Timestamp, notBefore: Timestamp, into ev: inout [AlarmEvent]) {
        // Before the first input, stale-data watches start counting from the first input's time.
        if time == nil {
            for i in lastSamples.indices where lastSamples[i] == nil { lastSamples[i] = t }
        }
        while let (dueTime, timer) = nextTimer(), dueTime <= t {
            let due = max(dueTime, notBefore)
            switch timer {
            case .staleDetected(let i):
                let rule = profile.staleData[i]
                setTechnical(.staleData, source: rule.channel, present: true, at: due, into: &ev)
            case .technicalDue(let k):
                let tr = technicalStates[k]
                let rule = profile.technical.first { $0.condition == tr.kind }!
                let message: String
                if tr.kind == .staleData, let r = profile.staleData.first(where: { $0.channel == tr.source }) {
                    message = "no sample on \(tr.source) for \(r.after.secondsText) s"
                } else {
                    let held = rule.conditionDelay > .zero ? " for \(rule.conditionDelay.secondsText) s" : ""
                    message = "\(tr.kind.words) on \(tr.source)\(held)"
                }
                activate(tr.condition, priority: rule.priority, latching: rule.latching, escalation: rule.escalation,
                         value: nil, threshold: nil, unit: nil, model: nil, at: due, message, into: &ev)
            case .silenceExpired(let j):
                open[j].silencedUntil = nil
                open[j].escalationStart = due
                transition(j, to: .active, .silenceExpired, at: due, value: nil, threshold: open[j].threshold,
                           "silence ran out with the condition still present", into: &ev)
            case .escalation(let j):
                let from = open[j].priority
                let e = open[j].escalation!
                open[j].priority = from.raised!
                open[j].escalationStart = due
                transition(j, to: .active, .escalated, at: due, value: nil, threshold: open[j].threshold,
                           "unanswered for \(e.after.secondsText) s: priority raised from \(from.name) to \(open[j].priority.name)",
                           into: &ev)
            }
        }
    }

    // MARK: Transitions

    private mutating func activate(_ condition: AlarmCondition, priority: AlarmPriority, latching: Latching,
                                   escalation: Escalation?, value: Double?, threshold: Double?, unit: String?,
                                   model: ModelIdentity?, at t: Timestamp, _ message: String, into ev: inout [AlarmEvent]) {
        let a = OpenAlarm(id: nextAlarmID, condition: condition, state: .active, priority: priority, sequence: 1,
                          latching: latching, escalation: escalation, activatedAt: t, escalationStart: t,
                          silencedUntil: nil, lastValue: value, threshold: threshold, unit: unit, model: model)
        nextAlarmID += 1
        open.append(a)
        ev.append(AlarmEvent(id: nextEventID, alarmID: a.id, sequence: 1, time: t, condition: condition, priority: priority,
                             previousState: nil, state: .active, reason: .conditionMet, value: value, threshold: threshold,
                             unit: value == nil ? nil : unit, model: model, silencedUntil: nil, message: message))
        nextEventID += 1
    }

    /// The condition of open alarm `j` cleared: resolved, or latched if it latches at its priority.
    private mutating func clear(_ j: Int, at t: Timestamp, value: Double?, threshold: Double?, _ message: String,
                                into ev: inout [AlarmEvent]) {
        switch open[j].state {
        case .acknowledged:
            transition(j, to: .resolved, .conditionCleared, at: t, value: value, threshold: threshold, message, into: &ev)
        case .active, .silenced:
            open[j].silencedUntil = nil
            if open[j].latching.latches(at: open[j].priority) {
                transition(j, to: .latched, .conditionCleared, at: t, value: value, threshold: threshold,
                           message + "; latched until acknowledged", into: &ev)
            } else {
                transition(j, to: .resolved, .conditionCleared, at: t, value: value, threshold: threshold, message, into: &ev)
            }
        case .latched, .resolved:
            break
        }
    }

    private mutating func transition(_ j: Int, to state: AlarmState, _ reason: TransitionReason, at t: Timestamp,
                                     value: Double?, threshold: Double?, _ message: String, into ev: inout [AlarmEvent]) {
        var a = open[j]
        let previous = a.state
        a.state = state
        a.sequence += 1
        if state == .active, previous != .active { a.escalationStart = t }
        let shown = value ?? a.lastValue
        ev.append(AlarmEvent(id: nextEventID, alarmID: a.id, sequence: a.sequence, time: t, condition: a.condition,
                             priority: a.priority, previousState: previous, state: state, reason: reason, value: shown,
                             threshold: threshold, unit: shown == nil ? nil : a.unit, model: a.model,
                             silencedUntil: state == .silenced ? a.silencedUntil : nil, message: message))
        nextEventID += 1
        if state == .resolved { open.remove(at: j) } else { open[j] = a }
    }
}
