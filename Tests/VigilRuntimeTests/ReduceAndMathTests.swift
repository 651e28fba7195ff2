// Reduce, UnaryFunction (Exp, Log, Sqrt, Neg, Abs, Reciprocal, Pow), Sub, Div, Max, Min and Expand
// against Double references written here (Foundation's libm, not the runtime's deterministic
// functions). int8 unary tables run every one of the 256 input values.
import Foundation
import Testing
@testable import VigilRuntime
import VigilModel

// MARK: - UnaryFunction

struct MathCase: Sendable, CustomStringConvertible {
    var function: UnaryFunction
    var exponent: Float? = nil
    var sx: Float
    var zx: Int32
    var description: String { "\(function.name)\(exponent.map { "(\($0))" } ?? "") x(\(sx), \(zx))" }

    var attributes: [Attribute] {
        [Attribute(.function, int: Int(function.rawValue))] + (exponent.map { [Attribute(.alpha, float: $0)] } ?? [])
    }
    func apply(_ x: Double) -> Double {
        switch function {
        case .exp: Foundation.exp(x)
        case .log: Foundation.log(x)
        case .sqrt: x.squareRoot()
        case .neg: -x
        case .abs: Swift.abs(x)
        case .reciprocal: 1 / x
        case .pow: Foundation.pow(x, Double(exponent!))
        }
    }
}

// Log(0) and 1/0 must saturate; log, sqrt and fractional powers of negative inputs are NaN, which
// the tables map to the output zero point.
let mathCases: [MathCase] = [
    MathCase(function: .exp, sx: 0.02, zx: 0),
    MathCase(function: .exp, sx: 0.05, zx: 60),
    MathCase(function: .log, sx: 0.05, zx: -128),
    MathCase(function: .log, sx: 0.001, zx: -120),
    MathCase(function: .sqrt, sx: 0.1, zx: -128),
    MathCase(function: .sqrt, sx: 0.1, zx: -100),
    MathCase(function: .neg, sx: 0.03, zx: 17),
    MathCase(function: .abs, sx: 0.04, zx: -5),
    MathCase(function: .reciprocal, sx: 0.02, zx: -128),
    MathCase(function: .reciprocal, sx: 0.05, zx: -100),
    MathCase(function: .pow, exponent: 3, sx: 0.02, zx: 0),
    MathCase(function: .pow, exponent: -1.5, sx: 0.05, zx: -118),
    MathCase(function: .pow, exponent: 0.3, sx: 0.05, zx: -128),
]

@Suite struct UnaryFunctionTests {
    @Test(arguments: mathCases)
    func unaryFunctionInt8AllInputs(_ c: MathCase) throws {
        let xq = (-128...127).map { Int8($0) }
        let ref = dq(xq, c.sx, c.zx).map(c.apply)
        let (sy, zy) = outputQuantization(for: ref.filter(\.isFinite), fraction: 0.8)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [2, 128], quantization: Quantization(scale: c.sx, zeroPoint: c.zx))
        let y = b.addTensor("y", .int8, [2, 128], quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.unaryFunction, &b, inputs: [x], output: y, attributes: c.attributes)
        let out = try runModel(b, [.i8(xq)]).int8()
        // NaN (log or a fractional power of a negative input) is the output zero point.
        let nan = ref.indices.filter { ref[$0].isNaN }, real = ref.indices.filter { !ref[$0].isNaN }
        expectExact(nan.map { out[$0] }, nan.map { _ in Int8(zy) }, "\(c) NaN inputs")
        expectInt8Close(real.map { out[$0] }, scale: sy, zeroPoint: zy, reference: real.map { ref[$0] }, "\(c)")
    }

    @Test(arguments: mathCases)
    func unaryFunctionFloat(_ c: MathCase) throws {
        var rng = SplitMix64(seed: 91)
        let positive = [UnaryFunction.log, .sqrt, .pow].contains(c.function) && c.exponent != 3
        var xf = rng.floats(3 * 5 * 7, positive ? 0.001 : -8, 8)
        xf += positive ? [0, 1, 2, 1e-7, 30] : [0, -0.0, 3, -3, 1e-7, -1e-7, 30, -30, 80, -80]
        if c.function == .log || c.function == .sqrt { xf += [-1] }  // NaN
        let ref = xf.map { c.apply(Double($0)) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [xf.count])
        let y = b.addTensor("y", .float32, [xf.count])
        singleOp(.unaryFunction, &b, inputs: [x], output: y, attributes: c.attributes)
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, tolerance: 2e-6, "\(c) float32")
    }

    /// The table functions are libm-free; they must still agree with libm to near double precision.
    @Test func deterministicLogAndPowMatchLibm() {
        var rng = SplitMix64(seed: 92)
        var worst = 0.0
        for _ in 0..<20000 {
            let x = Foundation.exp(rng.uniform(-700, 700))
            worst = max(worst, Swift.abs(deterministicLog(x) - Foundation.log(x)) / max(Swift.abs(Foundation.log(x)), 1e-300))
        }
        #expect(worst < 1e-14, "deterministicLog relative error \(worst)")
        #expect(deterministicLog(1) == 0 && deterministicLog(0) == -.infinity && deterministicLog(-1).isNaN)
        for (x, p) in [(2.5, 3.0), (0.7, -2.0), (3.0, 0.3), (10.0, -1.5), (-2.0, 3.0), (0.0, 2.5)] {
            let want = Foundation.pow(x, p), got = deterministicPow(x, p)
            #expect(Swift.abs(got - want) <= 1e-13 * max(Swift.abs(want), 1), "pow(\(x), \(p)) = \(got), libm \(want)")
        }
        #expect(deterministicPow(-2, 0.5).isNaN)
        for _ in 0..<20000 {
            let x = Foundation.exp(rng.uniform(-740, 700))
            let want = x.squareRoot(), got = deterministicSqrt(x)
            #expect(Swift.abs(got - want) <= want.ulp, "sqrt(\(x)) = \(got), libm \(want)")
        }
        #expect(deterministicSqrt(4) == 2 && deterministicSqrt(0) == 0 && deterministicSqrt(-1).isNaN)
    }

    @Test func powWithoutExponentIsRejected() {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [4]), y = b.addTensor("y", .float32, [4])
        singleOp(.unaryFunction, &b, inputs: [x], output: y, attributes: [Attribute(.function, int: Int(UnaryFunction.pow.rawValue))])
        #expect(prepareError(b)?.code == .badAttribute)
        var b2 = ModelBuilder()
        let x2 = b2.addTensor("x", .float32, [4]), y2 = b2.addTensor("y", .float32, [4])
        singleOp(.unaryFunction, &b2, inputs: [x2], output: y2, attributes: [Attribute(.function, int: 99)])
        #expect(prepareError(b2)?.code == .badAttribute)
    }
}

// MARK: - Reduce

struct ReduceCase: Sendable, CustomStringConvertible {
    var function: ReduceFunction
    var shape: [Int]
    var axes: [Int]
    var keepdims = true
    var zx: Int32 = -9
    var seed: UInt64
    var description: String { "\(function.name) \(shape) axes \(axes)\(keepdims ? "" : " dropped")" }
    var outShape: [Int] {
        keepdims ? shape.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
            : shape.enumerated().filter { !axes.contains($0.offset) }.map(\.element)
    }
}

func referenceReduce(_ x: [Double], _ c: ReduceCase) -> [Double] {
    let keptShape = c.shape.enumerated().map { c.axes.contains($0.offset) ? 1 : $0.element }
    var groups = [[Double]](repeating: [], count: product(keptShape))
    for (i, idx) in allIndices(c.shape).enumerated() {
        var o = 0
        for d in 0..<idx.count { o = o * keptShape[d] + (c.axes.contains(d) ? 0 : idx[d]) }
        groups[o].append(x[i])
    }
    return groups.map { g in
        switch c.function {
        case .mean: g.reduce(0, +) / Double(g.count)
        case .sum: g.reduce(0, +)
        case .max: g.max()!
        case .min: g.min()!
        }
    }
}

let reduceCases: [ReduceCase] = [
    ReduceCase(function: .mean, shape: [1, 8, 50], axes: [2], seed: 101),
    ReduceCase(function: .mean, shape: [2, 3, 4, 5], axes: [1], keepdims: false, zx: 127, seed: 102),
    ReduceCase(function: .mean, shape: [2, 3, 4, 5], axes: [0, 2, 3], seed: 103),
    ReduceCase(function: .sum, shape: [1, 6, 7], axes: [1, 2], keepdims: false, seed: 104),
    ReduceCase(function: .sum, shape: [3, 4, 5], axes: [0], zx: -128, seed: 105),
    ReduceCase(function: .max, shape: [1, 8, 3, 3], axes: [1], seed: 106),
    ReduceCase(function: .max, shape: [4, 9], axes: [0, 1], keepdims: false, seed: 107),
    ReduceCase(function: .min, shape: [2, 5, 6], axes: [2], keepdims: false, seed: 108),
]

@Suite struct ReduceTests {
    func build(_ c: ReduceCase, _ dtype: DType, _ qx: Quantization?, _ qy: Quantization?) -> ModelBuilder {
        var b = ModelBuilder()
        let x = b.addTensor("x", dtype, c.shape, quantization: qx)
        let y = b.addTensor("y", dtype, c.outShape, quantization: qy)
        singleOp(.reduce, &b, inputs: [x], output: y,
                 attributes: [Attribute(.function, int: Int(c.function.rawValue)), Attribute(.axes, ints: c.axes)])
        return b
    }

    @Test(arguments: reduceCases)
    func reduceInt8(_ c: ReduceCase) throws {
        var rng = SplitMix64(seed: c.seed)
        let xq = rng.int8s(product(c.shape))
        let sx: Float = 0.03
        let qx = Quantization(scale: sx, zeroPoint: c.zx)
        switch c.function {
        case .max, .min:
            // Picks input values: exact, with the input's parameters.
            let out = try runModel(build(c, .int8, qx, qx), [.i8(xq)]).int8()
            let ref = referenceReduce(xq.map(Double.init), c).map { Int8($0) }
            expectExact(out, ref, "\(c) int8")
        case .mean, .sum:
            let ref = referenceReduce(dq(xq, sx, c.zx), c)
            let (sy, zy) = outputQuantization(for: ref, fraction: 0.9)
            let out = try runModel(build(c, .int8, qx, Quantization(scale: sy, zeroPoint: zy)), [.i8(xq)]).int8()
            expectInt8Close(out, scale: sy, zeroPoint: zy, reference: ref, "\(c) int8")
        }
    }

    @Test(arguments: reduceCases)
    func reduceFloat(_ c: ReduceCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0xABC)
        let xf = rng.floats(product(c.shape), -4, 4)
        let ref = referenceReduce(xf.map(Double.init), c)
        expectFloatClose(try runModel(build(c, .float32, nil, nil), [.f32(xf)]).float(), ref, "\(c) float32")
    }

    @Test func badAxesAreRejected() {
        for axes in [[2, 1], [3], [-1], [1, 1]] {
            var b = ModelBuilder()
            let x = b.addTensor("x", .float32, [2, 3, 4]), y = b.addTensor("y", .float32, [2, 3, 4])
            singleOp(.reduce, &b, inputs: [x], output: y, attributes: [Attribute(.function, int: 1), Attribute(.axes, ints: axes)])
            #expect(prepareError(b)?.code == .badAttribute, "axes \(axes)")
        }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [2, 3, 4]), y = b.addTensor("y", .float32, [2, 1, 1])
        singleOp(.reduce, &b, inputs: [x], output: y, attributes: [Attribute(.function, int: 1), Attribute(.axes, ints: [1])])
        #expect(prepareError(b)?.code == .badOperands, "wrong output shape")
    }
}

// MARK: - Sub, Div, Max, Min, Expand

let plainBinaryCases = binaryCases.filter { $0.act.description == "none" }

@Suite struct BinaryMathTests {
    @Test(arguments: binaryCases)
    func subInt8(_ c: BinaryCase) throws { try checkBinaryInt8(.sub, c, -) }

    @Test(arguments: binaryCases)
    func subFloat(_ c: BinaryCase) throws { try checkBinaryFloat(.sub, c, -) }

    @Test(arguments: plainBinaryCases)
    func maxInt8(_ c: BinaryCase) throws { try checkBinaryInt8(.max, c, { Swift.max($0, $1) }) }

    @Test(arguments: plainBinaryCases)
    func minInt8(_ c: BinaryCase) throws { try checkBinaryInt8(.min, c, { Swift.min($0, $1) }) }

    @Test(arguments: plainBinaryCases)
    func maxMinDivFloat(_ c: BinaryCase) throws {
        try checkBinaryFloat(.max, c, { Swift.max($0, $1) })
        try checkBinaryFloat(.min, c, { Swift.min($0, $1) })
        try checkBinaryFloat(.div, c, /)
    }

    @Test func divHasNoInt8Form() {
        var b = ModelBuilder()
        let q = Quantization(scale: 0.1, zeroPoint: 0)
        let x = b.addTensor("a", .int8, [4], quantization: q), z = b.addTensor("b", .int8, [4], quantization: q)
        let y = b.addTensor("y", .int8, [4], quantization: q)
        singleOp(.div, &b, inputs: [x, z], output: y)
        #expect(prepareError(b)?.code == .badOperands)
    }

    @Test(arguments: [([3, 1], [2, 3, 4]), ([1, 4, 1, 1], [1, 4, 3, 5]), ([5], [2, 5]), ([2, 1, 3], [2, 4, 3])])
    func expandCopies(_ shapes: ([Int], [Int])) throws {
        let (xs, ys) = shapes
        var rng = SplitMix64(seed: 111)
        let xq = rng.int8s(product(xs))
        let ref = allIndices(ys).map { xq[broadcastOffset($0, xs)] }
        let q = Quantization(scale: 0.05, zeroPoint: 3)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, xs, quantization: q), y = b.addTensor("y", .int8, ys, quantization: q)
        singleOp(.expand, &b, inputs: [x], output: y)
        expectExact(try runModel(b, [.i8(xq)]).int8(), ref, "Expand int8 \(xs) -> \(ys)")
        let xf = rng.floats(product(xs))
        var bf = ModelBuilder()
        let xt = bf.addTensor("x", .float32, xs), yt = bf.addTensor("y", .float32, ys)
        singleOp(.expand, &bf, inputs: [xt], output: yt)
        expectBitExact(try runModel(bf, [.f32(xf)]).float(), allIndices(ys).map { xf[broadcastOffset($0, xs)] }, "Expand float32 \(xs) -> \(ys)")
    }
}
