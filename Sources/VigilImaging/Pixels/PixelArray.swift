// Decoded pixels: a shape in pydicom's order and typed storage.

/// Decoded pixel values with their shape: `[rows, cols]`, `[frames, rows, cols]`, and a trailing
/// `3` for colour (samples interleaved), in C order, as pydicom's `pixel_array` lays them out.
public struct PixelArray: Sendable, Equatable {
    /// The values in the element type their stage produces.
    public enum Storage: Sendable, Equatable {
        /// Bits Allocated 8 (or 1) unsigned.
        case uint8([UInt8])
        /// Bits Allocated 8 signed.
        case int8([Int8])
        /// Bits Allocated 16 unsigned.
        case uint16([UInt16])
        /// Bits Allocated 16 signed.
        case int16([Int16])
        /// Bits Allocated 32 unsigned.
        case uint32([UInt32])
        /// Bits Allocated 32 signed.
        case int32([Int32])
        /// Modality and VOI stages (pydicom computes these in float64).
        case float64([Double])
    }

    /// Dimensions, outermost first.
    public var shape: [Int]
    /// The values, `shape.reduce(1, *)` of them.
    public var storage: Storage

    /// Wraps values and a shape; the caller keeps `count` equal to the product of `shape`.
    public init(shape: [Int], storage: Storage) {
        self.shape = shape
        self.storage = storage
    }

    /// Number of values.
    public var count: Int {
        switch storage {
        case .uint8(let v): v.count
        case .int8(let v): v.count
        case .uint16(let v): v.count
        case .int16(let v): v.count
        case .uint32(let v): v.count
        case .int32(let v): v.count
        case .float64(let v): v.count
        }
    }

    /// NumPy's name for the element type: `uint8`, `int16`, `float64`, ...
    public var dtypeName: String {
        switch storage {
        case .uint8: "uint8"
        case .int8: "int8"
        case .uint16: "uint16"
        case .int16: "int16"
        case .uint32: "uint32"
        case .int32: "int32"
        case .float64: "float64"
        }
    }

    /// Every value as `Double` (exact for all storages).
    public func doubles() -> [Double] { doubles(range: 0..<count) }

    /// The values at flat indexes `range` as `Double`.
    func doubles(range r: Range<Int>) -> [Double] {
        switch storage {
        case .uint8(let v): v[r].map { Double($0) }
        case .int8(let v): v[r].map { Double($0) }
        case .uint16(let v): v[r].map { Double($0) }
        case .int16(let v): v[r].map { Double($0) }
        case .uint32(let v): v[r].map { Double($0) }
        case .int32(let v): v[r].map { Double($0) }
        case .float64(let v): Array(v[r])
        }
    }

    /// The array as a NumPy `.npy` file (format 1.0, little-endian, C order). Written here rather
    /// than through VigilIO's NPY because that one has no uint16 or uint32.
    public func npyBytes() -> [UInt8] {
        let descr: String
        switch storage {
        case .uint8: descr = "|u1"
        case .int8: descr = "|i1"
        case .uint16: descr = "<u2"
        case .int16: descr = "<i2"
        case .uint32: descr = "<u4"
        case .int32: descr = "<i4"
        case .float64: descr = "<f8"
        }
        let dims = shape.map(String.init).joined(separator: ", ")
        let shapeText = shape.count == 1 ? "(\(dims),)" : "(\(dims))"
        var header = "{'descr': '\(descr)', 'fortran_order': False, 'shape': \(shapeText), }"
        // Magic (6) + version (2) + length (2) + header + '\n' is a multiple of 64.
        let unpadded = 10 + header.utf8.count + 1
        header += String(repeating: " ", count: (64 - unpadded % 64) % 64) + "\n"
        var out: [UInt8] = [0x93] + Array("NUMPY".utf8) + [1, 0]
        let n = UInt16(header.utf8.count)
        out += [UInt8(n & 0xFF), UInt8(n >> 8)]
        out += Array(header.utf8)
        func append<T: FixedWidthInteger>(_ values: [T]) {
            out.reserveCapacity(out.count + values.count * MemoryLayout<T>.size)
            for v in values { withUnsafeBytes(of: v.littleEndian) { out.append(contentsOf: $0) } }
        }
        switch storage {
        case .uint8(let v): out += v
        case .int8(let v): append(v)
        case .uint16(let v): append(v)
        case .int16(let v): append(v)
        case .uint32(let v): append(v)
        case .int32(let v): append(v)
        case .float64(let v): append(v.map { $0.bitPattern })
        }
        return out
    }
}
