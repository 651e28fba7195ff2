// A tiny graph description with a float32 build, range calibration through our own interpreter,
// and an int8 build (per-channel symmetric weights, asymmetric per-tensor activations). It builds
// the runtime's test models; the ONNX converter (Tools/vigil-convert) is the general tool.
import Foundation
import VigilModel
import VigilRuntime
import VigilIO

struct SplitMix64 {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [-1, 1).
    mutating func uniform() -> Float { Float(next() >> 40) / Float(1 << 23) - 1 }
}

struct Node {
    enum OutputQuantization { case calibrated, sameAsInput, softmax }
    var op: OpCode
    var name: String
    var inputs: [String]
    var shape: [Int]
    var attributes: [Attribute] = []
    var weightShape: [Int]? = nil
    var weights: [Float] = []
    var bias: [Float] = []
    var quant: OutputQuantization = .calibrated
}

struct GraphSpec {
    var inputName: String
    var inputShape: [Int]
    var nodes: [Node]
    var metadata: ModelMetadata

    /// Float32 graph; with `everyActivation` every node output is a graph output (for calibration).
    func buildFloat(everyActivation: Bool = false) -> [UInt8] {
        var b = ModelBuilder()
        var tensors: [String: Int] = [:]
        tensors[inputName] = b.addTensor(inputName, .float32, inputShape)
        b.inputs = [tensors[inputName]!]
        for n in nodes {
            var ins = n.inputs.map { tensors[$0]! }
            if let ws = n.weightShape {
                ins.append(b.addConstant("\(n.name).weight", float32: n.weights, shape: ws))
                ins.append(b.addConstant("\(n.name).bias", float32: n.bias, shape: [ws[0]]))
            }
            let out = b.addTensor(n.name, .float32, n.shape)
            b.addOp(n.op, n.name, inputs: ins, outputs: [out], attributes: n.attributes)
            tensors[n.name] = out
        }
        b.outputs = everyActivation ? nodes.map { tensors[$0.name]! } : [tensors[nodes.last!.name]!]
        b.metadataJSON = (try? metadata.encoded()) ?? Array("{}".utf8)
        return b.serialize()
    }

    /// Min and max of the input and every node output over `samples` (flattened, back to back).
    func calibrate(_ samples: [Float]) throws -> [String: (Float, Float)] {
        let bytes = buildFloat(everyActivation: true)
        var ranges: [String: (Float, Float)] = [:]
        try bytes.withUnsafeBytes { raw in
            let interp = try Interpreter(model: try ModelReader.read(raw))
            let per = interp.input(0).info.elementCount
            for s in 0..<(samples.count / per) {
                let window = Array(samples[(s * per)..<((s + 1) * per)])
                merge(&ranges, inputName, window)
                window.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
                interp.invoke()
                for (i, n) in nodes.enumerated() {
                    merge(&ranges, n.name, Array(interp.output(i).bytes.bindMemory(to: Float.self)))
                }
            }
        }
        return ranges
    }

    private func merge(_ r: inout [String: (Float, Float)], _ k: String, _ v: [Float]) {
        let (lo, hi) = r[k] ?? (.infinity, -.infinity)
        r[k] = (min(lo, v.min()!), max(hi, v.max()!))
    }

    /// int8 graph: Quantize -> int8 ops -> Dequantize, float32 in and out. With `tapEveryActivation`
    /// every int8 activation is also dequantized into an extra output, so bit-exactness checks see
    /// each operator's result rather than only the last one.
    func buildInt8(ranges: [String: (Float, Float)], tapEveryActivation: Bool = false) -> [UInt8] {
        var b = ModelBuilder()
        var tensors: [String: Int] = [:]
        var params: [String: (Float, Int32)] = [:]
        let x = b.addTensor(inputName, .float32, inputShape)
        b.inputs = [x]
        params[inputName] = asymmetric(ranges[inputName]!)
        let xq = b.addTensor("\(inputName)_q", .int8, inputShape, quantization: quant(params[inputName]!))
        b.addOp(.quantize, "quantize", inputs: [x], outputs: [xq])
        tensors[inputName] = xq
        for n in nodes {
            var ins = n.inputs.map { tensors[$0]! }
            if let ws = n.weightShape {
                let sIn = params[n.inputs[0]]!.0
                let cout = ws[0], per = n.weights.count / cout
                var scales: [Float] = [], q: [Int8] = [], bq: [Int32] = []
                for c in 0..<cout {
                    let slice = n.weights[(c * per)..<((c + 1) * per)]
                    let s = max(slice.map(abs).max()!, 1e-8) / 127
                    scales.append(s)
                    for v in slice { q.append(Int8(max(-127, min(127, (v / s).rounded(.toNearestOrEven))))) }
                    bq.append(Int32((n.bias[c] / (sIn * s)).rounded(.toNearestOrEven)))
                }
                ins.append(b.addConstant("\(n.name).weight", int8: q, shape: ws,
                                         quantization: Quantization(scales: scales, zeroPoints: [Int32](repeating: 0, count: cout), axis: 0)))
                ins.append(b.addConstant("\(n.name).bias", int32: bq, shape: [cout]))
            }
            switch n.quant {
            case .calibrated: params[n.name] = asymmetric(ranges[n.name]!)
            case .sameAsInput: params[n.name] = params[n.inputs[0]]!
            case .softmax: params[n.name] = (1.0 / 256, -128)
            }
            let out = b.addTensor(n.name, .int8, n.shape, quantization: quant(params[n.name]!))
            b.addOp(n.op, n.name, inputs: ins, outputs: [out], attributes: n.attributes)
            tensors[n.name] = out
        }
        let last = nodes.last!
        let y = b.addTensor("\(last.name)_float", .float32, last.shape)
        b.addOp(.dequantize, "dequantize", inputs: [tensors[last.name]!], outputs: [y])
        b.outputs = [y]
        if tapEveryActivation {
            for n in nodes.dropLast() {
                let t = b.addTensor("\(n.name)_tap", .float32, n.shape)
                b.addOp(.dequantize, "\(n.name)_tap", inputs: [tensors[n.name]!], outputs: [t])
                b.outputs.append(t)
            }
        }
        b.metadataJSON = (try? metadata.encoded()) ?? Array("{}".utf8)
        return b.serialize()
    }

    private func quant(_ p: (Float, Int32)) -> Quantization { Quantization(scale: p.0, zeroPoint: p.1) }
}

/// Asymmetric int8 parameters covering [lo, hi] and zero.
func asymmetric(_ r: (Float, Float)) -> (Float, Int32) {
    let lo = min(r.0, 0), hi = max(r.1, 0)
    let s = max(hi - lo, 1e-6) / 255
    let z = Int32((-128 - lo / s).rounded(.toNearestOrEven))
    return (s, min(max(z, -128), 127))
}
