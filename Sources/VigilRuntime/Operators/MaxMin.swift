internal import VigilModel

/// Elementwise maximum or minimum of two values with NumPy broadcasting (ONNX Max and Min of two
/// inputs). int8: each input is rescaled to the output's parameters with the Add rule's shared
/// shift and multipliers, q' = z_y + (((q − z) × M + 2^(n−1)) >> n) in int64, and the larger (or
/// smaller) of the two is clamped to [−128, 127]. Rescaling is monotonic, so this is the
/// requantized maximum (minimum) of the two real values.
struct MaxMinOp {
    var a: Int, b: Int, y: Int
    var shape: [Int], sa: [Int], sb: [Int]
    var isMax: Bool
    var isInt8: Bool
    var za: Int64 = 0, zb: Int64 = 0, zy: Int64 = 0, ma: Int64 = 0, mb: Int64 = 0, n: Int64 = 1

    init(_ c: OpContext, max: Bool) throws(VigilError) {
        isMax = max
        try c.expectOperands(inputs: 2...2)
        a = try c.input(0); b = try c.input(1); y = c.output
        (shape, sa, sb) = try broadcastOperands(c, a, b, y)
        isInt8 = c.tensor(y).dtype == .int8
        if isInt8 {
            try c.expect(a, dtype: .int8, "input 0"); try c.expect(b, dtype: .int8, "input 1")
            let (s0, z0) = try c.perTensor(a, "input 0"), (s1, z1) = try c.perTensor(b, "input 1")
            let (s2, z2) = try c.perTensor(y, "output")
            (za, zb, zy) = (Int64(z0), Int64(z1), Int64(z2))
            (ma, mb, n) = try AddOp.multipliers(Double(s0) / Double(s2), Double(s1) / Double(s2))
        } else {
            try c.expect(a, dtype: .float32, "input 0"); try c.expect(b, dtype: .float32, "input 1")
            try c.expect(y, dtype: .float32, "output")
        }
    }

    func eval(_ t: SlotTable) {
        if isInt8 {
            let A = t[a].assumingMemoryBound(to: Int8.self), B = t[b].assumingMemoryBound(to: Int8.self)
            let Y = t[y].assumingMemoryBound(to: Int8.self)
            let round = Int64(1) << (n - 1)
            forEachBroadcast(shape, sa, sb) { o, i, j in
                let qa = (((Int64(A[i]) - za) * ma + round) >> n) + zy
                let qb = (((Int64(B[j]) - zb) * mb + round) >> n) + zy
                let v = isMax ? Swift.max(qa, qb) : Swift.min(qa, qb)
                Y[o] = Int8(truncatingIfNeeded: Swift.min(Swift.max(v, -128), 127))
            }
        } else {
            let A = t[a].assumingMemoryBound(to: Float.self), B = t[b].assumingMemoryBound(to: Float.self)
            let Y = t[y].assumingMemoryBound(to: Float.self)
            // NaN propagates, as in ONNX (numpy.maximum / minimum).
            if isMax {
                forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = A[i].isNaN || B[j].isNaN ? .nan : Swift.max(A[i], B[j]) }
            } else {
                forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = A[i].isNaN || B[j].isNaN ? .nan : Swift.min(A[i], B[j]) }
            }
        }
    }
}
