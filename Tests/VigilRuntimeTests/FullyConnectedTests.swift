// FullyConnected: Y[..., N] = X[..., K] * W[N, K]^T + B[N], against a Double reference.
import Testing
@testable import VigilRuntime
import VigilModel

struct FCCase: Sendable, CustomStringConvertible {
    var label: String
    var xShape: [Int]   // [..., K]
    var n: Int
    var bias = true
    var act: Act = .none
    var xZero: Int32 = 5
    var seed: UInt64
    var description: String { label }

    var k: Int { xShape.last! }
    var rows: Int { product(xShape) / k }
    var yShape: [Int] { Array(xShape.dropLast()) + [n] }
}

let fcCases: [FCCase] = [
    FCCase(label: "rank 2 [5, 7] -> 3, bias", xShape: [5, 7], n: 3, seed: 41),
    FCCase(label: "rank 2 [1, 13] -> 5, no bias, relu", xShape: [1, 13], n: 5, bias: false, act: .relu, seed: 42),
    FCCase(label: "rank 3 [2, 3, 7] -> 4, relu6, x zero point -128", xShape: [2, 3, 7], n: 4, act: .relu6, xZero: -128, seed: 43),
    FCCase(label: "rank 3 [3, 1, 5] -> 6, clip, x zero point 127", xShape: [3, 1, 5], n: 6, act: .clip(-0.3, 0.4), xZero: 127, seed: 44),
    FCCase(label: "rank 4 [1, 2, 3, 9] -> 2", xShape: [1, 2, 3, 9], n: 2, seed: 45),
]

func referenceFC(x: [Double], rows: Int, k: Int, w: [Double], n: Int, bias: [Double]?) -> [Double] {
    var y: [Double] = []
    for i in 0..<rows {
        for j in 0..<n {
            var acc = bias?[j] ?? 0
            for p in 0..<k { acc += x[i * k + p] * w[j * k + p] }
            y.append(acc)
        }
    }
    return y
}

@discardableResult
func checkFCInt8(_ c: FCCase, fraction: Double = 0.9) throws -> Int {
    var rng = SplitMix64(seed: c.seed)
    let sx: Float = 0.04
    let xq = rng.int8s(product(c.xShape))
    let (wq, sw, wd) = quantizeWeights(rng.doubles(c.n * c.k, -1, 1), channels: c.n)
    let (bq, bd) = quantizeBias(rng.doubles(c.n, -2, 2), inputScale: sx, weightScales: sw)
    let raw = referenceFC(x: dq(xq, sx, c.xZero), rows: c.rows, k: c.k, w: wd, n: c.n, bias: c.bias ? bd : nil)
    let (sy, zy) = outputQuantization(for: raw, fraction: fraction)
    var b = ModelBuilder()
    let x = b.addTensor("x", .int8, c.xShape, quantization: Quantization(scale: sx, zeroPoint: c.xZero))
    let w = b.addConstant("w", int8: wq, shape: [c.n, c.k],
                          quantization: Quantization(scales: sw, zeroPoints: [Int32](repeating: 0, count: c.n), axis: 0))
    let bias = c.bias ? b.addConstant("b", int32: bq, shape: [c.n]) : -1
    let y = b.addTensor("y", .int8, c.yShape, quantization: Quantization(scale: sy, zeroPoint: zy))
    singleOp(.fullyConnected, &b, inputs: c.bias ? [x, w, bias] : [x, w], output: y, attributes: c.act.attributes)
    let out = try runModel(b, [.i8(xq)]).int8()
    return expectInt8Close(out, scale: sy, zeroPoint: zy, reference: raw.map(c.act.apply), "FullyConnected int8 \(c)")
}

@Suite struct FullyConnectedTests {
    @Test(arguments: fcCases)
    func fullyConnectedInt8(_ c: FCCase) throws {
        try checkFCInt8(c)
    }

    @Test(arguments: fcCases)
    func fullyConnectedFloat(_ c: FCCase) throws {
        var rng = SplitMix64(seed: c.seed ^ 0xF1)
        let xf = rng.floats(product(c.xShape)), wf = rng.floats(c.n * c.k), bf = rng.floats(c.n)
        let ref = referenceFC(x: xf.map(Double.init), rows: c.rows, k: c.k, w: wf.map(Double.init), n: c.n,
                              bias: c.bias ? bf.map(Double.init) : nil).map(c.act.apply)
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.xShape)
        let w = b.addConstant("w", float32: wf, shape: [c.n, c.k])
        let bias = c.bias ? b.addConstant("b", float32: bf, shape: [c.n]) : -1
        let y = b.addTensor("y", .float32, c.yShape)
        singleOp(.fullyConnected, &b, inputs: c.bias ? [x, w, bias] : [x, w], output: y, attributes: c.act.attributes)
        expectFloatClose(try runModel(b, [.f32(xf)]).float(), ref, "FullyConnected float32 \(c)")
    }

    @Test func fullyConnectedInt8Saturates() throws {
        let saturated = try checkFCInt8(fcCases[0], fraction: 0.1)
        #expect(saturated > 15 / 2)
    }
}
