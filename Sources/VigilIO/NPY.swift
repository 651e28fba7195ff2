// NumPy `.npy` reading and writing (format versions 1.0, 2.0 and 3.0), for test vectors and
// calibration data. Format: https://numpy.org/doc/stable/reference/generated/numpy.lib.format.html
//
// A file is the magic "\x93NUMPY", a major and minor version byte, a little-endian header length
// (2 bytes in 1.0, 4 bytes in 2.0 and 3.0), then the header: a Python dict literal such as
// `{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }` padded with spaces and ended by
// '\n' (latin-1 in 1.0 and 2.0, UTF-8 in 3.0). The raw element bytes follow.
public import Foundation

/// Element type of an `.npy` array. Multi-byte types are stored little-endian.
public enum NPYDType: Sendable, Equatable, CaseIterable {
    case float32, float64, int8, uint8, int16, int32, int64, bool

    /// Bytes per element.
    public var byteSize: Int {
        switch self {
        case .int8, .uint8, .bool: 1
        case .int16: 2
        case .float32, .int32: 4
        case .float64, .int64: 8
        }
    }

    /// The NumPy type string this library writes, e.g. `<f4` (as numpy's `dtype.str`).
    public var descr: String {
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
}

/// An n-dimensional array as stored in an `.npy` file: C (row-major) order, little-endian elements.
public struct NPYArray: Sendable, Equatable {
    public var dtype: NPYDType
    /// Dimensions, outermost first; `[]` is a scalar (one element).
    public var shape: [Int]
    /// Raw little-endian element bytes in C order; `count * dtype.byteSize` of them in a valid array.
    public var data: [UInt8]

    /// Wraps raw bytes without checking them; `NPY.encode` requires
    /// `data.count == count * dtype.byteSize` and non-negative dimensions.
    public init(dtype: NPYDType, shape: [Int], data: [UInt8]) {
        self.dtype = dtype
        self.shape = shape
        self.data = data
    }

    /// A float32 array; `values.count` must equal the product of `shape`.
    public init(float32 values: [Float], shape: [Int]) {
        precondition(values.count == NPYArray.elementCount(shape),
                     "NPYArray: \(values.count) values do not fill shape \(NPY.shapeRepr(shape))")
        var data: [UInt8] = []
        data.reserveCapacity(values.count * 4)
        for v in values { withUnsafeBytes(of: v.bitPattern.littleEndian) { data.append(contentsOf: $0) } }
        self.init(dtype: .float32, shape: shape, data: data)
    }

    /// Number of elements: the product of `shape` (1 for a scalar, `Int.max` if the product overflows).
    public var count: Int { NPYArray.elementCount(shape) ?? .max }

    /// The elements converted to `Float` (rounded to nearest; bools become 0 or 1). Converts at most
    /// as many elements as `data` holds.
    public func asFloat32() -> [Float] {
        let n = max(0, min(count, data.count / dtype.byteSize))
        return data.withUnsafeBytes { raw in
            func map<T: FixedWidthInteger>(_: T.Type, _ convert: (T) -> Float) -> [Float] {
                (0..<n).map { convert(T(littleEndian: raw.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self))) }
            }
            switch dtype {
            case .float32: return map(UInt32.self) { Float(bitPattern: $0) }
            case .float64: return map(UInt64.self) { Float(Double(bitPattern: $0)) }
            case .int8: return map(Int8.self) { Float($0) }
            case .uint8: return map(UInt8.self) { Float($0) }
            case .int16: return map(Int16.self) { Float($0) }
            case .int32: return map(Int32.self) { Float($0) }
            case .int64: return map(Int64.self) { Float($0) }
            case .bool: return map(UInt8.self) { $0 == 0 ? 0 : 1 }
            }
        }
    }

    /// Product of `shape`, or nil if it overflows `Int`.
    static func elementCount(_ shape: [Int]) -> Int? {
        var n = 1
        for d in shape {
            let (p, overflow) = n.multipliedReportingOverflow(by: d)
            if overflow { return nil }
            n = p
        }
        return n
    }

    /// Why this array cannot be written, or nil if it can.
    var inconsistency: String? {
        if let d = shape.first(where: { $0 < 0 }) { return "negative dimension \(d) in shape \(NPY.shapeRepr(shape))" }
        guard let n = NPYArray.elementCount(shape), case let (bytes, false) = n.multipliedReportingOverflow(by: dtype.byteSize)
        else { return "size overflow: shape \(NPY.shapeRepr(shape)) is too large" }
        return bytes == data.count ? nil
            : "shape \(NPY.shapeRepr(shape)) of \(dtype.descr) needs \(bytes) data bytes, not \(data.count)"
    }
}

/// A file or buffer that is not a supported `.npy` array. `detail` starts with the file name.
public struct NPYError: Error, CustomStringConvertible {
    public var detail: String
    public var description: String { detail }
    public init(_ detail: String) { self.detail = detail }
}

/// Reads and writes NumPy `.npy` files.
public enum NPY {
    static let magic: [UInt8] = [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59]  // "\x93NUMPY"

    /// Reads an `.npy` file; errors name the file.
    public static func read(contentsOf url: URL) throws -> NPYArray {
        let bytes: [UInt8]
        do { bytes = [UInt8](try Data(contentsOf: url)) } catch {
            throw NPYError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        return try decode(bytes, source: url.path)
    }

    /// Decodes the bytes of an `.npy` file (versions 1.0, 2.0, 3.0) holding a C-order array of a
    /// supported little-endian dtype. Bytes after the data are ignored, as numpy does. `source`
    /// names the input in errors.
    public static func decode(_ bytes: [UInt8], source: String = "<memory>") throws -> NPYArray {
        func fail(_ what: String) -> NPYError { NPYError("\(source): \(what)") }
        guard bytes.starts(with: magic) else {
            if magic.starts(with: bytes) { throw fail("truncated header: \(bytes.count) bytes is too short for an .npy file") }
            let found = bytes.prefix(6).map { String($0, radix: 16) }.joined(separator: " ")
            throw fail("bad magic: not a NumPy .npy file (expected 93 4e 55 4d 50 59, found \(found))")
        }
        guard bytes.count >= 8 else { throw fail("truncated header: \(bytes.count) bytes is too short for an .npy file") }
        let (major, minor) = (bytes[6], bytes[7])
        guard minor == 0, (1...3).contains(major) else {
            throw fail("unsupported .npy format version \(major).\(minor) (supported: 1.0, 2.0, 3.0)")
        }
        let start = major == 1 ? 10 : 12
        guard bytes.count >= start else { throw fail("truncated header: \(bytes.count) bytes is too short for a version \(major).0 header") }
        let headerLength = bytes[8..<start].reversed().reduce(0) { $0 << 8 | Int($1) }
        guard headerLength <= bytes.count - start else {
            throw fail("truncated header: header length is \(headerLength) bytes but only \(bytes.count - start) follow")
        }
        let headerBytes = bytes[start..<start + headerLength]
        let scalars: [Unicode.Scalar]
        if major == 3 {
            guard let s = utf8Scalars(headerBytes) else { throw fail("malformed header: not valid UTF-8") }
            scalars = s
        } else {
            scalars = headerBytes.map(Unicode.Scalar.init)  // latin-1
        }

        let header: Header
        do { header = try Header(scalars) } catch {
            var text = String(String.UnicodeScalarView(scalars)).trimmingCharacters(in: .whitespacesAndNewlines)
            if text.count > 200 { text = text.prefix(200) + "…" }
            throw fail("malformed header: \(error.message)" + (text.isEmpty ? "" : " in \(text)"))
        }
        guard case .str(let descr) = header.descr else {
            throw fail("unsupported dtype \(header.descr.repr): only simple types such as '<f4' are supported")
        }
        let dtype = try parseDType(descr, fail: fail)
        var shape: [Int] = []
        for text in header.dims {
            guard let d = Int(text) else { throw fail("size overflow: dimension \(text) does not fit in 64 bits") }
            shape.append(d)
        }
        if let d = shape.first(where: { $0 < 0 }) { throw fail("negative dimension \(d) in shape \(shapeRepr(shape))") }
        if header.fortranOrder, shape.filter({ $0 > 1 }).count > 1 {  // with one non-trivial dim, F order = C order
            throw fail("Fortran-order arrays are not supported; save with np.ascontiguousarray")
        }
        guard let n = NPYArray.elementCount(shape), case let (byteCount, false) = n.multipliedReportingOverflow(by: dtype.byteSize)
        else { throw fail("size overflow: shape \(shapeRepr(shape)) of \(descr) is too large") }
        let dataStart = start + headerLength
        guard byteCount <= bytes.count - dataStart else {
            throw fail("data truncated: shape \(shapeRepr(shape)) of \(descr) needs \(byteCount) bytes but \(bytes.count - dataStart) follow the header")
        }
        return NPYArray(dtype: dtype, shape: shape, data: Array(bytes[dataStart..<dataStart + byteCount]))
    }

    /// The `.npy` bytes of `array`: a version 1.0 header (2.0 if the header exceeds 65535 bytes),
    /// padded so the data starts at a multiple of 64 bytes. Traps if `array` is inconsistent
    /// (see `NPYArray.init(dtype:shape:data:)`); `write` reports that as an error instead.
    public static func encode(_ array: NPYArray) -> [UInt8] {
        if let problem = array.inconsistency { preconditionFailure("NPY.encode: \(problem)") }
        let dict = Array("{'descr': '\(array.dtype.descr)', 'fortran_order': False, 'shape': \(shapeRepr(array.shape)), }".utf8)
        func header(prefix: Int) -> [UInt8] {  // dict, spaces, '\n', ending at a multiple of 64
            dict + repeatElement(0x20, count: (64 - (prefix + dict.count + 1) % 64) % 64) + [0x0A]
        }
        var out = magic
        var h = header(prefix: 10)
        if h.count <= 0xFFFF {
            out += [1, 0, UInt8(h.count & 0xFF), UInt8(h.count >> 8)]
        } else {
            h = header(prefix: 12)
            precondition(h.count <= UInt32.max, "NPY.encode: header too large")
            out += [2, 0] + (0..<4).map { UInt8(truncatingIfNeeded: h.count >> (8 * $0)) }
        }
        out.reserveCapacity(out.count + h.count + array.data.count)
        return out + h + array.data
    }

    /// Writes `array` to `url` as an `.npy` file (atomically); errors name the file.
    public static func write(_ array: NPYArray, to url: URL) throws {
        if let problem = array.inconsistency { throw NPYError("\(url.path): cannot write: \(problem)") }
        do { try Data(encode(array)).write(to: url, options: .atomic) } catch {
            throw NPYError("\(url.path): cannot write: \(error.localizedDescription)")
        }
    }

    // MARK: - Helpers

    /// Python's repr of a shape tuple: `()`, `(3,)`, `(2, 3)`.
    static func shapeRepr(_ shape: [Int]) -> String {
        shape.count == 1 ? "(\(shape[0]),)" : "(" + shape.map(String.init).joined(separator: ", ") + ")"
    }

    private static func parseDType(_ descr: String, fail: (String) -> NPYError) throws -> NPYDType {
        var code = Substring(descr)
        var order: Character = "|"
        if let first = code.first, "<>=|".contains(first) { order = first; code = code.dropFirst() }
        let supported = NPYDType.allCases
        guard let dtype = supported.first(where: { $0.descr.dropFirst() == code }) else {
            throw fail("unsupported dtype '\(descr)' (supported: \(supported.map(\.descr).joined(separator: ", ")))")
        }
        guard dtype.byteSize == 1 || order == "<" || (order != ">" && isLittleEndian) else {
            throw fail("unsupported dtype '\(descr)': big-endian data is not supported; save with a.astype('\(dtype.descr)')")
        }
        return dtype
    }

    private static var isLittleEndian: Bool { 1.littleEndian == 1 }

    private static func utf8Scalars(_ bytes: ArraySlice<UInt8>) -> [Unicode.Scalar]? {
        var it = bytes.makeIterator()
        var decoder = UTF8()
        var out: [Unicode.Scalar] = []
        while true {
            switch decoder.decode(&it) {
            case .scalarValue(let s): out.append(s)
            case .emptyInput: return out
            case .error: return nil
            }
        }
    }
}

// MARK: - Header

/// The three entries of an `.npy` header dict.
private struct Header {
    /// A type string such as '<f4', or a list for structured dtypes.
    var descr: PyLiteral
    var fortranOrder: Bool
    /// The dimensions as written (range-checked by the caller).
    var dims: [String]

    init(_ scalars: [Unicode.Scalar]) throws(LiteralParser.Failure) {
        typealias Failure = LiteralParser.Failure
        guard case .dict(let entries) = try LiteralParser.parse(scalars) else { throw Failure("the header is not a dict") }
        var values: [String: PyLiteral] = [:]
        for (key, value) in entries {
            guard ["descr", "fortran_order", "shape"].contains(key) else { throw Failure("unexpected key '\(key)'") }
            guard values.updateValue(value, forKey: key) == nil else { throw Failure("duplicate key '\(key)'") }
        }
        func value(_ key: String) throws(Failure) -> PyLiteral {
            guard let v = values[key] else { throw Failure("missing key '\(key)'") }
            return v
        }
        let descr = try value("descr")
        guard case .bool(let f) = try value("fortran_order") else { throw Failure("'fortran_order' must be True or False") }
        let shape = try value("shape")
        guard case .tuple(let items) = shape else { throw Failure("'shape' must be a tuple of integers, not \(shape.repr)") }
        var texts: [String] = []
        for dim in items {
            guard case .int(let text) = dim else { throw Failure("'shape' must be a tuple of integers, not \(shape.repr)") }
            texts.append(text)
        }
        (self.descr, fortranOrder, self.dims) = (descr, f, texts)
    }
}

/// A Python literal as `ast.literal_eval` would read it (the subset `.npy` headers use).
private indirect enum PyLiteral {
    case str(String), int(String), bool(Bool), none
    case tuple([PyLiteral]), list([PyLiteral]), dict([(key: String, value: PyLiteral)])

    var repr: String {
        switch self {
        case .str(let s): "'\(s)'"
        case .int(let text): text
        case .bool(let b): b ? "True" : "False"
        case .none: "None"
        case .tuple(let items): items.count == 1 ? "(\(items[0].repr),)" : "(\(items.map(\.repr).joined(separator: ", ")))"
        case .list(let items): "[\(items.map(\.repr).joined(separator: ", "))]"
        case .dict(let entries): "{\(entries.map { "'\($0.key)': \($0.value.repr)" }.joined(separator: ", "))}"
        }
    }
}

/// Recursive-descent parser for dicts, tuples, lists, strings, integers, True, False and None.
private struct LiteralParser {
    struct Failure: Error {
        var message: String
        init(_ message: String) { self.message = message }
    }

    private let s: [Unicode.Scalar]
    private var i = 0
    private var depth = 0

    static func parse(_ scalars: [Unicode.Scalar]) throws(Failure) -> PyLiteral {
        var p = LiteralParser(s: scalars)
        let v = try p.value()
        p.skipSpace()
        guard p.i == p.s.count else { throw p.fail("unexpected '\(p.s[p.i])' after the dict") }
        return v
    }

    private init(s: [Unicode.Scalar]) { self.s = s }

    private func fail(_ what: String) -> Failure { Failure("\(what) at offset \(i)") }

    private mutating func skipSpace() {
        while i < s.count, " \t\n\r\u{0B}\u{0C}".unicodeScalars.contains(s[i]) { i += 1 }
    }

    private mutating func eat(_ c: Unicode.Scalar) -> Bool {
        skipSpace()
        guard i < s.count, s[i] == c else { return false }
        i += 1
        return true
    }

    private mutating func value() throws(Failure) -> PyLiteral {
        skipSpace()
        guard i < s.count else { throw fail("unexpected end of header") }
        let c = s[i]
        switch c {
        case "{", "(", "[":
            guard depth < 32 else { throw fail("nested too deeply") }
            depth += 1
            defer { depth -= 1 }
            i += 1
            if c == "{" { return try dict() }
            let (items, trailingComma) = try sequence(until: c == "(" ? ")" : "]")
            if c == "[" { return .list(items) }
            return items.count == 1 && !trailingComma ? items[0] : .tuple(items)  // (x) is just x
        case "'", "\"": return .str(try string())
        case "-", "+", "0"..."9": return .int(try integer())
        default:
            var name = ""
            while i < s.count, s[i].properties.isAlphabetic || s[i] == "_" { name.unicodeScalars.append(s[i]); i += 1 }
            switch name {
            case "True": return .bool(true)
            case "False": return .bool(false)
            case "None": return .none
            case "": throw fail("unexpected '\(c)'")
            default: throw fail("unexpected name '\(name)'")
            }
        }
    }

    /// Items up to `close` (the opener already consumed), and whether a comma preceded `close`.
    private mutating func sequence(until close: Unicode.Scalar) throws(Failure) -> ([PyLiteral], Bool) {
        var items: [PyLiteral] = []
        while true {
            if eat(close) { return (items, !items.isEmpty) }
            items.append(try value())
            if eat(",") { continue }
            guard eat(close) else { throw fail("expected ',' or '\(close)'") }
            return (items, false)
        }
    }

    private mutating func dict() throws(Failure) -> PyLiteral {
        var entries: [(key: String, value: PyLiteral)] = []
        while true {
            if eat("}") { return .dict(entries) }
            guard case .str(let key) = try value() else { throw fail("dict keys must be strings") }
            guard eat(":") else { throw fail("expected ':' after '\(key)'") }
            entries.append((key, try value()))
            if eat(",") { continue }
            guard eat("}") else { throw fail("expected ',' or '}'") }
            return .dict(entries)
        }
    }

    private mutating func string() throws(Failure) -> String {
        let quote = s[i]
        i += 1
        var out = String.UnicodeScalarView()
        while i < s.count, s[i] != "\n" {
            let c = s[i]
            i += 1
            if c == quote { return String(out) }
            guard c == "\\", i < s.count else { out.append(c); continue }
            let e = s[i]
            i += 1
            switch e {
            case "n": out.append("\n")
            case "t": out.append("\t")
            case "\\", "'", "\"": out.append(e)
            default: out.append(c); out.append(e)
            }
        }
        throw fail("unterminated string")
    }

    /// An optionally signed decimal integer, as text (range-checked by the caller); Python 2's `L`
    /// suffix is accepted.
    private mutating func integer() throws(Failure) -> String {
        var text = String.UnicodeScalarView()
        if s[i] == "-" || s[i] == "+" { text.append(s[i]); i += 1 }
        let digitsStart = text.count
        while i < s.count, ("0"..."9").contains(s[i]) { text.append(s[i]); i += 1 }
        guard text.count > digitsStart else { throw fail("expected digits") }
        if i < s.count, s[i] == "L" || s[i] == "l" { i += 1 }
        return String(text)
    }
}
