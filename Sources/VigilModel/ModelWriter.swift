/// Builds a `.vigil` file: tensors, ops, graph inputs and outputs, metadata JSON bytes.
/// The converter and the tests use it; the result always passes `ModelReader`'s validation when
/// the graph itself is well formed.
public struct ModelBuilder: Sendable {
    struct PendingTensor: Sendable {
        var info: TensorInfo
        var data: [UInt8]
    }
    var tensors: [PendingTensor] = []
    public private(set) var ops: [OpInfo] = []
    public var inputs: [Int] = []
    public var outputs: [Int] = []
    /// UTF-8 JSON for the META section.
    public var metadataJSON: [UInt8] = Array("{}".utf8)

    public init() {}

    public var tensorCount: Int { tensors.count }
    public func tensor(_ i: Int) -> TensorInfo { tensors[i].info }

    /// Adds a variable (arena) tensor and returns its index.
    public mutating func addTensor(_ name: String, _ dtype: DType, _ shape: [Int],
                                   quantization: Quantization? = nil) -> Int {
        append(name, dtype, shape, quantization, nil)
    }

    /// Adds a constant tensor whose raw little-endian bytes are `data`.
    public mutating func addConstant(_ name: String, _ dtype: DType, _ shape: [Int], data: [UInt8],
                                     quantization: Quantization? = nil) -> Int {
        append(name, dtype, shape, quantization, data)
    }
    public mutating func addConstant(_ name: String, float32 values: [Float], shape: [Int]) -> Int {
        var d: [UInt8] = []
        d.reserveCapacity(values.count * 4)
        for v in values { appendLE(&d, v.bitPattern) }
        return addConstant(name, .float32, shape, data: d)
    }
    public mutating func addConstant(_ name: String, int8 values: [Int8], shape: [Int],
                                     quantization: Quantization?) -> Int {
        addConstant(name, .int8, shape, data: values.map { UInt8(bitPattern: $0) }, quantization: quantization)
    }
    public mutating func addConstant(_ name: String, int32 values: [Int32], shape: [Int],
                                     quantization: Quantization? = nil) -> Int {
        var d: [UInt8] = []
        d.reserveCapacity(values.count * 4)
        for v in values { appendLE(&d, UInt32(bitPattern: v)) }
        return addConstant(name, .int32, shape, data: d, quantization: quantization)
    }

    mutating func append(_ name: String, _ dtype: DType, _ shape: [Int], _ q: Quantization?, _ data: [UInt8]?) -> Int {
        var n = 1
        for d in shape { n *= d }
        let info = TensorInfo(name: name, dtype: dtype, shape: shape, elementCount: n,
                              isConstant: data != nil, dataOffset: 0, quantization: q)
        tensors.append(PendingTensor(info: info, data: data ?? []))
        return tensors.count - 1
    }

    public mutating func addOp(_ code: OpCode, _ name: String = "", inputs: [Int], outputs: [Int],
                               attributes: [Attribute] = []) {
        ops.append(OpInfo(code: code, name: name, inputs: inputs, outputs: outputs, attributes: attributes))
    }

    /// Serializes to the bytes of a `.vigil` file (format 1.0).
    public func serialize() -> [UInt8] {
        var strings: [UInt8] = []
        func intern(_ s: String) -> (UInt32, UInt32) {
            let u = Array(s.utf8)
            let off = strings.count
            strings += u
            return (UInt32(off), UInt32(u.count))
        }
        // WGHT: constant data (64-aligned), then quantization blobs (4-aligned).
        var weights: [UInt8] = []
        var tens: [UInt8] = []
        appendLE(&tens, UInt32(tensors.count))
        appendLE(&tens, UInt32(VigilFormat.tensorRecordSize))
        for t in tensors {
            var dataOff = 0
            if t.info.isConstant {
                pad(&weights, to: VigilFormat.alignment)
                dataOff = weights.count
                weights += t.data
            }
            var qOff = 0, qCount = 0
            if let q = t.info.quantization {
                pad(&weights, to: 4)
                qOff = weights.count
                qCount = q.scales.count
                for s in q.scales { appendLE(&weights, s.bitPattern) }
                for z in q.zeroPoints { appendLE(&weights, UInt32(bitPattern: z)) }
            }
            let (nameOff, nameLen) = intern(t.info.name)
            tens.append(t.info.dtype.rawValue)
            tens.append(UInt8(t.info.shape.count))
            tens.append(t.info.isConstant ? 1 : 0)
            tens.append(0)
            appendLE(&tens, UInt32(bitPattern: Int32(t.info.quantization?.axis ?? -1)))
            appendLE(&tens, nameOff)
            appendLE(&tens, nameLen)
            for d in 0..<VigilFormat.maxRank {
                appendLE(&tens, UInt32(bitPattern: Int32(d < t.info.shape.count ? t.info.shape[d] : 0)))
            }
            appendLE(&tens, UInt64(dataOff))
            appendLE(&tens, UInt64(t.info.isConstant ? t.data.count : 0))
            appendLE(&tens, UInt32(qOff))
            appendLE(&tens, UInt32(qCount))
        }
        var graph: [UInt8] = []
        appendLE(&graph, UInt32(ops.count))
        appendLE(&graph, UInt32(inputs.count))
        appendLE(&graph, UInt32(outputs.count))
        appendLE(&graph, UInt32(0))
        for t in inputs { appendLE(&graph, UInt32(t)) }
        for t in outputs { appendLE(&graph, UInt32(t)) }
        for op in ops {
            let (nameOff, nameLen) = intern(op.name)
            appendLE(&graph, op.code.rawValue)
            appendLE(&graph, UInt16(op.inputs.count))
            appendLE(&graph, UInt16(op.outputs.count))
            appendLE(&graph, UInt16(op.attributes.count))
            appendLE(&graph, nameOff)
            appendLE(&graph, nameLen)
            for t in op.inputs { appendLE(&graph, UInt32(bitPattern: Int32(t))) }
            for t in op.outputs { appendLE(&graph, UInt32(bitPattern: Int32(t))) }
            for a in op.attributes {
                appendLE(&graph, a.key.rawValue)
                appendLE(&graph, UInt16(0))
                appendLE(&graph, UInt32(a.words.count))
                for w in a.words { appendLE(&graph, w) }
            }
        }
        return ModelBuilder.assemble([
            (.metadata, metadataJSON), (.strings, strings), (.tensors, tens), (.graph, graph), (.weights, weights),
        ])
    }

    /// Lays out sections after the header and table, each 64-byte aligned, and fills in checksums.
    /// Public so tests can build deliberately odd files.
    public static func assemble(_ sections: [(SectionKind, [UInt8])], flags: [UInt32]? = nil) -> [UInt8] {
        let tableEnd = VigilFormat.headerSize + sections.count * VigilFormat.sectionEntrySize
        var out = [UInt8](repeating: 0, count: tableEnd)
        var entries: [(UInt32, UInt32, UInt64, UInt64, UInt32)] = []
        for (i, (kind, bytes)) in sections.enumerated() {
            pad(&out, to: VigilFormat.alignment)
            entries.append((kind.rawValue, flags?[i] ?? 1, UInt64(out.count), UInt64(bytes.count), CRC32.checksum(bytes)))
            out += bytes
        }
        pad(&out, to: VigilFormat.alignment)
        var header: [UInt8] = VigilFormat.magic
        appendLE(&header, VigilFormat.majorVersion)
        appendLE(&header, VigilFormat.minorVersion)
        appendLE(&header, UInt32(sections.count))
        appendLE(&header, UInt64(out.count))
        appendLE(&header, UInt32(0))  // flags
        appendLE(&header, UInt32(0))  // CRC, filled below
        header += [UInt8](repeating: 0, count: 32)
        for e in entries {
            appendLE(&header, e.0)
            appendLE(&header, e.1)
            appendLE(&header, e.2)
            appendLE(&header, e.3)
            appendLE(&header, e.4)
            appendLE(&header, UInt32(0))
        }
        let crc = CRC32.checksum(header)
        for i in 0..<4 { header[28 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
        for i in 0..<header.count { out[i] = header[i] }
        return out
    }

    /// Recomputes the header CRC of a file in place (tests use it to corrupt one field at a time).
    public static func refreshHeaderChecksum(_ file: inout [UInt8]) {
        guard file.count >= 64 else { return }
        let n = Int(UInt32(file[12]) | UInt32(file[13]) << 8 | UInt32(file[14]) << 16 | UInt32(file[15]) << 24)
        let end = min(file.count, 64 + n * VigilFormat.sectionEntrySize)
        for i in 28..<32 { file[i] = 0 }
        let crc = CRC32.checksum(Array(file[0..<end]))
        for i in 0..<4 { file[28 + i] = UInt8(truncatingIfNeeded: crc >> (8 * UInt32(i))) }
    }
}

@inline(__always) func appendLE<T: FixedWidthInteger>(_ out: inout [UInt8], _ v: T) {
    var x = v.littleEndian
    for _ in 0..<(T.bitWidth / 8) {
        out.append(UInt8(truncatingIfNeeded: x))
        x >>= 8
    }
}

@inline(__always) func pad(_ out: inout [UInt8], to alignment: Int) {
    while out.count % alignment != 0 { out.append(0) }
}
