// Clip, LeakyRelu, Sigmoid, Tanh, HardSwish, HardSigmoid and Softmax against Double references (libm, not the
// runtime's deterministicExp). int8 runs every one of the 256 input values.
import Foundation
import Testing
@testable import VigilRuntime
import VigilModel

enum UnaryKind: Sendable, CustomStringConvertible {
    case clip(Float?, Float?)
    case leakyRelu(Float?)   // nil: default alpha 0.01
    case sigmoid, tanh, hardSwish
    case hardSigmoid(Float?, Float?)  // alpha, beta; nil: the ONNX defaults 0.2, 0.5

    var code: OpCode {
        switch self {
        case .clip: .clip
        case .leakyRelu: .leakyRelu
        case .sigmoid: .sigmoid
        case .tanh: .tanh
        case .hardSwish: .hardSwish
        case .hardSigmoid: .hardSigmoid
        }
    }
    var attributes: [Attribute] {
        switch self {
        case .clip(let lo, let hi):
            (lo.map { [Attribute(.clipMin, float: $0)] } ?? []) + (hi.map { [Attribute(.clipMax, float: $0)] } ?? [])
        case .leakyRelu(let a): a.map { [Attribute(.alpha, float: $0)] } ?? []
        case .hardSigmoid(let a, let b):
            (a.map { [Attribute(.alpha, float: $0)] } ?? []) + (b.map { [Attribute(.beta, float: $0)] } ?? [])
        default: []
        }
    }
    func apply(_ x: Double) -> Double {
        switch self {
        case .clip(let lo, let hi): min(max(x, Double(lo ?? -.infinity)), Double(hi ?? .infinity))
        case .leakyRelu(let a): x < 0 ? Double(a ?? 0.01) * x : x
        case .sigmoid: 1 / (1 + Foundation.exp(-x))
        case .tanh: Foundation.tanh(x)
        case .hardSwish: x * min(max(x + 3, 0), 6) / 6
        case .hardSigmoid(let a, let b): min(max(Double(a ?? 0.2) * x + Double(b ?? 0.5), 0), 1)
        }
    }
    var description: String {
        switch self {
        case .clip(let lo, let hi): "Clip(\(lo.map { "\($0)" } ?? "-inf"), \(hi.map { "\($0)" } ?? "inf"))"
        case .leakyRelu(let a): "LeakyRelu(\(a.map { "\($0)" } ?? "default"))"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .hardSwish: "HardSwish"
        case .hardSigmoid(let a, let b): "HardSigmoid(\(a.map { "\($0)" } ?? "default"), \(b.map { "\($0)" } ?? "default"))"
        }
    }
}

struct UnaryCase: Sendable, CustomStringConvertible {
    var kind: UnaryKind
    var sx: Float
    var zx: Int32
    /// nil: derived from the reference range.
    var out: Quantization? = nil
    var description: String { "\(kind) x(\(sx), \(zx))" + (out.map { " y(\($0.scale), \($0.zeroPoint))" } ?? "") }
}

let unaryCases: [UnaryCase] = [
    UnaryCase(kind: .clip(-0.5, 1.0), sx: 0.02, zx: -3, out: Quantization(scale: 0.02, zeroPoint: -3)),
    UnaryCase(kind: .clip(0, nil), sx: 0.05, zx: 127, out: Quantization(scale: 0.03, zeroPoint: -128)),
    UnaryCase(kind: .clip(nil, nil), sx: 0.05, zx: -128, out: Quantization(scale: 0.07, zeroPoint: 10)),
    UnaryCase(kind: .clip(-2, 6), sx: 0.1, zx: 0, out: Quantization(scale: 0.02, zeroPoint: -28)),  // saturates
    UnaryCase(kind: .leakyRelu(0.1), sx: 0.05, zx: 0),
    UnaryCase(kind: .leakyRelu(nil), sx: 0.03, zx: 127),
    UnaryCase(kind: .leakyRelu(2.5), sx: 0.02, zx: -128),
    UnaryCase(kind: .sigmoid, sx: 0.08, zx: 0, out: Quantization(scale: 1.0 / 256, zeroPoint: -128)),
    UnaryCase(kind: .sigmoid, sx: 0.05, zx: -128, out: Quantization(scale: 1.0 / 256, zeroPoint: -128)),
    UnaryCase(kind: .tanh, sx: 0.04, zx: 10, out: Quantization(scale: 1.0 / 128, zeroPoint: 0)),
    UnaryCase(kind: .tanh, sx: 0.01, zx: 127, out: Quantization(scale: 1.0 / 128, zeroPoint: 0)),
    UnaryCase(kind: .hardSwish, sx: 0.05, zx: 0),
    UnaryCase(kind: .hardSwish, sx: 0.06, zx: -128),
    UnaryCase(kind: .hardSigmoid(1.0 / 6, 0.5), sx: 0.05, zx: 0, out: Quantization(scale: 1.0 / 256, zeroPoint: -128)),
    UnaryCase(kind: .hardSigmoid(nil, nil), sx: 0.04, zx: -20, out: Quantization(scale: 1.0 / 256, zeroPoint: -128)),
    UnaryCase(kind: .hardSigmoid(-0.3, 0.2), sx: 0.03, zx: 127),
]

@Suite struct UnaryActivationTests {
    @Test(arguments: unaryCases)
    func unaryInt8AllInputs(_ c: UnaryCase) throws {
        let xq = (-128...127).map { Int8($0) }
        let ref = dq(xq, c.sx, c.zx).map(c.kind.apply)
        let q = c.out ?? {
            let (s, z) = outputQuantization(for: ref, fraction: 1.0)
            return Quantization(scale: s, zeroPoint: z)
        }()
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [2, 128], quantization: Quantization(scale: c.sx, zeroPoint: c.zx))
        let y = b.addTensor("y", .int8, [2, 128], quantization: q)
        singleOp(c.kind.code, &b, inputs: [x], output: y, attributes: c.kind.attributes)
        let out = try runModel(b, [.i8(xq)]).int8()
        expectInt8Close(out, scale: q.scale, zeroPoint: q.zeroPoint, reference: ref, "\(c)")
    }

    @Test(arguments: [UnaryKind.clip(-0.5, 1.0), .clip(0, nil), .clip(nil, 0.25), .clip(nil, nil), .leakyRelu(0.1),
                      .leakyRelu(nil), .sigmoid, .tanh, .hardSwish, .hardSigmoid(1.0 / 6, 0.5), .hardSigmoid(nil, nil)])
    func unaryFloat(_ kind: UnaryKind) throws {
        var rng = SplitMix64(seed: 61)
        var xf = rng.floats(3 * 5 * 7, -8, 8)
        xf += [0, -0.0, 3, -3, 1e-7, -1e-7, 30, -30, 100, -100, 6, -6]
        let ref = xf.map { kind.apply(Double($0)) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [xf.count])
        let y = b.addTensor("y", .float32, [xf.count])
        singleOp(kind.code, &b, inputs: [x], output: y, attributes: kind.attributes)
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, "\(kind) float32")
    }

    /// Clip with equal input and output quantization is exact: min/max of the quantized bounds.
    @Test func clipInt8SameQuantizationIsExact() throws {
        let xq = (-128...127).map { Int8($0) }
        var b = ModelBuilder()
        let q = Quantization(scale: 0.1, zeroPoint: -20)
        let x = b.addTensor("x", .int8, [256], quantization: q)
        let y = b.addTensor("y", .int8, [256], quantization: q)
        singleOp(.clip, &b, inputs: [x], output: y, attributes: [Attribute(.clipMin, float: -1), Attribute(.clipMax, float: 2)])
        // -1 -> q = -30, 2 -> q = 0
        expectExact(try runModel(b, [.i8(xq)]).int8(), xq.map { min(max($0, -30), 0) }, "Clip int8")
    }
}

// MARK: - Softmax

func referenceSoftmax(_ x: [Double], cols: Int) -> [Double] {
    var y: [Double] = []
    for r in 0..<(x.count / cols) {
        let row = x[(r * cols)..<((r + 1) * cols)]
        let m = row.max()!
        let e = row.map { Foundation.exp($0 - m) }
        let s = e.reduce(0, +)
        y += e.map { $0 / s }
    }
    return y
}

struct SoftmaxCase: Sendable, CustomStringConvertible {
    var shape: [Int]
    var sx: Float
    var zx: Int32
    var axis: Int? = nil
    var seed: UInt64
    var description: String { "\(shape) x(\(sx), \(zx))" + (axis.map { " axis \($0)" } ?? "") }
}

let softmaxCases: [SoftmaxCase] = [
    SoftmaxCase(shape: [3, 10], sx: 0.1, zx: 0, seed: 71),
    SoftmaxCase(shape: [2, 3, 7], sx: 0.05, zx: -128, axis: -1, seed: 72),
    SoftmaxCase(shape: [5, 1], sx: 0.2, zx: 127, axis: 1, seed: 73),        // one column: all 1.0
    SoftmaxCase(shape: [1, 2, 37], sx: 0.5, zx: 3, axis: 2, seed: 74),       // large scale: peaked rows
    SoftmaxCase(shape: [4, 5], sx: 0.01, zx: -7, seed: 75),                  // small scale: flat rows
]

@Suite struct SoftmaxTests {
    @Test(arguments: softmaxCases)
    func softmaxInt8(_ c: SoftmaxCase) throws {
        var rng = SplitMix64(seed: c.seed)
        var xq = rng.int8s(product(c.shape))
        if c.shape.last! > 2 { for i in 0..<c.shape.last! { xq[i] = 42 } }  // one constant row
        let ref = referenceSoftmax(dq(xq, c.sx, c.zx), cols: c.shape.last!)
        let oq = Quantization(scale: 1.0 / 256, zeroPoint: -128)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.shape, quantization: Quantization(scale: c.sx, zeroPoint: c.zx))
        let y = b.addTensor("y", .int8, c.shape, quantization: oq)
        singleOp(.softmax, &b, inputs: [x], output: y, attributes: c.axis.map { [Attribute(.axis, int: $0)] } ?? [])
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: oq.scale, zeroPoint: oq.zeroPoint, reference: ref, "Softmax int8 \(c)")
    }

    @Test(arguments: softmaxCases)
    func softmaxFloat(_ c: SoftmaxCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0x50F7)
        var xf = rng.floats(product(c.shape), -6, 6)
        if xf.count >= 3 { xf[0] = 100; xf[1] = -100 }  // a wide row: without max subtraction expf overflows
        let ref = referenceSoftmax(xf.map(Double.init), cols: c.shape.last!)
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.shape)
        let y = b.addTensor("y", .float32, c.shape)
        singleOp(.softmax, &b, inputs: [x], output: y, attributes: c.axis.map { [Attribute(.axis, int: $0)] } ?? [])
        let out = try runModel(b, [.f32(xf)]).float()
        expectFloatClose(out, ref, "Softmax float32 \(c)")
    }
}
