import Foundation

/// Reads waveforms from a delimited text table: one sample per row, one signal per column.
///
/// The first row is a header of column names unless every one of its cells is a number (then the
/// columns are named `1`, `2`, …). The sample rate comes from `Options.sampleRate`, or from a time
/// column (`Options.timeColumn`, or a column named `time`): rate = (rows − 1) / (last − first time),
/// with times strictly increasing. An empty cell becomes `Float.nan` (not measured). Commas
/// separate cells; a file whose header has tabs and no commas is read as tab-separated.
public enum CSVReader {
    /// Reads `path`; see the type's description for the rules.
    public static func read(_ path: String, options: RecordingReader.Options = .init()) throws(SensorsError) -> Recording {
        let bytes = try RecordingReader.bytes(path)
        guard let text = String(bytes: bytes, encoding: .utf8) else {
            throw SensorsError(.malformed, "\(path): not UTF-8 text")
        }
        var rows: [(line: Int, cells: [Substring])] = []
        var separator: Character = ","
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = raw
            if line.last == "\r" { line = line.dropLast() }
            if line.allSatisfy({ $0 == " " || $0 == "\t" }) { continue }
            if rows.isEmpty, !line.contains(","), line.contains("\t") { separator = "\t" }
            rows.append((i + 1, line.split(separator: separator, omittingEmptySubsequences: false).map(trim)))
        }
        guard let first = rows.first else { throw SensorsError(.malformed, "\(path): no rows") }
        let hasHeader = !first.cells.allSatisfy { Double($0) != nil }
        let names: [String] = hasHeader ? first.cells.map(String.init) : (1...first.cells.count).map(String.init)
        let body = hasHeader ? rows.dropFirst() : rows[...]
        guard !body.isEmpty else { throw SensorsError(.malformed, "\(path): a header but no data rows") }
        for r in body where r.cells.count != names.count {
            throw SensorsError(.malformed, "\(path):\(r.line): \(r.cells.count) cells, the header has \(names.count)")
        }

        func index(of name: String) -> Int? {
            names.firstIndex(of: name) ?? names.firstIndex { $0.lowercased() == name.lowercased() }
                ?? Int(name).flatMap { ($0 >= 1 && $0 <= names.count) ? $0 - 1 : nil }
        }
        func values(_ col: Int, allowEmpty: Bool) throws(SensorsError) -> [Double] {
            var out: [Double] = []
            out.reserveCapacity(body.count)
            for r in body {
                let cell = r.cells[col]
                if cell.isEmpty, allowEmpty { out.append(.nan); continue }
                guard let v = Double(cell), v.isFinite else {
                    throw SensorsError(.malformed, "\(path):\(r.line): column '\(names[col])' holds '\(cell)', not a number")
                }
                out.append(v)
            }
            return out
        }

        var timeIndex: Int? = nil
        if let t = options.timeColumn {
            guard let i = index(of: t) else { throw SensorsError(.invalidValue, "\(path): no time column '\(t)' (columns: \(names.joined(separator: ", ")))") }
            timeIndex = i
        } else if options.sampleRate == nil {
            timeIndex = names.firstIndex { $0.lowercased() == "time" }
        }
        var rate: Double
        if let given = options.sampleRate {
            guard given > 0, given.isFinite else { throw SensorsError(.invalidValue, "\(path): sample rate \(given) is not positive") }
            rate = given
            if let ti = timeIndex, options.timeColumn != nil {
                // Both given: the time column must agree with the stated rate to 1 %.
                let t = try values(ti, allowEmpty: false)
                if t.count > 1 {
                    let measured = Double(t.count - 1) / ((t.last! - t.first!) * options.timeScale)
                    if abs(measured - given) > 0.01 * given {
                        throw SensorsError(.invalidValue, "\(path): the time column '\(names[ti])' gives \(measured) Hz but \(given) Hz was given")
                    }
                }
            }
        } else {
            guard let ti = timeIndex else {
                throw SensorsError(.invalidValue, "\(path): no sample rate: give one (--rate HZ) or a time column (a column named 'time', or --time-column)")
            }
            let t = try values(ti, allowEmpty: false)
            let rowsArray = Array(body)
            for k in 1..<max(t.count, 1) where !(t[k] > t[k - 1]) {
                throw SensorsError(.malformed, "\(path):\(rowsArray[k].line): time \(t[k]) does not increase (previous \(t[k - 1]))")
            }
            guard t.count > 1 else { throw SensorsError(.malformed, "\(path): one row cannot give a sample rate") }
            rate = Double(t.count - 1) / ((t.last! - t.first!) * options.timeScale)
            guard rate.isFinite, rate > 0 else { throw SensorsError(.invalidValue, "\(path): time column '\(names[ti])' gives no usable rate") }
        }

        var wanted: [Int] = []
        if let cols = options.columns {
            for c in cols {
                guard let i = index(of: c) else {
                    throw SensorsError(.invalidValue, "\(path): no column '\(c)' (columns: \(names.joined(separator: ", ")))")
                }
                wanted.append(i)
            }
        } else {
            wanted = names.indices.filter { $0 != timeIndex }
        }
        var channels: [Channel] = []
        for i in wanted {
            let v = try values(i, allowEmpty: true)
            channels.append(Channel(name: names[i], unit: "", samples: v.map(Float.init)))
        }
        return Recording(sampleRate: rate, channels: channels)
    }

    /// A cell without surrounding blanks or one pair of double quotes.
    private static func trim(_ s: Substring) -> Substring {
        var s = s.drop { $0 == " " }
        while s.last == " " { s = s.dropLast() }
        if s.count >= 2, s.first == "\"", s.last == "\"" { s = s.dropFirst().dropLast() }
        return s
    }
}
