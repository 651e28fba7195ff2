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
    var scratchBytes = 0
    // int8 through the C GEMM kernel: im2col (padding with the input zero point) into scratch, then
    // one vigil_gemm_s8 per group with the zero-point correction folded into the bias.
    var useKernel = false
    /// Use vigil_gemm_s8_kn (im2col as [K][positions], or the input itself for a 1x1 convolution).
    var columnsLayout = false
    var pointwise = false
    var packedWeights: [Int32] = []
    /// Use vigil_gemm_u8s8_k4 (VPDPBUSD): im2col of x + 128 as [K/4][positions][4], weight quads.
    var quadLayout = false
    var quadBias: [Int32] = []
    var kernelBias: [Int32] = []
    var multipliers: [Int32] = []
    var shifts: [Int32] = []
    /// Use vigil_conv_u8s8_direct: the input copied once into a padded x + 128 buffer (scratch),
    /// no im2col. `direct` describes that buffer and the quad offsets.
    var direct: DirectConvPlan? = nil
    /// One input channel and no groups (the first layer of an image or waveform network): run as a
    /// depthwise convolution with multiplier Cout, whose channel-plane kernels vectorize across
    /// output positions (vigil_depthwise_s8 with its scratch).
    var singleChannel = false

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
            if c.optimized {
                useKernel = true
                let kSize = (g.inChannels / groups) * g.kH * g.kW
                let wv = c.constant(w, as: Int8.self)
                for oc in 0..<g.outChannels {
                    var sum: Int32 = 0
                    for k in 0..<kSize { sum &+= Int32(wv[oc * kSize + k]) }
                    kernelBias.append(bias[oc] &- inZero &* sum)
                }
                multipliers = requant.map(\.multiplier)
                shifts = requant.map(\.shift)
                quadLayout = vigil_gemm_u8s8_k4_preferred() != 0
                columnsLayout = !quadLayout && vigil_gemm_s8_kn_preferred() != 0
                if quadLayout {
                    let k4 = (kSize + 3) / 4
                    packedWeights = [Int32](repeating: 0, count: g.outChannels * k4)
                    for oc in 0..<g.outChannels {
                        var sum: Int32 = 0
                        for k in 0..<kSize {
                            let v = wv[oc * kSize + k]
                            sum &+= Int32(v)
                            let shift = UInt32(8 * (k % 4))
                            packedWeights[oc * k4 + k / 4] |= Int32(bitPattern: UInt32(UInt8(bitPattern: v)) << shift)
                        }
                        // acc over (x + 128) * w = acc over x * w + 128 * sum(w); the reference subtracts zx * sum(w).
                        quadBias.append(bias[oc] &- (inZero &+ 128) &* sum)
                    }
                    scratchBytes = k4 * 4 * g.outH * g.outW
                }
                if columnsLayout {
                    packedWeights = [Int32](repeating: 0, count: g.outChannels * ((kSize + 1) / 2))
                    packedWeights.withUnsafeMutableBufferPointer { p in
                        vigil_pack_pairs_s8(wv.baseAddress!, Int32(g.outChannels), Int32(kSize), p.baseAddress!)
                    }
                }
                pointwise = (columnsLayout || quadLayout) && g.kH == 1 && g.kW == 1 && g.strideH == 1 && g.strideW == 1
                    && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
                if !quadLayout { scratchBytes = pointwise ? 0 : g.outH * g.outW * kSize }
                // (the quad layout always needs its scratch, pointwise or not)
                // Convolutions with a spatial kernel skip im2col where the direct kernel is vectorized
                // (1x1 ones already read their input in place through the quad packing).
                // 1x1 ones go through the quad GEMM, whose AVX512-VNNI tiles (lanes = positions) need no
                // transposition of the results and requantize with per-row broadcasts.
                if quadLayout && !pointwise && groups == 1 && vigil_conv_u8s8_direct_preferred() != 0 {
                    let plan = DirectConvPlan(g, weights: wv, bias: bias, inZero: inZero)
                    direct = plan
                    scratchBytes = plan.scratchBytes
                }
                if groups == 1 && g.inChannels == 1 {
                    var geo = depthwiseKernelGeometry(g, multiplier: g.outChannels, inZero: inZero)
                    let bytes = vigil_depthwise_s8_scratch_bytes(&geo)
                    if bytes > 0 { (singleChannel, direct, scratchBytes) = (true, nil, bytes) }
                }
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
            scratchBytes = (g.inChannels / groups) * g.kH * g.kW * g.outH * g.outW * 4
        }
    }

    /// `pool`: intra-op threads (vigil_parallel.h); the kernel calls are split across them, the
    /// im2col and padding copies run on the calling thread.
    func eval(_ t: SlotTable, _ pool: OpaquePointer? = nil) {
        if isInt8 {
            #if canImport(CVigilKernels)
            if useKernel {
                if singleChannel { evalSingleChannel(t, pool) } else if let d = direct { evalDirect(t, d, pool) } else if quadLayout { evalQuads(t, pool) } else if columnsLayout { evalColumns(t, pool) } else { evalKernel(t, pool) }
                return
            }
            #endif
            evalInt8(t)
        } else {
            evalFloat(t)
        }
    }

    #if canImport(CVigilKernels)
    /// int8 through vigil_depthwise_s8 (one input channel, Cout filters; same weight layout).
    func evalSingleChannel(_ t: SlotTable, _ pool: OpaquePointer?) {
        var geo = depthwiseKernelGeometry(g, multiplier: g.outChannels, inZero: inZero)
        bias.withUnsafeBufferPointer { b in
        multipliers.withUnsafeBufferPointer { m in
        shifts.withUnsafeBufferPointer { s in
            var q = vigil_requant_rows(bias: b.baseAddress!, multiplier: m.baseAddress!, shift: s.baseAddress!,
                                       zero_point: outZero, lo: lo, hi: hi)
            let inPlane = g.inH * g.inW, outPlane = g.outChannels * g.outH * g.outW
            for n in 0..<g.batch {
                vigil_par_depthwise_s8(pool, t[x].assumingMemoryBound(to: Int8.self) + n * inPlane, t[w].assumingMemoryBound(to: Int8.self),
                                       &geo, &q, t[scratch], threadScratchStride(scratchBytes), t[y].assumingMemoryBound(to: Int8.self) + n * outPlane)
            }
        }
        }
        }
    }

    /// int8 through vigil_conv_u8s8_direct, one call per output row.
    func evalDirect(_ t: SlotTable, _ d: DirectConvPlan, _ pool: OpaquePointer?) {
        let X = UnsafePointer<Int8>(t[x].assumingMemoryBound(to: Int8.self))
        let Y = t[y].assumingMemoryBound(to: Int8.self)
        let P = t[scratch].assumingMemoryBound(to: UInt8.self)
        let g = d.geometry
        let spatial = g.outH * g.outW
        let pad = UInt8(truncatingIfNeeded: inZero &+ 128)
        d.weights.withUnsafeBufferPointer { pw in
        d.bias.withUnsafeBufferPointer { kb in
        d.offsets.withUnsafeBufferPointer { off in
        multipliers.withUnsafeBufferPointer { mult in
        shifts.withUnsafeBufferPointer { sh in
            var q = vigil_requant_rows(bias: kb.baseAddress!, multiplier: mult.baseAddress!, shift: sh.baseAddress!,
                                       zero_point: outZero, lo: lo, hi: hi)
            for n in 0..<g.batch {
                let image = X + n * g.inChannels * g.inH * g.inW
                if d.channelQuads {
                    vigil_conv_pad_quads_u8(image, Int32(g.inChannels), Int32(g.inH), Int32(g.inW), Int32(g.padTop), Int32(g.padLeft),
                                            Int32(d.hp), Int32(d.wp), pad, P)
                } else {
                    vigil_conv_pad_rows_u8(image, Int32(g.inChannels), Int32(g.inH), Int32(g.inW), Int32(g.padTop), Int32(g.padLeft),
                                           Int32(d.hp), Int32(d.wp), pad, P)
                }
                let out = Y + n * g.outChannels * spatial
                vigil_par_conv_u8s8_direct(pool, pw.baseAddress!, Int32(g.outChannels), P, d.rowStride, Int32(g.outH), d.posStride,
                                           Int32(g.outW), off.baseAddress!, Int32(d.offsets.count), &q, out, spatial)
            }
        }
        }
        }
        }
        }
    }

    /// int8 through vigil_gemm_u8s8_k4: U is [K/4][output positions][4] of x + 128.
    func evalQuads(_ t: SlotTable, _ pool: OpaquePointer?) {
        let X = UnsafePointer<Int8>(t[x].assumingMemoryBound(to: Int8.self))
        let Y = t[y].assumingMemoryBound(to: Int8.self)
        let U = t[scratch].assumingMemoryBound(to: UInt8.self)
        let icpg = g.inChannels / groups, ocpg = g.outChannels / groups
        let kSize = icpg * g.kH * g.kW, k4 = (kSize + 3) / 4, spatial = g.outH * g.outW
        let pad = UInt8(truncatingIfNeeded: inZero &+ 128)
        packedWeights.withUnsafeBufferPointer { pw in
        quadBias.withUnsafeBufferPointer { kb in
        multipliers.withUnsafeBufferPointer { mult in
        shifts.withUnsafeBufferPointer { sh in
            for n in 0..<g.batch {
                for grp in 0..<groups {
                    let firstPlane = X + ((n * g.inChannels + grp * icpg) * g.inH) * g.inW
                    var k = 0
                    if pointwise {
                        vigil_par_pack_quads_u8(pool, firstPlane, g.inH * g.inW, Int32(icpg), Int32(spatial), U)
                        k = kSize
                    }
                    for ic in 0..<(pointwise ? 0 : icpg) {
                        let plane = firstPlane + ic * g.inH * g.inW
                        for ky in 0..<g.kH {
                            for kx in 0..<g.kW {
                                var dst = U + (k / 4) * spatial * 4 + k % 4
                                for oy in 0..<g.outH {
                                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                    let inRow = iy >= 0 && iy < g.inH
                                    for ox in 0..<g.outW {
                                        let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                        dst.pointee = inRow && ix >= 0 && ix < g.inW
                                            ? UInt8(bitPattern: plane[iy * g.inW + ix]) ^ 0x80 : pad
                                        dst += 4
                                    }
                                }
                                k += 1
                            }
                        }
                    }
                    let r0 = grp * ocpg
                    var q = vigil_requant_rows(bias: kb.baseAddress! + r0, multiplier: mult.baseAddress! + r0,
                                               shift: sh.baseAddress! + r0, zero_point: outZero, lo: lo, hi: hi)
                    vigil_par_gemm_u8s8_k4(pool, pw.baseAddress! + r0 * k4, U, Int32(ocpg), Int32(spatial), Int32(k4), &q,
                                       Y + (n * g.outChannels + r0) * spatial, spatial)
                }
            }
        }
        }
        }
        }
    }

    /// int8 through vigil_gemm_s8_kn: B is [K][output positions].
    func evalColumns(_ t: SlotTable, _ pool: OpaquePointer?) {
        let X = UnsafePointer<Int8>(t[x].assumingMemoryBound(to: Int8.self))
        let Y = t[y].assumingMemoryBound(to: Int8.self)
        let icpg = g.inChannels / groups, ocpg = g.outChannels / groups
        let kSize = icpg * g.kH * g.kW, spatial = g.outH * g.outW
        let pad = Int8(truncatingIfNeeded: inZero)
        let half = (kSize + 1) / 2
        packedWeights.withUnsafeBufferPointer { pw in
        kernelBias.withUnsafeBufferPointer { kb in
        multipliers.withUnsafeBufferPointer { mult in
        shifts.withUnsafeBufferPointer { sh in
            for n in 0..<g.batch {
                for grp in 0..<groups {
                    let firstPlane = X + ((n * g.inChannels + grp * icpg) * g.inH) * g.inW
                    var B = firstPlane
                    if !pointwise {
                        let cols = t[scratch].assumingMemoryBound(to: Int8.self)
                        var k = 0
                        for ic in 0..<icpg {
                            let plane = firstPlane + ic * g.inH * g.inW
                            for ky in 0..<g.kH {
                                for kx in 0..<g.kW {
                                    let row = cols + k * spatial
                                    var o = 0
                                    for oy in 0..<g.outH {
                                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                        let inRow = iy >= 0 && iy < g.inH
                                        for ox in 0..<g.outW {
                                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                            row[o] = inRow && ix >= 0 && ix < g.inW ? plane[iy * g.inW + ix] : pad
                                            o += 1
                                        }
                                    }
                                    k += 1
                                }
                            }
                        }
                        B = UnsafePointer(cols)
                    }
                    let r0 = grp * ocpg
                    var q = vigil_requant_rows(bias: kb.baseAddress! + r0, multiplier: mult.baseAddress! + r0,
                                               shift: sh.baseAddress! + r0, zero_point: outZero, lo: lo, hi: hi)
                    vigil_par_gemm_s8_kn(pool, pw.baseAddress! + r0 * half, B, spatial, Int32(ocpg), Int32(spatial), Int32(kSize), &q,
                                     Y + (n * g.outChannels + r0) * spatial, spatial)
                }
            }
        }
        }
        }
        }
    }

    func evalKernel(_ t: SlotTable, _ pool: OpaquePointer?) {
        let X = UnsafePointer<Int8>(t[x].assumingMemoryBound(to: Int8.self))
        let W = UnsafePointer<Int8>(t[w].assumingMemoryBound(to: Int8.self))
        let Y = t[y].assumingMemoryBound(to: Int8.self)
        let cols = t[scratch].assumingMemoryBound(to: Int8.self)
        let icpg = g.inChannels / groups, ocpg = g.outChannels / groups
        let kSize = icpg * g.kH * g.kW, spatial = g.outH * g.outW
        let pad = Int8(truncatingIfNeeded: inZero)
        kernelBias.withUnsafeBufferPointer { kb in
        multipliers.withUnsafeBufferPointer { mult in
        shifts.withUnsafeBufferPointer { sh in
            for n in 0..<g.batch {
                for grp in 0..<groups {
                    // im2col, one row of K values per output position
                    var o = 0
                    for oy in 0..<g.outH {
                        for ox in 0..<g.outW {
                            var k = 0
                            for ic in 0..<icpg {
                                let plane = X + ((n * g.inChannels + grp * icpg + ic) * g.inH) * g.inW
                                for ky in 0..<g.kH {
                                    let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                                    for kx in 0..<g.kW {
                                        let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                                        cols[o + k] = (iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW) ? plane[iy * g.inW + ix] : pad
                                        k += 1
                                    }
                                }
                            }
                            o += kSize
                        }
                    }
                    let r0 = grp * ocpg
                    var q = vigil_requant_rows(bias: kb.baseAddress! + r0, multiplier: mult.baseAddress! + r0,
                                               shift: sh.baseAddress! + r0, zero_point: outZero, lo: lo, hi: hi)
                    vigil_par_gemm_s8(pool, W + r0 * kSize, UnsafePointer(cols), Int32(ocpg), Int32(spatial), Int32(kSize), &q,
                                  Y + (n * g.outChannels + r0) * spatial, spatial, 1)
                }
            }
        }
        }
        }
    }
    #endif

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

/// The padded input layout and packed weights of a direct convolution (vigil_conv_u8s8_direct).
/// Each group of four reduction terms must be four adjacent bytes of the padded input: either four
/// taps along a row (rows layout [C][hp][wp]; needs dilation 1 along the row; taps past the kernel
/// get weight 0) or four channels at one tap (channel quads [C/4][hp][wp][4]; channels past C get
/// weight 0). The layout that wastes fewer of the four lanes wins.
struct DirectConvPlan {
    var geometry: ConvGeometry
    var channelQuads: Bool
    var channels: Int
    var hp: Int, wp: Int
    var posStride: Int, rowStride: Int
    var offsets: [Int32] = []
    /// [ceil(Cout / 16)][K4][16] weight quads.
    var weights: [Int32] = []
    /// bias - (zx + 128) * sum(w): the unsigned shift and the padding value cancel out.
    var bias: [Int32] = []
    /// Bytes of the padded input.
    var scratchBytes: Int { channelQuads ? ((channels + 3) / 4) * hp * wp * 4 : channels * hp * wp }

    init(_ g: ConvGeometry, weights wv: UnsafeBufferPointer<Int8>, bias b: [Int32], inZero: Int32) {
        geometry = g
        let cin = g.inChannels, kq = (g.kW + 3) / 4, c4 = (cin + 3) / 4
        let tapUse = g.dilationW == 1 ? Double(g.kW) / Double(4 * kq) : 0
        let channelUse = Double(cin) / Double(4 * c4)
        channelQuads = channelUse > tapUse
        channels = cin
        // Rows and columns the kernel can touch: output position times stride plus the kernel's reach.
        hp = (g.outH - 1) * g.strideH + (g.kH - 1) * g.dilationH + 1
        wp = channelQuads ? (g.outW - 1) * g.strideW + (g.kW - 1) * g.dilationW + 1 : (g.outW - 1) * g.strideW + 4 * kq
        let unit = channelQuads ? 4 : 1
        posStride = g.strideW * unit
        rowStride = g.strideH * wp * unit
        let kSize = cin * g.kH * g.kW
        let k4 = channelQuads ? g.kH * g.kW * c4 : cin * g.kH * kq
        let blocks = (g.outChannels + 15) / 16
        weights = [Int32](repeating: 0, count: blocks * k4 * 16)
        // Sets byte t of the quad of output channel `oc` at reduction index `k`.
        func put(_ oc: Int, _ k: Int, _ t: Int, _ v: Int8) {
            let i = ((oc / 16) * k4 + k) * 16 + oc % 16
            weights[i] |= Int32(bitPattern: UInt32(UInt8(bitPattern: v)) << UInt32(8 * t))
        }
        if channelQuads {
            for ky in 0..<g.kH {
                for kx in 0..<g.kW {
                    for j in 0..<c4 {
                        let k = (ky * g.kW + kx) * c4 + j
                        offsets.append(Int32(((j * hp + ky * g.dilationH) * wp + kx * g.dilationW) * 4))
                        for oc in 0..<g.outChannels {
                            for t in 0..<4 where 4 * j + t < cin {
                                put(oc, k, t, wv[oc * kSize + ((4 * j + t) * g.kH + ky) * g.kW + kx])
                            }
                        }
                    }
                }
            }
        } else {
            for ic in 0..<cin {
                for ky in 0..<g.kH {
                    for j in 0..<kq {
                        let k = (ic * g.kH + ky) * kq + j
                        offsets.append(Int32((ic * hp + ky * g.dilationH) * wp + 4 * j))
                        for oc in 0..<g.outChannels {
                            for t in 0..<4 where 4 * j + t < g.kW {
                                put(oc, k, t, wv[oc * kSize + (ic * g.kH + ky) * g.kW + 4 * j + t])
                            }
                        }
                    }
                }
            }
        }
        for oc in 0..<g.outChannels {
            var sum: Int32 = 0
            for k in 0..<kSize { sum &+= Int32(wv[oc * kSize + k]) }
            bias.append(b[oc] &- (inZero &+ 128) &* sum)
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
