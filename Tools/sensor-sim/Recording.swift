#if canImport(Glibc)
import Glibc
#endif

/// A recording to replay: a 1-D NPY file of little-endian float32 millivolts, quantized to whole
/// ADC units the way the recording was digitized (`code = round(mV × gain) + zero`; MIT-BIH:
/// 200 units/mV, zero at 1024). The quantization must be exact, i.e. every value must be
/// `(code − zero) / gain` rounded to float32, so that the host can recover the recording bit for
/// bit; a value that is not is an error naming its index.
struct Recording {
    let codes: [Int32]

    init(path: String, gain: Double, zero: Int32) throws(SimError) {
        guard let f = fopen(path, "rb") else { throw SimError.errno("input", "open \(path)") }
        defer { fclose(f) }
        var data: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 65536)
        while true {
            let n = fread(&chunk, 1, chunk.count, f)
            if n <= 0 { break }
            data.append(contentsOf: chunk[0..<n])
        }
        let values = try Self.parseNPY(data, path: path)
        var codes: [Int32] = []
        codes.reserveCapacity(values.count)
        for (i, v) in values.enumerated() {
            let units = (Double(v) * gain).rounded()
            guard units.isFinite, abs(units) < 8_000_000, Float(units / gain) == v else {
                throw SimError("inexact-sample", "\(path): sample \(i) = \(v) mV is not a whole number of ADC units at \(gain) units/mV")
            }
            codes.append(Int32(units) + zero)
        }
        self.codes = codes
    }

    /// The float32 values of a 1-D `<f4` NPY file (v1/v2/v3 headers).
    static func parseNPY(_ d: [UInt8], path: String) throws(SimError) -> [Float] {
        guard d.count >= 10, d[0] == 0x93, Array(d[1...5]) == Array("NUMPY".utf8) else {
            throw SimError("bad-npy", "\(path): not an NPY file (magic)")
        }
        let major = d[6]
        let headerLength: Int, start: Int
        if major == 1 {
            headerLength = Int(d[8]) | Int(d[9]) << 8
            start = 10
        } else {
            guard d.count >= 12 else { throw SimError("bad-npy", "\(path): truncated header") }
            headerLength = Int(d[8]) | Int(d[9]) << 8 | Int(d[10]) << 16 | Int(d[11]) << 24
            start = 12
        }
        guard start + headerLength <= d.count else { throw SimError("bad-npy", "\(path): header runs past the end of the file") }
        let header = String(decoding: d[start..<(start + headerLength)], as: UTF8.self)
        guard header.contains("'descr': '<f4'") else { throw SimError("bad-npy", "\(path): dtype must be '<f4' (header \(header.trimmed))") }
        guard header.contains("'fortran_order': False") else { throw SimError("bad-npy", "\(path): Fortran order is not supported") }
        guard let open = header.firstIndex(of: "("), let close = header.firstIndex(of: ")") else {
            throw SimError("bad-npy", "\(path): no shape in header")
        }
        let dims = header[header.index(after: open)..<close].split(separator: ",").map { $0.trimmingSpaces }.filter { !$0.isEmpty }
        guard dims.count == 1, let count = Int(dims[0]) else { throw SimError("bad-npy", "\(path): shape must be 1-D, found (\(header[header.index(after: open)..<close]))") }
        let body = start + headerLength
        guard d.count - body >= count * 4 else { throw SimError("bad-npy", "\(path): \(count) samples declared, \((d.count - body) / 4) present") }
        var values = [Float](repeating: 0, count: count)
        for i in 0..<count {
            let o = body + 4 * i
            values[i] = Float(bitPattern: UInt32(d[o]) | UInt32(d[o + 1]) << 8 | UInt32(d[o + 2]) << 16 | UInt32(d[o + 3]) << 24)
        }
        return values
    }
}

extension Substring {
    var trimmingSpaces: String { String(self).trimmed }
}
