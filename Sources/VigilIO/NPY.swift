import Foundation

/// Element types of the NumPy arrays Vigil reads and writes.
public enum NPYDType: Sendable, Equatable {
    case float32, float64, int8, uint8, int16, int32, int64, bool

    public var byteSize: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }
    var descr: String {
        switch self {
        case .float32: "<f4"
        case .float64: "<f8"
        case .int8: "|i1"
        case .uint8: "|u1"
        case .int16: "<i2"
        case .int32: "<i4"
        case .int64: "<i8"
        case .bool: "|b1"
        }
    }
    init?(descr: String) {
        guard descr.count == 3 else { return nil }
        let order = descr.first!, kind = String(descr.dropFirst())
        switch kind {
        case "f4": self = .float32
        case "f8": self = .float64
        case "i1": self = .int8
        case "u1": self = .uint8
        case "i2": self = .int16
        case "i4": self = .int32
        case "i8": self = .int64
        case "b1": self = .bool
        default: return nil
        }
        // Multi-byte types must be little-endian ('<', or '=' native on the little-endian hosts we run on).
        if byteSize > 1 && order != "<" && order != "=" { return nil }
        if byteSize == 1 && !"<=|".contains(order) { return nil }
    }
}

/// A NumPy array: dtype, shape and raw little-endian C-order element bytes.
public struct NPYArray: Sendable, Equatable {
    public var dtype: NPYDType
    public var shape: [Int]
    public var data: [UInt8]

    public init(dtype: NPYDType, shape: [Int], data: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }
    public init(float32 values: [Float], shape: [Int]) {
        dtype = .float32
        self.shape = shape
        data = values.withUnsafeBytes { Array($0) }
    }
    /// Elements: the product of the shape (1 for a scalar).
    public var count: Int { shape.reduce(1, *) }

    /// Every element converted to Float.
    public func asFloat32() -> [Float] {
        data.withUnsafeBytes { raw -> [Float] in
            let n = count
            switch dtype {
            case .float32: return (0..<n).map { Float(bitPattern: UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: UInt32.self))) }
            case .float64: return (0..<n).map { Float(Double(bitPattern: UInt64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: UInt64.self)))) }
            case .int8: return (0..<n).map { Float(Int8(bitPattern: raw[$0])) }
            case .uint8: return (0..<n).map { Float(raw[$0]) }
            case .bool: return (0..<n).map { raw[$0] != 0 ? 1 : 0 }
            case .int16: return (0..<n).map { Float(Int16(littleEndian: raw.loadUnaligned(fromByteOffset: 2 * $0, as: Int16.self))) }
            case .int32: return (0..<n).map { Float(Int32(littleEndian: raw.loadUnaligned(fromByteOffset: 4 * $0, as: Int32.self))) }
            case .int64: return (0..<n).map { Float(Int64(littleEndian: raw.loadUnaligned(fromByteOffset: 8 * $0, as: Int64.self))) }
            }
        }
    }
}

public struct NPYError: Error, CustomStringConvertible {
    public var detail: String
    public var description: String { detail }
    init(_ detail: String) { self.detail = detail }
}

/// NumPy `.npy` files, format versions 1.0, 2.0 and 3.0
/// (https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html).
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // \x93NUMPY

    public static func read(contentsOf url: URL) throws -> NPYArray {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw NPYError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try decode(Array(data), source: url.path)
    }

    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> NPYArray {
        func fail(_ why: String) -> NPYError { NPYError("\(source): \(why)") }
        guard bytes.count >= 10 else { throw fail("\(bytes.count) bytes is too short for an .npy header") }
        guard Array(bytes[0..<6]) == magic else { throw fail("not a NumPy .npy file (bad magic)") }
        let major = bytes[6], minor = bytes[7]
        let headerLength: Int, headerStart: Int
        switch major {
        case 1:
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8
            headerStart = 10
        case 2, 3:
            guard bytes.count >= 12 else { throw fail("truncated version \(major).\(minor) header") }
            headerLength = Int(bytes[8]) | Int(bytes[9]) << 8 | Int(bytes[10]) << 16 | Int(bytes[11]) << 24
            headerStart = 12
        default:
            throw fail("unsupported .npy format version \(major).\(minor)")
        }
        guard headerLength <= bytes.count - headerStart else {
            throw fail("header of \(headerLength) bytes runs past the end of the file")
        }
        let header = String(decoding: bytes[headerStart..<(headerStart + headerLength)], as: UTF8.self)
        let dict = try parseHeader(header, fail)
        guard let descr = dict.descr else { throw fail("header has no 'descr'") }
        guard let dtype = NPYDType(descr: descr) else {
            throw fail("unsupported dtype '\(descr)' (supported: float32, float64, int8, uint8, int16, int32, int64, bool, little-endian)")
        }
        guard let fortran = dict.fortran else { throw fail("header has no 'fortran_order'") }
        guard !fortran else {
            throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        guard let shape = dict.shape else { throw fail("header has no 'shape'") }
        var count = 1
        for d in shape {
            guard d >= 0 else { throw fail("negative dimension \(d) in shape \(shape)") }
            let (p, o) = count.multipliedReportingOverflow(by: d)
            guard !o else { throw fail("shape \(shape) overflows") }
            count = p
        }
        let (byteCount, o) = count.multipliedReportingOverflow(by: dtype.byteSize)
        guard !o else { throw fail("shape \(shape) overflows") }
        let dataStart = headerStart + headerLength
        guard bytes.count - dataStart >= byteCount else {
            throw fail("data is \(bytes.count - dataStart) bytes; shape \(shape) of \(descr) needs \(byteCount)")
        }
        return NPYArray(dtype: dtype, shape: shape, data: Array(bytes[dataStart..<(dataStart + byteCount)]))
    }

    struct Header {
        var descr: String?
        var fortran: Bool?
        var shape: [Int]?
    }

    /// Parses the Python dict literal of the header: {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
    static func parseHeader(_ s: String, _ fail: (String) -> NPYError) throws -> Header {
        var h = Header()
        let chars = Array(s.unicodeScalars)
        var i = 0
        func skipSpace() { while i < chars.count, chars[i].properties.isWhitespace { i += 1 } }
        func expect(_ c: Unicode.Scalar) throws {
            skipSpace()
            guard i < chars.count, chars[i] == c else { throw fail("malformed header near offset \(i): expected '\(c)' in \(s.debugDescription)") }
            i += 1
        }
        func string() throws -> String {
            skipSpace()
            guard i < chars.count, chars[i] == "'" || chars[i] == "\"" else { throw fail("malformed header: expected a string at offset \(i)") }
            let q = chars[i]
            i += 1
            var out = ""
            while i < chars.count, chars[i] != q { out.unicodeScalars.append(chars[i]); i += 1 }
            guard i < chars.count else { throw fail("malformed header: unterminated string") }
            i += 1
            return out
        }
        func word() -> String {
            skipSpace()
            var out = ""
            while i < chars.count, chars[i].properties.isAlphabetic || ("0"..."9").contains(chars[i]) {
                out.unicodeScalars.append(chars[i]); i += 1
            }
            return out
        }
        try expect("{")
        while true {
            skipSpace()
            if i < chars.count, chars[i] == "}" { i += 1; break }
            let key = try string()
            try expect(":")
            switch key {
            case "descr": h.descr = try string()
            case "fortran_order":
                let w = word()
                guard w == "True" || w == "False" else { throw fail("malformed header: fortran_order is '\(w)'") }
                h.fortran = w == "True"
            case "shape":
                try expect("(")
                var dims: [Int] = []
                while true {
                    skipSpace()
                    if i < chars.count, chars[i] == ")" { i += 1; break }
                    var neg = false
                    if i < chars.count, chars[i] == "-" { neg = true; i += 1 }
                    let w = word().replacingOccurrences(of: "L", with: "")
                    guard let v = Int(w) else { throw fail("malformed header: shape entry '\(w)'") }
                    dims.append(neg ? -v : v)
                    skipSpace()
                    if i < chars.count, chars[i] == "," { i += 1 }
                }
                h.shape = dims
            default:
                throw fail("malformed header: unexpected key '\(key)'")
            }
            skipSpace()
            if i < chars.count, chars[i] == "," { i += 1 }
            guard i < chars.count else { throw fail("malformed header: missing '}'") }
        }
        return h
    }

    /// The bytes of an .npy file: version 1.0 (2.0 when the header needs it), data 64-byte aligned.
    public static func encode(_ a: NPYArray) -> [UInt8] {
        let shape = a.shape.count == 1 ? "(\(a.shape[0]),)" : "(\(a.shape.map(String.init).joined(separator: ", ")))"
        var header = Array("{'descr': '\(a.dtype.descr)', 'fortran_order': False, 'shape': \(shape), }".utf8)
        var prefix = magic
        let v2 = header.count + 11 > 65535
        let fixed = v2 ? 12 : 10
        let total = (fixed + header.count + 1 + 63) / 64 * 64
        header += [UInt8](repeating: 0x20, count: total - fixed - header.count - 1)
        header.append(0x0A)
        if v2 {
            prefix += [2, 0]
            let n = UInt32(header.count)
            prefix += [UInt8(n & 0xFF), UInt8(n >> 8 & 0xFF), UInt8(n >> 16 & 0xFF), UInt8(n >> 24)]
        } else {
            prefix += [1, 0, UInt8(header.count & 0xFF), UInt8(header.count >> 8)]
        }
        return prefix + header + a.data
    }

    public static func write(_ a: NPYArray, to url: URL) throws {
        do { try Data(encode(a)).write(to: url) } catch {
            throw NPYError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }
}
