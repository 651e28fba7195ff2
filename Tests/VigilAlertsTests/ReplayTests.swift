import Foundation
import Testing
@testable import VigilAlerts

/// `vigil alerts replay`: the fixture table, determinism, and the JSON contract.
@Suite struct ReplayTests {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .appendingPathComponent("Fixtures/alerts")

    static func fixture(_ name: String) throws -> String {
        try String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8)
    }

    /// The same table replayed twice gives byte-identical JSON, equal to the reviewed expected file
    /// (which was produced by another process, so dictionary ordering or any other per-process
    /// state would show up as a difference).
    @Test func replayIsReproducible() throws {
        let csv = try Self.fixture("deterioration.csv")
        let first = try AlertsReplay.run(csv: csv, profile: .adult).json
        let second = try AlertsReplay.run(csv: csv, profile: .adult).json
        #expect(first == second)
        let expectedURL = Self.fixtures.appendingPathComponent("deterioration.expected.json")
        if ProcessInfo.processInfo.environment["VIGIL_UPDATE_FIXTURES"] == "1" {
            try first.write(to: expectedURL, atomically: true, encoding: .utf8)
        }
        let expected = try String(contentsOf: expectedURL, encoding: .utf8)
        #expect(first == expected, "replay differs from deterioration.expected.json; diff them")
    }

    /// The JSON contract: one entry per row with its news2 score and risk band, and the events,
    /// with gapless ids; every row's event ids point into the event list in order.
    @Test func jsonShape() throws {
        let csv = try Self.fixture("deterioration.csv")
        let report = try AlertsReplay.run(csv: csv, profile: .adult)
        let root = try #require(try JSONSerialization.jsonObject(with: Data(report.json.utf8)) as? [String: Any])
        #expect(root["format"] as? String == "vigil-alerts-replay/1")
        let rows = try #require(root["rows"] as? [[String: Any]])
        let dataLines = csv.split(separator: "\n").count - 1
        #expect(rows.count == dataLines)
        for row in rows {
            for key in ["line", "time", "vitals", "news2", "risk_band", "complete", "unscored", "undetermined", "scores", "events"] {
                #expect(row.keys.contains(key), "row lacks \(key)")
            }
        }
        let events = try #require(root["events"] as? [[String: Any]])
        #expect(!events.isEmpty)
        #expect(events.map { $0["id"] as? Int } == Array(1...events.count))
        let fromRows = rows.flatMap { ($0["events"] as? [Int]) ?? [] }
        #expect(fromRows == Array(1...events.count))
        for e in events {
            for key in ["id", "alarm_id", "sequence", "time", "kind", "condition", "source", "priority", "from", "state",
                        "reason", "value", "threshold", "unit", "model", "silenced_until", "message"] {
                #expect(e.keys.contains(key), "event lacks \(key)")
            }
        }
        // Times never go backwards along the timeline.
        let times = events.map { ($0["time"] as? NSNumber)?.doubleValue ?? -1 }
        #expect(times == times.sorted())
    }

    /// Rows scored by hand from the RCP chart.
    @Test func rowsScoredByHand() throws {
        let report = try AlertsReplay.run(csv: try Self.fixture("deterioration.csv"), profile: .adult)
        func row(_ seconds: Double) throws -> ReplayReport.Row { try #require(report.rows.first { $0.time == at(seconds) }) }

        let r0 = try row(0) // all normal
        #expect(r0.news2.aggregate == 0 && r0.news2.isComplete && r0.news2.riskBand == .low)

        let r30 = try row(30) // rr 18, spo2 96, air, hr 84; sbp/acvpu/temp not measured
        #expect(r30.news2.aggregate == 0 && !r30.news2.isComplete)
        #expect(r30.news2.unscored == [.systolicBP, .consciousness, .temperature])

        let r90 = try row(90) // rr 22 (2), spo2 94 (1), air, sbp 118, hr 104 (1), A, 37.8 = 4
        #expect(r90.news2.aggregate == 4 && r90.news2.isComplete && r90.news2.riskBand == .low)

        let r120 = try row(120) // rr 23 (2), spo2 93 (2), air, hr 112 (2) = 6, partial
        #expect(r120.news2.aggregate == 6 && r120.news2.riskBand == .medium && !r120.news2.isComplete)

        // rr 28 (3), spo2 89 (3), oxygen (2), sbp 88 (3), hr 135 (3), V (3), 38.6 (1) = 18
        let r150 = try row(150)
        #expect(r150.news2.parameters.map(\.score) == [3, 3, 2, 3, 3, 3, 1])
        #expect(r150.news2.aggregate == 18 && r150.news2.riskBand == .high && r150.news2.isComplete)

        // 330 s: rr 20, spo2 95 (1), oxygen (2), sbp 112, hr 104 (1), A, 37.9 = 4, complete
        #expect(try row(330).news2.aggregate == 4 && (try row(330)).news2.riskBand == .low)

        // rr 22 (2), spo2 94 (1), oxygen (2), sbp 108 (1), hr 118 (2), C (3), 38.2 (1) = 12
        #expect(try row(300).news2.aggregate == 12)
        // rr 16, spo2 97, air, sbp 122, hr 84, A, 37.2 = 0
        #expect(try row(420).news2.aggregate == 0)
    }

    /// The alarm timeline of the fixture, read against the adult profile by hand.
    @Test func timelineOfTheFixture() throws {
        let report = try AlertsReplay.run(csv: try Self.fixture("deterioration.csv"), profile: .adult)
        let summary = report.events.map { "\(line($0)) \($0.condition.code) \($0.priority.name)" }
        #expect(summary == [
            // NEWS2 6 on a partial set at 120 s: medium band, medium priority.
            "1.1 -->active condition_met @120 news2 medium",
            // 130 s: rr 24 (2) + spo2 92 (2) + oxygen (2) + hr 124 (2) = 8, still partial: high band.
            "1.2 active->active condition_worsened @130 news2 high",
            // rr >= 25 and spo2 <= 91 from 135 s: 10 s delay.
            "2.1 -->active condition_met @145 rr_high medium",
            "3.1 -->active condition_met @145 spo2_low medium",
            // sbp 88 at 150 s (no delay); hr >= 131 from 140 s. Same time: profile rule order.
            "4.1 -->active condition_met @150 sbp_low medium",
            "5.1 -->active condition_met @150 hr_high medium",
            // spo2 92-93 at 155-160 s and hr 126-130 at 160-270 s sit in their hysteresis bands.
            // sbp 99 at 200 s is above 95: cleared; medium priority does not latch.
            "4.2 active->resolved condition_cleared @200 sbp_low medium",
            // Escalation 120 s after activation, at exact times between rows.
            "2.2 active->active escalated @265 rr_high high",
            "3.2 active->active escalated @265 spo2_low high",
            "5.2 active->active escalated @270 hr_high high",
            // 300 s: rr 22 < 23, spo2 94 > 93, hr 118 < 126 clear; now high priority, they latch.
            "2.3 active->latched condition_cleared @300 rr_high high",
            "3.3 active->latched condition_cleared @300 spo2_low high",
            "5.3 active->latched condition_cleared @300 hr_high high",
            // 330 s: a complete NEWS2 of 4 (low) clears the NEWS2 alarm; high priority: latched.
            "1.3 active->latched condition_cleared @330 news2 high",
        ])
        #expect(report.openAlarms.map(\.alarmID) == [1, 2, 3, 5])
        #expect(report.openAlarms.allSatisfy { $0.state == .latched })
    }
    @Test func textReport() throws {
        let report = try AlertsReplay.run(csv: try Self.fixture("deterioration.csv"), profile: .adult)
        #expect(report.text.contains("NEWS2"))
        #expect(report.text.contains("* partial"))
        #expect(report.text.contains("hr_high@hr"))
    }

    /// Missing columns and empty cells are "not measured"; the row still gets its (partial) score.
    @Test func missingColumnsAndEmptyCells() throws {
        let r = try AlertsReplay.run(csv: "time,hr\n0,80\n10,\n", profile: .adult)
        #expect(r.rows.count == 2)
        #expect(r.rows[0].news2.aggregate == 0 && !r.rows[0].news2.isComplete)
        #expect(r.rows[1].news2.aggregate == nil && r.rows[1].news2.riskBand == nil)
        #expect(r.json.contains("\"news2\": null"))
        #expect(r.json.contains("\"risk_band\": null"))
    }

    /// Scale 2 and the stale-data option reach the engine through the profile.
    @Test func scale2Replay() throws {
        let csv = "time,spo2,o2\n0,97,1\n"
        #expect(try AlertsReplay.run(csv: csv, profile: .adult).rows[0].news2.aggregate == 2)
        #expect(try AlertsReplay.run(csv: csv, profile: .adultHypercapnic).rows[0].news2.aggregate == 5)
        #expect(try AlertsReplay.run(csv: csv, profile: .adultHypercapnic).json.contains("\"spo2_scale\": 2"))
    }
}
