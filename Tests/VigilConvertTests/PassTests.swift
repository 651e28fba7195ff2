// The converter's passes on small hand-built graphs: shape/constant folding, BatchNormalization
// folding, activation fusion, the Sub/Div rewrites, QDQ import, min-max calibration, and the errors
// that name what is unsupported. Numeric checks run the converted model in the runtime against a
// Double reference written here.
import Foundation
import Testing
import VigilModel
@testable import VigilConvert

/// Direct NCHW 2-D convolution (batch 1, no padding, stride 1, one group) in Double.
func referenceConv(_ x: [Float], c: Int, h: Int, w: Int, weights: [Float], bias: [Float], outC: Int, k: Int) -> [Double] {
    let oh = h - k + 1, ow = w - k + 1
    var y = [Double](repeating: 0, count: outC * oh * ow)
    for o in 0..<outC {
        for i in 0..<oh {
            for j in 0..<ow {
                var s = Double(bias[o])
                for ci in 0..<c {
                    for u in 0..<k {
                        for v in 0..<k {
                            s += Double(weights[((o * c + ci) * k + u) * k + v]) * Double(x[(ci * h + i + u) * w + j + v])
                        }
                    }
                }
                y[(o * oh + i) * ow + j] = s
            }
        }
    }
    return y
}

@Suite("Converter passes")
struct PassTests {
    @Test("Shape -> Gather -> Unsqueeze -> Concat feeding Reshape folds to a constant shape")
    func foldsShapeArithmetic() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 4, 6]), output: ("y", [1, 24]))
        b.int64s("zero", [0], shape: [])
        b.int64s("axes", [0])
        b.int64s("minus_one", [-1])
        b.node("Shape", ["x"], ["s"])
        b.node("Gather", ["s", "zero"], ["n"], [attribute("axis", int: 0)])
        b.node("Unsqueeze", ["n", "axes"], ["n1"])
        b.node("Concat", ["n1", "minus_one"], ["target"], [attribute("axis", int: 0)])
        b.node("Reshape", ["x", "target"], ["y"])
        let g = try b.folded()
        #expect(g.nodes.map(\.op) == ["Reshape"])
        #expect(g.tensors[g.nodes[0].inputs[1]]?.ints == [1, -1])
        #expect(try g.shape("y") == [1, 24])
        let x = seeded(24, seed: 1)
        #expect(try run(try b.convert().model, x) == x)
    }

    @Test("Conv + BatchNormalization folds into one convolution with the same outputs")
    func batchNormFolds() throws {
        let (c, h, w, outC, k) = (2, 5, 5, 3, 3)
        let weights = seeded(outC * c * k * k, seed: 2), bias = seeded(outC, seed: 3)
        let gamma: [Float] = [1.5, 0.5, -2], beta: [Float] = [0.1, -0.2, 0.3]
        let mean: [Float] = [0.2, -0.1, 0.05], variance: [Float] = [0.5, 2, 0.25]
        let eps: Float = 1e-3
        var b = ONNXGraphBuilder(input: ("x", [1, c, h, w]), output: ("y", [1, outC, 3, 3]))
        b.floats("W", [outC, c, k, k], weights)
        b.floats("B", [outC], bias)
        for (name, v) in [("g", gamma), ("b", beta), ("m", mean), ("v", variance)] { b.floats(name, [outC], v) }
        b.node("Conv", ["x", "W", "B"], ["c"], [attribute("kernel_shape", ints: [k, k])])
        b.node("BatchNormalization", ["c", "g", "b", "m", "v"], ["y"], [attribute("epsilon", float: eps)])
        let nodes = try b.lowered()
        #expect(nodes.map(\.code) == [.conv])
        let x = seeded(c * h * w, seed: 4)
        let conv = referenceConv(x, c: c, h: h, w: w, weights: weights, bias: bias, outC: outC, k: k)
        let per = conv.count / outC
        let expected = conv.indices.map { i -> Float in
            let o = i / per
            return Float(Double(gamma[o]) * (conv[i] - Double(mean[o])) / (Double(variance[o]) + Double(eps)).squareRoot() + Double(beta[o]))
        }
        #expect(maxAbsDiff(try run(try b.convert().model, x), expected) < 1e-5)
    }

    @Test("Relu, Clip(0, 6) and Clip(-1, 1) after a Conv fuse into its activation", arguments: [
        ("Relu", Float(0), Float.infinity, FusedActivation.relu),
        ("Clip", Float(0), Float(6), FusedActivation.relu6),
        ("Clip", Float(-1), Float(1), FusedActivation.clip),
    ])
    func activationFuses(op: String, lo: Float, hi: Float, expected: FusedActivation) throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 1, 4, 4]), output: ("y", [1, 2, 4, 4]))
        b.floats("W", [2, 1, 1, 1], [8, -8])
        b.node("Conv", ["x", "W"], ["c"])
        if op == "Clip" {
            b.floats("lo", [], [lo])
            b.floats("hi", [], [hi])
            b.node("Clip", ["c", "lo", "hi"], ["y"])
        } else {
            b.node(op, ["c"], ["y"])
        }
        let nodes = try b.lowered()
        #expect(nodes.map(\.code) == [.conv])
        #expect(nodes[0].attribute(.activation)?.ints == [Int(expected.rawValue)])
        let x = seeded(16, seed: 5)
        let want = (x.map { 8 * $0 } + x.map { -8 * $0 }).map { min(max($0, lo), hi) }
        #expect(maxAbsDiff(try run(try b.convert().model, x), want) < 1e-6)
    }

    @Test("A Relu whose input is also a graph output is not fused (the output must stay unclamped)")
    func noFusionAcrossGraphOutput() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 1, 2, 2]), output: ("c", [1, 1, 2, 2]))
        b.floats("W", [1, 1, 1, 1], [2])
        b.node("Conv", ["x", "W"], ["c"])
        b.node("Relu", ["c"], ["y"])
        let g = try ONNXImporter.graph(from: b.proto)
        g.outputs = ["c", "y"]
        try ShapesAndConstants.run(g)
        let nodes = try Lowering.run(g)
        #expect(nodes.map(\.code) == [.conv, .clip])
        #expect(nodes[0].attribute(.activation) == nil)
    }

    @Test("x - c, c - x and x / c become Add and Mul with rewritten constants")
    func subAndDivByConstants() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 3]), output: ("y", [1, 3]))
        b.floats("c", [3], [1, 2, 4])
        b.floats("one", [], [1])
        b.node("Sub", ["x", "c"], ["a"])
        b.node("Div", ["a", "c"], ["d"])
        b.node("Sub", ["one", "d"], ["y"])
        let nodes = try b.lowered()
        #expect(nodes.map(\.code) == [.add, .mul, .mul, .add])
        let x: [Float] = [3, -2, 10]
        let want = zip(x, [Float(1), 2, 4]).map { 1 - ($0 - $1) / $1 }
        #expect(maxAbsDiff(try run(try b.convert().model, x), want) < 1e-6)
    }

    @Test("QuantizeLinear/DequantizeLinear pairs: their scales and zero points are kept, no calibration")
    func qdqImportKeepsParameters() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 1, 2, 2]), output: ("y", [1, 2, 2, 2]))
        b.floats("s_in", [], [0.05])
        b.zeroPoint("z_in", 3)
        b.floats("s_out", [], [0.02])
        b.zeroPoint("z_out", -128)
        b.floats("s_w", [], [0.01])
        b.zeroPoint("z_w", 0)
        var wq = Onnx_TensorProto()
        wq.name = "Wq"
        wq.dims = [2, 1, 1, 1]
        wq.dataType = 3
        wq.int32Data = [100, -50]
        b.initializers.append(wq)
        b.node("QuantizeLinear", ["x", "s_in", "z_in"], ["xq"])
        b.node("DequantizeLinear", ["xq", "s_in", "z_in"], ["xd"])
        b.node("DequantizeLinear", ["Wq", "s_w", "z_w"], ["W"])
        b.node("Conv", ["xd", "W"], ["c"])
        b.node("Relu", ["c"], ["r"])
        b.node("QuantizeLinear", ["r", "s_out", "z_out"], ["rq"])
        b.node("DequantizeLinear", ["rq", "s_out", "z_out"], ["y"])
        let r = try b.convert(ConversionOptions())
        let t = try tensors(r.model)
        let int8 = t.values.filter { $0.dtype == .int8 && !$0.isConstant }
        let params = Set(int8.compactMap { $0.quantization.map { "\($0.scales[0])/\($0.zeroPoints[0])" } })
        #expect(params == ["0.05/3", "0.02/-128"])
        // Weights 1.0 and -0.5; the input grid of 0.05, the output grid of 0.02 after Relu.
        let x: [Float] = [0.5, -0.25, 1.0, 0.1]
        let want = (x.map { $0 * 1.0 } + x.map { $0 * -0.5 }).map { (max($0, 0) / 0.02).rounded(.toNearestOrEven) * 0.02 }
        #expect(maxAbsDiff(try run(r.model, x), want) < 1e-6)
    }

    @Test("min-max calibration: every activation's range is what the calibration data reaches")
    func minMaxRanges() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 4]), output: ("y", [1, 4]))
        b.floats("two", [], [2])
        b.node("Mul", ["x", "two"], ["m"])
        b.node("Relu", ["m"], ["y"])
        var o = ConversionOptions()
        o.calibration = [-1, 0.5, 3, 2, 0.25, -0.5, 1, 2.5]  // two samples of [1, 4]
        let r = try b.convert(o)
        #expect(r.ranges["y"] == 0...6)
        #expect(r.ranges["x"].map { $0.lowerBound == -1 && $0.upperBound == 3 } == true)
    }

    @Test("Unsupported operators are all named at once, with their node names")
    func unsupportedOperatorsNamed() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 4]), output: ("y", [1, 4]))
        b.node("Celu", ["x"], ["a"], name: "first")
        b.node("Shrink", ["a"], ["y"], name: "second")
        #expect {
            try b.convert()
        } throws: { error in
            let text = "\(error)"
            return text.contains("Celu 'first'") && text.contains("Shrink 'second'")
        }
    }

    @Test("A Reshape whose shape is computed from activations is refused by name, not guessed")
    func dynamicShapeRefused() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 4]), output: ("y", [4]))
        b.node("Relu", ["x"], ["r"])
        b.node("Cast", ["r"], ["shape"], [attribute("to", int: 7)])
        b.node("Reshape", ["x", "shape"], ["y"], name: "dynamic")
        #expect {
            try b.convert()
        } throws: { error in
            "\(error)".contains("Reshape 'dynamic'") && "\(error)".contains("must be constant")
        }
    }

    @Test("The sensitivity pass can keep the layer that writes the graph output in float32")
    func sensitivityReachesTheOutputLayer() throws {
        var b = ONNXGraphBuilder(input: ("x", [1, 8]), output: ("y", [1, 4]))
        b.floats("W", [8, 4], seeded(32, seed: 6))
        b.node("MatMul", ["x", "W"], ["y"], name: "head")
        var o = ConversionOptions()
        o.calibration = seeded(8 * 16, seed: 7)
        o.minSQNR = 200  // no int8 layer reaches it: the worst one is kept
        o.maxFloatLayers = 1
        let r = try b.convert(o)
        #expect(r.metadata.floatOperators?.map(\.name) == ["head"])
        #expect(r.metadata.floatOperators?.first?.reason.hasPrefix("sensitivity: int8 SQNR") == true)
    }
}
