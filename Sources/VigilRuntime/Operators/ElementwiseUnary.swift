internal import VigilModel

/// Runner for elementwise unary operators (Clip, LeakyRelu, Sigmoid, Tanh, HardSwish, HardSigmoid,
/// Erf, Gelu, UnaryFunction; the functions live in one file each). int8: a 256-entry table built at
/// prepare from the function in double precision (`table[q + 128] = quantize(f(dequantize(q)))`,
/// round half to even), so the result is bit-identical on every platform. float32: the function itself.
struct UnaryOp {
    enum Kind { case clip, leakyRelu, sigmoid, tanh, hardSwish, hardSigmoid, erf, gelu, function }
    var kind: Kind
    var x: Int, y: Int, count: Int
    var isInt8: Bool
    var table: [Int8] = []
    var p0: Float = 0, p1: Float = 0  // clip min/max, leaky alpha, HardSigmoid alpha/beta, Gelu's approximate (0/1), or Pow's exponent
    var function: UnaryFunction = .exp  // kind .function

    init(_ c: OpContext, _ kind: Kind) throws(VigilError) {
        self.kind = kind
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        guard c.tensor(x).shape == c.tensor(y).shape else {
            throw c.fail("output shape \(c.tensor(y).shape) differs from input shape \(c.tensor(x).shape)")
        }
        count = c.tensor(x).elementCount
        switch kind {
        case .clip:
            p0 = try c.float(.clipMin, default: -.infinity)
            p1 = try c.float(.clipMax, default: .infinity)
            guard p0 <= p1 else { throw c.badAttribute("clip_min \(p0) exceeds clip_max \(p1)") }
        case .leakyRelu:
            p0 = try c.float(.alpha, default: 0.01)
            guard p0.isFinite else { throw c.badAttribute("alpha must be finite") }
        case .hardSigmoid:
            p0 = try c.float(.alpha, default: 0.2)
            p1 = try c.float(.beta, default: 0.5)
            guard p0.isFinite, p1.isFinite else { throw c.badAttribute("alpha and beta must be finite") }
        case .gelu:
            let approximate = try c.int(.approximate, default: 0)
            guard approximate == 0 || approximate == 1 else { throw c.badAttribute("approximate must be 0 (erf) or 1 (tanh), not \(approximate)") }
            p0 = Float(approximate)
        case .function:
            let raw = try c.int(.function, default: 0)
            guard let f = UnaryFunction(rawValue: Int32(truncatingIfNeeded: raw)), raw == Int(f.rawValue) else {
                throw c.badAttribute("unknown function \(raw)")
            }
            function = f
            if f == .pow {
                guard c.op.attribute(.alpha) != nil else { throw c.badAttribute("pow needs its exponent in alpha") }
                p0 = try c.float(.alpha, default: 1)
                guard p0.isFinite else { throw c.badAttribute("the exponent must be finite") }
            }
        default: break
        }
        isInt8 = c.tensor(x).dtype == .int8
        if isInt8 {
            try c.expect(y, dtype: .int8, "output")
            let (sx, zx) = try c.perTensor(x, "input"), (sy, zy) = try c.perTensor(y, "output")
            table.reserveCapacity(256)
            for q in -128...127 {
                let v = apply(Double(sx) * Double(Int32(q) - zx))
                table.append(Int8(truncatingIfNeeded: quantizeValue(v, scale: Double(sy), zeroPoint: zy, lo: -128, hi: 127)))
            }
        } else {
            try c.expect(x, dtype: .float32, "input")
            try c.expect(y, dtype: .float32, "output")
        }
    }

    func apply(_ v: Double) -> Double {
        switch kind {
        case .clip: min(max(v, Double(p0)), Double(p1))
        case .leakyRelu: LeakyRelu.apply(v, alpha: Double(p0))
        case .sigmoid: Sigmoid.apply(v)
        case .tanh: Tanh.apply(v)
        case .hardSwish: HardSwish.apply(v)
        case .hardSigmoid: HardSigmoid.apply(v, alpha: Double(p0), beta: Double(p1))
        case .erf: Erf.apply(v)
        case .gelu: Gelu.apply(v, tanh: p0 != 0)
        case .function: MathFunction.apply(function, v, exponent: Double(p0))
        }
    }

    func eval(_ t: SlotTable) {
        if isInt8 {
            let X = t[x].assumingMemoryBound(to: Int8.self), Y = t[y].assumingMemoryBound(to: Int8.self)
            table.withUnsafeBufferPointer { lut in
                for i in 0..<count { Y[i] = lut[Int(X[i]) &+ 128] }
            }
            return
        }
        let X = t[x].assumingMemoryBound(to: Float.self), Y = t[y].assumingMemoryBound(to: Float.self)
        switch kind {
        case .clip: for i in 0..<count { Y[i] = min(max(X[i], p0), p1) }
        case .leakyRelu: for i in 0..<count { Y[i] = LeakyRelu.apply(X[i], alpha: p0) }
        case .sigmoid: for i in 0..<count { Y[i] = Sigmoid.apply(X[i]) }
        case .tanh: for i in 0..<count { Y[i] = Tanh.apply(X[i]) }
        case .hardSwish: for i in 0..<count { Y[i] = HardSwish.apply(X[i]) }
        case .hardSigmoid: for i in 0..<count { Y[i] = HardSigmoid.apply(X[i], alpha: p0, beta: p1) }
        case .erf: for i in 0..<count { Y[i] = Erf.apply(X[i]) }
        case .gelu: for i in 0..<count { Y[i] = Gelu.apply(X[i], tanh: p0 != 0) }
        case .function: for i in 0..<count { Y[i] = MathFunction.apply(function, X[i], exponent: p0) }
        }
    }
}
