/// Reads and validates a `.vigil` file. Every offset, length, index and shape is checked before it
/// is used; a malformed file gives a `VigilError` naming what is wrong and where, never a trap.
public enum ModelReader {
    public static func read(_ bytes: UnsafeRawBufferPointer) throws(VigilError) -> Model {
        let r = Bytes(bytes)
        // Header
        guard bytes.count >= VigilFormat.headerSize else {
            throw VigilError(.truncated, "file is \(bytes.count) bytes; the header alone is \(VigilFormat.headerSize)")
        }
        for i in 0..<8 where bytes[i] != VigilFormat.magic[i] {
            throw VigilError(.badMagic, "byte \(i) of the magic is \(hex(bytes[i])); not a .vigil file")
        }
        let major = try r.u16(8), minor = try r.u16(10)
        guard major == VigilFormat.majorVersion else {
            throw VigilError(.unsupportedVersion,
                             "file format \(major).\(minor); this reader supports \(VigilFormat.majorVersion).x")
        }
        let sectionCount = Int(try r.u32(12))
        let fileLength = try r.u64(16)
        let headerCRC = try r.u32(28)
        guard fileLength == UInt64(bytes.count) else {
            throw VigilError(.fileLength, "header says the file is \(fileLength) bytes; it is \(bytes.count)")
        }
        guard sectionCount >= 1, sectionCount <= VigilFormat.maxSections else {
            throw VigilError(.badGraph, "section count \(sectionCount) outside 1...\(VigilFormat.maxSections)")
        }
        let tableEnd = VigilFormat.headerSize + sectionCount * VigilFormat.sectionEntrySize
        guard tableEnd <= bytes.count else {
            throw VigilError(.truncated, "section table of \(sectionCount) entries ends at byte \(tableEnd), past the end (\(bytes.count))")
        }
        if try r.u32(24) != 0 { throw VigilError(.reservedNonZero, "header flags at byte 24 must be 0") }
        for i in stride(from: 32, to: 64, by: 4) where try r.u32(i) != 0 {
            throw VigilError(.reservedNonZero, "header byte \(i) is reserved and must be 0")
        }
        var crc = CRC32.update(0, UnsafeRawBufferPointer(rebasing: bytes[0..<28]))
        crc = CRC32.update(crc, [0, 0, 0, 0])  // the CRC field itself counts as zero
        crc = CRC32.update(crc, UnsafeRawBufferPointer(rebasing: bytes[32..<tableEnd]))
        guard crc == headerCRC else {
            throw VigilError(.headerChecksum, "header CRC-32 is \(hex32(crc)); the file says \(hex32(headerCRC))")
        }

        // Section table
        var sections: [SectionEntry] = []
        for i in 0..<sectionCount {
            let at = VigilFormat.headerSize + i * VigilFormat.sectionEntrySize
            let kind = SectionKind(rawValue: try r.u32(at))
            let flags = try r.u32(at + 4)
            guard flags & ~1 == 0 else {
                throw VigilError(.reservedNonZero, "section \(i) (\(kind.text)): flags \(flags) set reserved bits")
            }
            let off = try r.u64(at + 8), len = try r.u64(at + 16)
            let sum = try r.u32(at + 24)
            if try r.u32(at + 28) != 0 {
                throw VigilError(.reservedNonZero, "section \(i) (\(kind.text)): reserved word must be 0")
            }
            guard off <= UInt64(bytes.count), len <= UInt64(bytes.count) - off else {
                throw VigilError(.sectionOutOfBounds,
                                 "section \(i) (\(kind.text)): bytes [\(off), \(off &+ len)) lie outside the file (\(bytes.count) bytes)")
            }
            guard off % UInt64(VigilFormat.alignment) == 0 else {
                throw VigilError(.sectionMisaligned, "section \(i) (\(kind.text)): offset \(off) is not a multiple of 64")
            }
            guard off >= UInt64(tableEnd) else {
                throw VigilError(.sectionOverlap, "section \(i) (\(kind.text)): offset \(off) overlaps the header and section table (which end at \(tableEnd))")
            }
            let e = SectionEntry(kind: kind, flags: flags, offset: Int(off), length: Int(len), checksum: sum)
            for (j, o) in sections.enumerated() {
                if o.kind == kind {
                    throw VigilError(.duplicateSection, "section \(i) (\(kind.text)) repeats section \(j)")
                }
                if e.length > 0, o.length > 0, e.offset < o.offset + o.length, o.offset < e.offset + e.length {
                    throw VigilError(.sectionOverlap, "section \(i) (\(kind.text)) overlaps section \(j) (\(o.kind.text))")
                }
            }
            let actual = CRC32.checksum(UnsafeRawBufferPointer(rebasing: bytes[e.offset..<(e.offset + e.length)]))
            guard actual == sum else {
                throw VigilError(.sectionChecksum, "section \(i) (\(kind.text)): CRC-32 is \(hex32(actual)); the table says \(hex32(sum))")
            }
            let known = [SectionKind.metadata, .strings, .tensors, .graph, .weights, .plan, .signature].contains(kind)
            if !known && (flags & 1) != 0 {
                throw VigilError(.unknownSection, "section \(i) (\(kind.text)) is marked required but this reader does not know it")
            }
            sections.append(e)
        }
        func find(_ k: SectionKind) throws(VigilError) -> SectionEntry {
            for s in sections where s.kind == k { return s }
            throw VigilError(.missingSection, "required section \(k.text) is missing")
        }
        let strs = try find(.strings), tens = try find(.tensors), grph = try find(.graph)
        let wght = try find(.weights)
        _ = try find(.metadata)

        let tensors = try readTensors(r, tens, strings: strs, weights: wght)
        var model = Model(bytes: bytes, majorVersion: major, minorVersion: minor, sections: sections,
                          tensors: tensors, ops: [], inputs: [], outputs: [])
        try readGraph(r, grph, strings: strs, into: &model)
        return model
    }

    // MARK: Tensor table

    static func readTensors(_ r: Bytes, _ s: SectionEntry, strings: SectionEntry,
                            weights: SectionEntry) throws(VigilError) -> [TensorInfo] {
        guard s.length >= 8 else { throw VigilError(.truncated, "tensor table is \(s.length) bytes; its header is 8") }
        let count = Int(try r.u32(s.offset)), recordSize = Int(try r.u32(s.offset + 4))
        guard recordSize == VigilFormat.tensorRecordSize else {
            throw VigilError(.badTensorRecord, "tensor record size \(recordSize); version 1 records are 64 bytes")
        }
        guard count <= VigilFormat.maxTensors, 8 + count * recordSize == s.length else {
            throw VigilError(.badTensorRecord, "tensor table of \(s.length) bytes cannot hold \(count) records of 64 bytes")
        }
        var out: [TensorInfo] = []
        out.reserveCapacity(count)
        for i in 0..<count {
            let at = s.offset + 8 + i * recordSize
            let name = try readString(r, strings, offset: try r.u32(at + 8), length: try r.u32(at + 12), what: "tensor \(i) name")
            func where_() -> String { name.isEmpty ? "tensor \(i)" : "tensor \(i) (\(name))" }
            guard let dtype = DType(rawValue: try r.u8(at)) else {
                throw VigilError(.badDType, "\(where_()): unknown dtype code \(try r.u8(at))")
            }
            let rank = Int(try r.u8(at + 1)), kind = try r.u8(at + 2)
            guard rank <= VigilFormat.maxRank else {
                throw VigilError(.badShape, "\(where_()): rank \(rank) exceeds \(VigilFormat.maxRank)")
            }
            guard kind <= 1 else { throw VigilError(.badTensorRecord, "\(where_()): unknown kind \(kind)") }
            if try r.u8(at + 3) != 0 { throw VigilError(.reservedNonZero, "\(where_()): reserved byte 3 must be 0") }
            var shape: [Int] = []
            var elements = 1
            for d in 0..<VigilFormat.maxRank {
                let v = Int(Int32(bitPattern: try r.u32(at + 16 + 4 * d)))
                if d >= rank {
                    if v != 0 { throw VigilError(.reservedNonZero, "\(where_()): dimension slot \(d) beyond rank \(rank) must be 0") }
                    continue
                }
                guard v >= 1 else { throw VigilError(.badShape, "\(where_()): dimension \(d) is \(v); dimensions must be at least 1") }
                let (p, o) = elements.multipliedReportingOverflow(by: v)
                guard !o, p <= VigilFormat.maxElements else {
                    throw VigilError(.shapeOverflow, "\(where_()): shape overflows the element limit (2^31 - 1) at dimension \(d)")
                }
                elements = p
                shape.append(v)
            }
            let dataOff = try r.u64(at + 40), dataLen = try r.u64(at + 48)
            var absolute = 0
            if kind == 1 {
                guard dataLen == UInt64(elements * dtype.byteSize) else {
                    throw VigilError(.dataLength, "\(where_()): data is \(dataLen) bytes; shape and dtype need \(elements * dtype.byteSize)")
                }
                guard dataOff <= UInt64(weights.length), dataLen <= UInt64(weights.length) - dataOff else {
                    throw VigilError(.dataOutOfBounds, "\(where_()): data [\(dataOff), \(dataOff &+ dataLen)) lies outside section WGHT of \(weights.length) bytes")
                }
                guard dataOff % UInt64(VigilFormat.alignment) == 0 else {
                    throw VigilError(.dataMisaligned, "\(where_()): data offset \(dataOff) is not a multiple of 64")
                }
                absolute = weights.offset + Int(dataOff)
            } else if dataOff != 0 || dataLen != 0 {
                throw VigilError(.badTensorRecord, "\(where_()): a variable tensor has no data, but its record gives \(dataLen) bytes at \(dataOff)")
            }
            let axis = Int(Int32(bitPattern: try r.u32(at + 4)))
            let qOff = Int(try r.u32(at + 56)), qCount = Int(try r.u32(at + 60))
            var quant: Quantization? = nil
            if qCount == 0 {
                guard axis == -1, qOff == 0 else {
                    throw VigilError(.badQuantization, "\(where_()): no quantization, but axis \(axis) and offset \(qOff) are set")
                }
            } else {
                guard dtype != .float32 else { throw VigilError(.badQuantization, "\(where_()): float32 tensors carry no quantization") }
                if qCount == 1 {
                    guard axis == -1 else { throw VigilError(.badQuantization, "\(where_()): one scale needs axis -1, got \(axis)") }
                } else {
                    guard axis >= 0, axis < rank, shape[axis] == qCount else {
                        throw VigilError(.badQuantization, "\(where_()): \(qCount) scales along axis \(axis) do not match shape \(shape)")
                    }
                }
                guard qOff % 4 == 0, qOff <= weights.length, qCount <= (weights.length - qOff) / 8 else {
                    throw VigilError(.dataOutOfBounds, "\(where_()): quantization parameters at \(qOff) (\(qCount) entries) lie outside WGHT")
                }
                var scales: [Float] = [], zps: [Int32] = []
                let lo: Int32 = dtype == .int8 ? -128 : (dtype == .uint8 ? 0 : Int32.min)
                let hi: Int32 = dtype == .int8 ? 127 : (dtype == .uint8 ? 255 : Int32.max)
                for c in 0..<qCount {
                    let sc = Float(bitPattern: try r.u32(weights.offset + qOff + 4 * c))
                    let zp = Int32(bitPattern: try r.u32(weights.offset + qOff + 4 * qCount + 4 * c))
                    guard sc.isFinite, sc > 0, sc >= Float.leastNormalMagnitude else {
                        throw VigilError(.badQuantization, "\(where_()): scale \(c) is \(sc); scales must be finite, positive and normal")
                    }
                    guard zp >= lo, zp <= hi else {
                        throw VigilError(.badQuantization, "\(where_()): zero point \(c) = \(zp) outside the \(dtype.name) range")
                    }
                    scales.append(sc)
                    zps.append(zp)
                }
                quant = qCount == 1 ? Quantization(scale: scales[0], zeroPoint: zps[0])
                    : Quantization(scales: scales, zeroPoints: zps, axis: axis)
            }
            out.append(TensorInfo(name: name, dtype: dtype, shape: shape, elementCount: elements,
                                  isConstant: kind == 1, dataOffset: absolute, quantization: quant))
        }
        return out
    }

    // MARK: Graph

    static func readGraph(_ r: Bytes, _ s: SectionEntry, strings: SectionEntry,
                          into model: inout Model) throws(VigilError) {
        let end = s.offset + s.length
        var at = s.offset
        func need(_ n: Int, _ what: @autoclosure () -> String) throws(VigilError) {
            guard n >= 0, n <= end - at else {
                throw VigilError(.truncated, "graph section ends inside \(what()) (byte \(at - s.offset) of \(s.length))")
            }
        }
        try need(16, "the graph header")
        let opCount = Int(try r.u32(at)), inCount = Int(try r.u32(at + 4)), outCount = Int(try r.u32(at + 8))
        if try r.u32(at + 12) != 0 { throw VigilError(.reservedNonZero, "graph header reserved word must be 0") }
        at += 16
        let nt = model.tensors.count
        guard opCount <= VigilFormat.maxOps, inCount <= nt, outCount <= nt, outCount >= 1 else {
            throw VigilError(.badGraph, "graph header: \(opCount) ops, \(inCount) inputs, \(outCount) outputs with \(nt) tensors")
        }
        try need(4 * (inCount + outCount), "the input and output lists")
        // producer[t]: -2 = nobody yet, -1 = graph input, k = op k
        var producer = [Int](repeating: -2, count: nt)
        for i in 0..<inCount {
            let t = Int(try r.u32(at)); at += 4
            guard t < nt else { throw VigilError(.badTensorIndex, "graph input \(i) names tensor \(t); there are \(nt)") }
            guard !model.tensors[t].isConstant else { throw VigilError(.badGraph, "graph input \(i) is constant tensor \(t)") }
            guard producer[t] == -2 else { throw VigilError(.multipleProducers, "tensor \(t) is listed twice as a graph input") }
            producer[t] = -1
            model.inputs.append(t)
        }
        for i in 0..<outCount {
            let t = Int(try r.u32(at)); at += 4
            guard t < nt else { throw VigilError(.badTensorIndex, "graph output \(i) names tensor \(t); there are \(nt)") }
            guard !model.tensors[t].isConstant else { throw VigilError(.badGraph, "graph output \(i) is constant tensor \(t)") }
            model.outputs.append(t)
        }
        // Ops, in execution order.
        var consumersLater: [(op: Int, input: Int, tensor: Int)] = []
        for k in 0..<opCount {
            try need(16, "the header of op \(k)")
            let raw = try r.u16(at)
            let nIn = Int(try r.u16(at + 2)), nOut = Int(try r.u16(at + 4)), nAttr = Int(try r.u16(at + 6))
            let name = try readString(r, strings, offset: try r.u32(at + 8), length: try r.u32(at + 12), what: "op \(k) name")
            at += 16
            guard let code = OpCode(rawValue: raw) else {
                throw VigilError(.unknownOp, "node \(k)\(name.isEmpty ? "" : " '\(name)'"): unknown operator code \(raw)")
            }
            var op = OpInfo(code: code, name: name, inputs: [], outputs: [], attributes: [])
            guard nIn <= 64, nOut >= 1, nOut <= 8, nAttr <= 32 else {
                throw VigilError(.badOperands, "\(op.label(k)): \(nIn) inputs, \(nOut) outputs, \(nAttr) attributes is out of range")
            }
            try need(4 * (nIn + nOut), "the operands of \(op.label(k))")
            for i in 0..<nIn {
                let t = Int(Int32(bitPattern: try r.u32(at))); at += 4
                guard t >= -1, t < nt else { throw VigilError(.badTensorIndex, "\(op.label(k)): input \(i) names tensor \(t); there are \(nt)") }
                if t >= 0, !model.tensors[t].isConstant, producer[t] == -2 {
                    consumersLater.append((k, i, t))  // resolved below: later producer (cycle) or none (dangling)
                }
                op.inputs.append(t)
            }
            for i in 0..<nOut {
                let t = Int(Int32(bitPattern: try r.u32(at))); at += 4
                guard t >= 0, t < nt else { throw VigilError(.badTensorIndex, "\(op.label(k)): output \(i) names tensor \(t); there are \(nt)") }
                guard !model.tensors[t].isConstant else { throw VigilError(.badGraph, "\(op.label(k)): output \(i) is constant tensor \(t)") }
                guard producer[t] == -2 else {
                    throw VigilError(.multipleProducers, "\(op.label(k)): output tensor \(t) is already produced by \(producer[t] == -1 ? "the graph input" : "node \(producer[t])")")
                }
                producer[t] = k
                op.outputs.append(t)
            }
            for a in 0..<nAttr {
                try need(8, "attribute \(a) of \(op.label(k))")
                let keyRaw = try r.u16(at), reserved = try r.u16(at + 2), count = Int(try r.u32(at + 4))
                at += 8
                guard let key = AttributeKey(rawValue: keyRaw) else {
                    throw VigilError(.badAttribute, "\(op.label(k)): attribute \(a) has unknown key \(keyRaw)")
                }
                guard reserved == 0 else { throw VigilError(.reservedNonZero, "\(op.label(k)): attribute \(key.name) reserved half-word must be 0") }
                guard count <= 64 else { throw VigilError(.badAttribute, "\(op.label(k)): attribute \(key.name) has \(count) values (at most 64)") }
                guard op.attribute(key) == nil else { throw VigilError(.badAttribute, "\(op.label(k)): attribute \(key.name) appears twice") }
                try need(4 * count, "attribute \(key.name) of \(op.label(k))")
                var words: [UInt32] = []
                for w in 0..<count { words.append(try r.u32(at + 4 * w)) }
                at += 4 * count
                op.attributes.append(Attribute(key, words: words))
            }
            model.ops.append(op)
        }
        guard at == end else {
            throw VigilError(.badGraph, "graph section has \(end - at) bytes after the last op")
        }
        for c in consumersLater {
            let p = producer[c.tensor]
            let label = model.ops[c.op].label(c.op)
            if p >= 0 {
                throw VigilError(.cyclicGraph, "\(label): input \(c.input) (tensor \(c.tensor)) is produced later, by node \(p); ops must be in topological order and acyclic")
            }
            throw VigilError(.danglingTensor, "\(label): input \(c.input) (tensor \(c.tensor)) is never produced")
        }
        for (i, t) in model.outputs.enumerated() where producer[t] == -2 {
            throw VigilError(.danglingTensor, "graph output \(i) (tensor \(t)) is never produced")
        }
    }

    static func readString(_ r: Bytes, _ s: SectionEntry, offset: UInt32, length: UInt32,
                           what: @autoclosure () -> String) throws(VigilError) -> String {
        guard Int(offset) <= s.length, Int(length) <= s.length - Int(offset), length <= 4096 else {
            throw VigilError(.badString, "\(what()): [\(offset), \(UInt64(offset) + UInt64(length))) lies outside STRS (\(s.length) bytes)")
        }
        let start = s.offset + Int(offset)
        return String(decoding: UnsafeRawBufferPointer(rebasing: r.base[start..<(start + Int(length))]), as: UTF8.self)
    }
}

/// Bounds-checked little-endian loads.
struct Bytes {
    let base: UnsafeRawBufferPointer
    init(_ base: UnsafeRawBufferPointer) { self.base = base }

    @inline(__always) func check(_ at: Int, _ n: Int) throws(VigilError) {
        guard at >= 0, at <= base.count - n else {
            throw VigilError(.truncated, "read of \(n) bytes at offset \(at) runs past the end (\(base.count) bytes)")
        }
    }
    func u8(_ at: Int) throws(VigilError) -> UInt8 { try check(at, 1); return base[at] }
    func u16(_ at: Int) throws(VigilError) -> UInt16 {
        try check(at, 2); return UInt16(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt16.self))
    }
    func u32(_ at: Int) throws(VigilError) -> UInt32 {
        try check(at, 4); return UInt32(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt32.self))
    }
    func u64(_ at: Int) throws(VigilError) -> UInt64 {
        try check(at, 8); return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: at, as: UInt64.self))
    }
}


func hex(_ b: UInt8) -> String { "0x" + hexDigits(UInt64(b), 2) }
func hex32(_ v: UInt32) -> String { "0x" + hexDigits(UInt64(v), 8) }

/// Lower-case hex digits built from bytes (no Character operations, so the Embedded build needs no
/// Unicode tables).
func hexDigits(_ v: UInt64, _ count: Int) -> String {
    var out: [UInt8] = []
    for i in (0..<count).reversed() {
        let d = UInt8(truncatingIfNeeded: v >> (4 * UInt64(i))) & 15
        out.append(d < 10 ? 0x30 + d : 0x57 + d)
    }
    return String(decoding: out, as: UTF8.self)
}
