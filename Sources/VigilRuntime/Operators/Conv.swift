internal import VigilModel
#if VIGIL_OPENBLAS
internal import Glibc
#endif
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// Conv, 1D and 2D, NCHW, with stride, padding, dilation and groups.
///
/// int8: X int8 per-tensor, W int8 per-output-channel symmetric ([Cout, Cin/group, kH, kW]),
/// B int32 with scale s_x * s_w[c] and zero point 0, Y int8 per-tensor; the accumulator
/// `B[c] + sum((x - zx) * w)` is requantized with multiplier s_x * s_w[c] / s_y.
/// float32: im2col into scratch, then one sgemm per group and batch.
struct ConvOp {
    var g: ConvGeometry
    var groups: Int
    var x: Int, w: Int, y: Int, scratch: Int
    var isInt8: Bool
    // int8
    var bias: [Int32] = []
    var requant: [Requantizer] = []
    var inZero: Int32 = 0, outZero: Int32 = 0, lo: Int32 = -128, hi: Int32 = 127
    // float
    var fbias: [Float] = []
    var flo: Float = -.infinity, fhi: Float = .infinity
    /// float32 im2col bytes.
    var floatScratchBytes = 0
    #if canImport(CVigilKernels)
    /// int8 through the C kernels: the prepared convolution (vigil_plan.h) — its path, packed
    /// weights, folded bias and requantization constants for the selected variant.
    var plan: KernelPlan? = nil
    #endif

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...3)
        x = try c.input(0); w = try c.input(1); y = c.output
        scratch = c.scratchSlot
        try c.expectConstant(w, "weight")
        let ws = c.tensor(w).shape, xs = c.tensor(x).shape
        guard ws.count == xs.count, ws.count >= 3 else { throw c.fail("weight shape \(ws) does not fit input shape \(xs)") }
        groups = try c.int(.group, default: 1)
        guard groups >= 1, xs[1] % groups == 0, ws[0] % groups == 0, ws[1] * groups == xs[1] else {
            throw c.badAttribute("group \(groups) does not divide input channels \(xs[1]) and output channels \(ws[0]) with weight \(ws)")
        }
        if let k = c.op.ints(.kernelShape), k != Array(ws[2...]) {
            throw c.badAttribute("kernel_shape \(k) disagrees with weight shape \(ws)")
        }
        g = try ConvGeometry(c, input: xs, kernel: Array(ws[2...]), outShape: c.tensor(y).shape, outChannels: ws[0])
        let (act, cmin, cmax) = try c.activation()
        let b = c.optionalInput(2)
        if let b { try c.expectConstant(b, "bias"); try c.expectShape(b, [ws[0]], "bias") }
        isInt8 = c.tensor(x).dtype == .int8
        if isInt8 {
            try c.expect(w, dtype: .int8, "weight")
            try c.expect(y, dtype: .int8, "output")
            let (sx, zx) = try c.perTensor(x, "input")
            let (sy, zy) = try c.perTensor(y, "output")
            let ws = try weightScales(c, w, channels: g.outChannels)
            (inZero, outZero) = (zx, zy)
            (lo, hi) = activationRange(act, clipMin: cmin, clipMax: cmax, scale: sy, zeroPoint: zy)
            for ch in 0..<g.outChannels {
                requant.append(try Requantizer(real: Double(sx) * Double(ws[ch]) / Double(sy)))
            }
            bias = [Int32](repeating: 0, count: g.outChannels)
            if let b {
                try c.expect(b, dtype: .int32, "bias")
                let bv = c.constant(b, as: Int32.self)
                for i in 0..<g.outChannels { bias[i] = bv[i] }
            }
            #if canImport(CVigilKernels)
            if c.optimized { plan = try makePlan(c) }
            #endif
        } else {
            try c.expect(x, dtype: .float32, "input")
            try c.expect(w, dtype: .float32, "weight")
            try c.expect(y, dtype: .float32, "output")
            (flo, fhi) = activationRange(act, clipMin: cmin, clipMax: cmax)
            fbias = [Float](repeating: 0, count: g.outChannels)
            if let b {
                try c.expect(b, dtype: .float32, "bias")
                let bv = c.constant(b, as: Float.self)
                for i in 0..<g.outChannels { fbias[i] = bv[i] }
            }
            floatScratchBytes = (g.inChannels / groups) * g.kH * g.kW * g.outH * g.outW * 4
        }
    }

    /// Scratch bytes with a pool of `threads` threads.
    func scratchBytes(threads: Int) -> Int {
        #if canImport(CVigilKernels)
        if let plan { return vigil_conv_plan_scratch_bytes(plan.raw, Int32(threads)) }
        #endif
        return isInt8 ? 0 : floatScratchBytes
    }

    #if canImport(CVigilKernels)
    func makePlan(_ c: OpContext) throws(VigilError) -> KernelPlan {
        var p = vigil_conv_params(
            batch: Int32(g.batch), in_channels: Int32(g.inChannels), in_h: Int32(g.inH), in_w: Int32(g.inW),
            out_channels: Int32(g.outChannels), out_h: Int32(g.outH), out_w: Int32(g.outW),
            k_h: Int32(g.kH), k_w: Int32(g.kW), stride_h: Int32(g.strideH), stride_w: Int32(g.strideW),
            dilation_h: Int32(g.dilationH), dilation_w: Int32(g.dilationW),
            pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft), pad_bottom: Int32(g.padBottom), pad_right: Int32(g.padRight),
            groups: Int32(groups), input_zero_point: inZero, output_zero_point: outZero, lo: lo, hi: hi)
        let variant = vigil_kernel_selected()
        let weights = c.constant(w, as: Int8.self).baseAddress!
        let bytes = vigil_conv_plan_bytes(&p, weights, variant)
        guard bytes > 0 else { throw c.fail("the kernels cannot plan this convolution (\(g))") }
        let plan = KernelPlan(bytes: bytes)
        let multipliers = requant.map { $0.multiplier }, shifts = requant.map { $0.shift }
        let ok = bias.withUnsafeBufferPointer { b in
            multipliers.withUnsafeBufferPointer { m in
                shifts.withUnsafeBufferPointer { s in
                    vigil_conv_plan_init(plan.raw, bytes, &p, weights, b.baseAddress!,
                                         m.baseAddress!, s.baseAddress!, variant)
                }
            }
        }
        guard ok == 1 else { throw c.fail("the kernels cannot plan this convolution (\(g))") }
        return plan
    }
    #endif

    /// `pool`: intra-op threads (vigil_parallel.h); the kernel calls are split across them, the
    /// im2col and padding copies run on the calling thread.
    func eval(_ t: SlotTable, _ pool: OpaquePointer? = nil) {
        if isInt8 {
            #if canImport(CVigilKernels)
            if let plan {
                vigil_conv_run(plan.raw, t[x].assumingMemoryBound(to: Int8.self), t[w].assumingMemoryBound(to: Int8.self),
                               t[scratch], t[y].assumingMemoryBound(to: Int8.self), pool)
                return
            }
            #endif
            evalInt8(t)
        } else {
            evalFloat(t)
        }
    }

    func evalInt8(_ t: SlotTable) {
        let X = UnsafePointer<Int8>(t[x].assumingMemoryBound(to: Int8.self))
        let W = UnsafePointer<Int8>(t[w].assumingMemoryBound(to: Int8.self))
        let Y = t[y].assumingMemoryBound(to: Int8.self)
        let icpg = g.inChannels / groups, ocpg = g.outChannels / groups
        let kSize = icpg * g.kH * g.kW
        bias.withUnsafeBufferPointer { bias in
        requant.withUnsafeBufferPointer { rq in
            var o = 0
            for n in 0..<g.batch {
                for oc in 0..<g.outChannels {
                    let ic0 = (oc / ocpg) * icpg
                    let wOC = W + oc * kSize
                    for oy in 0..<g.outH {
                        for ox in 0..<g.outW {
                            var acc = bias[oc]
                            for ic in 0..<icpg {
                                let plane = X + ((n * g.inChannels + ic0 + ic) * g.inH) * g.inW
                                let wIC = wOC + ic * g.kH * g.kW
                                for ky in 0..<g.kH {
                                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                    if iy < 0 || iy >= g.inH { continue }
                                    for kx in 0..<g.kW {
                                        let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                        if ix < 0 || ix >= g.inW { continue }
                                        acc &+= (Int32(plane[iy * g.inW + ix]) &- inZero) &* Int32(wIC[ky * g.kW + kx])
                                    }
                                }
                            }
                            Y[o] = Int8(truncatingIfNeeded: rq[oc].apply(acc, zeroPoint: outZero, lo: lo, hi: hi))
                            o += 1
                        }
                    }
                }
            }
        }
        }
    }

    func evalFloat(_ t: SlotTable) {
        let X = UnsafePointer<Float>(t[x].assumingMemoryBound(to: Float.self))
        let W = UnsafePointer<Float>(t[w].assumingMemoryBound(to: Float.self))
        let Y = t[y].assumingMemoryBound(to: Float.self)
        let cols = t[scratch].assumingMemoryBound(to: Float.self)
        let icpg = g.inChannels / groups, ocpg = g.outChannels / groups
        let kSize = icpg * g.kH * g.kW, spatial = g.outH * g.outW
        for n in 0..<g.batch {
            for grp in 0..<groups {
                // im2col: rows = (ic, ky, kx), columns = output positions
                var r = 0
                for ic in 0..<icpg {
                    let plane = X + ((n * g.inChannels + grp * icpg + ic) * g.inH) * g.inW
                    for ky in 0..<g.kH {
                        for kx in 0..<g.kW {
                            let row = cols + r * spatial
                            var col = 0
                            for oy in 0..<g.outH {
                                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                for ox in 0..<g.outW {
                                    let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                    row[col] = (iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW) ? plane[iy * g.inW + ix] : 0
                                    col += 1
                                }
                            }
                            r += 1
                        }
                    }
                }
                let Yg = Y + (n * g.outChannels + grp * ocpg) * spatial
                let Wg = W + grp * ocpg * kSize
                sgemm(m: ocpg, n: spatial, k: kSize, a: Wg, b: UnsafePointer(cols), c: Yg)
                fbias.withUnsafeBufferPointer { fb in
                    for oc in 0..<ocpg {
                        let b = fb[grp * ocpg + oc]
                        let row = Yg + oc * spatial
                        for i in 0..<spatial { row[i] = min(max(row[i] + b, flo), fhi) }
                    }
                }
            }
        }
    }
}

/// Per-output-channel weight scales (one per channel, or one shared), checking symmetry.
func weightScales(_ c: OpContext, _ w: Int, channels: Int) throws(VigilError) -> [Float] {
    guard let q = c.tensor(w).quantization else {
        throw VigilError(.badQuantization, "\(c.label): weight (tensor \(w)) is int8 without quantization")
    }
    for z in q.zeroPoints where z != 0 {
        throw VigilError(.badQuantization, "\(c.label): weight zero points must be 0 (symmetric), found \(z)")
    }
    if q.isPerTensor { return [Float](repeating: q.scale, count: channels) }
    guard q.axis == 0, q.scales.count == channels else {
        throw VigilError(.badQuantization, "\(c.label): weight scales must run along axis 0 (one per output channel)")
    }
    return q.scales
}

/// C[m, n] = A[m, k] * B[k, n], row-major, float32. On the host build OpenBLAS's `cblas_sgemm` when
/// the library loads, else (and in the Embedded core build) a plain loop with the same result up to
/// float rounding order.
@inline(__always)
func sgemm(m: Int, n: Int, k: Int, a: UnsafePointer<Float>, b: UnsafePointer<Float>, c: UnsafeMutablePointer<Float>,
           transposeB: Bool = false) {
    #if VIGIL_OPENBLAS
    if let gemm = OpenBLAS.sgemm {
        // CBLAS enum values: CblasRowMajor = 101, CblasNoTrans = 111, CblasTrans = 112.
        gemm(101, 111, transposeB ? 112 : 111, Int32(m), Int32(n), Int32(k),
             1, a, Int32(k), b, transposeB ? Int32(k) : Int32(n), 0, c, Int32(n))
        return
    }
    #endif
    for i in 0..<m {
        for j in 0..<n { c[i * n + j] = 0 }
        for p in 0..<k {
            let av = a[i * k + p]
            if transposeB {
                for j in 0..<n { c[i * n + j] += av * b[j * k + p] }
            } else {
                let brow = b + p * n
                for j in 0..<n { c[i * n + j] += av * brow[j] }
            }
        }
    }
}

#if VIGIL_OPENBLAS
/// OpenBLAS, loaded on first use. Only float layers (`--keep-float`, float models) call it, and an
/// int8 model never does, so the agent and `vigil bench` on int8 models do not map the library,
/// its gfortran/quadmath dependencies or its worker threads (measured: about 2.1 MB of the agent's
/// resident memory, docs/PERFORMANCE.md). Loaded with one thread: latency figures and the
/// `--threads` contract are single-threaded, and the bedside board shares its cores.
public enum OpenBLAS {
    typealias SGEMM = @convention(c) (Int32, Int32, Int32, Int32, Int32, Int32, Float, UnsafePointer<Float>?, Int32,
                                      UnsafePointer<Float>?, Int32, Float, UnsafeMutablePointer<Float>?, Int32) -> Void
    typealias SetThreads = @convention(c) (Int32) -> Void

    /// `cblas_sgemm`, or nil when no OpenBLAS library loads (then `sgemm` runs its plain loop).
    static let sgemm: SGEMM? = {
        for name in ["libopenblas.so.0", "libopenblas.so"] {
            guard let handle = dlopen(name, RTLD_NOW | RTLD_LOCAL) else { continue }
            guard let f = dlsym(handle, "cblas_sgemm") else { dlclose(handle); continue }
            if let t = dlsym(handle, "openblas_set_num_threads") {
                unsafeBitCast(t, to: SetThreads.self)(1)
            }
            return unsafeBitCast(f, to: SGEMM.self)
        }
        return nil
    }()

    /// True when float layers run on OpenBLAS (loads it on first call).
    public static var isAvailable: Bool { sgemm != nil }
}
#endif
