internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// Depthwise convolution: each input channel convolved with its own `multiplier` filters.
/// Weight [C * multiplier, 1, kH, kW] (ONNX Conv with group == C). Quantization as Conv.
struct DepthwiseConvOp {
    var g: ConvGeometry
    var multiplier: Int
    var x: Int, w: Int, y: Int
    var isInt8: Bool
    var bias: [Int32] = []
    var requant: [Requantizer] = []
    var inZero: Int32 = 0, outZero: Int32 = 0, lo: Int32 = -128, hi: Int32 = 127
    var fbias: [Float] = []
    var flo: Float = -.infinity, fhi: Float = .infinity
    /// The padded channel planes of the vectorized kernels.
    var scratch: Int
    #if canImport(CVigilKernels)
    /// int8 through the C kernels: the prepared depthwise convolution (vigil_plan.h).
    var plan: KernelPlan? = nil
    #endif

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...3)
        x = try c.input(0); w = try c.input(1); y = c.output
        scratch = c.scratchSlot
        try c.expectConstant(w, "weight")
        let ws = c.tensor(w).shape, xs = c.tensor(x).shape
        guard ws.count == xs.count, ws.count >= 3, ws[1] == 1, ws[0] % xs[1] == 0 else {
            throw c.fail("weight shape \(ws) is not depthwise for input \(xs) (expected [C * multiplier, 1, k...])")
        }
        let group = try c.int(.group, default: xs[1])
        guard group == xs[1] else { throw c.badAttribute("group \(group) must equal the input channels \(xs[1])") }
        multiplier = ws[0] / xs[1]
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
            let scales = try weightScales(c, w, channels: g.outChannels)
            (inZero, outZero) = (zx, zy)
            (lo, hi) = activationRange(act, clipMin: cmin, clipMax: cmax, scale: sy, zeroPoint: zy)
            for ch in 0..<g.outChannels { requant.append(try Requantizer(real: Double(sx) * Double(scales[ch]) / Double(sy))) }
            bias = [Int32](repeating: 0, count: g.outChannels)
            if let b {
                try c.expect(b, dtype: .int32, "bias")
                let bv = c.constant(b, as: Int32.self)
                for i in 0..<g.outChannels { bias[i] = bv[i] }
            }
            #if canImport(CVigilKernels)
            if c.optimized {
                var geo = depthwiseKernelGeometry(g, multiplier: multiplier, inZero: inZero)
                let variant = vigil_kernel_selected()
                let bytes = vigil_depthwise_plan_bytes(&geo, Int32(g.batch), variant)
                guard bytes > 0 else { throw c.fail("the kernels cannot plan this depthwise convolution (\(g))") }
                let plan = KernelPlan(bytes: bytes)
                let multipliers = requant.map { $0.multiplier }, shifts = requant.map { $0.shift }
                let ok = bias.withUnsafeBufferPointer { b in
                    multipliers.withUnsafeBufferPointer { m in
                        shifts.withUnsafeBufferPointer { s in
                            vigil_depthwise_plan_init(plan.raw, bytes, &geo, Int32(g.batch), c.constant(w, as: Int8.self).baseAddress!,
                                                      b.baseAddress!, m.baseAddress!, s.baseAddress!, outZero, lo, hi, variant)
                        }
                    }
                }
                guard ok == 1 else { throw c.fail("the kernels cannot plan this depthwise convolution (\(g))") }
                self.plan = plan
            }
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
        }
    }

    /// Scratch bytes with a pool of `threads` threads (one copy of the channel planes per thread).
    func scratchBytes(threads: Int) -> Int {
        #if canImport(CVigilKernels)
        if let plan { return vigil_depthwise_plan_scratch_bytes(plan.raw, Int32(threads)) }
        #endif
        return 0
    }

    /// `pool`: intra-op threads; channels are split across them, each with its own scratch copy.
    func eval(_ t: SlotTable, _ pool: OpaquePointer? = nil) {
        #if canImport(CVigilKernels)
        if let plan {
            vigil_depthwise_run(plan.raw, t[x].assumingMemoryBound(to: Int8.self), t[w].assumingMemoryBound(to: Int8.self),
                                t[scratch], t[y].assumingMemoryBound(to: Int8.self), pool)
            return
        }
        #endif
        if isInt8 { run(t, Int8.self) } else { run(t, Float.self) }
    }

    @inline(__always) func run<T>(_ t: SlotTable, _: T.Type) {
        let kArea = g.kH * g.kW
        for n in 0..<g.batch {
            for oc in 0..<g.outChannels {
                let ic = oc / multiplier
                let planeOff = ((n * g.inChannels + ic) * g.inH) * g.inW
                let outOff = ((n * g.outChannels + oc) * g.outH) * g.outW
                for oy in 0..<g.outH {
                    for ox in 0..<g.outW {
                        if T.self == Int8.self {
                            let X = t[x].assumingMemoryBound(to: Int8.self) + planeOff
                            let W = t[w].assumingMemoryBound(to: Int8.self) + oc * kArea
                            var acc = bias[oc]
                            for ky in 0..<g.kH {
                                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= g.inH { continue }
                                for kx in 0..<g.kW {
                                    let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= g.inW { continue }
                                    acc &+= (Int32(X[iy * g.inW + ix]) &- inZero) &* Int32(W[ky * g.kW + kx])
                                }
                            }
                            t[y].assumingMemoryBound(to: Int8.self)[outOff + oy * g.outW + ox] =
                                Int8(truncatingIfNeeded: requant[oc].apply(acc, zeroPoint: outZero, lo: lo, hi: hi))
                        } else {
                            let X = t[x].assumingMemoryBound(to: Float.self) + planeOff
                            let W = t[w].assumingMemoryBound(to: Float.self) + oc * kArea
                            var acc = fbias[oc]
                            for ky in 0..<g.kH {
                                let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                if iy < 0 || iy >= g.inH { continue }
                                for kx in 0..<g.kW {
                                    let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                    if ix < 0 || ix >= g.inW { continue }
                                    acc += X[iy * g.inW + ix] * W[ky * g.kW + kx]
                                }
                            }
                            t[y].assumingMemoryBound(to: Float.self)[outOff + oy * g.outW + ox] = min(max(acc, flo), fhi)
                        }
                    }
                }
            }
        }
    }
}

#if canImport(CVigilKernels)
/// The C kernel's geometry. A 1D layer (one row in, one row out) gets its horizontal stride as the
/// vertical one too — the same convolution, and the shape the channel-plane kernels take.
func depthwiseKernelGeometry(_ g: ConvGeometry, multiplier: Int, inZero: Int32) -> vigil_depthwise_geometry {
    let oneRow = g.inH == 1 && g.outH == 1 && g.kH == 1 && g.padTop == 0
    return vigil_depthwise_geometry(
        channels: Int32(g.inChannels), multiplier: Int32(multiplier), in_h: Int32(g.inH), in_w: Int32(g.inW),
        out_h: Int32(g.outH), out_w: Int32(g.outW), k_h: Int32(g.kH), k_w: Int32(g.kW),
        stride_h: Int32(oneRow ? g.strideW : g.strideH), stride_w: Int32(g.strideW),
        dilation_h: Int32(g.dilationH), dilation_w: Int32(g.dilationW),
        pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft), input_zero_point: inZero)
}
#endif
