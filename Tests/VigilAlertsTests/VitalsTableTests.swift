import Testing
@testable import VigilAlerts

/// Parsing the replay's CSV: what is accepted, and errors that name the line and column.
@Suite struct VitalsTableTests {
    func refusal(_ csv: String, sourceLocation: SourceLocation = #_sourceLocation) -> VitalsTableError? {
        do {
            _ = try VitalsTable.parse(csv)
            Issue.record("accepted: \(csv)", sourceLocation: sourceLocation)
            return nil
        } catch {
            return error
        }
    }

    @Test func fullTable() throws {
        let t = try VitalsTable.parse("time,rr,spo2,o2,sbp,hr,acvpu,temp\n0,16,97,0,124,78,A,36.9\n12.5,18,96,1,,84,c,\n")
        #expect(t.rows.count == 2)
        #expect(t.rows[0].line == 2 && t.rows[0].time == at(0))
        #expect(t.rows[0].vitals == VitalSigns(respirationRate: 16, spo2: 97, supplementalOxygen: false, systolicBP: 124,
                                               heartRate: 78, consciousness: .alert, temperature: 36.9))
        #expect(t.rows[1].time == Timestamp(milliseconds: 12_500))
        #expect(t.rows[1].vitals == VitalSigns(respirationRate: 18, spo2: 96, supplementalOxygen: true, heartRate: 84, consciousness: .newConfusion))
    }

    /// Any column order, any subset, case-insensitive names, spaces, quotes, CRLF, a BOM, blank lines.
    @Test func lenientWhereItIsSafe() throws {
        let csv = "\u{FEFF}HR , Time,\"spo2\"\r\n\r\n 80 , 0 ,\"95\"\r\n\n,5,\r\n"
        let t = try VitalsTable.parse(csv)
        #expect(t.columns == ["time", "spo2", "hr"])
        #expect(t.rows.map(\.line) == [3, 5])
        #expect(t.rows[0].vitals == VitalSigns(spo2: 95, heartRate: 80))
        #expect(t.rows[1].vitals == VitalSigns())
    }

    @Test func headerErrors() {
        #expect(refusal("")?.code == .missingHeader)
        #expect(refusal("\n  \n")?.code == .missingHeader)
        let unknown = refusal("time,hr,bpm\n0,80,80\n")
        #expect(unknown?.code == .unknownColumn)
        #expect(unknown?.description == "line 1, column 3 (bpm): unknown column; expected time, then any of rr, spo2, o2, sbp, hr, acvpu, temp")
        #expect(refusal("time,hr,HR\n")?.code == .duplicateColumn)
        let noTime = refusal("hr,spo2\n80,97\n")
        #expect(noTime?.code == .missingTimeColumn && noTime?.line == 1)
    }

    @Test func cellErrorsNameLineAndColumn() {
        let cases: [(String, VitalsTableError.Code, String)] = [
            ("time,spo2\n0,97\n5,104\n", .outOfRange, "line 3, column 2 (spo2): 104 is outside 0...100 %"),
            ("time,temp\n0,98.6\n", .outOfRange, "line 2, column 2 (temp): 98.6 is outside 20...45 °C"),
            ("time,hr\n0,8O\n", .invalidNumber, "line 2, column 2 (hr): `8O` is not a number"),
            ("time,hr\n0,1e2\n", .invalidNumber, "line 2, column 2 (hr): `1e2` is not a number"),
            ("time,hr\n0,nan\n", .invalidNumber, "line 2, column 2 (hr): `nan` is not a number"),
            ("time,hr\n0,-3\n", .outOfRange, "line 2, column 2 (hr): -3 is outside 0...350 /min"),
            ("time,o2\n0,2\n", .invalidValue, "line 2, column 2 (o2): `2` is not 0 (air) or 1 (supplemental oxygen)"),
            ("time,acvpu\n0,X\n", .invalidValue, "line 2, column 2 (acvpu): `X` is not one of A, C, V, P, U"),
            ("time,hr\n,80\n", .invalidValue, "line 2, column 1 (time): time is empty; every row needs one"),
            ("time,hr\nsoon,80\n", .invalidNumber, "line 2, column 1 (time): `soon` is not a number of seconds"),
            ("time,hr\n10,80\n5,80\n", .timeWentBackwards,
             "line 3, column 1 (time): time 5 s is earlier than 10 s on line 2; rows must be in time order"),
            ("time,hr\n0,80,1\n", .wrongFieldCount, "line 2: 3 fields, but the header has 2 (time,hr)"),
            ("time,hr\n0,\"80\n", .malformedLine, "line 2: unterminated quote in field 2"),
        ]
        for (csv, code, text) in cases {
            let e = refusal(csv)
            #expect(e?.code == code, "\(csv)")
            #expect(e?.description == text)
        }
    }

    /// Equal times are allowed (two observation sets at one moment).
    @Test func equalTimes() throws {
        #expect(try VitalsTable.parse("time,hr\n0,80\n0,82\n").rows.count == 2)
    }

    /// Arbitrary bytes never crash the parser.
    @Test func garbageDoesNotCrash() {
        var state: UInt64 = 42
        let alphabet = Array("time,rr,spo2,hr\"\n\r 0123456789.-+AaCcVvPpUu\u{FEFF}é")
        for _ in 0..<2000 {
            var s = "time,hr,spo2,acvpu\n"
            for _ in 0..<40 {
                state = state &* 6364136223846793005 &+ 1442695040888963407
                s.append(alphabet[Int(state >> 33) % alphabet.count])
            }
            _ = try? AlertsReplay.run(csv: s, profile: .adult)
        }
    }
}
