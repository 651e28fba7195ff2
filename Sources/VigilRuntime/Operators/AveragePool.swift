internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// AveragePool (1D/2D, with count_include_pad) and GlobalAveragePool, NCHW.
/// int8: acc = sum(q - z_in) over the counted window, requantized with s_in / (s_out * count); one
/// Requantizer per possible count is prepared at load.
struct AveragePoolOp {
    var g: ConvGeometry
    var x: Int, y: Int
    var isInt8: Bool
    var countPad: Bool
    var zIn: Int32 = 0, zOut: Int32 = 0
    var byCount: [Requantizer] = []
    /// int8 over whole planes (global, or a window that covers the unpadded plane) through
    /// vigil_global_avgpool_s8.
    var globalKernel = false

    init(_ c: OpContext, global: Bool) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let xs = c.tensor(x).shape
        guard xs.count == 3 || xs.count == 4 else { throw c.fail("input rank \(xs.count); expected 3 or 4") }
        let k: [Int]
        if global {
            k = Array(xs[2...])
        } else {
            guard let ks = c.op.ints(.kernelShape), ks.count == xs.count - 2 else {
                throw c.badAttribute("kernel_shape is required with \(xs.count - 2) values")
            }
            for v in ks where v < 1 || v > 4096 { throw c.badAttribute("kernel size \(v) outside 1...4096") }
            k = ks
        }
        let cp = try c.int(.countIncludePad, default: 0)
        guard cp == 0 || cp == 1 else { throw c.badAttribute("count_include_pad must be 0 or 1") }
        countPad = cp == 1
        g = try ConvGeometry(c, input: xs, kernel: k, outShape: c.tensor(y).shape, outChannels: xs[1])
        let area = g.kH * g.kW
        guard area <= 1 << 20 else { throw c.unsupported("pooling window of \(area) elements") }
        isInt8 = c.tensor(x).dtype == .int8
        try c.expect(y, dtype: c.tensor(x).dtype, "output")
        if isInt8 {
            let (si, zi) = try c.perTensor(x, "input"), (so, zo) = try c.perTensor(y, "output")
            (zIn, zOut) = (zi, zo)
            byCount.reserveCapacity(area + 1)
            byCount.append(Requantizer(multiplier: 0, shift: 1))
            for n in 1...area { byCount.append(try Requantizer(real: Double(si) / (Double(so) * Double(n)))) }
            #if canImport(CVigilKernels)
            // Every window is then the whole plane and counts all of it.
            globalKernel = c.optimized && g.outH == 1 && g.outW == 1 && g.kH == g.inH && g.kW == g.inW
                && g.padTop == 0 && g.padLeft == 0 && g.padBottom == 0 && g.padRight == 0
            #endif
        } else {
            try c.expect(x, dtype: .float32, "input")
        }
    }

    func eval(_ t: SlotTable) {
        #if canImport(CVigilKernels)
        if globalKernel {
            let area = g.inH * g.inW
            vigil_global_avgpool_s8(t[x].assumingMemoryBound(to: Int8.self), Int32(g.batch * g.inChannels), Int32(area), zIn,
                                    byCount[area].multiplier, byCount[area].shift, zOut, t[y].assumingMemoryBound(to: Int8.self))
            return
        }
        #endif
        var o = 0
        for plane in 0..<(g.batch * g.inChannels) {
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var counted = 0
                    var accI: Int32 = 0
                    var accF: Float = 0
                    let Xi = t[x].assumingMemoryBound(to: Int8.self) + plane * g.inH * g.inW
                    let Xf = t[x].assumingMemoryBound(to: Float.self) + plane * g.inH * g.inW
                    for ky in 0..<g.kH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        for kx in 0..<g.kW {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            let inside = iy >= 0 && iy < g.inH && ix >= 0 && ix < g.inW
                            // ONNX counts padding but not positions past the padded extent.
                            if inside {
                                counted += 1
                                if isInt8 { accI &+= Int32(Xi[iy * g.inW + ix]) &- zIn } else { accF += Xf[iy * g.inW + ix] }
                            } else if countPad && iy < g.inH + g.padBottom && ix < g.inW + g.padRight {
                                counted += 1
                            }
                        }
                    }
                    if isInt8 {
                        t[y].assumingMemoryBound(to: Int8.self)[o] = Int8(truncatingIfNeeded:
                            byCount[counted].apply(accI, zeroPoint: zOut, lo: -128, hi: 127))
                    } else {
                        t[y].assumingMemoryBound(to: Float.self)[o] = counted > 0 ? accF / Float(counted) : 0
                    }
                    o += 1
                }
            }
        }
    }
}
