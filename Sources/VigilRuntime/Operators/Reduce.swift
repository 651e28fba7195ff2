internal import VigilModel

/// Reduce (ONNX ReduceMean, ReduceSum, ReduceMax, ReduceMin) over a set of axes. The output has the
/// input's shape with the reduced axes either kept as 1 or dropped (the same elements in the same
/// order either way). int8: max and min pick an input value (input and output share quantization);
/// sum and mean accumulate acc = Σ (x − z_x) in int32 and requantize once with r = s_x / s_y (sum) or
/// s_x / (s_y × count) (mean), as AveragePool does.
struct ReduceOp {
    var x: Int, y: Int
    var function: ReduceFunction
    /// 6-D loops: kept axes (extent and input stride; extent 1 where reduced) around reduced axes.
    var outer: [Int] = [], outerStride: [Int] = [], inner: [Int] = [], innerStride: [Int] = []
    var count: Int
    var isInt8: Bool
    var zx: Int32 = 0, zy: Int32 = 0
    var rq = Requantizer(multiplier: 0, shift: 1)

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let raw = try c.int(.function, default: 0)
        guard let f = ReduceFunction(rawValue: Int32(truncatingIfNeeded: raw)), raw == Int(f.rawValue) else {
            throw c.badAttribute("unknown reduction \(raw)")
        }
        function = f
        let xs = c.tensor(x).shape
        guard let a = c.op.attribute(.axes), !a.ints.isEmpty else { throw c.badAttribute("axes is required") }
        let axes = a.ints
        for (i, v) in axes.enumerated() where v < 0 || v >= xs.count || (i > 0 && v <= axes[i - 1]) {
            throw c.badAttribute("axes \(axes) must be ascending and inside rank \(xs.count)")
        }
        let kept = xs.enumerated().filter { !axes.contains($0.offset) }.map { $0.element }
        let keptDims = xs.enumerated().map { axes.contains($0.offset) ? 1 : $0.element }
        let ys = c.tensor(y).shape
        guard ys == keptDims || ys == kept || (kept.isEmpty && ys.isEmpty) else {
            throw c.fail("output shape \(ys) is neither \(keptDims) (keepdims) nor \(kept)")
        }
        let strides = contiguousStrides(xs)
        let pad = 6 - xs.count
        outer = [Int](repeating: 1, count: 6); outerStride = [Int](repeating: 0, count: 6)
        inner = [Int](repeating: 1, count: 6); innerStride = [Int](repeating: 0, count: 6)
        count = 1
        for d in 0..<xs.count {
            if axes.contains(d) {
                inner[pad + d] = xs[d]; innerStride[pad + d] = strides[d]
                count *= xs[d]
            } else {
                outer[pad + d] = xs[d]; outerStride[pad + d] = strides[d]
            }
        }
        guard count <= 1 << 23 else { throw c.unsupported("reduction over \(count) elements (at most 2^23)") }
        isInt8 = c.tensor(x).dtype == .int8
        if isInt8 {
            try c.expect(y, dtype: .int8, "output")
            let (sx, z0) = try c.perTensor(x, "input"), (sy, z1) = try c.perTensor(y, "output")
            (zx, zy) = (z0, z1)
            switch f {
            case .max, .min:
                guard sx == sy, z0 == z1 else { throw VigilError(.badQuantization, "\(c.label): reduce \(f.name) needs the same quantization on input and output") }
            case .sum: rq = try Requantizer(real: Double(sx) / Double(sy))
            case .mean: rq = try Requantizer(real: Double(sx) / (Double(sy) * Double(count)))
            }
        } else {
            try c.expect(x, dtype: .float32, "input")
            try c.expect(y, dtype: .float32, "output")
        }
    }

    func eval(_ t: SlotTable) {
        var o = 0
        let o0 = outer, os = outerStride
        for i0 in 0..<o0[0] { for i1 in 0..<o0[1] { for i2 in 0..<o0[2] {
            for i3 in 0..<o0[3] { for i4 in 0..<o0[4] { for i5 in 0..<o0[5] {
                let base = i0 * os[0] + i1 * os[1] + i2 * os[2] + i3 * os[3] + i4 * os[4] + i5 * os[5]
                if isInt8 { reduceInt8(t, base, o) } else { reduceFloat(t, base, o) }
                o += 1
            } } }
        } } }
    }

    /// Calls `body(offset)` for every reduced element of one output, in C order.
    @inline(__always) func forEachReduced(_ base: Int, _ body: (Int) -> Void) {
        let e = inner, s = innerStride
        for j0 in 0..<e[0] { for j1 in 0..<e[1] { for j2 in 0..<e[2] {
            for j3 in 0..<e[3] { for j4 in 0..<e[4] {
                let b = base + j0 * s[0] + j1 * s[1] + j2 * s[2] + j3 * s[3] + j4 * s[4]
                for j5 in 0..<e[5] { body(b + j5 * s[5]) }
            } }
        } } }
    }

    func reduceInt8(_ t: SlotTable, _ base: Int, _ o: Int) {
        let X = t[x].assumingMemoryBound(to: Int8.self), Y = t[y].assumingMemoryBound(to: Int8.self)
        switch function {
        case .max:
            var m = Int8.min
            forEachReduced(base) { m = Swift.max(m, X[$0]) }
            Y[o] = m
        case .min:
            var m = Int8.max
            forEachReduced(base) { m = Swift.min(m, X[$0]) }
            Y[o] = m
        case .sum, .mean:
            var acc: Int32 = 0
            forEachReduced(base) { acc &+= Int32(X[$0]) &- zx }
            Y[o] = Int8(truncatingIfNeeded: rq.apply(acc, zeroPoint: zy, lo: -128, hi: 127))
        }
    }

    func reduceFloat(_ t: SlotTable, _ base: Int, _ o: Int) {
        let X = t[x].assumingMemoryBound(to: Float.self), Y = t[y].assumingMemoryBound(to: Float.self)
        switch function {
        case .max:
            var m = -Float.infinity
            forEachReduced(base) { v in m = X[v].isNaN || m.isNaN ? .nan : Swift.max(m, X[v]) }
            Y[o] = m
        case .min:
            var m = Float.infinity
            forEachReduced(base) { v in m = X[v].isNaN || m.isNaN ? .nan : Swift.min(m, X[v]) }
            Y[o] = m
        case .sum, .mean:
            var acc: Float = 0
            forEachReduced(base) { acc += X[$0] }
            Y[o] = function == .mean ? acc / Float(count) : acc
        }
    }
}
