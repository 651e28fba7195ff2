// Building blocks of the malformed-model corpus: a small valid int8 model described as plain data
// (so a case can change one tensor, op or attribute and re-serialize), a section-level view of a
// file (so a case can change one section's bytes and re-assemble with valid CRCs), and
// little-endian patch helpers for corruptions below that level.
import VigilModel

// MARK: - Little-endian access to [UInt8]

extension Array where Element == UInt8 {
    func le16(_ at: Int) -> UInt16 { UInt16(self[at]) | UInt16(self[at + 1]) << 8 }
    func le32(_ at: Int) -> UInt32 { (0..<4).reduce(0) { $0 | UInt32(self[at + $1]) << (8 * UInt32($1)) } }
    func le64(_ at: Int) -> UInt64 { (0..<8).reduce(0) { $0 | UInt64(self[at + $1]) << (8 * UInt64($1)) } }

    mutating func setLE16(_ v: UInt16, at: Int) { for i in 0..<2 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt16(i))) } }
    mutating func setLE32(_ v: UInt32, at: Int) { for i in 0..<4 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt32(i))) } }
    mutating func setLE64(_ v: UInt64, at: Int) { for i in 0..<8 { self[at + i] = UInt8(truncatingIfNeeded: v >> (8 * UInt64(i))) } }
    mutating func setI32(_ v: Int32, at: Int) { setLE32(UInt32(bitPattern: v), at: at) }
    mutating func setF32(_ v: Float, at: Int) { setLE32(v.bitPattern, at: at) }
}

// MARK: - The base model as data

struct CorpusTensor: Sendable {
    var name: String
    var dtype: DType
    var shape: [Int]
    var quantization: Quantization?
    /// Raw little-endian bytes for a constant; nil for a variable (arena) tensor.
    var data: [UInt8]?
}

struct CorpusOp: Sendable {
    var code: OpCode
    var name: String
    var inputs: [Int]
    var outputs: [Int]
    var attributes: [Attribute] = []

    mutating func set(_ a: Attribute) {
        if let i = attributes.firstIndex(where: { $0.key == a.key }) { attributes[i] = a } else { attributes.append(a) }
    }
}

/// A whole model as plain values. `serialize()` goes through `ModelBuilder`, so every section,
/// offset and checksum of the result is what the real writer produces.
struct CorpusSpec: Sendable {
    var tensors: [CorpusTensor]
    var ops: [CorpusOp]
    var inputs: [Int]
    var outputs: [Int]
    var metadata: String

    func builder() -> ModelBuilder {
        var b = ModelBuilder()
        for t in tensors {
            if let d = t.data {
                _ = b.addConstant(t.name, t.dtype, t.shape, data: d, quantization: t.quantization)
            } else {
                _ = b.addTensor(t.name, t.dtype, t.shape, quantization: t.quantization)
            }
        }
        for op in ops { b.addOp(op.code, op.name, inputs: op.inputs, outputs: op.outputs, attributes: op.attributes) }
        b.inputs = inputs
        b.outputs = outputs
        b.metadataJSON = Array(metadata.utf8)
        return b
    }

    func serialize() -> [UInt8] { builder().serialize() }

    /// Index of the tensor or op with this name (the corpus refers to them by name, not number).
    func t(_ name: String) -> Int { tensors.firstIndex { $0.name == name }! }
    func op(_ name: String) -> Int { ops.firstIndex { $0.name == name }! }

    /// Quantize -> Conv 3x3 (pad 1, per-channel weights, bias) -> Clip [0, 6] -> Reshape ->
    /// FullyConnected (per-tensor weights, bias) -> Softmax -> Dequantize. Float32 in [1, 1, 4, 4],
    /// float32 probabilities out [1, 3]; everything between is int8.
    static func base() -> CorpusSpec {
        func i8(_ v: [Int]) -> [UInt8] { v.map { UInt8(bitPattern: Int8($0)) } }
        func i32(_ v: [Int32]) -> [UInt8] {
            var out: [UInt8] = []
            for x in v { out.append(contentsOf: [0, 0, 0, 0]); out.setI32(x, at: out.count - 4) }
            return out
        }
        let act = Quantization(scale: 0.0625, zeroPoint: -5)
        let tensors = [
            CorpusTensor(name: "input", dtype: .float32, shape: [1, 1, 4, 4]),
            CorpusTensor(name: "input_q", dtype: .int8, shape: [1, 1, 4, 4],
                         quantization: Quantization(scale: 0.03125, zeroPoint: 0)),
            CorpusTensor(name: "conv.weight", dtype: .int8, shape: [2, 1, 3, 3],
                         quantization: Quantization(scales: [0.01, 0.02], zeroPoints: [0, 0], axis: 0),
                         data: i8((0..<18).map { ($0 * 7) % 11 - 5 })),
            CorpusTensor(name: "conv.bias", dtype: .int32, shape: [2], data: i32([10, -20])),
            CorpusTensor(name: "conv.out", dtype: .int8, shape: [1, 2, 4, 4], quantization: act),
            CorpusTensor(name: "relu.out", dtype: .int8, shape: [1, 2, 4, 4], quantization: act),
            CorpusTensor(name: "flat", dtype: .int8, shape: [1, 32], quantization: act),
            CorpusTensor(name: "fc.weight", dtype: .int8, shape: [3, 32],
                         quantization: Quantization(scale: 0.015625, zeroPoint: 0),
                         data: i8((0..<96).map { ($0 * 5) % 13 - 6 })),
            CorpusTensor(name: "fc.bias", dtype: .int32, shape: [3], data: i32([100, -50, 25])),
            CorpusTensor(name: "fc.out", dtype: .int8, shape: [1, 3], quantization: Quantization(scale: 0.125, zeroPoint: 2)),
            CorpusTensor(name: "probs_q", dtype: .int8, shape: [1, 3], quantization: Quantization(scale: 1.0 / 256, zeroPoint: -128)),
            CorpusTensor(name: "probs", dtype: .float32, shape: [1, 3]),
        ]
        let ops = [
            CorpusOp(code: .quantize, name: "quant", inputs: [0], outputs: [1]),
            CorpusOp(code: .conv, name: "conv", inputs: [1, 2, 3], outputs: [4], attributes: [
                Attribute(.strides, ints: [1, 1]), Attribute(.pads, ints: [1, 1, 1, 1]),
                Attribute(.dilations, ints: [1, 1]), Attribute(.group, int: 1), Attribute(.kernelShape, ints: [3, 3]),
            ]),
            CorpusOp(code: .clip, name: "relu", inputs: [4], outputs: [5], attributes: [
                Attribute(.clipMin, float: 0), Attribute(.clipMax, float: 6),
            ]),
            CorpusOp(code: .reshape, name: "flatten", inputs: [5], outputs: [6]),
            CorpusOp(code: .fullyConnected, name: "fc", inputs: [6, 7, 8], outputs: [9]),
            CorpusOp(code: .softmax, name: "softmax", inputs: [9], outputs: [10], attributes: [Attribute(.axis, int: -1)]),
            CorpusOp(code: .dequantize, name: "dequant", inputs: [10], outputs: [11]),
        ]
        return CorpusSpec(tensors: tensors, ops: ops, inputs: [0], outputs: [11],
                          metadata: #"{"name":"corpus-base","version":"1.0","labels":["a","b","c"]}"#)
    }

    /// The base model with one change.
    static func base(_ change: (inout CorpusSpec) -> Void) -> [UInt8] {
        var s = base()
        change(&s)
        return s.serialize()
    }
}

// MARK: - Section-level view

/// A file as its list of sections. `assemble()` lays them out again with `ModelBuilder.assemble`,
/// so offsets, section CRCs and the header CRC are all valid: a change to one section's bytes then
/// reaches the checks behind the checksums.
struct CorpusSections {
    var sections: [(kind: SectionKind, flags: UInt32, payload: [UInt8])]

    init(_ file: [UInt8]) {
        sections = []
        let n = Int(file.le32(12))
        for i in 0..<n {
            let e = 64 + 32 * i
            let off = Int(file.le64(e + 8)), len = Int(file.le64(e + 16))
            sections.append((SectionKind(rawValue: file.le32(e)), file.le32(e + 4), Array(file[off..<(off + len)])))
        }
    }

    func assemble() -> [UInt8] {
        ModelBuilder.assemble(sections.map { ($0.kind, $0.payload) }, flags: sections.map(\.flags))
    }

    subscript(kind: SectionKind) -> [UInt8] {
        get { sections.first { $0.kind == kind }!.payload }
        set { sections[sections.firstIndex { $0.kind == kind }!].payload = newValue }
    }

    mutating func remove(_ kind: SectionKind) { sections.removeAll { $0.kind == kind } }

    /// Byte offset of tensor `i`'s record inside TENS.
    static func tensorRecord(_ i: Int) -> Int { 8 + 64 * i }

    /// Offsets inside GRPH of every op record, and of every attribute record of each op.
    func opLayout() -> [(op: Int, attributes: [Int])] {
        let g = self[.graph]
        let opCount = Int(g.le32(0)), ins = Int(g.le32(4)), outs = Int(g.le32(8))
        var at = 16 + 4 * (ins + outs)
        var out: [(Int, [Int])] = []
        for _ in 0..<opCount {
            let start = at
            let nIn = Int(g.le16(at + 2)), nOut = Int(g.le16(at + 4)), nAttr = Int(g.le16(at + 6))
            at += 16 + 4 * (nIn + nOut)
            var attrs: [Int] = []
            for _ in 0..<nAttr {
                attrs.append(at)
                at += 8 + 4 * Int(g.le32(at + 4))
            }
            out.append((start, attrs))
        }
        return out
    }
}

/// The base file with a change to its sections, re-assembled with valid checksums.
func corpusSections(_ change: (inout CorpusSections) -> Void) -> [UInt8] {
    var s = CorpusSections(CorpusSpec.base().serialize())
    change(&s)
    return s.assemble()
}

/// The base file with one field of tensor `name`'s record changed (checksums valid).
func corpusTensorRecord(_ name: String, _ change: (inout [UInt8], Int) -> Void) -> [UInt8] {
    let i = CorpusSpec.base().t(name)
    return corpusSections { s in
        var tens = s[.tensors]
        change(&tens, CorpusSections.tensorRecord(i))
        s[.tensors] = tens
    }
}

/// The base file with tensor `name`'s quantization blob in WGHT changed: `change(&weights, scalesAt, zeroPointsAt)`.
func corpusQuantization(_ name: String, _ change: (inout [UInt8], Int, Int) -> Void) -> [UInt8] {
    let i = CorpusSpec.base().t(name)
    return corpusSections { s in
        let rec = CorpusSections.tensorRecord(i)
        let qOff = Int(s[.tensors].le32(rec + 56)), qCount = Int(s[.tensors].le32(rec + 60))
        var w = s[.weights]
        change(&w, qOff, qOff + 4 * qCount)
        s[.weights] = w
    }
}

/// The base file with the header or section table changed in place; the header CRC is refreshed
/// unless `refreshCRC` is false.
func corpusHeader(refreshCRC: Bool = true, _ change: (inout [UInt8]) -> Void) -> [UInt8] {
    var f = CorpusSpec.base().serialize()
    change(&f)
    if refreshCRC { ModelBuilder.refreshHeaderChecksum(&f) }
    return f
}

/// Offset of the section table entry of `kind` in a file laid out by `ModelBuilder.serialize`.
func entryOffset(_ file: [UInt8], _ kind: SectionKind) -> Int {
    let n = Int(file.le32(12))
    for i in 0..<n where file.le32(64 + 32 * i) == kind.rawValue { return 64 + 32 * i }
    fatalError("no section \(kind.text)")
}

func align64(_ n: Int) -> Int { (n + 63) / 64 * 64 }
