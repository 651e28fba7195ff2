// Conv (1D and 2D) and DepthwiseConv against a Double reference, int8 and float32.
import Testing
@testable import VigilRuntime
import VigilModel

struct ConvCase: Sendable, CustomStringConvertible {
    var label: String
    var batch = 1
    var inC: Int
    var outC: Int
    var spatial: [Int]          // [H, W] or [L]
    var kernel: [Int]
    var strides: [Int]? = nil
    var pads: [Int]? = nil      // all begins, then all ends
    var dilations: [Int]? = nil
    var group = 1
    var bias = true
    var act: Act = .none
    var xZero: Int32 = -3
    var seed: UInt64 = 1
    var description: String { label }

    var window: Window { Window(spatial: spatial, kernel: kernel, strides: strides, pads: pads, dilations: dilations) }
    var inShape: [Int] { [batch, inC] + spatial }
    var outShape: [Int] { [batch, outC] + window.outSpatial(rank: spatial.count) }
    var weightShape: [Int] { [outC, inC / group] + kernel }

    var attributes: [Attribute] {
        var a: [Attribute] = []
        if let strides { a.append(Attribute(.strides, ints: strides)) }
        if let pads { a.append(Attribute(.pads, ints: pads)) }
        if let dilations { a.append(Attribute(.dilations, ints: dilations)) }
        return a + act.attributes
    }
}

let convCases: [ConvCase] = [
    ConvCase(label: "2D 3x3 pad 1, bias", inC: 3, outC: 4, spatial: [7, 5], kernel: [3, 3], pads: [1, 1, 1, 1], seed: 11),
    ConvCase(label: "2D stride 2, asymmetric pads, no bias", inC: 5, outC: 3, spatial: [7, 5], kernel: [3, 3],
             strides: [2, 2], pads: [0, 1, 2, 0], bias: false, seed: 12),
    ConvCase(label: "2D dilation 2, kernel 3x2, relu", inC: 3, outC: 5, spatial: [7, 5], kernel: [3, 2],
             pads: [2, 1, 2, 1], dilations: [2, 2], act: .relu, seed: 13),
    ConvCase(label: "2D group 3, stride [1,2], relu6, batch 2", batch: 2, inC: 6, outC: 9, spatial: [7, 5], kernel: [3, 3],
             strides: [1, 2], pads: [1, 1, 1, 1], group: 3, act: .relu6, seed: 14),
    ConvCase(label: "2D group == channels, clip", inC: 5, outC: 5, spatial: [5, 7], kernel: [3, 3],
             pads: [1, 1, 1, 1], group: 5, act: .clip(-0.5, 0.75), seed: 15),
    ConvCase(label: "2D 1x1, batch 2, x zero point 127", batch: 2, inC: 3, outC: 4, spatial: [7, 5], kernel: [1, 1],
             xZero: 127, seed: 16),
    ConvCase(label: "2D 5x5 pad 2, x zero point -128", inC: 3, outC: 4, spatial: [7, 5], kernel: [5, 5],
             pads: [2, 2, 2, 2], xZero: -128, seed: 17),
    ConvCase(label: "2D stride 3, end pad only (corner)", inC: 3, outC: 2, spatial: [7, 5], kernel: [2, 2],
             strides: [3, 3], pads: [0, 0, 1, 1], seed: 18),
    ConvCase(label: "2D pads larger than kernel (all-padding windows)", inC: 3, outC: 3, spatial: [5, 3], kernel: [2, 2],
             pads: [3, 2, 2, 3], act: .relu, seed: 19),
    ConvCase(label: "2D group 2, dilation [1,2], stride [2,1], no bias", inC: 4, outC: 6, spatial: [7, 5], kernel: [2, 3],
             strides: [2, 1], pads: [1, 2, 0, 2], dilations: [1, 2], group: 2, bias: false, xZero: 127, seed: 20),
    ConvCase(label: "1D k3 pad 1, bias", inC: 3, outC: 4, spatial: [11], kernel: [3], pads: [1, 1], seed: 21),
    ConvCase(label: "1D k5 stride 2 dilation 2 group 2, asymmetric pad, relu", inC: 4, outC: 6, spatial: [13], kernel: [5],
             strides: [2], pads: [3, 0], dilations: [2], group: 2, act: .relu, seed: 22),
    ConvCase(label: "1D no bias, relu6, x zero point 127", batch: 2, inC: 3, outC: 5, spatial: [9], kernel: [4],
             strides: [3], pads: [0, 2], bias: false, act: .relu6, xZero: 127, seed: 23),
    ConvCase(label: "1D clip, x zero point -128", inC: 5, outC: 3, spatial: [7], kernel: [3], pads: [2, 2],
             act: .clip(-1, 0.5), xZero: -128, seed: 24),
]

/// Builds and runs a Conv or DepthwiseConv in int8; checks against the reference on dequantized operands.
@discardableResult
func checkConvInt8(_ c: ConvCase, op: OpCode, extra: [Attribute] = [], fraction: Double = 0.9) throws -> Int {
    var rng = SplitMix64(seed: c.seed)
    let sx: Float = 0.03
    let xq = rng.int8s(product(c.inShape))
    let (wq, sw, wd) = quantizeWeights(rng.doubles(product(c.weightShape), -1, 1), channels: c.outC)
    let (bq, bd) = quantizeBias(rng.doubles(c.outC, -1, 1), inputScale: sx, weightScales: sw)
    let raw = referenceConv(x: dq(xq, sx, c.xZero), batch: c.batch, inChannels: c.inC, window: c.window, w: wd,
                            outChannels: c.outC, bias: c.bias ? bd : nil, group: c.group)
    let ref = raw.map(c.act.apply)
    let (sy, zy) = outputQuantization(for: raw, fraction: fraction)

    var b = ModelBuilder()
    let x = b.addTensor("x", .int8, c.inShape, quantization: Quantization(scale: sx, zeroPoint: c.xZero))
    let w = b.addConstant("w", int8: wq, shape: c.weightShape,
                          quantization: Quantization(scales: sw, zeroPoints: [Int32](repeating: 0, count: c.outC), axis: 0))
    let bias = c.bias ? b.addConstant("b", int32: bq, shape: [c.outC]) : -1
    let y = b.addTensor("y", .int8, c.outShape, quantization: Quantization(scale: sy, zeroPoint: zy))
    singleOp(op, &b, inputs: c.bias ? [x, w, bias] : [x, w], output: y,
             attributes: c.attributes + extra + (op == .conv ? [Attribute(.group, int: c.group)] : []))
    let out = try runModel(b, [.i8(xq)]).int8()
    return expectInt8Close(out, scale: sy, zeroPoint: zy, reference: ref, "\(op.name) int8 \(c)")
}

func checkConvFloat(_ c: ConvCase, op: OpCode, extra: [Attribute] = []) throws {
    var rng = SplitMix64(seed: c.seed ^ 0xF10A7)
    let xf = rng.floats(product(c.inShape))
    let wf = rng.floats(product(c.weightShape))
    let bf = rng.floats(c.outC)
    let ref = referenceConv(x: xf.map(Double.init), batch: c.batch, inChannels: c.inC, window: c.window,
                            w: wf.map(Double.init), outChannels: c.outC, bias: c.bias ? bf.map(Double.init) : nil,
                            group: c.group).map(c.act.apply)
    var b = ModelBuilder()
    let x = b.addTensor("x", .float32, c.inShape)
    let w = b.addConstant("w", float32: wf, shape: c.weightShape)
    let bias = c.bias ? b.addConstant("b", float32: bf, shape: [c.outC]) : -1
    let y = b.addTensor("y", .float32, c.outShape)
    singleOp(op, &b, inputs: c.bias ? [x, w, bias] : [x, w], output: y,
             attributes: c.attributes + extra + (op == .conv ? [Attribute(.group, int: c.group)] : []))
    let out = try runModel(b, [.f32(xf)]).float()
    expectFloatClose(out, ref, "\(op.name) float32 \(c)")
}

@Suite struct ConvTests {
    @Test(arguments: convCases)
    func convInt8(_ c: ConvCase) throws {
        try checkConvInt8(c, op: .conv)
    }

    @Test(arguments: convCases)
    func convFloat(_ c: ConvCase) throws {
        try checkConvFloat(c, op: .conv)
    }

    /// An output scale far too small: most outputs must saturate to exactly -128 / 127.
    @Test(arguments: [convCases[0], convCases[10]])
    func convInt8Saturates(_ c: ConvCase) throws {
        let saturated = try checkConvInt8(c, op: .conv, fraction: 0.1)
        #expect(saturated > product(c.outShape) / 2)
    }

    /// A zero output point of -128 with relu: negative results clamp to the zero point.
    @Test func convInt8ReluAtZeroPointMinus128() throws {
        let c = ConvCase(label: "relu, zp", inC: 3, outC: 4, spatial: [5, 7], kernel: [3, 3], pads: [1, 1, 1, 1],
                         act: .relu, xZero: 0, seed: 99)
        try checkConvInt8(c, op: .conv)
    }

    /// kernel_shape, when given, must agree with the weight; given correctly it changes nothing.
    @Test func convAcceptsMatchingKernelShape() throws {
        try checkConvFloat(convCases[1], op: .conv, extra: [Attribute(.kernelShape, ints: [3, 3])])
    }

    /// Per-tensor weight quantization (one scale, zero point 0) is accepted too.
    @Test func convInt8PerTensorWeights() throws {
        var rng = SplitMix64(seed: 404)
        let (sx, zx): (Float, Int32) = (0.02, 7)
        let xq = rng.int8s(1 * 3 * 5 * 5)
        let wq = rng.int8s(2 * 3 * 3 * 3, -127...127)
        let sw: Float = 0.01
        let wd = wq.map { Double(sw) * Double($0) }
        let win = Window(spatial: [5, 5], kernel: [3, 3], strides: nil, pads: [1, 1, 1, 1], dilations: nil)
        let ref = referenceConv(x: dq(xq, sx, zx), batch: 1, inChannels: 3, window: win, w: wd, outChannels: 2, bias: nil, group: 1)
        let (sy, zy) = outputQuantization(for: ref)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [1, 3, 5, 5], quantization: Quantization(scale: sx, zeroPoint: zx))
        let w = b.addConstant("w", int8: wq, shape: [2, 3, 3, 3], quantization: Quantization(scale: sw, zeroPoint: 0))
        let y = b.addTensor("y", .int8, [1, 2, 5, 5], quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.conv, &b, inputs: [x, w], output: y, attributes: [Attribute(.pads, ints: [1, 1, 1, 1])])
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: sy, zeroPoint: zy, reference: ref, "per-tensor weights")
    }
}

// MARK: - DepthwiseConv

let depthwiseCases: [ConvCase] = [
    ConvCase(label: "multiplier 1, 3x3 pad 1", inC: 3, outC: 3, spatial: [7, 5], kernel: [3, 3], pads: [1, 1, 1, 1],
             group: 3, seed: 31),
    ConvCase(label: "multiplier 2, stride 2, asymmetric pad, relu6", inC: 3, outC: 6, spatial: [7, 5], kernel: [3, 3],
             strides: [2, 2], pads: [1, 0, 1, 2], group: 3, act: .relu6, seed: 32),
    ConvCase(label: "multiplier 2, dilation 2, no bias, x zero point -128", inC: 5, outC: 10, spatial: [7, 5], kernel: [2, 3],
             pads: [1, 2, 1, 2], dilations: [2, 2], group: 5, bias: false, xZero: -128, seed: 33),
    ConvCase(label: "multiplier 1, 5x5 pad 2 stride [2,1], relu, x zero point 127, batch 2", batch: 2, inC: 5, outC: 5,
             spatial: [5, 7], kernel: [5, 5], strides: [2, 1], pads: [2, 2, 2, 2], group: 5, act: .relu, xZero: 127, seed: 34),
    ConvCase(label: "multiplier 1, clip", inC: 3, outC: 3, spatial: [5, 5], kernel: [3, 3], group: 3,
             act: .clip(-0.25, 0.5), seed: 35),
    ConvCase(label: "1D multiplier 2, stride 2 pad [2,1]", inC: 3, outC: 6, spatial: [11], kernel: [5], strides: [2],
             pads: [2, 1], group: 3, seed: 36),
    ConvCase(label: "1D multiplier 1, dilation 3, no bias, relu", inC: 4, outC: 4, spatial: [13], kernel: [3],
             pads: [3, 3], dilations: [3], group: 4, bias: false, act: .relu, seed: 37),
]

@Suite struct DepthwiseConvTests {
    @Test(arguments: depthwiseCases)
    func depthwiseInt8(_ c: ConvCase) throws {
        try checkConvInt8(c, op: .depthwiseConv, extra: [Attribute(.group, int: c.inC)])
    }

    @Test(arguments: depthwiseCases)
    func depthwiseFloat(_ c: ConvCase) throws {
        try checkConvFloat(c, op: .depthwiseConv, extra: [Attribute(.group, int: c.inC)])
    }

    /// group defaults to the channel count.
    @Test func depthwiseWithoutGroupAttribute() throws {
        try checkConvFloat(depthwiseCases[1], op: .depthwiseConv)
        try checkConvInt8(depthwiseCases[1], op: .depthwiseConv)
    }

    @Test func depthwiseInt8Saturates() throws {
        let saturated = try checkConvInt8(depthwiseCases[0], op: .depthwiseConv, fraction: 0.1)
        #expect(saturated > product(depthwiseCases[0].outShape) / 2)
    }
}
