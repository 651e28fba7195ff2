internal import VigilModel

/// Y[..., M, N] = A[..., M, K] · B[..., K, N] of two run-time values (attention's Q·Kᵀ and P·V),
/// the leading (batch) dimensions broadcast as NumPy does. Both operands have rank ≥ 2 (the
/// converter reshapes ONNX's 1-D operands). A MatMul with a constant 2-D right-hand side is a
/// FullyConnected instead.
/// int8: acc = Σ (a − z_a) × (b − z_b) in int32, requantized with s_a × s_b / s_y (docs/FORMAT.md §5.3).
struct MatMulOp {
    var a: Int, b: Int, y: Int
    var m: Int, n: Int, k: Int
    /// Element offsets of each batch's A and B matrices, in output batch order.
    var aOffsets: [Int] = [], bOffsets: [Int] = []
    var isInt8: Bool
    var za: Int32 = 0, zb: Int32 = 0, zy: Int32 = 0
    var rq = Requantizer(multiplier: 0, shift: 1)

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...2)
        a = try c.input(0); b = try c.input(1); y = c.output
        let asr = c.tensor(a).shape, bsr = c.tensor(b).shape, ys = c.tensor(y).shape
        guard asr.count >= 2, bsr.count >= 2 else { throw c.fail("operands must have rank 2 or more; they are \(asr) and \(bsr)") }
        (m, k, n) = (asr[asr.count - 2], asr[asr.count - 1], bsr[bsr.count - 1])
        guard bsr[bsr.count - 2] == k else { throw c.fail("inner dimensions differ: \(asr) by \(bsr)") }
        let aBatch = Array(asr.dropLast(2)), bBatch = Array(bsr.dropLast(2))
        guard let batch = Index6.broadcastShape(aBatch, bBatch), ys == batch + [m, n] else {
            throw c.fail("output shape \(ys) is not the broadcast of \(asr) by \(bsr)")
        }
        // Batch offsets: walk the broadcast batch index and map it back into each operand.
        let count = batch.reduce(1, *)
        let pa = [Int](repeating: 1, count: batch.count - aBatch.count) + aBatch
        let pb = [Int](repeating: 1, count: batch.count - bBatch.count) + bBatch
        let sa = contiguousStrides(pa), sb = contiguousStrides(pb), so = contiguousStrides(batch)
        for i in 0..<count {
            var oa = 0, ob = 0, rem = i
            for d in 0..<batch.count {
                let idx = rem / so[d]
                rem %= so[d]
                if pa[d] != 1 { oa += idx * sa[d] }
                if pb[d] != 1 { ob += idx * sb[d] }
            }
            aOffsets.append(oa * m * k)
            bOffsets.append(ob * k * n)
        }
        isInt8 = c.tensor(a).dtype == .int8
        if isInt8 {
            try c.expect(b, dtype: .int8, "input 1"); try c.expect(y, dtype: .int8, "output")
            let (s0, z0) = try c.perTensor(a, "input 0"), (s1, z1) = try c.perTensor(b, "input 1")
            let (s2, z2) = try c.perTensor(y, "output")
            (za, zb, zy) = (z0, z1, z2)
            rq = try Requantizer(real: Double(s0) * Double(s1) / Double(s2))
        } else {
            try c.expect(a, dtype: .float32, "input 0"); try c.expect(b, dtype: .float32, "input 1")
            try c.expect(y, dtype: .float32, "output")
        }
    }

    func eval(_ t: SlotTable) {
        let (m, n, k) = (m, n, k)
        aOffsets.withUnsafeBufferPointer { ao in
        bOffsets.withUnsafeBufferPointer { bo in
            if isInt8 {
                let A = t[a].assumingMemoryBound(to: Int8.self), B = t[b].assumingMemoryBound(to: Int8.self)
                let Y = t[y].assumingMemoryBound(to: Int8.self)
                for bi in 0..<ao.count {
                    let ab = A + ao[bi], bb = B + bo[bi], yb = Y + bi * m * n
                    for i in 0..<m {
                        let ar = ab + i * k
                        for j in 0..<n {
                            var acc: Int32 = 0
                            for p in 0..<k { acc &+= (Int32(ar[p]) &- za) &* (Int32(bb[p * n + j]) &- zb) }
                            yb[i * n + j] = Int8(truncatingIfNeeded: rq.apply(acc, zeroPoint: zy, lo: -128, hi: 127))
                        }
                    }
                }
            } else {
                let A = t[a].assumingMemoryBound(to: Float.self), B = t[b].assumingMemoryBound(to: Float.self)
                let Y = t[y].assumingMemoryBound(to: Float.self)
                for bi in 0..<ao.count {
                    sgemm(m: m, n: n, k: k, a: A + ao[bi], b: B + bo[bi], c: Y + bi * m * n)
                }
            }
        }
        }
    }
}
