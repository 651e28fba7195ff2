// The operators of attention models against straightforward Double references: MatMul of two
// activations (broadcast batch dims, int8 and float32), Softmax over any axis, LayerNormalization,
// Erf and Gelu (int8 over all 256 inputs, float32), and the deterministic erf against libm.
import Foundation
import Testing
@testable import VigilRuntime
import VigilModel

// MARK: - MatMul

/// Y = A · B with NumPy batch broadcasting, in Double; `a` and `b` are row-major.
func referenceMatMul(_ a: [Double], _ sa: [Int], _ b: [Double], _ sb: [Int]) -> (y: [Double], shape: [Int]) {
    let (m, k, n) = (sa[sa.count - 2], sa[sa.count - 1], sb[sb.count - 1])
    let ba = Array(sa.dropLast(2)), bb = Array(sb.dropLast(2))
    let r = max(ba.count, bb.count)
    let pa = [Int](repeating: 1, count: r - ba.count) + ba, pb = [Int](repeating: 1, count: r - bb.count) + bb
    let batch = (0..<r).map { max(pa[$0], pb[$0]) }
    var y: [Double] = []
    for i in 0..<product(batch) {
        // batch index digits, then each operand's own batch offset
        var rem = i, ia = 0, ib = 0
        for d in 0..<r {
            let inner = product(Array(batch[(d + 1)...]))
            let digit = rem / inner
            rem %= inner
            ia = ia * pa[d] + (pa[d] == 1 ? 0 : digit)
            ib = ib * pb[d] + (pb[d] == 1 ? 0 : digit)
        }
        for row in 0..<m {
            for col in 0..<n {
                var acc = 0.0
                for p in 0..<k { acc += a[(ia * m + row) * k + p] * b[(ib * k + p) * n + col] }
                y.append(acc)
            }
        }
    }
    return (y, batch + [m, n])
}

struct MatMulCase: Sendable, CustomStringConvertible {
    var a: [Int], b: [Int]
    var za: Int32, zb: Int32
    var fraction = 0.9  // output range over the reference span; < 1 saturates
    var seed: UInt64
    var description: String { "\(a) x \(b) za \(za) zb \(zb)" }
}

let matMulCases: [MatMulCase] = [
    MatMulCase(a: [3, 5], b: [5, 4], za: 0, zb: 0, seed: 1),
    MatMulCase(a: [1, 4, 16, 8], b: [1, 4, 8, 16], za: -3, zb: 5, seed: 2),        // Q·Kᵀ of 4 heads
    MatMulCase(a: [1, 4, 16, 16], b: [1, 4, 16, 8], za: -128, zb: 12, seed: 3),    // P·V, softmax zero point
    MatMulCase(a: [2, 1, 3, 7], b: [3, 7, 2], za: 127, zb: -128, seed: 4),          // broadcast both ways
    MatMulCase(a: [6, 9], b: [2, 3, 9, 5], za: 20, zb: -7, fraction: 0.5, seed: 5), // 2-D left, saturating
    MatMulCase(a: [1, 1, 33], b: [4, 33, 1], za: -1, zb: 1, seed: 6),               // odd sizes, one column
]

@Suite struct MatMulTests {
    @Test(arguments: matMulCases)
    func matMulInt8(_ c: MatMulCase) throws {
        var rng = SplitMix64(seed: c.seed)
        let qa = rng.int8s(product(c.a)), qb = rng.int8s(product(c.b))
        let (sa, sb): (Float, Float) = (0.03, 0.07)
        // The exact integer sums, scaled: the int8 result must be that value rounded once.
        let ref = referenceMatMul(qa.map { Double(Int32($0) - c.za) }, c.a, qb.map { Double(Int32($0) - c.zb) }, c.b)
        let real = ref.y.map { $0 * Double(sa) * Double(sb) }
        let (sy, zy) = outputQuantization(for: real, fraction: c.fraction)
        var b = ModelBuilder()
        let x0 = b.addTensor("a", .int8, c.a, quantization: Quantization(scale: sa, zeroPoint: c.za))
        let x1 = b.addTensor("b", .int8, c.b, quantization: Quantization(scale: sb, zeroPoint: c.zb))
        let y = b.addTensor("y", .int8, ref.shape, quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.matMul, &b, inputs: [x0, x1], output: y)
        let out = try runModel(b, [.i8(qa), .i8(qb)]).int8()
        let saturated = expectInt8Close(out, scale: sy, zeroPoint: zy, reference: real, "MatMul int8 \(c)")
        if c.fraction < 1 { #expect(saturated > 0, "the saturating case must saturate") }
    }

    @Test(arguments: matMulCases)
    func matMulFloat(_ c: MatMulCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0xF10A7)
        let fa = rng.floats(product(c.a), -2, 2), fb = rng.floats(product(c.b), -2, 2)
        let ref = referenceMatMul(fa.map(Double.init), c.a, fb.map(Double.init), c.b)
        var b = ModelBuilder()
        let x0 = b.addTensor("a", .float32, c.a), x1 = b.addTensor("b", .float32, c.b)
        let y = b.addTensor("y", .float32, ref.shape)
        singleOp(.matMul, &b, inputs: [x0, x1], output: y)
        expectFloatClose(try runModel(b, [.f32(fa), .f32(fb)]).float(), ref.y, tolerance: 1e-5, "MatMul float32 \(c)")
    }

    @Test func matMulRejectsMismatchedShapes() {
        var b = ModelBuilder()
        let x0 = b.addTensor("a", .float32, [2, 3, 4]), x1 = b.addTensor("b", .float32, [3, 5, 2])
        let y = b.addTensor("y", .float32, [3, 3, 2])
        singleOp(.matMul, &b, inputs: [x0, x1], output: y)
        #expect(prepareError(b)?.code == .badOperands)
    }
}

// MARK: - Softmax over any axis

func referenceSoftmax(_ x: [Double], shape: [Int], axis: Int) -> [Double] {
    let cols = shape[axis], inner = product(Array(shape[(axis + 1)...])), outer = product(Array(shape[..<axis]))
    var y = x
    for o in 0..<outer {
        for q in 0..<inner {
            let idx = (0..<cols).map { (o * cols + $0) * inner + q }
            let m = idx.map { x[$0] }.max()!
            let e = idx.map { Foundation.exp(x[$0] - m) }
            let s = e.reduce(0, +)
            for (i, j) in idx.enumerated() { y[j] = e[i] / s }
        }
    }
    return y
}

@Suite struct SoftmaxAxisTests {
    static let cases: [(shape: [Int], axis: Int)] = [([2, 3, 7], 0), ([2, 3, 7], 1), ([1, 4, 16, 16], -1), ([1, 4, 16, 16], 2), ([5, 1, 3], 1)]

    @Test(arguments: 0..<cases.count)
    func softmaxAxisInt8(_ k: Int) throws {
        let (shape, axis) = Self.cases[k]
        var rng = SplitMix64(seed: 90 + UInt64(k))
        let xq = rng.int8s(product(shape))
        let (sx, zx): (Float, Int32) = (0.06, -5)
        let ref = referenceSoftmax(dq(xq, sx, zx), shape: shape, axis: axis < 0 ? axis + shape.count : axis)
        let oq = Quantization(scale: 1.0 / 256, zeroPoint: -128)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, shape, quantization: Quantization(scale: sx, zeroPoint: zx))
        let y = b.addTensor("y", .int8, shape, quantization: oq)
        singleOp(.softmax, &b, inputs: [x], output: y, attributes: [Attribute(.axis, int: axis)])
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: oq.scale, zeroPoint: oq.zeroPoint, reference: ref,
                        "Softmax int8 \(shape) axis \(axis)")
    }

    @Test(arguments: 0..<cases.count)
    func softmaxAxisFloat(_ k: Int) throws {
        let (shape, axis) = Self.cases[k]
        var rng = SplitMix64(seed: 190 + UInt64(k))
        let xf = rng.floats(product(shape), -8, 8)
        let ref = referenceSoftmax(xf.map(Double.init), shape: shape, axis: axis < 0 ? axis + shape.count : axis)
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, shape), y = b.addTensor("y", .float32, shape)
        singleOp(.softmax, &b, inputs: [x], output: y, attributes: [Attribute(.axis, int: axis)])
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, "Softmax float32 \(shape) axis \(axis)")
    }
}

// MARK: - LayerNormalization

@Suite struct LayerNormalizationTests {
    /// (shape, axis, with bias, with the Mean / InvStdDev outputs)
    static let cases: [(shape: [Int], axis: Int, bias: Bool, stats: Bool)] = [
        ([1, 16, 32], -1, true, false), ([2, 3, 5], 1, false, false), ([4, 7], 0, true, true), ([3, 1, 6], 2, true, true),
    ]

    @Test(arguments: 0..<cases.count)
    func layerNorm(_ k: Int) throws {
        let (shape, axis, withBias, stats) = Self.cases[k]
        let a = axis < 0 ? axis + shape.count : axis
        let cols = product(Array(shape[a...])), rows = product(shape) / cols
        var rng = SplitMix64(seed: 300 + UInt64(k))
        let xf = rng.floats(product(shape), -3, 5), scale = rng.floats(cols, 0.5, 1.5), bias = rng.floats(cols, -1, 1)
        let eps: Float = 1e-5
        var ref: [Double] = [], means: [Double] = [], invs: [Double] = []
        for r in 0..<rows {
            let row = xf[(r * cols)..<((r + 1) * cols)].map(Double.init)
            let mu = row.reduce(0, +) / Double(cols)
            let v = row.map { ($0 - mu) * ($0 - mu) }.reduce(0, +) / Double(cols)
            let inv = 1 / (v + Double(eps)).squareRoot()
            ref += row.indices.map { (row[$0] - mu) * inv * Double(scale[$0]) + (withBias ? Double(bias[$0]) : 0) }
            means.append(mu); invs.append(inv)
        }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, shape)
        var ins = [x, b.addConstant("scale", float32: scale, shape: Array(shape[a...]))]
        if withBias { ins.append(b.addConstant("bias", float32: bias, shape: Array(shape[a...]))) }
        let statShape = Array(shape[..<a]) + [Int](repeating: 1, count: shape.count - a)
        let y = b.addTensor("y", .float32, shape)
        var outs = [y]
        if stats { outs += [b.addTensor("mean", .float32, statShape), b.addTensor("inv", .float32, statShape)] }
        b.addOp(.layerNormalization, "ln", inputs: ins, outputs: outs, attributes: [Attribute(.axis, int: axis), Attribute(.epsilon, float: eps)])
        b.inputs = [x]
        b.outputs = outs
        let r = try runModel(b, [.f32(xf)])
        expectFloatClose(r.float(0), ref, tolerance: 1e-5, "LayerNormalization \(shape) axis \(axis)")
        if stats {
            expectFloatClose(r.float(1), means, tolerance: 1e-5, "mean")
            expectFloatClose(r.float(2), invs, tolerance: 1e-5, "inv_std_dev")
        }
    }

    @Test func layerNormRejectsInt8AndWrongScale() {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [2, 8])
        let s = b.addConstant("scale", float32: [Float](repeating: 1, count: 4), shape: [4])
        let y = b.addTensor("y", .float32, [2, 8])
        singleOp(.layerNormalization, &b, inputs: [x, s], output: y)
        #expect(prepareError(b)?.code == .badOperands)
        var q = ModelBuilder()
        let xq = q.addTensor("x", .int8, [2, 8], quantization: Quantization(scale: 0.1, zeroPoint: 0))
        let sq = q.addConstant("scale", float32: [Float](repeating: 1, count: 8), shape: [8])
        let yq = q.addTensor("y", .int8, [2, 8], quantization: Quantization(scale: 0.1, zeroPoint: 0))
        singleOp(.layerNormalization, &q, inputs: [xq, sq], output: yq)
        #expect(prepareError(q)?.code == .badOperands)
    }
}

// MARK: - Erf and Gelu

func referenceGelu(_ x: Double, tanh: Bool) -> Double {
    tanh ? 0.5 * x * (1 + Foundation.tanh((2 / Double.pi).squareRoot() * (x + 0.044715 * x * x * x)))
         : 0.5 * x * (1 + Foundation.erf(x / 2.0.squareRoot()))
}

@Suite struct ErfGeluTests {
    /// The table-building erf (only +, ×, ÷ and deterministicExp) agrees with libm's erf.
    @Test func deterministicErfMatchesLibm() {
        var worst = 0.0
        var x = -7.0
        while x <= 7 {
            let e = abs(Erf.apply(x) - Foundation.erf(x))
            worst = max(worst, e)
            x += 0.001
        }
        #expect(worst < 1e-14, "max |erf error| \(worst)")
        #expect(Erf.apply(0.0) == 0 && Erf.apply(6.5) == 1 && Erf.apply(-9.0) == -1)
    }

    /// (op, approximate, input scale, input zero point)
    static let int8Cases: [(OpCode, Int, Float, Int32)] = [
        (.erf, 0, 0.02, 0), (.erf, 0, 0.05, -128), (.gelu, 0, 0.04, 10), (.gelu, 0, 0.08, 127), (.gelu, 1, 0.05, -20),
    ]

    @Test(arguments: 0..<int8Cases.count)
    func int8AllInputs(_ k: Int) throws {
        let (op, approx, sx, zx) = Self.int8Cases[k]
        let xq = (-128...127).map { Int8($0) }
        let ref = dq(xq, sx, zx).map { op == .erf ? Foundation.erf($0) : referenceGelu($0, tanh: approx == 1) }
        let (sy, zy) = outputQuantization(for: ref, fraction: 1.0)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [2, 128], quantization: Quantization(scale: sx, zeroPoint: zx))
        let y = b.addTensor("y", .int8, [2, 128], quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(op, &b, inputs: [x], output: y, attributes: approx == 1 ? [Attribute(.approximate, int: 1)] : [])
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: sy, zeroPoint: zy, reference: ref, "\(op.name) int8 x(\(sx), \(zx))")
    }

    @Test(arguments: [(OpCode.erf, 0), (.gelu, 0), (.gelu, 1)])
    func float32(_ op: OpCode, _ approx: Int) throws {
        var rng = SplitMix64(seed: 400 + UInt64(approx))
        var xf = rng.floats(200, -6, 6)
        xf += [0, -0.0, 1e-7, -1e-7, 10, -10, 30, -30]
        let ref = xf.map { op == .erf ? Foundation.erf(Double($0)) : referenceGelu(Double($0), tanh: approx == 1) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [xf.count]), y = b.addTensor("y", .float32, [xf.count])
        singleOp(op, &b, inputs: [x], output: y, attributes: approx == 1 ? [Attribute(.approximate, int: 1)] : [])
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, tolerance: 2e-6, "\(op.name) float32 approximate \(approx)")
    }

    @Test func geluRejectsUnknownApproximation() {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [4]), y = b.addTensor("y", .float32, [4])
        singleOp(.gelu, &b, inputs: [x], output: y, attributes: [Attribute(.approximate, int: 2)])
        #expect(prepareError(b)?.code == .badAttribute)
    }
}
