import VigilModel

/// The converter's working graph: ONNX semantics (NCHW, named values), static shapes, float32
/// constants. Importers produce it, passes rewrite it, the emitter lowers it to a `.vigil` file.
struct IRTensor {
    enum Kind { case float, int64 }
    var name: String
    var shape: [Int]
    var kind: Kind = .float
    /// Constant values (float32 data, or int64 data such as shapes and indices), nil for activations.
    var floats: [Float]? = nil
    var ints: [Int64]? = nil
    /// Quantization read from an already-quantized model (QDQ / QLinear): kept, not recalibrated.
    var importedQuantization: (scale: Float, zeroPoint: Int32)? = nil

    var isConstant: Bool { floats != nil || ints != nil }
    var count: Int { shape.reduce(1, *) }
}

enum IRAttribute {
    case int(Int)
    case float(Float)
    case ints([Int])
    case floats([Float])
    case string(String)
    case strings([String])
    case tensor(IRTensor)
}

struct IRNode {
    var op: String
    var name: String
    var inputs: [String]  // "" = absent optional input
    var outputs: [String]
    var attributes: [String: IRAttribute] = [:]

    func int(_ k: String, _ d: Int) -> Int {
        if case .int(let v)? = attributes[k] { return v }
        return d
    }
    func float(_ k: String, _ d: Float) -> Float {
        if case .float(let v)? = attributes[k] { return v }
        if case .int(let v)? = attributes[k] { return Float(v) }
        return d
    }
    func ints(_ k: String) -> [Int]? {
        if case .ints(let v)? = attributes[k] { return v }
        if case .int(let v)? = attributes[k] { return [v] }
        return nil
    }
    func strings(_ k: String) -> [String]? {
        if case .strings(let v)? = attributes[k] { return v }
        return nil
    }
    func string(_ k: String) -> String? {
        if case .string(let v)? = attributes[k] { return v }
        return nil
    }
    var label: String { name.isEmpty ? op : "\(op) '\(name)'" }
}

/// A conversion error: what is wrong and with which nodes.
struct ConvertError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

final class IRGraph {
    var name = ""
    var opset = 13
    var inputs: [String] = []
    var outputs: [String] = []
    var tensors: [String: IRTensor] = [:]
    var nodes: [IRNode] = []
    /// Element type of integer values read from the model (int8/uint8 inputs and zero points).
    var quantizedTypes: [String: DType] = [:]
    /// Integer values with fixed quantization (outputs of QuantizeLinear, inputs of DequantizeLinear).
    var valueTypes: [String: (DType, Quantization)] = [:]
    /// Activation parameters carried by an already-quantized source model: (scale, int8 zero point).
    var importedParams: [String: (Float, Int32)] = [:]

    func tensor(_ name: String) throws -> IRTensor {
        guard let t = tensors[name] else { throw ConvertError("value '\(name)' has no known shape") }
        return t
    }
    func shape(_ name: String) throws -> [Int] { try tensor(name).shape }
    func isConstant(_ name: String) -> Bool { tensors[name]?.isConstant ?? false }

    /// Nodes consuming `value`, by index.
    func consumers(of value: String) -> [Int] {
        nodes.indices.filter { nodes[$0].inputs.contains(value) }
    }
    var graphOutputs: Set<String> { Set(outputs) }

    /// Replaces every use of `old` by `new` (inputs and graph outputs).
    func rename(_ old: String, to new: String) {
        for i in nodes.indices {
            for j in nodes[i].inputs.indices where nodes[i].inputs[j] == old { nodes[i].inputs[j] = new }
        }
        for j in outputs.indices where outputs[j] == old { outputs[j] = new }
    }

    /// Drops nodes whose outputs no graph output needs.
    func removeUnneededNodes() {
        var needed = Set(outputs)
        var keep = [Bool](repeating: false, count: nodes.count)
        for i in nodes.indices.reversed() where nodes[i].outputs.contains(where: { needed.contains($0) }) {
            keep[i] = true
            needed.formUnion(nodes[i].inputs.filter { !$0.isEmpty })
        }
        nodes = nodes.indices.filter { keep[$0] }.map { nodes[$0] }
    }

    /// Drops constants and values nothing refers to.
    func pruneUnused() {
        var used = Set(inputs).union(outputs)
        for n in nodes { used.formUnion(n.inputs); used.formUnion(n.outputs) }
        tensors = tensors.filter { used.contains($0.key) }
    }
}
