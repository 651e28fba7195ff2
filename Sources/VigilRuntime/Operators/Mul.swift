internal import VigilModel

/// Elementwise multiplication with NumPy broadcasting and a fused activation.
/// int8: acc = (a - za) * (b - zb), requantized with s_a * s_b / s_y.
struct MulOp {
    var a: Int, b: Int, y: Int
    var shape: [Int], sa: [Int], sb: [Int]
    var isInt8: Bool
    var za: Int32 = 0, zb: Int32 = 0, zy: Int32 = 0
    var rq = Requantizer(multiplier: 0, shift: 1)
    var lo: Int32 = -128, hi: Int32 = 127
    var flo: Float = -.infinity, fhi: Float = .infinity

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...2)
        a = try c.input(0); b = try c.input(1); y = c.output
        (shape, sa, sb) = try broadcastOperands(c, a, b, y)
        let (act, cmin, cmax) = try c.activation()
        isInt8 = c.tensor(y).dtype == .int8
        if isInt8 {
            try c.expect(a, dtype: .int8, "input 0"); try c.expect(b, dtype: .int8, "input 1")
            let (s0, z0) = try c.perTensor(a, "input 0"), (s1, z1) = try c.perTensor(b, "input 1")
            let (s2, z2) = try c.perTensor(y, "output")
            (za, zb, zy) = (z0, z1, z2)
            (lo, hi) = activationRange(act, clipMin: cmin, clipMax: cmax, scale: s2, zeroPoint: z2)
            rq = try Requantizer(real: Double(s0) * Double(s1) / Double(s2))
        } else {
            try c.expect(a, dtype: .float32, "input 0"); try c.expect(b, dtype: .float32, "input 1")
            try c.expect(y, dtype: .float32, "output")
            (flo, fhi) = activationRange(act, clipMin: cmin, clipMax: cmax)
        }
    }

    func eval(_ t: SlotTable) {
        if isInt8 {
            let A = t[a].assumingMemoryBound(to: Int8.self), B = t[b].assumingMemoryBound(to: Int8.self)
            let Y = t[y].assumingMemoryBound(to: Int8.self)
            forEachBroadcast(shape, sa, sb) { o, i, j in
                let acc = (Int32(A[i]) &- za) &* (Int32(B[j]) &- zb)
                Y[o] = Int8(truncatingIfNeeded: rq.apply(acc, zeroPoint: zy, lo: lo, hi: hi))
            }
        } else {
            let A = t[a].assumingMemoryBound(to: Float.self), B = t[b].assumingMemoryBound(to: Float.self)
            let Y = t[y].assumingMemoryBound(to: Float.self)
            forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = min(max(A[i] * B[j], flo), fhi) }
        }
    }
}
