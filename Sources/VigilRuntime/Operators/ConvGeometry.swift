internal import VigilModel

/// Shape arithmetic shared by Conv, DepthwiseConv and the pools. 1D tensors [N, C, L] are treated
/// as 2D with height 1.
struct ConvGeometry {
    var batch = 1, inChannels = 0, inH = 1, inW = 1
    var outChannels = 0, outH = 1, outW = 1
    var kH = 1, kW = 1
    var strideH = 1, strideW = 1
    var padTop = 0, padLeft = 0, padBottom = 0, padRight = 0
    var dilationH = 1, dilationW = 1

    /// Reads strides/pads/dilations for `spatial` = 1 or 2 dims and checks `outShape` against them.
    init(_ c: OpContext, input: [Int], kernel: [Int], outShape: [Int], outChannels: Int) throws(VigilError) {
        let spatial = input.count - 2
        guard spatial == 1 || spatial == 2 else {
            throw c.fail("input has rank \(input.count); expected 3 ([N, C, L]) or 4 ([N, C, H, W])")
        }
        guard kernel.count == spatial else { throw c.fail("kernel has \(kernel.count) spatial dims, input \(spatial)") }
        let strides = try c.ints(.strides, count: spatial, default: [Int](repeating: 1, count: spatial))
        let dil = try c.ints(.dilations, count: spatial, default: [Int](repeating: 1, count: spatial))
        let pads = try c.ints(.pads, count: 2 * spatial, default: [Int](repeating: 0, count: 2 * spatial))
        for v in strides where v < 1 || v > 1024 { throw c.badAttribute("stride \(v) outside 1...1024") }
        for v in dil where v < 1 || v > 1024 { throw c.badAttribute("dilation \(v) outside 1...1024") }
        for v in pads where v < 0 || v > 1024 { throw c.badAttribute("pad \(v) outside 0...1024") }
        batch = input[0]
        inChannels = input[1]
        self.outChannels = outChannels
        if spatial == 2 {
            (inH, inW, kH, kW) = (input[2], input[3], kernel[0], kernel[1])
            (strideH, strideW, dilationH, dilationW) = (strides[0], strides[1], dil[0], dil[1])
            (padTop, padLeft, padBottom, padRight) = (pads[0], pads[1], pads[2], pads[3])
        } else {
            (inW, kW, strideW, dilationW, padLeft, padRight) = (input[2], kernel[0], strides[0], dil[0], pads[0], pads[1])
        }
        let effH = (kH - 1) * dilationH + 1, effW = (kW - 1) * dilationW + 1
        guard inH + padTop + padBottom >= effH, inW + padLeft + padRight >= effW else {
            throw c.fail("kernel (with dilation) is larger than the padded input")
        }
        outH = (inH + padTop + padBottom - effH) / strideH + 1
        outW = (inW + padLeft + padRight - effW) / strideW + 1
        let expected = spatial == 2 ? [batch, outChannels, outH, outW] : [batch, outChannels, outW]
        guard outShape == expected else {
            throw c.fail("output shape is \(outShape); strides, pads and dilations give \(expected)")
        }
    }
}
