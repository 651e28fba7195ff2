import Foundation

/// Reads PhysioNet WFDB records: a text header (`.hea`) and binary signal files in format 212
/// (two 12-bit samples in three bytes) or 16 (16-bit little-endian). Physical value =
/// (digital − baseline) / gain, with gain 200 and baseline = ADC zero when the header leaves them
/// out, as the WFDB header specification says. Invalid-sample codes (−2048 in 212, −32768 in 16)
/// become `Float.nan`. Multi-segment records and other formats are refused.
public enum WFDBReader {
    /// One signal line of a header.
    struct SignalSpec {
        var file: String
        var format: Int
        var byteOffset: Int
        var gain: Double
        var baseline: Int
        var units: String
        var adcZero: Int
        var checksum: Int?
        var description: String
        var line: Int
    }

    /// Reads the record whose header is `headerPath`; signal files are found beside it.
    public static func read(headerPath: String) throws(SensorsError) -> Recording {
        let bytes = try RecordingReader.bytes(headerPath)
        guard let text = String(bytes: bytes, encoding: .utf8) ?? String(bytes: bytes, encoding: .isoLatin1) else {
            throw SensorsError(.malformed, "\(headerPath): not text")
        }
        // Lines with their 1-based numbers; comments (#) and blank lines are skipped.
        var lines: [(Int, [Substring])] = []
        for (i, raw) in text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline).enumerated() {
            var line = raw
            if let hash = line.firstIndex(of: "#") { line = line[..<hash] }
            let fields = line.split(whereSeparator: { $0 == " " || $0 == "\t" || $0 == "\r" })
            if !fields.isEmpty { lines.append((i + 1, fields)) }
        }
        guard let (recLine, rec) = lines.first else { throw SensorsError(.malformed, "\(headerPath): no record line") }
        func bad(_ line: Int, _ what: String) -> SensorsError { SensorsError(.malformed, "\(headerPath):\(line): \(what)") }
        if rec[0].contains("/") {
            throw SensorsError(.unsupported, "\(headerPath):\(recLine): multi-segment records ('\(rec[0])') are not supported")
        }
        guard rec.count >= 2, let nsig = Int(rec[1]), nsig >= 0 else { throw bad(recLine, "expected 'name nsig [fs [nsamp]]'") }
        var fs = 250.0
        if rec.count >= 3 {
            // fs may carry "/counter frequency" and "(base counter)".
            let f = rec[2].prefix { $0 != "/" && $0 != "(" }
            guard let v = Double(f), v > 0, v.isFinite else { throw bad(recLine, "sample rate '\(rec[2])' is not a positive number") }
            fs = v
        }
        var nsamp: Int? = nil
        if rec.count >= 4 {
            guard let n = Int(rec[3]), n >= 0 else { throw bad(recLine, "sample count '\(rec[3])' is not a non-negative integer") }
            nsamp = n
        }
        guard lines.count >= 1 + nsig else { throw bad(lines.last!.0, "the record line announces \(nsig) signals but only \(lines.count - 1) signal lines follow") }

        var specs: [SignalSpec] = []
        for k in 0..<nsig {
            let (ln, f) = lines[1 + k]
            guard f.count >= 2 else { throw bad(ln, "a signal line needs at least 'file format'") }
            // format[xsamples][:skew][+offset]
            var fmtField = Substring(f[1])
            var offset = 0
            if let plus = fmtField.firstIndex(of: "+") {
                guard let o = Int(fmtField[fmtField.index(after: plus)...]), o >= 0 else { throw bad(ln, "byte offset in '\(f[1])' is not a non-negative integer") }
                offset = o
                fmtField = fmtField[..<plus]
            }
            if let colon = fmtField.firstIndex(of: ":") {
                guard let skew = Int(fmtField[fmtField.index(after: colon)...]) else { throw bad(ln, "skew in '\(f[1])' is not an integer") }
                if skew != 0 { throw SensorsError(.unsupported, "\(headerPath):\(ln): skewed signals are not supported") }
                fmtField = fmtField[..<colon]
            }
            if let x = fmtField.firstIndex(of: "x") {
                guard let spf = Int(fmtField[fmtField.index(after: x)...]) else { throw bad(ln, "samples per frame in '\(f[1])' is not an integer") }
                if spf != 1 { throw SensorsError(.unsupported, "\(headerPath):\(ln): \(spf) samples per frame (multi-rate records) are not supported") }
                fmtField = fmtField[..<x]
            }
            guard let format = Int(fmtField) else { throw bad(ln, "format '\(f[1])' is not a number") }
            guard format == 212 || format == 16 else {
                throw SensorsError(.unsupported, "\(headerPath):\(ln): WFDB format \(format) is not supported (212 and 16 are)")
            }
            var gain = 200.0, baseline: Int? = nil, units = "mV"
            if f.count >= 3 {
                // gain[(baseline)][/units]
                var g = Substring(f[2])
                if let slash = g.firstIndex(of: "/") { units = String(g[g.index(after: slash)...]); g = g[..<slash] }
                if let open = g.firstIndex(of: "(") {
                    guard let close = g.firstIndex(of: ")"), close > open,
                          let b = Int(g[g.index(after: open)..<close]) else { throw bad(ln, "baseline in '\(f[2])' is not '(integer)'") }
                    baseline = b
                    g = g[..<open]
                }
                guard let v = Double(g), v.isFinite, v >= 0 else { throw bad(ln, "ADC gain '\(f[2])' is not a non-negative number") }
                if v > 0 { gain = v }
            }
            var adcZero = 0
            if f.count >= 5 {
                guard let z = Int(f[4]) else { throw bad(ln, "ADC zero '\(f[4])' is not an integer") }
                adcZero = z
            }
            var checksum: Int? = nil
            if f.count >= 7 {
                guard let c = Int(f[6]) else { throw bad(ln, "checksum '\(f[6])' is not an integer") }
                checksum = c
            }
            let description = f.count >= 9 ? f[8...].joined(separator: " ") : "sig\(k)"
            specs.append(SignalSpec(file: String(f[0]), format: format, byteOffset: offset, gain: gain,
                                    baseline: baseline ?? adcZero, units: units, adcZero: adcZero,
                                    checksum: checksum, description: description, line: ln))
        }

        // Signals sharing a file are interleaved frame by frame in header order.
        let dir = (headerPath as NSString).deletingLastPathComponent
        var digital = [[Int32]](repeating: [], count: nsig)
        var groups: [(file: String, members: [Int])] = []
        for (k, s) in specs.enumerated() {
            if let g = groups.firstIndex(where: { $0.file == s.file }) { groups[g].members.append(k) } else { groups.append((s.file, [k])) }
        }
        for group in groups {
            let first = specs[group.members[0]]
            for k in group.members where specs[k].format != first.format || specs[k].byteOffset != first.byteOffset {
                throw SensorsError(.unsupported, "\(headerPath):\(specs[k].line): signals in one file with different formats or offsets are not supported")
            }
            if group.file == "~" { throw SensorsError(.unsupported, "\(headerPath):\(first.line): null signal files ('~') are not supported") }
            let path = dir.isEmpty ? group.file : dir + "/" + group.file
            let data = try RecordingReader.bytes(path)
            let perFrame = group.members.count
            let available = data.count - first.byteOffset
            guard available >= 0 else { throw SensorsError(.malformed, "\(path): the header's byte offset \(first.byteOffset) is past the end of the file (\(data.count) bytes)") }
            let maxFrames = first.format == 16 ? available / (2 * perFrame) : (available * 2 / 3) / perFrame
            let frames = nsamp ?? maxFrames
            if frames > maxFrames {
                let need = first.format == 16 ? frames * perFrame * 2 : (frames * perFrame * 3 + 1) / 2
                throw SensorsError(.malformed, "\(path): truncated: \(frames) frames of \(perFrame) signal(s) in format \(first.format) need \(need) bytes after byte \(first.byteOffset), the file has \(available)")
            }
            let values = decode(data, from: first.byteOffset, count: frames * perFrame, format: first.format)
            for (j, k) in group.members.enumerated() {
                var v = [Int32](repeating: 0, count: frames)
                for i in 0..<frames { v[i] = values[i * perFrame + j] }
                digital[k] = v
            }
        }

        var channels: [Channel] = []
        for (k, s) in specs.enumerated() {
            if let want = s.checksum, nsamp != nil {
                var sum: Int32 = 0
                for d in digital[k] { sum = sum &+ d }
                // The header's checksum is the 16-bit two's-complement sum of the signal's samples.
                let got = Int(Int16(truncatingIfNeeded: sum))
                if got != Int(Int16(truncatingIfNeeded: want)) {
                    throw SensorsError(.malformed, "\(headerPath):\(s.line): checksum of signal \(k) ('\(s.description)') is \(got), the header says \(want): the data file does not match its header")
                }
            }
            let invalid: Int32 = s.format == 212 ? -2048 : -32768
            let base = Double(s.baseline), gain = s.gain
            let samples = digital[k].map { d -> Float in d == invalid ? .nan : Float((Double(d) - base) / gain) }
            channels.append(Channel(name: s.description, unit: s.units, samples: samples))
        }
        return Recording(sampleRate: fs, channels: channels)
    }

    /// Decodes `count` samples starting at byte `start`. The caller has checked the length.
    static func decode(_ data: [UInt8], from start: Int, count: Int, format: Int) -> [Int32] {
        var out = [Int32](repeating: 0, count: count)
        if format == 16 {
            for i in 0..<count {
                let lo = UInt16(data[start + 2 * i]), hi = UInt16(data[start + 2 * i + 1])
                out[i] = Int32(Int16(bitPattern: lo | hi << 8))
            }
        } else {
            // 212: sample pairs in three bytes; byte 1's low nibble holds the first sample's high
            // bits, its high nibble the second's.
            func signExtend12(_ v: Int32) -> Int32 { v >= 2048 ? v - 4096 : v }
            var i = 0, p = start
            while i < count {
                let b0 = Int32(data[p]), b1 = Int32(data[p + 1])
                out[i] = signExtend12(b0 | (b1 & 0x0F) << 8)
                if i + 1 < count {
                    let b2 = Int32(data[p + 2])
                    out[i + 1] = signExtend12(b2 | (b1 & 0xF0) << 4)
                }
                i += 2; p += 3
            }
        }
        return out
    }
}
