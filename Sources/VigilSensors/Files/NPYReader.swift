import Foundation

/// Reads a NumPy `.npy` waveform: shape `[n]` (one channel) or `[n, channels]`, little-endian
/// float32/float64 or integer elements, C or Fortran order. A reader of its own (not VigilIO's)
/// because VigilSensors depends on SensorLink only.
public enum NPYReader {
    /// Reads `path` as a recording at `sampleRate`; channels are named `ch0`, `ch1`, ….
    public static func read(_ path: String, sampleRate: Double) throws(SensorsError) -> Recording {
        guard sampleRate > 0, sampleRate.isFinite else { throw SensorsError(.invalidValue, "\(path): sample rate \(sampleRate) is not positive") }
        return try decode(RecordingReader.bytes(path), sampleRate: sampleRate, name: path)
    }

    /// Decodes `.npy` bytes; `name` labels errors.
    public static func decode(_ b: [UInt8], sampleRate: Double, name: String) throws(SensorsError) -> Recording {
        func bad(_ what: String) -> SensorsError { SensorsError(.malformed, "\(name): \(what)") }
        let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]
        guard b.count >= 10, Array(b[0..<6]) == magic else { throw bad("byte 0: not an .npy file (magic \\x93NUMPY missing)") }
        let major = b[6]
        var headerLength: Int, headerStart: Int
        switch major {
        case 1: headerLength = Int(b[8]) | Int(b[9]) << 8; headerStart = 10
        case 2, 3:
            guard b.count >= 12 else { throw bad("byte 8: truncated header length") }
            headerLength = Int(b[8]) | Int(b[9]) << 8 | Int(b[10]) << 16 | Int(b[11]) << 24; headerStart = 12
        default: throw SensorsError(.unsupported, "\(name): byte 6: .npy version \(major) is not supported")
        }
        guard headerStart + headerLength <= b.count else { throw bad("byte \(headerStart): header of \(headerLength) bytes runs past the end of the file") }
        let header = String(decoding: b[headerStart..<headerStart + headerLength], as: UTF8.self)
        func field(_ key: String) -> Substring? {
            guard let r = header.range(of: "'\(key)'") else { return nil }
            var rest = header[r.upperBound...].drop { $0 == " " || $0 == ":" }
            if rest.first == "(" {
                guard let close = rest.firstIndex(of: ")") else { return nil }
                return rest[rest.index(after: rest.startIndex)..<close]
            }
            if rest.first == "'" {
                rest = rest.dropFirst()
                return rest.prefix { $0 != "'" }
            }
            return rest.prefix { $0 != "," && $0 != "}" }
        }
        guard let descr = field("descr") else { throw bad("header has no 'descr'") }
        let fortran = field("fortran_order").map { $0.trimmingCharacters(in: .whitespaces) == "True" } ?? false
        guard let shapeText = field("shape") else { throw bad("header has no 'shape'") }
        var shape: [Int] = []
        for part in shapeText.split(separator: ",") {
            let t = part.trimmingCharacters(in: .whitespaces)
            if t.isEmpty { continue }
            guard let d = Int(t), d >= 0 else { throw bad("shape (\(shapeText)) has a bad dimension '\(t)'") }
            shape.append(d)
        }
        guard shape.count == 1 || shape.count == 2 else {
            throw SensorsError(.unsupported, "\(name): shape (\(shapeText)) is neither [n] nor [n, channels]")
        }
        let n = shape[0], c = shape.count == 2 ? shape[1] : 1
        let (size, load): (Int, (Int) -> Double)
        let dataStart = headerStart + headerLength
        func le(_ at: Int, _ bytes: Int) -> UInt64 {
            var v: UInt64 = 0
            for k in 0..<bytes { v |= UInt64(b[at + k]) << (8 * UInt64(k)) }
            return v
        }
        switch descr {
        case "<f4": size = 4; load = { Double(Float(bitPattern: UInt32(le($0, 4)))) }
        case "<f8": size = 8; load = { Double(bitPattern: le($0, 8)) }
        case "<i2": size = 2; load = { Double(Int16(bitPattern: UInt16(le($0, 2)))) }
        case "<u2": size = 2; load = { Double(UInt16(le($0, 2))) }
        case "<i4": size = 4; load = { Double(Int32(bitPattern: UInt32(le($0, 4)))) }
        case "<i8": size = 8; load = { Double(Int64(bitPattern: le($0, 8))) }
        case "|i1": size = 1; load = { Double(Int8(bitPattern: b[$0])) }
        case "|u1": size = 1; load = { Double(b[$0]) }
        default: throw SensorsError(.unsupported, "\(name): element type '\(descr)' is not supported (little-endian float or integer)")
        }
        let (count, overflow) = n.multipliedReportingOverflow(by: c)
        guard !overflow, count <= (b.count - dataStart) / size else {
            throw bad("byte \(dataStart): shape (\(shapeText)) needs \(n)×\(c)×\(size) bytes of data, the file has \(b.count - dataStart)")
        }
        var channels: [Channel] = []
        for j in 0..<c {
            var s = [Float](repeating: 0, count: n)
            for i in 0..<n {
                let e = fortran ? j * n + i : i * c + j
                s[i] = Float(load(dataStart + e * size))
            }
            channels.append(Channel(name: "ch\(j)", unit: "", samples: s))
        }
        return Recording(sampleRate: sampleRate, channels: channels)
    }
}
