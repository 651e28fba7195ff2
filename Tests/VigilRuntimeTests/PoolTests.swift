// MaxPool, AveragePool and GlobalAveragePool against Double references (MaxPool exact).
import Testing
@testable import VigilRuntime
import VigilModel

struct PoolCase: Sendable, CustomStringConvertible {
    var label: String
    var batch = 1
    var channels: Int
    var spatial: [Int]
    var kernel: [Int]
    var strides: [Int]? = nil
    var pads: [Int]? = nil
    var dilations: [Int]? = nil
    var countIncludePad: Int? = nil
    var seed: UInt64
    var description: String { label }

    var window: Window { Window(spatial: spatial, kernel: kernel, strides: strides, pads: pads, dilations: dilations) }
    var inShape: [Int] { [batch, channels] + spatial }
    var outShape: [Int] { [batch, channels] + window.outSpatial(rank: spatial.count) }
    var attributes: [Attribute] {
        var a = [Attribute(.kernelShape, ints: kernel)]
        if let strides { a.append(Attribute(.strides, ints: strides)) }
        if let pads { a.append(Attribute(.pads, ints: pads)) }
        if let dilations { a.append(Attribute(.dilations, ints: dilations)) }
        if let countIncludePad { a.append(Attribute(.countIncludePad, int: countIncludePad)) }
        return a
    }
}

/// Reference pooling over each (n, c) plane. `combine` receives the inside values and the number of
/// window positions inside the padded input.
func referencePool<T>(_ x: [T], _ c: PoolCase, _ combine: ([T], Int) -> T) -> [T] {
    let w = c.window
    var y: [T] = []
    for plane in 0..<(c.batch * c.channels) {
        for oy in 0..<w.outH {
            for ox in 0..<w.outW {
                var vals: [T] = []
                var padded = 0
                for t in w.taps(oy, ox) {
                    if t.inside { vals.append(x[(plane * w.inH + t.iy) * w.inW + t.ix]) }
                    if t.iy >= -w.padTop && t.iy < w.inH + w.padBottom && t.ix >= -w.padLeft && t.ix < w.inW + w.padRight {
                        padded += 1
                    }
                }
                y.append(combine(vals, padded))
            }
        }
    }
    return y
}

let maxPoolCases: [PoolCase] = [
    PoolCase(label: "3x3 stride 2 pad 1", channels: 3, spatial: [7, 5], kernel: [3, 3], strides: [2, 2], pads: [1, 1, 1, 1], seed: 81),
    PoolCase(label: "2x2 stride 2, end pads (ceil mode)", channels: 5, spatial: [7, 5], kernel: [2, 2], strides: [2, 2],
             pads: [0, 0, 1, 1], seed: 82),
    PoolCase(label: "3x2 dilation 2, stride 1, asymmetric pads", batch: 2, channels: 3, spatial: [7, 5], kernel: [3, 2],
             pads: [2, 0, 1, 1], dilations: [2, 2], seed: 83),
    PoolCase(label: "kernel covers everything", channels: 3, spatial: [5, 7], kernel: [5, 7], seed: 84),
    PoolCase(label: "1D k3 stride 2 pad [1, 2]", channels: 3, spatial: [11], kernel: [3], strides: [2], pads: [1, 2], seed: 85),
    PoolCase(label: "1D k2 stride 3 dilation 2", channels: 5, spatial: [13], kernel: [2], strides: [3], dilations: [2], seed: 86),
]

let avgPoolCases: [PoolCase] = [
    PoolCase(label: "3x3 stride 2 pad 1, exclude pad", channels: 3, spatial: [7, 5], kernel: [3, 3], strides: [2, 2],
             pads: [1, 1, 1, 1], countIncludePad: 0, seed: 91),
    PoolCase(label: "3x3 stride 2 pad 1, include pad", channels: 3, spatial: [7, 5], kernel: [3, 3], strides: [2, 2],
             pads: [1, 1, 1, 1], countIncludePad: 1, seed: 92),
    PoolCase(label: "2x3 asymmetric pads, default (exclude)", batch: 2, channels: 5, spatial: [7, 5], kernel: [2, 3],
             pads: [1, 2, 0, 1], seed: 93),
    PoolCase(label: "2x3 asymmetric pads, include pad", channels: 5, spatial: [7, 5], kernel: [2, 3],
             strides: [1, 2], pads: [1, 2, 0, 1], countIncludePad: 1, seed: 94),
    PoolCase(label: "2x2 stride 2, no pads", channels: 3, spatial: [7, 5], kernel: [2, 2], strides: [2, 2], seed: 95),
    PoolCase(label: "1D k4 stride 3 pad [2, 2], include pad", channels: 3, spatial: [11], kernel: [4], strides: [3],
             pads: [2, 2], countIncludePad: 1, seed: 96),
    PoolCase(label: "1D k4 stride 3 pad [2, 2], exclude pad", channels: 3, spatial: [11], kernel: [4], strides: [3],
             pads: [2, 2], countIncludePad: 0, seed: 97),
]

@Suite struct MaxPoolTests {
    @Test(arguments: maxPoolCases)
    func maxPoolInt8(_ c: PoolCase) throws {
        var rng = SplitMix64(seed: c.seed)
        var xq = rng.int8s(product(c.inShape))
        xq[0] = -128; xq[1] = 127  // extremes survive unchanged
        let expected = referencePool(xq, c) { v, _ in v.max()! }
        let q = Quantization(scale: 0.07, zeroPoint: -128)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.inShape, quantization: q)
        let y = b.addTensor("y", .int8, c.outShape, quantization: q)
        singleOp(.maxPool, &b, inputs: [x], output: y, attributes: c.attributes)
        expectExact(try runModel(b, [.i8(xq)]).int8(), expected, "MaxPool int8 \(c)")
    }

    @Test(arguments: maxPoolCases)
    func maxPoolFloat(_ c: PoolCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0xAB)
        let xf = rng.floats(product(c.inShape), -5, -1)  // all negative: a padding zero must never win
        let expected = referencePool(xf, c) { v, _ in v.max()! }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.inShape)
        let y = b.addTensor("y", .float32, c.outShape)
        singleOp(.maxPool, &b, inputs: [x], output: y, attributes: c.attributes)
        expectBitExact(try runModel(b, [.f32(xf)]).float(), expected, "MaxPool float32 \(c)")
    }
}

@Suite struct AveragePoolTests {
    static func divisor(_ c: PoolCase, inside: Int, padded: Int) -> Double {
        Double(c.countIncludePad == 1 ? padded : inside)
    }

    @Test(arguments: avgPoolCases)
    func averagePoolInt8(_ c: PoolCase) throws {
        var rng = SplitMix64(seed: c.seed)
        let (sx, zx): (Float, Int32) = (0.05, -128)
        let (sy, zy): (Float, Int32) = (0.03, -100)
        let xq = rng.int8s(product(c.inShape))
        let xd = dq(xq, sx, zx)
        let ref = referencePool(xd, c) { v, padded in v.reduce(0, +) / Self.divisor(c, inside: v.count, padded: padded) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.inShape, quantization: Quantization(scale: sx, zeroPoint: zx))
        let y = b.addTensor("y", .int8, c.outShape, quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.averagePool, &b, inputs: [x], output: y, attributes: c.attributes)
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: sy, zeroPoint: zy, reference: ref, "AveragePool int8 \(c)")
    }

    @Test(arguments: avgPoolCases)
    func averagePoolFloat(_ c: PoolCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0xCD)
        let xf = rng.floats(product(c.inShape), -2, 3)
        let ref = referencePool(xf.map(Double.init), c) { v, padded in
            v.reduce(0, +) / Self.divisor(c, inside: v.count, padded: padded)
        }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.inShape)
        let y = b.addTensor("y", .float32, c.outShape)
        singleOp(.averagePool, &b, inputs: [x], output: y, attributes: c.attributes)
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, "AveragePool float32 \(c)")
    }

    /// Input zero point 127 and an output scale that forces saturation at both ends.
    @Test func averagePoolInt8Saturates() throws {
        let c = avgPoolCases[1]
        var rng = SplitMix64(seed: 98)
        let (sx, zx): (Float, Int32) = (0.1, 127)
        let (sy, zy): (Float, Int32) = (0.01, 0)
        let xq = rng.int8s(product(c.inShape))
        let ref = referencePool(dq(xq, sx, zx), c) { v, padded in v.reduce(0, +) / Double(padded) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.inShape, quantization: Quantization(scale: sx, zeroPoint: zx))
        let y = b.addTensor("y", .int8, c.outShape, quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.averagePool, &b, inputs: [x], output: y, attributes: c.attributes)
        let saturated = expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: sy, zeroPoint: zy, reference: ref, "AveragePool saturation")
        #expect(saturated > 0)
    }
}

@Suite struct GlobalAveragePoolTests {
    @Test(arguments: [[7, 5], [11], [1, 1], [3, 9]])
    func globalAveragePool(_ spatial: [Int]) throws {
        let (n, ch) = (2, 3)
        let inShape = [n, ch] + spatial, outShape = [n, ch] + spatial.map { _ in 1 }
        let area = product(spatial)
        var rng = SplitMix64(seed: UInt64(area))
        // int8
        let (sx, zx): (Float, Int32) = (0.04, 127), (sy, zy): (Float, Int32) = (0.02, 30)
        let xq = rng.int8s(product(inShape))
        let xd = dq(xq, sx, zx)
        let ref = (0..<(n * ch)).map { p in xd[(p * area)..<((p + 1) * area)].reduce(0, +) / Double(area) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, inShape, quantization: Quantization(scale: sx, zeroPoint: zx))
        let y = b.addTensor("y", .int8, outShape, quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.globalAveragePool, &b, inputs: [x], output: y)
        expectInt8Close(try runModel(b, [.i8(xq)]).int8(), scale: sy, zeroPoint: zy, reference: ref, "GlobalAveragePool int8 \(spatial)")
        // float32
        let xf = rng.floats(product(inShape), -3, 3)
        let fref = (0..<(n * ch)).map { p in xf[(p * area)..<((p + 1) * area)].map(Double.init).reduce(0, +) / Double(area) }
        var fb = ModelBuilder()
        let fx = fb.addTensor("x", .float32, inShape)
        let fy = fb.addTensor("y", .float32, outShape)
        singleOp(.globalAveragePool, &fb, inputs: [fx], output: fy)
        expectFloatClose(try runModel(fb, [.f32(xf)]).float(), fref, "GlobalAveragePool float32 \(spatial)")
    }
}
