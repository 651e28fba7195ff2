/// Replays a recorded vitals table through a fresh `AlarmEngine`: the engine behind
/// `vigil alerts replay`. Each row is recorded at its `time`; the result is the NEWS2 assessment
/// of every row and the alarm timeline. The same table and profile always give the same report,
/// byte for byte (`ReplayReport.json`).
public enum AlertsReplay {
    /// Replays `table` with `profile`. An engine refusal is reported against the row's line.
    public static func run(_ table: VitalsTable, profile: PatientProfile) throws(VitalsTableError) -> ReplayReport {
        var engine: AlarmEngine
        do { engine = try AlarmEngine(profile: profile) } catch {
            throw VitalsTableError(.refused, line: 1, "profile: \(error.detail)")
        }
        var rows: [ReplayReport.Row] = []
        var events: [AlarmEvent] = []
        for row in table.rows {
            let outcome: AlarmEngine.VitalsOutcome
            do { outcome = try engine.record(row.vitals, at: row.time) } catch {
                throw VitalsTableError(.refused, line: row.line, "the alerts engine refused the row: \(error.detail)")
            }
            rows.append(ReplayReport.Row(line: row.line, time: row.time, vitals: row.vitals, news2: outcome.news2,
                                         eventIDs: outcome.events.map(\.id)))
            events += outcome.events
        }
        return ReplayReport(profile: profile, columns: table.columns, rows: rows, events: events, openAlarms: engine.openAlarms)
    }

    /// Parses CSV text and replays it.
    public static func run(csv: String, profile: PatientProfile) throws(VitalsTableError) -> ReplayReport {
        try run(VitalsTable.parse(csv), profile: profile)
    }
}

/// The result of a replay.
public struct ReplayReport: Sendable {
    /// One replayed row.
    public struct Row: Sendable, Hashable {
        /// Its line in the table.
        public var line: Int
        /// Its time.
        public var time: Timestamp
        /// What was measured.
        public var vitals: VitalSigns
        /// The NEWS2 assessment of this row alone.
        public var news2: NEWS2Score
        /// Ids of the events emitted while processing this row (timers that ran out since the
        /// previous row, then this row's own).
        public var eventIDs: [UInt64]
    }

    /// The profile used.
    public var profile: PatientProfile
    /// The table's columns.
    public var columns: [String]
    /// Every row, in order.
    public var rows: [Row]
    /// The alarm timeline.
    public var events: [AlarmEvent]
    /// Alarms still open after the last row.
    public var openAlarms: [AlarmSnapshot]

    /// The report as JSON (format `vigil-alerts-replay/1`, described in docs/ALERTS.md), pretty
    /// printed with two-space indentation and a final newline.
    public var json: String { jsonValue.render(indent: 2) + "\n" }

    var jsonValue: JSONText {
        .object([
            ("format", .string("vigil-alerts-replay/1")),
            ("profile", .string(profile.name)),
            ("spo2_scale", .int(Int64(profile.spo2Scale.rawValue))),
            ("columns", .array(columns.map { .string($0) })),
            ("rows", .array(rows.map(\.jsonValue))),
            ("events", .array(events.map(\.jsonValue))),
            ("open_alarms", .array(openAlarms.map(\.jsonValue))),
        ])
    }

    /// A plain-text timeline for people.
    public var text: String {
        var out = "profile \(profile.name), SpO2 scale \(profile.spo2Scale.rawValue), \(rows.count) rows, \(events.count) alarm events\n\n"
        out += "line  time s    NEWS2  band         scores\n"
        for r in rows {
            let score = r.news2.aggregate.map(String.init) ?? "-"
            let shown = score + (r.news2.isComplete ? "" : "*")
            let scores = r.news2.parameters.map { "\($0.parameter.code) \($0.score.map(String.init) ?? "-")" }.joined(separator: "  ")
            out += pad("\(r.line)", 6) + pad(r.time.description, 10) + pad(shown, 7) + pad(r.news2.riskBand?.name ?? "-", 13) + scores + "\n"
        }
        if rows.contains(where: { !$0.news2.isComplete }) { out += "* partial: some parameters not measured; a lower bound\n" }
        out += "\nevents\n"
        if events.isEmpty { out += "  none\n" }
        for e in events {
            let from = e.previousState?.rawValue ?? "-"
            out += "  #\(e.id)  t=\(e.time) s  alarm \(e.alarmID).\(e.sequence)  \(e.condition)  \(e.priority.name)  \(from) -> \(e.state.rawValue)  \(e.message)\n"
        }
        if !openAlarms.isEmpty {
            out += "\nopen at the end\n"
            for a in openAlarms { out += "  alarm \(a.alarmID)  \(a.condition)  \(a.state.rawValue)  \(a.priority.name)\n" }
        }
        return out
    }

    private func pad(_ s: String, _ n: Int) -> String { s.count >= n ? s + " " : s + String(repeating: " ", count: n - s.count) }
}

extension ReplayReport.Row {
    var jsonValue: JSONText {
        var measured: [(String, JSONText)] = []
        for p in NEWS2Parameter.allCases {
            switch p {
            case .airOrOxygen: if let o = vitals.supplementalOxygen { measured.append((p.code, .int(o ? 1 : 0))) }
            case .consciousness: if let c = vitals.consciousness { measured.append((p.code, .string(c.rawValue))) }
            default:
                let vital = Vital(rawValue: p.code)!
                if let x = vitals[vital] { measured.append((p.code, .numeric(x))) }
            }
        }
        var undetermined: [(String, JSONText)] = []
        for p in news2.parameters { if case .undetermined(let why) = p.status { undetermined.append((p.parameter.code, .string(why))) } }
        return .object([
            ("line", .int(Int64(line))),
            ("time", .time(time)),
            ("vitals", .object(measured)),
            ("news2", news2.aggregate.map { .int(Int64($0)) } ?? .null),
            ("risk_band", .optional(news2.riskBand?.name)),
            ("complete", .bool(news2.isComplete)),
            ("unscored", .array(news2.unscored.map { .string($0.code) })),
            ("undetermined", .object(undetermined)),
            ("scores", .object(news2.parameters.map { ($0.parameter.code, $0.score.map { .int(Int64($0)) } ?? .null) })),
            ("events", .array(eventIDs.map { .int(Int64($0)) })),
        ])
    }
}

extension AlarmEvent {
    /// The event as one line of JSON (the same object as in the replay report), for transports
    /// such as the MQTT `alerts` topic.
    public var jsonText: String { jsonValue.render(indent: nil) }

    var jsonValue: JSONText {
        .object([
            ("id", .int(Int64(id))),
            ("alarm_id", .int(Int64(alarmID))),
            ("sequence", .int(Int64(sequence))),
            ("time", .time(time)),
            ("kind", .string(condition.kind.rawValue)),
            ("condition", .string(condition.code)),
            ("source", .string(condition.source)),
            ("priority", .string(priority.name)),
            ("from", .optional(previousState?.rawValue)),
            ("state", .string(state.rawValue)),
            ("reason", .string(reason.rawValue)),
            ("value", .numeric(value)),
            ("threshold", .numeric(threshold)),
            ("unit", .optional(unit)),
            ("model", model.map(\.jsonValue) ?? .null),
            ("silenced_until", silencedUntil.map(JSONText.time) ?? .null),
            ("message", .string(message)),
        ])
    }
}

extension ModelIdentity {
    var jsonValue: JSONText {
        .object([("id", .string(id)), ("version", .string(version)), ("digest", .optional(digest))])
    }
}

extension AlarmSnapshot {
    var jsonValue: JSONText {
        .object([
            ("alarm_id", .int(Int64(alarmID))),
            ("kind", .string(condition.kind.rawValue)),
            ("condition", .string(condition.code)),
            ("source", .string(condition.source)),
            ("state", .string(state.rawValue)),
            ("priority", .string(priority.name)),
            ("activated_at", .time(activatedAt)),
            ("value", .numeric(lastValue)),
            ("threshold", .numeric(threshold)),
            ("silenced_until", silencedUntil.map(JSONText.time) ?? .null),
            ("model", model.map(\.jsonValue) ?? .null),
        ])
    }
}
