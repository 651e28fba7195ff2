import Foundation

/// Reads European Data Format (EDF and EDF+C) files: a 256-byte ASCII header, 256 bytes per
/// signal, then data records of 16-bit little-endian digital samples. Physical value =
/// (digital − digital min) × (physical max − physical min) / (digital max − digital min) +
/// physical min. `EDF Annotations` signals are not waveforms and are left out (by design, not as
/// data loss); the remaining signals must share one sample rate unless `signals` picks a subset
/// that does.
public enum EDFReader {
    /// Reads `path`; `signals` selects signals by label (or 1-based number), `nil` reads all.
    public static func read(_ path: String, signals: [String]? = nil) throws(SensorsError) -> Recording {
        try decode(RecordingReader.bytes(path), signals: signals, name: path)
    }

    /// Decodes EDF bytes; `name` labels errors.
    public static func decode(_ b: [UInt8], signals: [String]? = nil, name: String) throws(SensorsError) -> Recording {
        func bad(_ offset: Int, _ what: String) -> SensorsError { SensorsError(.malformed, "\(name): byte \(offset): \(what)") }
        func ascii(_ at: Int, _ len: Int) -> String {
            String(decoding: b[at..<at + len], as: UTF8.self).trimmingCharacters(in: .whitespaces)
        }
        func number(_ at: Int, _ len: Int, _ what: String) throws(SensorsError) -> Double {
            let s = ascii(at, len)
            guard let v = Double(s), v.isFinite else { throw bad(at, "\(what) '\(s)' is not a number") }
            return v
        }
        guard b.count >= 256 else { throw bad(0, "file shorter than the 256-byte EDF header (\(b.count) bytes)") }
        guard ascii(0, 8) == "0" else { throw bad(0, "version '\(ascii(0, 8))' is not '0' (not an EDF file; BDF is not supported)") }
        let headerBytes = try Int(number(184, 8, "header size"))
        let reserved = ascii(192, 44)
        if reserved.hasPrefix("EDF+D") { throw SensorsError(.unsupported, "\(name): byte 192: discontinuous EDF+D files are not supported") }
        let nRecordsField = try Int(number(236, 8, "number of data records"))
        let duration = try number(244, 8, "data record duration")
        let ns = try Int(number(252, 4, "number of signals"))
        guard ns > 0, ns < 10000 else { throw bad(252, "number of signals \(ns) is out of range") }
        guard headerBytes == 256 * (ns + 1) else { throw bad(184, "header size \(headerBytes) is not 256 × (1 + \(ns) signals)") }
        guard b.count >= headerBytes else { throw bad(b.count, "file ends inside the \(headerBytes)-byte header") }
        guard duration > 0 else { throw bad(244, "data record duration \(duration) is not positive") }

        // Signal header fields are stored field by field across all signals.
        func sfield(_ base: Int, _ len: Int, _ k: Int) -> Int { 256 + base * ns + len * k }
        struct Sig { var label, unit: String; var pmin, pmax, dmin, dmax: Double; var n: Int }
        var sigs: [Sig] = []
        for k in 0..<ns {
            let label = ascii(sfield(0, 16, k), 16)
            let unit = ascii(sfield(96, 8, k), 8)
            let pmin = try number(sfield(104, 8, k), 8, "physical minimum of signal \(k + 1)")
            let pmax = try number(sfield(112, 8, k), 8, "physical maximum of signal \(k + 1)")
            let dmin = try number(sfield(120, 8, k), 8, "digital minimum of signal \(k + 1)")
            let dmax = try number(sfield(128, 8, k), 8, "digital maximum of signal \(k + 1)")
            let n = try Int(number(sfield(216, 8, k), 8, "samples per record of signal \(k + 1)"))
            guard dmax > dmin else { throw bad(sfield(128, 8, k), "signal \(k + 1) ('\(label)'): digital maximum \(dmax) is not above the minimum \(dmin)") }
            guard pmax != pmin else { throw bad(sfield(112, 8, k), "signal \(k + 1) ('\(label)'): physical maximum equals the minimum") }
            guard n > 0 else { throw bad(sfield(216, 8, k), "signal \(k + 1) ('\(label)'): \(n) samples per record") }
            sigs.append(Sig(label: label, unit: unit, pmin: pmin, pmax: pmax, dmin: dmin, dmax: dmax, n: n))
        }
        let recordBytes = sigs.reduce(0) { $0 + 2 * $1.n }
        let dataBytes = b.count - headerBytes
        let nRecords: Int
        if nRecordsField == -1 {
            nRecords = dataBytes / recordBytes
        } else {
            guard nRecordsField >= 0 else { throw bad(236, "number of data records \(nRecordsField)") }
            guard nRecordsField * recordBytes <= dataBytes else {
                throw bad(b.count, "truncated: \(nRecordsField) records of \(recordBytes) bytes need \(headerBytes + nRecordsField * recordBytes) bytes, the file has \(b.count)")
            }
            nRecords = nRecordsField
        }

        var chosen: [Int]
        if let names = signals {
            chosen = []
            for s in names {
                if let k = sigs.firstIndex(where: { $0.label == s || $0.label.lowercased() == s.lowercased() }) { chosen.append(k) }
                else if let k = Int(s), k >= 1, k <= ns { chosen.append(k - 1) }
                else { throw SensorsError(.invalidValue, "\(name): no signal '\(s)' (signals: \(sigs.map(\.label).joined(separator: ", ")))") }
            }
        } else {
            chosen = sigs.indices.filter { sigs[$0].label != "EDF Annotations" }
        }
        guard let firstSig = chosen.first else { throw SensorsError(.invalidValue, "\(name): no waveform signals") }
        let n0 = sigs[firstSig].n
        if let odd = chosen.first(where: { sigs[$0].n != n0 }) {
            throw SensorsError(.unsupported, "\(name): signals '\(sigs[firstSig].label)' (\(Double(n0) / duration) Hz) and '\(sigs[odd].label)' (\(Double(sigs[odd].n) / duration) Hz) differ in rate: choose signals of one rate")
        }
        var offsets: [Int] = []
        var acc = 0
        for s in sigs { offsets.append(acc); acc += 2 * s.n }
        var channels: [Channel] = []
        for k in chosen {
            let s = sigs[k]
            let scale = (s.pmax - s.pmin) / (s.dmax - s.dmin)
            var out = [Float](repeating: 0, count: nRecords * s.n)
            for r in 0..<nRecords {
                let base = headerBytes + r * recordBytes + offsets[k]
                for i in 0..<s.n {
                    let d = Double(Int16(bitPattern: UInt16(b[base + 2 * i]) | UInt16(b[base + 2 * i + 1]) << 8))
                    out[r * s.n + i] = Float((d - s.dmin) * scale + s.pmin)
                }
            }
            channels.append(Channel(name: s.label, unit: s.unit, samples: out))
        }
        return Recording(sampleRate: Double(n0) / duration, channels: channels)
    }
}
