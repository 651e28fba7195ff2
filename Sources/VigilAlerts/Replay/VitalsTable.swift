/// A recorded vitals table, the input of `vigil alerts replay`.
///
/// CSV with a header row. `time` (seconds on the session timeline, required, non-decreasing), then
/// any of `rr` (/min), `spo2` (%), `o2` (0 air, 1 supplemental oxygen), `sbp` (mmHg), `hr` (/min),
/// `acvpu` (A, C, V, P or U), `temp` (°C), in any order. A missing column or an empty cell means
/// "not measured". Numbers are plain decimals (`36.6`, `-1`, `.5`); header names and ACVPU letters
/// are case-insensitive; fields may be double-quoted; blank lines are skipped; CRLF is fine.
/// Values outside a physiologically possible range are refused (it is nearly always a unit or
/// column mix-up, such as a temperature in °F), each with the line and column named.
public struct VitalsTable: Sendable, Hashable {
    /// One data row.
    public struct Row: Sendable, Hashable {
        /// 1-based line in the file (the header is line 1).
        public var line: Int
        /// The row's time.
        public var time: Timestamp
        /// The measured values.
        public var vitals: VitalSigns
    }

    /// The recognised columns in header order, `time` first.
    public var columns: [String]
    /// The data rows in file order.
    public var rows: [Row]

    /// The column names the table understands, with the unit and the accepted range of each.
    public static let knownColumns: [(name: String, meaning: String)] = [
        ("time", "seconds"), ("rr", "respiration rate /min, 0...150"), ("spo2", "SpO2 %, 0...100"),
        ("o2", "0 = air, 1 = supplemental oxygen"), ("sbp", "systolic BP mmHg, 0...400"),
        ("hr", "heart rate /min, 0...350"), ("acvpu", "A, C, V, P or U"), ("temp", "temperature °C, 20...45"),
    ]

    /// Accepted ranges: what a living patient's monitor can report, wide on purpose.
    static let ranges: [Vital: ClosedRange<Double>] = [
        .respirationRate: 0...150, .spo2: 0...100, .systolicBP: 0...400, .heartRate: 0...350, .temperature: 20...45,
    ]

    /// Parses CSV text.
    public static func parse(_ text: String) throws(VitalsTableError) -> VitalsTable {
        // "\r\n" is one Character in Swift, so split on it as well as on "\n".
        var lines = text.split(omittingEmptySubsequences: false, whereSeparator: { $0 == "\n" || $0 == "\r\n" })
            .map { line -> Substring in line.hasSuffix("\r") ? line.dropLast() : line }
        if let first = lines.first, first.hasPrefix("\u{FEFF}") { lines[0] = first.dropFirst() }

        guard let headerIndex = lines.firstIndex(where: { !isBlank($0) }) else {
            throw VitalsTableError(.missingHeader, line: 1, "the file is empty; expected a header such as `time,rr,spo2,o2,sbp,hr,acvpu,temp`")
        }
        let headerLine = headerIndex + 1
        let header = try fields(lines[headerIndex], line: headerLine).map { $0.lowercased() }
        let known = knownColumns.map(\.name)
        for (k, name) in header.enumerated() {
            guard known.contains(name) else {
                throw VitalsTableError(.unknownColumn, line: headerLine, column: k + 1, name: name,
                                       "unknown column; expected time, then any of rr, spo2, o2, sbp, hr, acvpu, temp")
            }
            if header[..<k].contains(name) {
                throw VitalsTableError(.duplicateColumn, line: headerLine, column: k + 1, name: name, "column appears twice")
            }
        }
        guard let timeColumn = header.firstIndex(of: "time") else {
            throw VitalsTableError(.missingTimeColumn, line: headerLine, "the header has no `time` column (seconds)")
        }

        var rows: [Row] = []
        for index in (headerIndex + 1)..<lines.count where !isBlank(lines[index]) {
            let line = index + 1
            let cells = try fields(lines[index], line: line)
            guard cells.count == header.count else {
                throw VitalsTableError(.wrongFieldCount, line: line,
                                       "\(cells.count) fields, but the header has \(header.count) (\(header.joined(separator: ",")))")
            }
            func fail(_ code: VitalsTableError.Code, _ k: Int, _ detail: String) -> VitalsTableError {
                VitalsTableError(code, line: line, column: k + 1, name: header[k], detail)
            }
            let timeText = cells[timeColumn]
            guard !timeText.isEmpty else { throw fail(.invalidValue, timeColumn, "time is empty; every row needs one") }
            guard let seconds = decimal(timeText), abs(seconds) < 1e12 else {
                throw fail(.invalidNumber, timeColumn, "`\(timeText)` is not a number of seconds")
            }
            let time = Timestamp(milliseconds: Int64((seconds * 1000).rounded()))
            if let last = rows.last, time < last.time {
                throw fail(.timeWentBackwards, timeColumn, "time \(time) s is earlier than \(last.time) s on line \(last.line); rows must be in time order")
            }
            var v = VitalSigns()
            for (k, name) in header.enumerated() where k != timeColumn {
                let cell = cells[k]
                if cell.isEmpty { continue }
                switch name {
                case "o2":
                    switch cell {
                    case "0": v.supplementalOxygen = false
                    case "1": v.supplementalOxygen = true
                    default: throw fail(.invalidValue, k, "`\(cell)` is not 0 (air) or 1 (supplemental oxygen)")
                    }
                case "acvpu":
                    guard let level = Consciousness(rawValue: cell.uppercased()) else {
                        throw fail(.invalidValue, k, "`\(cell)` is not one of A, C, V, P, U")
                    }
                    v.consciousness = level
                default:
                    let vital = Vital(rawValue: name)!
                    guard let x = decimal(cell) else { throw fail(.invalidNumber, k, "`\(cell)` is not a number") }
                    let range = ranges[vital]!
                    guard range.contains(x) else {
                        throw fail(.outOfRange, k, "\(cell) is outside \(formatNumber(range.lowerBound))...\(formatNumber(range.upperBound)) \(vital.unit)")
                    }
                    v[vital] = x
                }
            }
            rows.append(Row(line: line, time: time, vitals: v))
        }
        return VitalsTable(columns: header.sorted { known.firstIndex(of: $0)! < known.firstIndex(of: $1)! }, rows: rows)
    }

    private static func isBlank(_ s: Substring) -> Bool { s.allSatisfy { $0 == " " || $0 == "\t" } }

    /// Splits one CSV line; double-quoted fields may hold commas and `""` for a quote. Fields are
    /// trimmed of spaces and tabs outside quotes.
    private static func fields(_ line: Substring, line number: Int) throws(VitalsTableError) -> [String] {
        var out: [String] = []
        var field = ""
        var quoted = false, wasQuoted = false
        var chars = line.makeIterator()
        while let c = chars.next() {
            if quoted {
                if c == "\"" {
                    if let n = chars.next() {
                        if n == "\"" { field.append("\"") } else {
                            quoted = false
                            if n == "," { out.append(field); field = ""; wasQuoted = false } else if n != " " && n != "\t" {
                                throw VitalsTableError(.malformedLine, line: number, "text after a closing quote in field \(out.count + 1)")
                            }
                        }
                    } else { quoted = false }
                } else { field.append(c) }
            } else if c == "," {
                out.append(wasQuoted ? field : trim(field))
                field = ""
                wasQuoted = false
            } else if c == "\"", trim(field).isEmpty {
                field = ""
                quoted = true
                wasQuoted = true
            } else {
                field.append(c)
            }
        }
        if quoted { throw VitalsTableError(.malformedLine, line: number, "unterminated quote in field \(out.count + 1)") }
        out.append(wasQuoted ? field : trim(field))
        return out
    }

    private static func trim(_ s: String) -> String {
        var t = Substring(s)
        while let f = t.first, f == " " || f == "\t" { t.removeFirst() }
        while let l = t.last, l == " " || l == "\t" { t.removeLast() }
        return String(t)
    }

    /// A plain decimal (`-12`, `36.6`, `.5`, `5.`), no exponent, no `inf`/`nan`/hex.
    static func decimal(_ s: String) -> Double? {
        var digits = 0, dots = 0
        for (i, c) in s.enumerated() {
            if c.isASCII, c.isNumber { digits += 1 } else if c == "." { dots += 1 } else if (c == "-" || c == "+") && i == 0 {} else { return nil }
        }
        guard digits > 0, dots <= 1 else { return nil }
        return Double(s)
    }
}

/// A vitals table that cannot be used, naming the line and (when it is about one cell) the column.
public struct VitalsTableError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What is wrong.
    public enum Code: String, Sendable, Hashable {
        /// No header row (empty file).
        case missingHeader = "missing_header"
        /// A header name that is not a known column.
        case unknownColumn = "unknown_column"
        /// A header name given twice.
        case duplicateColumn = "duplicate_column"
        /// No `time` column.
        case missingTimeColumn = "missing_time_column"
        /// Broken quoting.
        case malformedLine = "malformed_line"
        /// A row with more or fewer fields than the header.
        case wrongFieldCount = "wrong_field_count"
        /// A cell that should be a number and is not.
        case invalidNumber = "invalid_number"
        /// A cell outside its set of values (`o2`, `acvpu`), or an empty `time`.
        case invalidValue = "invalid_value"
        /// A number outside the column's accepted range.
        case outOfRange = "out_of_range"
        /// A row earlier than the row before it.
        case timeWentBackwards = "time_went_backwards"
        /// The alerts engine refused the row (see the detail).
        case refused = "refused"
    }

    /// What is wrong.
    public var code: Code
    /// 1-based line.
    public var line: Int
    /// 1-based column, when the error is about one cell or header name.
    public var column: Int?
    /// The column's header name, when known.
    public var columnName: String?
    /// What is wrong and what was expected.
    public var detail: String

    /// An error.
    public init(_ code: Code, line: Int, column: Int? = nil, name: String? = nil, _ detail: String) {
        self.code = code
        self.line = line
        self.column = column
        self.columnName = name
        self.detail = detail
    }

    /// `line 7, column 3 (spo2): 104 is outside 0...100 %`.
    public var description: String {
        var s = "line \(line)"
        if let column { s += ", column \(column)" + (columnName.map { " (\($0))" } ?? "") }
        return s + ": " + detail
    }
}
