internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// Y[M, N] = X[M, K] * W[N, K]^T + B[N]. X may have any rank; all but its last dimension form M
/// (ONNX Gemm and MatMul with a constant right-hand side; the converter transposes MatMul's B).
/// int8 quantization as Conv (weights per output row).
struct FullyConnectedOp {
    var m: Int, n: Int, k: Int
    var x: Int, w: Int, y: Int
    var isInt8: Bool
    var bias: [Int32] = []
    var requant: [Requantizer] = []
    var inZero: Int32 = 0, outZero: Int32 = 0, lo: Int32 = -128, hi: Int32 = 127
    var fbias: [Float] = []
    var flo: Float = -.infinity, fhi: Float = .infinity
    #if canImport(CVigilKernels)
    /// int8 through the C kernels: the prepared layer (vigil_plan.h; its GEMM reads W in place).
    var plan: KernelPlan? = nil
    #endif

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...3)
        x = try c.input(0); w = try c.input(1); y = c.output
        try c.expectConstant(w, "weight")
        let xs = c.tensor(x).shape, ws = c.tensor(w).shape
        guard ws.count == 2, let kx = xs.last, kx == ws[1] else {
            throw c.fail("weight shape \(ws) does not fit input shape \(xs) (expected [N, \(xs.last ?? 0)])")
        }
        (n, k) = (ws[0], ws[1])
        m = c.tensor(x).elementCount / k
        let ys = c.tensor(y).shape
        guard c.tensor(y).elementCount == m * n, ys.last == n else {
            throw c.fail("output shape \(ys) is not [..., \(n)] with \(m) rows")
        }
        let (act, cmin, cmax) = try c.activation()
        let b = c.optionalInput(2)
        if let b { try c.expectConstant(b, "bias"); try c.expectShape(b, [n], "bias") }
        isInt8 = c.tensor(x).dtype == .int8
        if isInt8 {
            try c.expect(w, dtype: .int8, "weight")
            try c.expect(y, dtype: .int8, "output")
            let (sx, zx) = try c.perTensor(x, "input")
            let (sy, zy) = try c.perTensor(y, "output")
            let scales = try weightScales(c, w, channels: n)
            (inZero, outZero) = (zx, zy)
            (lo, hi) = activationRange(act, clipMin: cmin, clipMax: cmax, scale: sy, zeroPoint: zy)
            for ch in 0..<n { requant.append(try Requantizer(real: Double(sx) * Double(scales[ch]) / Double(sy))) }
            bias = [Int32](repeating: 0, count: n)
            if let b {
                try c.expect(b, dtype: .int32, "bias")
                let bv = c.constant(b, as: Int32.self)
                for i in 0..<n { bias[i] = bv[i] }
            }
            #if canImport(CVigilKernels)
            if c.optimized {
                var p = vigil_fc_params(m: Int32(m), n: Int32(n), k: Int32(k), input_zero_point: inZero,
                                        output_zero_point: outZero, lo: lo, hi: hi)
                let variant = vigil_kernel_selected()
                let bytes = vigil_fc_plan_bytes(&p, variant)
                guard bytes > 0 else { throw c.fail("the kernels cannot plan this layer (\(m)x\(k) by \(n))") }
                let plan = KernelPlan(bytes: bytes)
                let multipliers = requant.map { $0.multiplier }, shifts = requant.map { $0.shift }
                let ok = bias.withUnsafeBufferPointer { b in
                    multipliers.withUnsafeBufferPointer { mu in
                        shifts.withUnsafeBufferPointer { s in
                            vigil_fc_plan_init(plan.raw, bytes, &p, c.constant(w, as: Int8.self).baseAddress!, b.baseAddress!,
                                               mu.baseAddress!, s.baseAddress!, variant)
                        }
                    }
                }
                guard ok == 1 else { throw c.fail("the kernels cannot plan this layer (\(m)x\(k) by \(n))") }
                self.plan = plan
            }
            #endif
        } else {
            try c.expect(x, dtype: .float32, "input")
            try c.expect(w, dtype: .float32, "weight")
            try c.expect(y, dtype: .float32, "output")
            (flo, fhi) = activationRange(act, clipMin: cmin, clipMax: cmax)
            fbias = [Float](repeating: 0, count: n)
            if let b {
                try c.expect(b, dtype: .float32, "bias")
                let bv = c.constant(b, as: Float.self)
                for i in 0..<n { fbias[i] = bv[i] }
            }
        }
    }

    /// `pool`: intra-op threads; output features are split across them.
    func eval(_ t: SlotTable, _ pool: OpaquePointer? = nil) {
        #if canImport(CVigilKernels)
        if let plan {
            vigil_fc_run(plan.raw, t[x].assumingMemoryBound(to: Int8.self), t[w].assumingMemoryBound(to: Int8.self),
                         t[y].assumingMemoryBound(to: Int8.self), pool)
            return
        }
        #endif
        if isInt8 {
            let X = t[x].assumingMemoryBound(to: Int8.self), W = t[w].assumingMemoryBound(to: Int8.self)
            let Y = t[y].assumingMemoryBound(to: Int8.self)
            bias.withUnsafeBufferPointer { bias in
            requant.withUnsafeBufferPointer { rq in
                for i in 0..<m {
                    let xr = X + i * k
                    for j in 0..<n {
                        let wr = W + j * k
                        var acc = bias[j]
                        for p in 0..<k { acc &+= (Int32(xr[p]) &- inZero) &* Int32(wr[p]) }
                        Y[i * n + j] = Int8(truncatingIfNeeded: rq[j].apply(acc, zeroPoint: outZero, lo: lo, hi: hi))
                    }
                }
            }
            }
        } else {
            let X = t[x].assumingMemoryBound(to: Float.self), W = t[w].assumingMemoryBound(to: Float.self)
            let Y = t[y].assumingMemoryBound(to: Float.self)
            sgemm(m: m, n: n, k: k, a: X, b: W, c: Y, transposeB: true)
            fbias.withUnsafeBufferPointer { fb in
                for i in 0..<m {
                    for j in 0..<n { Y[i * n + j] = min(max(Y[i * n + j] + fb[j], flo), fhi) }
                }
            }
        }
    }
}
