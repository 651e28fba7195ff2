/// Everything that decides when and how loudly the engine alarms for one patient.
///
/// Start from `adult` (or `adultHypercapnic`) and change what the clinician prescribes; the
/// defaults are a documented starting point, not a clinical decision (docs/ALERTS.md lists each
/// default with its source).
public struct PatientProfile: Sendable, Hashable {
    /// A name for logs and reports (never the patient's identity).
    public var name: String
    /// The NEWS2 SpO2 scale to score with.
    public var spo2Scale: SpO2Scale
    /// Vital-sign limits, evaluated in this order (which orders simultaneous events).
    public var limits: [LimitRule]
    /// The NEWS2 alarm, or `nil` for none.
    public var news2Alarm: NEWS2AlarmRule?
    /// Technical alarm rules, one per `TechnicalCondition` that should alarm.
    public var technical: [TechnicalAlarmRule]
    /// Stale-data watches.
    public var staleData: [StaleDataRule]
    /// Model alarm rules.
    public var models: [ModelAlarmRule]
    /// The longest silence (audio pause) a command may ask for.
    public var maxSilence: Duration
    /// The silence applied when a command names none.
    public var defaultSilence: Duration

    /// A profile.
    public init(name: String, spo2Scale: SpO2Scale = .scale1, limits: [LimitRule], news2Alarm: NEWS2AlarmRule?,
                technical: [TechnicalAlarmRule], staleData: [StaleDataRule] = [], models: [ModelAlarmRule] = [],
                maxSilence: Duration = .seconds(120), defaultSilence: Duration = .seconds(120)) {
        self.name = name
        self.spo2Scale = spo2Scale
        self.limits = limits
        self.news2Alarm = news2Alarm
        self.technical = technical
        self.staleData = staleData
        self.models = models
        self.maxSilence = maxSilence
        self.defaultSilence = defaultSilence
    }

    /// Vigil's escalation default for physiological alarms: unanswered for 2 minutes, one level up.
    public static let defaultEscalation = Escalation(after: .seconds(120), ceiling: .high)

    /// Adult defaults, SpO2 scale 1.
    ///
    /// Thresholds are the edges of the NEWS2 "score 3" band of each parameter (RCP 2017 chart), so a
    /// limit alarm fires exactly when that vital alone puts the patient in RCP's low-medium band
    /// ("red score": the nurse informs the medical team); temperature high uses the chart's top
    /// band (>= 39.1 °C, 2 points). Priorities follow IEC 60601-1-8 Table 1 reasoning: a response
    /// needed promptly -> medium; fever, a delayed harm -> low; the NEWS2 high band (RCP's
    /// emergency response threshold) -> high, the medium band (urgent response) -> medium.
    /// Delays, hysteresis and escalation times are Vigil's choices (see docs/ALERTS.md): delays
    /// only for continuously measured vitals, hysteresis about two display steps.
    public static var adult: PatientProfile {
        let esc = defaultEscalation
        let chart = "RCP NEWS2 (2017) chart"
        return PatientProfile(
            name: "adult",
            spo2Scale: .scale1,
            limits: [
                LimitRule(.respirationRate, .low, threshold: 8, hysteresis: 2, conditionDelay: .seconds(10),
                          priority: .medium, escalation: esc, source: "\(chart): RR <= 8 scores 3"),
                LimitRule(.respirationRate, .high, threshold: 25, hysteresis: 2, conditionDelay: .seconds(10),
                          priority: .medium, escalation: esc, source: "\(chart): RR >= 25 scores 3"),
                LimitRule(.spo2, .low, threshold: 91, hysteresis: 2, conditionDelay: .seconds(10),
                          priority: .medium, escalation: esc, source: "\(chart): SpO2 scale 1 <= 91 % scores 3"),
                LimitRule(.systolicBP, .low, threshold: 90, hysteresis: 5,
                          priority: .medium, escalation: esc, source: "\(chart): systolic BP <= 90 mmHg scores 3"),
                LimitRule(.systolicBP, .high, threshold: 220, hysteresis: 5,
                          priority: .medium, escalation: esc, source: "\(chart): systolic BP >= 220 mmHg scores 3"),
                LimitRule(.heartRate, .low, threshold: 40, hysteresis: 5, conditionDelay: .seconds(10),
                          priority: .medium, escalation: esc, source: "\(chart): pulse <= 40 /min scores 3"),
                LimitRule(.heartRate, .high, threshold: 131, hysteresis: 5, conditionDelay: .seconds(10),
                          priority: .medium, escalation: esc, source: "\(chart): pulse >= 131 /min scores 3"),
                LimitRule(.temperature, .low, threshold: 35.0, hysteresis: 0.2,
                          priority: .medium, escalation: esc, source: "\(chart): temperature <= 35.0 °C scores 3"),
                LimitRule(.temperature, .high, threshold: 39.1, hysteresis: 0.2,
                          priority: .low, escalation: Escalation(after: .seconds(300), ceiling: .medium),
                          source: "\(chart): temperature >= 39.1 °C, the chart's highest temperature band (2 points)"),
            ],
            news2Alarm: NEWS2AlarmRule(minimumBand: .medium, mediumPriority: .medium, highPriority: .high, escalation: esc),
            technical: [
                TechnicalAlarmRule(.leadOff, priority: .medium),
                TechnicalAlarmRule(.sensorFault, priority: .medium),
                TechnicalAlarmRule(.poorSignalQuality, conditionDelay: .seconds(10), priority: .low),
                TechnicalAlarmRule(.staleData, priority: .medium),
                TechnicalAlarmRule(.linkLoss, conditionDelay: .seconds(5), priority: .medium),
            ]
        )
    }

    /// Adult defaults on SpO2 scale 2, for a patient with a prescribed target saturation of
    /// 88-92 % (e.g. hypercapnic respiratory failure), as RCP 2017 prescribes scale 2. The SpO2
    /// low limit moves to the scale-2 "score 3" edge (<= 83 %). High saturation on oxygen (>= 97 %
    /// scores 3 on scale 2) is caught by the NEWS2 alarm (oxygen 2 + SpO2 3 = 5, medium band).
    public static var adultHypercapnic: PatientProfile {
        var p = adult
        p.name = "adult-scale2"
        p.spo2Scale = .scale2
        if let i = p.limits.firstIndex(where: { $0.code == "spo2_low" }) {
            p.limits[i].threshold = 83
            p.limits[i].source = "RCP NEWS2 (2017) chart: SpO2 scale 2 <= 83 % scores 3"
        }
        return p
    }

    /// Checks that the profile is usable: finite thresholds, non-negative hysteresis and delays,
    /// probabilities within 0...1, k >= 1, positive silences and escalation times, no two rules
    /// with the same condition.
    public func validate() throws(AlertsError) {
        func bad(_ s: String) -> AlertsError { AlertsError(.invalidConfiguration, "profile \(name): \(s)") }
        var seen: [AlarmCondition] = []
        func unique(_ c: AlarmCondition) throws(AlertsError) {
            if seen.contains(c) { throw bad("two rules for condition \(c)") }
            seen.append(c)
        }
        func checkEscalation(_ e: Escalation?, _ what: String) throws(AlertsError) {
            if let e, e.after <= .zero { throw bad("\(what): escalation time must be positive") }
        }
        for r in limits {
            guard r.threshold.isFinite, abs(r.threshold) < 1e6 else { throw bad("\(r.code): threshold is not a usable number") }
            guard r.hysteresis.isFinite, r.hysteresis >= 0, r.hysteresis < 1e6 else { throw bad("\(r.code): hysteresis must be >= 0") }
            guard r.conditionDelay >= .zero else { throw bad("\(r.code): condition delay must be >= 0") }
            try checkEscalation(r.escalation, r.code)
            try unique(r.condition)
        }
        for r in models {
            guard r.threshold.isFinite, (0...1).contains(r.threshold) else { throw bad("\(r.code): threshold must be within 0...1") }
            guard r.hysteresis.isFinite, r.hysteresis >= 0 else { throw bad("\(r.code): hysteresis must be >= 0") }
            guard r.consecutiveWindows >= 1 else { throw bad("\(r.code): consecutive windows must be >= 1") }
            guard r.classIndex >= 0 else { throw bad("\(r.code): class index must be >= 0") }
            try checkEscalation(r.escalation, r.code)
            try unique(r.condition)
        }
        var kinds: [TechnicalCondition] = []
        for r in technical {
            if kinds.contains(r.condition) { throw bad("two rules for technical condition \(r.condition.rawValue)") }
            kinds.append(r.condition)
            guard r.conditionDelay >= .zero else { throw bad("\(r.condition.rawValue): condition delay must be >= 0") }
            try checkEscalation(r.escalation, r.condition.rawValue)
        }
        var channels: [String] = []
        for s in staleData {
            guard s.after > .zero else { throw bad("stale data on \(s.channel): time must be positive") }
            if channels.contains(s.channel) { throw bad("two stale-data rules for channel \(s.channel)") }
            channels.append(s.channel)
        }
        if !staleData.isEmpty, !kinds.contains(.staleData) {
            throw bad("stale-data watches need a technical rule for stale_data")
        }
        try checkEscalation(news2Alarm?.escalation, "news2")
        guard maxSilence > .zero else { throw bad("max silence must be positive") }
        guard defaultSilence > .zero, defaultSilence <= maxSilence else { throw bad("default silence must be within (0, max silence]") }
    }
}
