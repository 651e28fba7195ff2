import ArgumentParser
import Foundation
import VigilAlerts

/// `vigil alerts ...`: the alerts engine offline.
struct AlertsCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "alerts",
        abstract: "Alarm rules, NEWS2 and alarm states, offline.",
        discussion: """
            Example:
              vigil alerts replay --input Tests/Fixtures/alerts/deterioration.csv --json
            """,
        subcommands: [AlertsReplayCommand.self]
    )
}

/// `vigil alerts replay --input VITALS.csv [--json]`.
struct AlertsReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a recorded vitals table: NEWS2 per row and the alarm timeline.",
        discussion: """
            VITALS.csv has a header row: `time` (seconds, non-decreasing), then any of
              rr     respiration rate /min        spo2   SpO2 %
              o2     0 air, 1 supplemental oxygen  sbp    systolic BP mmHg
              hr     heart rate /min              acvpu  A, C, V, P or U
              temp   temperature °C
            A missing column or an empty cell means "not measured": the row's NEWS2 is then marked partial (a lower bound), never scored as if the value were normal.

            Rows go through the alerts engine at their `time` with the adult profile (limits from the NEWS2 chart, condition delays, hysteresis, escalation; see docs/ALERTS.md). The same table always gives the same output. Exit status 2 for a bad table, with the line and column named.

            Example:
              vigil alerts replay --input Tests/Fixtures/alerts/deterioration.csv --json

              time,rr,spo2,o2,sbp,hr,acvpu,temp
              0,16,97,0,122,78,A,36.8
              60,22,94,1,104,112,A,38.3
            """
    )

    @Option(help: ArgumentHelp("The vitals table (CSV).", valueName: "VITALS.csv")) var input: String
    @Flag(help: "Print the report as JSON (format vigil-alerts-replay/1).") var json = false
    @Option(help: ArgumentHelp("NEWS2 SpO2 scale: 1, or 2 for a prescribed target of 88-92 % (hypercapnic respiratory failure).",
                               valueName: "1|2")) var spo2Scale = 1
    @Option(help: ArgumentHelp("Raise a stale-data technical alarm when a column of the table has no value for more than this many seconds (off by default: tables of spot observations have gaps by design).",
                               valueName: "SECONDS")) var staleAfter: Double?

    func validate() throws {
        guard spo2Scale == 1 || spo2Scale == 2 else { throw ValidationError("--spo2-scale must be 1 or 2, not \(spo2Scale)") }
        if let s = staleAfter, !(s.isFinite && s > 0 && s < 1e9) {
            throw ValidationError("--stale-after must be a positive number of seconds")
        }
    }

    func run() throws {
        let text: String
        do {
            let data = try Data(contentsOf: URL(fileURLWithPath: input))
            guard let t = String(data: data, encoding: .utf8) else { throw fail("\(input): not UTF-8 text") }
            text = t
        } catch let e as ExitCode { throw e } catch {
            throw fail("\(input): cannot read: \(error.localizedDescription)")
        }
        let report: ReplayReport
        do {
            let table = try VitalsTable.parse(text)
            var profile: PatientProfile = spo2Scale == 2 ? .adultHypercapnic : .adult
            if let s = staleAfter {
                let after = Duration.milliseconds(Int64((s * 1000).rounded()))
                profile.staleData = table.columns.filter { $0 != "time" }.map { StaleDataRule(channel: $0, after: after) }
            }
            report = try AlertsReplay.run(table, profile: profile)
        } catch {
            throw fail("\(input): \(error)")
        }
        print(json ? report.json : report.text, terminator: "")
    }
}
