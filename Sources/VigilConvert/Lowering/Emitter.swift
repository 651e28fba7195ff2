import VigilModel

/// Writes the lowered graph as a `.vigil` model, all float32 or int8 with chosen nodes kept float.
/// Conversions between the two (Quantize / Dequantize) are inserted where a value is needed in the
/// other form. Graph inputs and outputs stay float32 unless the source model made them integer.
struct Emitter {
    enum Precision {
        case float
        /// Activation ranges per value, and ONNX node names to keep in float32.
        case int8(ranges: [String: ClosedRange<Float>], keepFloat: Set<String>)
    }

    let g: IRGraph
    let nodes: [VNode]
    let precision: Precision
    /// Adds every node output as an extra graph output (float32), for calibration and per-layer error.
    var tapEveryActivation = false
    /// Why a node of `keepFloat` (by ONNX name) is kept in float32, e.g. the sensitivity figures;
    /// absent: "--keep-float".
    var keepReasons: [String: String] = [:]

    private var b = ModelBuilder()
    private var floatValue: [String: Int] = [:]
    private var int8Value: [String: Int] = [:]
    private var int8Params: [String: (Float, Int32)] = [:]
    private var otherValue: [String: Int] = [:]  // integer tensors with fixed types (QDQ in float mode)
    /// Names of the tapped values, in output order after the real outputs.
    private(set) var taps: [String] = []
    /// In an int8 model, the operators that run in float32 and why, in graph order.
    private(set) var floatOps: [(name: String, op: String, reason: String)] = []

    /// Operators without an int8 kernel: in int8 models they run in float32 between a Dequantize
    /// and a Quantize (mixed precision).
    static let floatOnly: Set<OpCode> = [.lstm, .gru, .layerNormalization, .div]
    /// Operators that only move values (and Resize, whose outputs lie between its inputs'): they
    /// take the precision of their input's producer, so a float32 value on its way to or from a
    /// float-only operator (the Transpose and Squeeze around an LSTM) is not quantized and
    /// dequantized again for nothing.
    static let dataMovement: Set<OpCode> = [.reshape, .transpose, .slice, .expand, .zeroInsert, .resize]
    /// Values that exist in float32 only: graph inputs and outputs of float32 operators (int8 models).
    private var floatProduced: Set<String> = []
    private let floatPrefix: Set<String>

    init(_ g: IRGraph, _ nodes: [VNode], _ precision: Precision, tap: Bool = false) {
        self.g = g
        self.nodes = nodes
        self.precision = precision
        tapEveryActivation = tap
        floatPrefix = Emitter.preprocessingPrefix(g, nodes)
        floatProduced = Set(g.inputs.filter { g.valueTypes[$0] == nil && g.quantizedTypes[$0] == nil })
        for n in nodes where floatReason(n) != nil { floatProduced.formUnion([n.output] + n.extraOutputs) }
    }

    mutating func emit(metadata: [UInt8]) throws -> [UInt8] {
        for name in g.inputs {
            let t = try g.tensor(name)
            if let (dtype, q) = g.valueTypes[name] {
                otherValue[name] = b.addTensor(name, dtype, t.shape, quantization: q)
                b.inputs.append(otherValue[name]!)
            } else if let dtype = g.quantizedTypes[name] {
                throw ConvertError("graph input '\(name)' is \(dtype.name) without quantization parameters; integer inputs must feed DequantizeLinear")
            } else {
                floatValue[name] = b.addTensor(name, .float32, t.shape)
                b.inputs.append(floatValue[name]!)
            }
        }
        for n in nodes { try emit(n) }
        for name in g.outputs {
            if let t = otherValue[name] { b.outputs.append(t) } else { b.outputs.append(try float(name)) }
        }
        if tapEveryActivation {
            for n in nodes {
                for o in [n.output] + n.extraOutputs where !g.outputs.contains(o) && otherValue[o] == nil {
                    taps.append(o)
                    b.outputs.append(try float(o))
                }
            }
        }
        b.metadataJSON = metadata
        return b.serialize()
    }

    var keepFloat: Set<String> {
        if case .int8(_, let k) = precision { return k }
        return []
    }
    var isInt8: Bool {
        if case .int8 = precision { return true }
        return false
    }

    func runsFloat(_ n: VNode) -> Bool { floatReason(n) != nil }

    /// Why `n` runs in float32 in an int8 model (nil: it runs in int8). Always "float model" when
    /// the whole model is float.
    func floatReason(_ n: VNode) -> String? {
        guard isInt8 else { return "float model" }
        if Emitter.floatOnly.contains(n.code) { return "no int8 kernel" }
        if Emitter.dataMovement.contains(n.code), floatProduced.contains(n.inputs[0]) { return "moves a float32 value" }
        if floatPrefix.contains(n.output) { return "input standardization prefix" }
        if let kept = n.source.split(separator: "+").map(String.init).first(where: { keepFloat.contains($0) }) {
            return keepReasons[kept] ?? "--keep-float"
        }
        return nil
    }

    /// Outputs of the chain of Add/Mul by constants that starts at a graph input: feature
    /// standardization ((x - mean) / std, skl2onnx's Scaler). Raw features often span several
    /// orders of magnitude, which one per-tensor int8 scale cannot hold, so this prefix stays in
    /// float32 and quantization starts after it (as onnxruntime leaves Sub/Div in float).
    static func preprocessingPrefix(_ g: IRGraph, _ nodes: [VNode]) -> Set<String> {
        var reached = Set(g.inputs), prefix = Set<String>()
        for n in nodes where (n.code == .add || n.code == .mul) && n.inputs.count == 2 {
            let fromPrefix = n.inputs.filter { reached.contains($0) }.count == 1
            let constant = n.inputs.contains { g.tensors[$0]?.isConstant ?? false }
            if fromPrefix && constant {
                reached.insert(n.output)
                prefix.insert(n.output)
            }
        }
        return prefix
    }

    // MARK: Values in either form

    mutating func float(_ v: String) throws -> Int {
        if v.isEmpty { return -1 }  // an absent optional input
        if let t = floatValue[v] { return t }
        if let c = g.tensors[v], c.isConstant {
            let t = b.addConstant(v, float32: c.floats ?? c.ints!.map(Float.init), shape: c.shape)
            floatValue[v] = t
            return t
        }
        if let q = int8Value[v] {
            let t = b.addTensor("\(v).float", .float32, try g.shape(v))
            b.addOp(.dequantize, "\(v).dequantize", inputs: [q], outputs: [t])
            floatValue[v] = t
            return t
        }
        if let t = otherValue[v] { return t }
        throw ConvertError("value '\(v)' is used before it is produced")
    }

    mutating func int8(_ v: String) throws -> Int {
        if let t = int8Value[v] { return t }
        if let c = g.tensors[v], c.isConstant {
            // A constant operand of Add/Mul: per-tensor asymmetric over its own range.
            let values = c.floats ?? c.ints!.map(Float.init)
            let p = asymmetricParameters((values.min() ?? 0)...(values.max() ?? 0))
            let q = values.map { Int8(quantize($0, p)) }
            let t = b.addConstant(v, int8: q, shape: c.shape, quantization: Quantization(scale: p.0, zeroPoint: p.1))
            int8Value[v] = t
            int8Params[v] = p
            return t
        }
        let f = try float(v)
        let p = try params(v)
        let t = b.addTensor("\(v).int8", .int8, try g.shape(v), quantization: Quantization(scale: p.0, zeroPoint: p.1))
        b.addOp(.quantize, "\(v).quantize", inputs: [f], outputs: [t])
        int8Value[v] = t
        int8Params[v] = p
        return t
    }

    func params(_ v: String) throws -> (Float, Int32) {
        if let p = int8Params[v] { return p }
        if let p = g.importedParams[v] { return p }
        guard case .int8(let ranges, _) = precision, let r = ranges[v] else {
            throw ConvertError("no calibrated range for value '\(v)' (a quantized source model that leaves it in float needs --calibration too)")
        }
        return asymmetricParameters(r)
    }

    // MARK: Nodes

    mutating func emit(_ n: VNode) throws {
        let shape = try g.shape(n.output)
        if n.code == .quantize || n.code == .dequantize {
            // Explicit QDQ of the source model, emitted as written.
            let x = try otherValue[n.inputs[0]] ?? float(n.inputs[0])
            if n.code == .quantize {
                let (dtype, q) = g.valueTypes[n.output]!
                let t = b.addTensor(n.output, dtype, shape, quantization: q)
                b.addOp(.quantize, n.name, inputs: [x], outputs: [t])
                otherValue[n.output] = t
            } else {
                let t = b.addTensor(n.output, .float32, shape)
                b.addOp(.dequantize, n.name, inputs: [x], outputs: [t])
                floatValue[n.output] = t
            }
            return
        }
        if let reason = floatReason(n) {
            var ins: [Int] = []
            for v in n.inputs { ins.append(try float(v)) }
            while ins.last == -1 { ins.removeLast() }
            var outs: [Int] = []
            for o in [n.output] + n.extraOutputs {
                let t = b.addTensor(o, .float32, try g.shape(o))
                floatValue[o] = t
                outs.append(t)
            }
            b.addOp(n.code, n.name, inputs: ins, outputs: outs, attributes: n.attributes)
            if isInt8 { floatOps.append((n.name, n.code.name, reason)) }
            return
        }
        // int8
        var ins: [Int] = []
        switch n.code {
        case .conv, .depthwiseConv, .fullyConnected:
            let x = try int8(n.inputs[0])
            let (sx, _) = int8Params[n.inputs[0]]!
            let w = g.tensors[n.inputs[1]]!
            let cout = w.shape[0], per = w.count / cout
            var scales: [Float] = [], wq: [Int8] = []
            for c in 0..<cout {
                let slice = w.floats![(c * per)..<((c + 1) * per)]
                let s = max(slice.map(abs).max() ?? 0, 1e-12) / 127
                scales.append(s)
                for v in slice { wq.append(Int8(max(-127, min(127, (v / s).rounded(.toNearestOrEven))))) }
            }
            let bias = n.inputs.count > 2 ? g.tensors[n.inputs[2]]!.floats! : [Float](repeating: 0, count: cout)
            let bq = (0..<cout).map { c -> Int32 in
                let v = (Double(bias[c]) / (Double(sx) * Double(scales[c]))).rounded(.toNearestOrEven)
                return Int32(max(min(v, Double(Int32.max)), Double(Int32.min)))
            }
            ins = [x,
                   b.addConstant("\(n.name).weight", int8: wq, shape: w.shape,
                                 quantization: Quantization(scales: scales, zeroPoints: [Int32](repeating: 0, count: cout), axis: 0)),
                   b.addConstant("\(n.name).bias", int32: bq, shape: [cout])]
        default:
            for v in n.inputs { ins.append(try int8(v)) }
        }
        let p: (Float, Int32)
        switch n.code {
        case .maxPool, .reshape, .transpose, .pad, .slice, .expand, .zeroInsert, .resize: p = int8Params[n.inputs[0]]!
        case .reduce where [ReduceFunction.max.rawValue, ReduceFunction.min.rawValue].contains(Int32(n.attribute(.function)?.ints.first ?? 0)):
            p = int8Params[n.inputs[0]]!  // picks input values: exact with the input's parameters
        case .softmax: p = (1.0 / 256, -128)
        default: p = try params(n.output)
        }
        let t = b.addTensor(n.output, .int8, shape, quantization: Quantization(scale: p.0, zeroPoint: p.1))
        b.addOp(n.code, n.name, inputs: ins, outputs: [t], attributes: n.attributes)
        int8Value[n.output] = t
        int8Params[n.output] = p
    }
}

/// Asymmetric int8 parameters whose range covers `r` and zero exactly.
func asymmetricParameters(_ r: ClosedRange<Float>) -> (Float, Int32) {
    let lo = min(r.lowerBound, 0), hi = max(r.upperBound, 0)
    let s = max(hi - lo, 1e-8) / 255
    let z = Int32((-128 - lo / s).rounded(.toNearestOrEven))
    return (s, min(max(z, -128), 127))
}

func quantize(_ x: Float, _ p: (Float, Int32)) -> Int32 {
    let v = (x / p.0).rounded(.toNearestOrEven)
    return Int32(min(max(v + Float(p.1), -128), 127))
}
