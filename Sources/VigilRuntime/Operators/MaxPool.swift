internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// MaxPool, 1D and 2D, NCHW. Padding never wins (it acts as -infinity). int8 input and output must
/// share quantization (max commutes with the monotonic quantization).
struct MaxPoolOp {
    var g: ConvGeometry
    var x: Int, y: Int
    var isInt8: Bool
    /// int8 through vigil_maxpool_s8 (the reference below is the oracle it is tested against).
    var useKernel = false

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let xs = c.tensor(x).shape
        guard let k = c.op.ints(.kernelShape), k.count == xs.count - 2 else {
            throw c.badAttribute("kernel_shape is required with \(max(xs.count - 2, 0)) values")
        }
        for v in k where v < 1 || v > 4096 { throw c.badAttribute("kernel size \(v) outside 1...4096") }
        g = try ConvGeometry(c, input: xs, kernel: k, outShape: c.tensor(y).shape, outChannels: xs.count > 1 ? xs[1] : 0)
        isInt8 = c.tensor(x).dtype == .int8
        try c.expect(y, dtype: c.tensor(x).dtype, "output")
        if isInt8 {
            let a = try c.perTensor(x, "input"), b = try c.perTensor(y, "output")
            guard a == b else { throw VigilError(.badQuantization, "\(c.label): int8 MaxPool needs equal input and output quantization") }
            #if canImport(CVigilKernels)
            useKernel = c.optimized
            #endif
        } else {
            try c.expect(x, dtype: .float32, "input")
        }
    }

    func eval(_ t: SlotTable) {
        #if canImport(CVigilKernels)
        if useKernel {
            var pg = vigil_pool_geometry(planes: Int32(g.batch * g.inChannels), in_h: Int32(g.inH), in_w: Int32(g.inW),
                                         out_h: Int32(g.outH), out_w: Int32(g.outW), k_h: Int32(g.kH), k_w: Int32(g.kW),
                                         stride_h: Int32(g.strideH), stride_w: Int32(g.strideW),
                                         dilation_h: Int32(g.dilationH), dilation_w: Int32(g.dilationW),
                                         pad_top: Int32(g.padTop), pad_left: Int32(g.padLeft))
            vigil_maxpool_s8(t[x].assumingMemoryBound(to: Int8.self), &pg, t[y].assumingMemoryBound(to: Int8.self))
            return
        }
        #endif
        if isInt8 { run(t[x].assumingMemoryBound(to: Int8.self), t[y].assumingMemoryBound(to: Int8.self), Int8.min) }
        else { run(t[x].assumingMemoryBound(to: Float.self), t[y].assumingMemoryBound(to: Float.self), -Float.infinity) }
    }

    @inline(__always) func run<T: Comparable>(_ X: UnsafeMutablePointer<T>, _ Y: UnsafeMutablePointer<T>, _ lowest: T) {
        var o = 0
        for plane in 0..<(g.batch * g.inChannels) {
            let P = X + plane * g.inH * g.inW
            for oy in 0..<g.outH {
                for ox in 0..<g.outW {
                    var m = lowest
                    for ky in 0..<g.kH {
                        let iy = oy * g.strideH - g.padTop + ky * g.dilationH
                        if iy < 0 || iy >= g.inH { continue }
                        for kx in 0..<g.kW {
                            let ix = ox * g.strideW - g.padLeft + kx * g.dilationW
                            if ix < 0 || ix >= g.inW { continue }
                            m = max(m, P[iy * g.inW + ix])
                        }
                    }
                    Y[o] = m
                    o += 1
                }
            }
        }
    }
}
