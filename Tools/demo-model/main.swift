// Builds the runtime's test models in Models/test/. Their weights are pseudo-random (seeded), NOT
// trained: they exist to exercise the runtime (every int8 op, the arena planner, inspect, infer, the
// Embedded build) before the converter produces real models. Activation ranges are calibrated by
// running each float32 graph through our own interpreter on synthetic inputs.
//
//   synthetic-ecg-cnn.vigil   1D CNN on [1, 1, 720] (2 s of ECG at 360 Hz), 3 scores; and -float
//   op-coverage.vigil         2D graph on [1, 3, 16, 16] touching every int8 operator; and -float,
//                             and -taps (every activation also an output, for bit-exactness checks)
//
// Usage: vigil-demo-model OUT_DIR
import Foundation
import VigilIO
import VigilModel

nonisolated(unsafe) var rng = SplitMix64(state: 208)  // single-threaded generator
func randomWeights(_ shape: [Int], fanIn: Int) -> [Float] {
    let a = Float(sqrt(6.0 / Double(fanIn)))
    return (0..<shape.reduce(1, *)).map { _ in rng.uniform() * a }
}
func smallBias(_ n: Int) -> [Float] { (0..<n).map { _ in rng.uniform() * 0.1 } }
func weighted(_ op: OpCode, _ name: String, _ input: String, _ shape: [Int], _ ws: [Int], fanIn: Int,
              _ attrs: [Attribute]) -> Node {
    Node(op: op, name: name, inputs: [input], shape: shape, attributes: attrs, weightShape: ws,
         weights: randomWeights(ws, fanIn: fanIn), bias: smallBias(ws[0]))
}

func metadata(_ name: String, _ description: String, input: [Int], output: [Int], labels: [String]?) -> ModelMetadata {
    var m = ModelMetadata()
    m.name = name
    m.version = "0.1.0"
    m.description = description
    m.intendedUse = "Runtime and tooling tests only. Pseudo-random weights. Not for clinical use."
    m.labels = labels
    m.inputs = [.init(name: "x", shape: input, dtype: "float32")]
    m.outputs = [.init(name: "y", shape: output, dtype: "float32")]
    var p = ModelMetadata.Provenance()
    p.createdBy = "Tools/demo-model (seed 208)"
    p.calibrationSamples = 64
    m.provenance = p
    return m
}

// MARK: synthetic-ecg-cnn

var ecgMeta = metadata("synthetic-ecg-cnn", "1D CNN over 2 s of single-lead ECG at 360 Hz.",
                       input: [1, 1, 720], output: [1, 3], labels: ["class_a", "class_b", "class_c"])
var pre = ModelMetadata.Preprocessing()
pre.kind = "waveform"; pre.sampleRateHz = 360; pre.windowSamples = 720
ecgMeta.preprocessing = pre
let ecg = GraphSpec(inputName: "x", inputShape: [1, 1, 720], nodes: [
    weighted(.conv, "conv1", "x", [1, 8, 357], [8, 1, 7], fanIn: 7,
             [Attribute(.strides, ints: [2]), Attribute(.activation, int: 1)]),
    Node(op: .maxPool, name: "pool1", inputs: ["conv1"], shape: [1, 8, 178],
         attributes: [Attribute(.kernelShape, ints: [2]), Attribute(.strides, ints: [2])], quant: .sameAsInput),
    weighted(.depthwiseConv, "dw2", "pool1", [1, 8, 178], [8, 1, 5], fanIn: 5,
             [Attribute(.pads, ints: [2, 2]), Attribute(.group, int: 8), Attribute(.activation, int: 2)]),
    weighted(.conv, "conv3", "dw2", [1, 16, 88], [16, 8, 3], fanIn: 24,
             [Attribute(.strides, ints: [2]), Attribute(.activation, int: 1)]),
    Node(op: .globalAveragePool, name: "gap", inputs: ["conv3"], shape: [1, 16, 1]),
    Node(op: .reshape, name: "flatten", inputs: ["gap"], shape: [1, 16], quant: .sameAsInput),
    weighted(.fullyConnected, "fc", "flatten", [1, 3], [3, 16], fanIn: 16, []),
    Node(op: .softmax, name: "softmax", inputs: ["fc"], shape: [1, 3], quant: .softmax),
], metadata: ecgMeta)

/// ECG-like windows: a beat every 0.6-1.1 s (Gaussian QRS, T wave), baseline wander, noise.
func syntheticECG(_ n: Int) -> [Float] {
    var out: [Float] = []
    for _ in 0..<n {
        let period = 216 + Int(rng.next() % 180), phase = Int(rng.next() % UInt64(period))
        for i in 0..<720 {
            let t = Float((i + phase) % period)
            let qrs = exp(-pow((t - 40) / 4, 2)) * 1.2, tw = exp(-pow((t - 110) / 14, 2)) * 0.3
            out.append(qrs + tw + 0.15 * sin(Float(i) / 720 * 2 * .pi * 0.4) + 0.03 * rng.uniform())
        }
    }
    return out
}

// MARK: op-coverage

let coverage = GraphSpec(inputName: "x", inputShape: [1, 3, 16, 16], nodes: [
    weighted(.conv, "c1", "x", [1, 8, 16, 16], [8, 3, 3, 3], fanIn: 27,
             [Attribute(.pads, ints: [1, 1, 1, 1]), Attribute(.activation, int: 1)]),
    weighted(.conv, "c2", "c1", [1, 8, 16, 16], [8, 4, 3, 3], fanIn: 36,
             [Attribute(.pads, ints: [2, 2, 2, 2]), Attribute(.dilations, ints: [2, 2]), Attribute(.group, int: 2)]),
    Node(op: .add, name: "a1", inputs: ["c1", "c2"], shape: [1, 8, 16, 16], attributes: [Attribute(.activation, int: 1)]),
    weighted(.depthwiseConv, "d1", "a1", [1, 8, 8, 8], [8, 1, 3, 3], fanIn: 9,
             [Attribute(.strides, ints: [2, 2]), Attribute(.pads, ints: [1, 1, 1, 1]), Attribute(.group, int: 8)]),
    Node(op: .sigmoid, name: "s1", inputs: ["d1"], shape: [1, 8, 8, 8]),
    Node(op: .mul, name: "m1", inputs: ["d1", "s1"], shape: [1, 8, 8, 8]),
    Node(op: .globalAveragePool, name: "g1", inputs: ["m1"], shape: [1, 8, 1, 1]),
    Node(op: .add, name: "a2", inputs: ["m1", "g1"], shape: [1, 8, 8, 8]),
    Node(op: .hardSwish, name: "h1", inputs: ["a2"], shape: [1, 8, 8, 8]),
    Node(op: .leakyRelu, name: "l1", inputs: ["h1"], shape: [1, 8, 8, 8], attributes: [Attribute(.alpha, float: 0.1)]),
    Node(op: .maxPool, name: "mp", inputs: ["l1"], shape: [1, 8, 8, 8],
         attributes: [Attribute(.kernelShape, ints: [3, 3]), Attribute(.pads, ints: [1, 1, 1, 1])], quant: .sameAsInput),
    Node(op: .averagePool, name: "p1", inputs: ["mp"], shape: [1, 8, 4, 4],
         attributes: [Attribute(.kernelShape, ints: [3, 3]), Attribute(.strides, ints: [2, 2]), Attribute(.pads, ints: [1, 1, 0, 0])]),
    Node(op: .tanh, name: "t1", inputs: ["p1"], shape: [1, 8, 4, 4]),
    Node(op: .concat, name: "cat", inputs: ["p1", "t1"], shape: [1, 16, 4, 4], attributes: [Attribute(.axis, int: 1)]),
    Node(op: .pad, name: "pd", inputs: ["cat"], shape: [1, 16, 6, 6],
         attributes: [Attribute(.pads, ints: [0, 0, 1, 1, 0, 0, 1, 1]), Attribute(.padMode, int: 1)], quant: .sameAsInput),
    Node(op: .transpose, name: "tr", inputs: ["pd"], shape: [1, 6, 6, 16], attributes: [Attribute(.perm, ints: [0, 2, 3, 1])], quant: .sameAsInput),
    Node(op: .clip, name: "cl", inputs: ["tr"], shape: [1, 6, 6, 16],
         attributes: [Attribute(.clipMin, float: -0.5), Attribute(.clipMax, float: 2)]),
    Node(op: .reshape, name: "fl", inputs: ["cl"], shape: [1, 576], quant: .sameAsInput),
    weighted(.fullyConnected, "fc", "fl", [1, 5], [5, 576], fanIn: 576, []),
    Node(op: .softmax, name: "sm", inputs: ["fc"], shape: [1, 5], quant: .softmax),
], metadata: metadata("op-coverage", "Touches every int8 operator of the runtime once.",
                      input: [1, 3, 16, 16], output: [1, 5], labels: nil))

func uniformSamples(_ n: Int, _ per: Int) -> [Float] { (0..<(n * per)).map { _ in rng.uniform() } }

// MARK: main

let args = CommandLine.arguments
guard args.count == 2 else {
    FileHandle.standardError.write("usage: vigil-demo-model OUT_DIR\n".data(using: .utf8)!)
    exit(64)
}
let out = URL(fileURLWithPath: args[1])
try FileManager.default.createDirectory(at: out, withIntermediateDirectories: true)
func write(_ bytes: [UInt8], _ name: String) throws {
    try Data(bytes).write(to: out.appendingPathComponent(name))
    print("wrote \(out.appendingPathComponent(name).path) (\(bytes.count) bytes)")
}

try write(ecg.buildInt8(ranges: try ecg.calibrate(syntheticECG(64))), "synthetic-ecg-cnn.vigil")
try write(ecg.buildFloat(), "synthetic-ecg-cnn-float.vigil")
try NPY.write(NPYArray(float32: syntheticECG(16), shape: [16, 1, 720]), to: out.appendingPathComponent("synthetic-ecg-input.npy"))

let coverageRanges = try coverage.calibrate(uniformSamples(64, 768))
try write(coverage.buildInt8(ranges: coverageRanges), "op-coverage.vigil")
try write(coverage.buildInt8(ranges: coverageRanges, tapEveryActivation: true), "op-coverage-taps.vigil")
try write(coverage.buildFloat(), "op-coverage-float.vigil")
try NPY.write(NPYArray(float32: uniformSamples(8, 768), shape: [8, 3, 16, 16]), to: out.appendingPathComponent("op-coverage-input.npy"))
