import VigilModel

/// One operator of the `.vigil` graph, still over named values. `source` is the ONNX node name it
/// came from (used by --keep-float and the per-layer report).
struct VNode {
    var code: OpCode
    var name: String
    var inputs: [String]
    var output: String
    var attributes: [Attribute] = []
    var source: String
    /// Outputs after the first (LSTM's Y_h and Y_c, GRU's Y_h); unused ones get fresh names.
    var extraOutputs: [String] = []

    func attribute(_ k: AttributeKey) -> Attribute? { attributes.first { $0.key == k } }
}

/// Maps ONNX nodes (after folding and shape inference) onto Vigil operators: removes Identity and
/// Dropout, folds BatchNormalization into the preceding convolution, turns Gemm/MatMul into
/// FullyConnected, Sub/Div by constants into Add/Mul, Flatten/Squeeze/Unsqueeze into Reshape, and
/// fuses ReLU/ReLU6/Clip into the op before it. Unsupported ops are collected and reported at once.
struct Lowering {
    static let supported: Set<String> = [
        "Conv", "BatchNormalization", "Gemm", "MatMul", "Add", "Sub", "Mul", "Div", "Concat", "MaxPool",
        "AveragePool", "GlobalAveragePool", "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "Softmax",
        "Reshape", "Flatten", "Squeeze", "Unsqueeze", "Transpose", "Pad", "Identity", "Dropout",
        "QuantizeLinear", "DequantizeLinear", "Cast", "Scaler", "ReduceMean", "LSTM", "GRU",
        "Slice", "Gather", "LayerNormalization", "Erf", "Gelu", "ReduceMax", "ReduceSum", "ReduceMin", "Exp", "Log",
        "Sqrt", "Neg", "Abs", "Reciprocal", "Pow", "Split", "Expand", "Max", "Min",
        "Resize", "Upsample", "ConvTranspose",
    ]

    /// Ops accepted on import: the lowered ones, the shape arithmetic folded away, and the
    /// quantized forms rewritten by QuantizedImport.
    static let accepted = supported.union(ShapesAndConstants.foldable)
        .union(["QLinearConv", "QLinearMatMul", "ConvInteger", "MatMulInteger"])

    /// One error listing every node whose op is not accepted, before any other work.
    static func checkSupported(_ g: IRGraph) throws {
        let unsupported = g.nodes.filter { !accepted.contains($0.op) }
        if !unsupported.isEmpty {
            throw ConvertError("unsupported operators (\(unsupported.count) nodes):\n" +
                unsupported.map { "  \($0.op) '\($0.name)'" }.joined(separator: "\n"))
        }
    }

    static func run(_ g: IRGraph) throws -> [VNode] {
        let unsupported = g.nodes.filter { !supported.contains($0.op) }
        if !unsupported.isEmpty {
            throw ConvertError("operators left after folding that cannot be lowered (\(unsupported.count)):\n" +
                unsupported.map { "  \($0.op) '\($0.name)'" }.joined(separator: "\n"))
        }
        var out: [VNode] = []
        var alias: [String: String] = [:]  // outputs of removed pass-through nodes (Identity, Dropout, Cast)
        for original in g.nodes {
            var n = original
            n.inputs = n.inputs.map { alias[$0] ?? $0 }
            let src = n.name.isEmpty ? n.outputs[0] : n.name
            let y = n.outputs[0]
            func x(_ i: Int) -> String { i < n.inputs.count ? n.inputs[i] : "" }
            func requireConstant(_ i: Int, _ role: String) throws -> IRTensor {
                guard let t = g.tensors[x(i)], t.floats != nil || t.ints != nil else {
                    throw ConvertError("\(n.label): \(role) must be a constant")
                }
                return t
            }
            switch n.op {
            case "Cast":
                let to = n.int("to", 1)
                guard to == 1 else { throw ConvertError("\(n.label): Cast to \(ONNXImporter.typeName(Int32(to))) of a run-time value is not supported") }
                alias[y] = x(0)
                g.rename(y, to: x(0))
            case "Scaler":
                // ai.onnx.ml Scaler: y = (x - offset) * scale, per feature (last axis) or broadcast.
                guard case .floats(let offset)? = n.attributes["offset"] ?? .floats([0]),
                      case .floats(let scale)? = n.attributes["scale"] ?? .floats([1]) else {
                    throw ConvertError("\(n.label): offset and scale must be float lists")
                }
                let o = g.fresh("\(src).offset"), sc = g.fresh("\(src).scale"), t = g.fresh("\(src).centered")
                g.tensors[o] = IRTensor(name: o, shape: [offset.count], floats: offset.map { -$0 })
                g.tensors[sc] = IRTensor(name: sc, shape: [scale.count], floats: scale)
                g.tensors[t] = IRTensor(name: t, shape: try g.shape(x(0)))
                out.append(VNode(code: .add, name: src + ".center", inputs: [x(0), o], output: t, source: src))
                out.append(VNode(code: .mul, name: src + ".scale", inputs: [t, sc], output: y, source: src))
            case "Identity", "Dropout":
                if n.outputs.count > 1, !n.outputs[1].isEmpty, g.graphOutputs.contains(n.outputs[1]) || !g.consumers(of: n.outputs[1]).isEmpty {
                    throw ConvertError("\(n.label): the Dropout mask output is not supported")
                }
                alias[y] = x(0)
                g.rename(y, to: x(0))
            case "Conv":
                let w = try requireConstant(1, "the weight")
                let xs = try g.shape(x(0))
                let spatial = xs.count - 2
                guard spatial == 1 || spatial == 2 else { throw ConvertError("\(n.label): \(spatial)-D convolution is not supported (1-D and 2-D are)") }
                let (pads, _) = try ShapesAndConstants.convOutput(n, x: Array(xs[2...]), kernel: Array(w.shape[2...]), spatial: spatial)
                let group = n.int("group", 1)
                var ins = [x(0), x(1)]
                if !x(2).isEmpty { _ = try requireConstant(2, "the bias"); ins.append(x(2)) }
                let depthwise = group > 1 && group == xs[1] && w.shape[1] == 1
                out.append(VNode(code: depthwise ? .depthwiseConv : .conv, name: src, inputs: ins, output: y, attributes: [
                    Attribute(.strides, ints: n.ints("strides") ?? [Int](repeating: 1, count: spatial)),
                    Attribute(.pads, ints: pads),
                    Attribute(.dilations, ints: n.ints("dilations") ?? [Int](repeating: 1, count: spatial)),
                    Attribute(.group, int: group),
                ], source: src))
            case "BatchNormalization":
                let scale = try requireConstant(1, "scale").floats!, bias = try requireConstant(2, "B").floats!
                let mean = try requireConstant(3, "mean").floats!, variance = try requireConstant(4, "var").floats!
                let eps = n.float("epsilon", 1e-5)
                let c = scale.count
                let mul = (0..<c).map { scale[$0] / (variance[$0] + eps).squareRoot() }
                let add = (0..<c).map { bias[$0] - mean[$0] * mul[$0] }
                if let k = out.lastIndex(where: { $0.output == x(0) }), [.conv, .depthwiseConv].contains(out[k].code),
                   g.consumers(of: x(0)).count == 1, !g.graphOutputs.contains(x(0)) {
                    try foldScale(into: &out[k], mul: mul, add: add, g)
                    out[k].output = y
                    out[k].source += "+" + src
                } else {
                    let rank = try g.shape(x(0)).count
                    let cshape = [c] + [Int](repeating: 1, count: max(rank - 2, 0))
                    let m = g.fresh("\(src).scale"), a = g.fresh("\(src).shift"), t = g.fresh("\(src).scaled")
                    g.tensors[m] = IRTensor(name: m, shape: cshape, floats: mul)
                    g.tensors[a] = IRTensor(name: a, shape: cshape, floats: add)
                    g.tensors[t] = IRTensor(name: t, shape: try g.shape(x(0)))
                    out.append(VNode(code: .mul, name: src + ".mul", inputs: [x(0), m], output: t, source: src))
                    out.append(VNode(code: .add, name: src + ".add", inputs: [t, a], output: y, source: src))
                }
            case "Gemm":
                guard n.int("transA", 0) == 0 else { throw ConvertError("\(n.label): transA=1 is not supported") }
                let b = try requireConstant(1, "B")
                let alpha = n.float("alpha", 1), beta = n.float("beta", 1)
                var w = n.int("transB", 0) == 1 ? b.floats! : transpose2D(b.floats!, rows: b.shape[0], cols: b.shape[1])
                let nOut = n.int("transB", 0) == 1 ? b.shape[0] : b.shape[1], k = w.count / nOut
                if alpha != 1 { w = w.map { $0 * alpha } }
                let wn = g.fresh("\(src).weight")
                g.tensors[wn] = IRTensor(name: wn, shape: [nOut, k], floats: w)
                var ins = [x(0), wn]
                if !x(2).isEmpty {
                    let c = try requireConstant(2, "C")
                    let m = try g.shape(x(0))[0]
                    guard c.count == nOut || c.count == 1 || (c.count == nOut * m && m == 1) else {
                        throw ConvertError("\(n.label): bias C of shape \(c.shape) is not per output")
                    }
                    let cv = c.floats ?? c.ints!.map(Float.init)
                    let bn = g.fresh("\(src).bias")
                    g.tensors[bn] = IRTensor(name: bn, shape: [nOut], floats: (0..<nOut).map { cv[c.count == 1 ? 0 : $0] * beta })
                    ins.append(bn)
                }
                out.append(VNode(code: .fullyConnected, name: src, inputs: ins, output: y, source: src))
            case "MatMul":
                if let b = g.tensors[x(1)], let bv = b.floats, b.shape.count == 2 {
                    let wn = g.fresh("\(src).weight")
                    g.tensors[wn] = IRTensor(name: wn, shape: [b.shape[1], b.shape[0]], floats: transpose2D(bv, rows: b.shape[0], cols: b.shape[1]))
                    out.append(VNode(code: .fullyConnected, name: src, inputs: [x(0), wn], output: y, source: src))
                } else {
                    try lowerMatMul(n, g, &out, src)
                }
            case "Add", "Sub", "Mul", "Div":
                var a = x(0), b = x(1)
                var code: OpCode = n.op == "Add" || n.op == "Sub" ? .add : .mul
                if n.op == "Sub", let c = g.tensors[a], let v = c.floats ?? c.ints.map({ $0.map(Float.init) }), !g.isConstant(b) {
                    // constant - x = x * -1 + constant (e.g. 1 - sigmoid in binary classifiers)
                    let minus = g.fresh("\(src).minus_one"), t = g.fresh("\(src).negated"), k = g.fresh("\(src).constant")
                    g.tensors[minus] = IRTensor(name: minus, shape: [1], floats: [-1])
                    g.tensors[k] = IRTensor(name: k, shape: c.shape, floats: v)
                    g.tensors[t] = IRTensor(name: t, shape: try g.shape(b))
                    out.append(VNode(code: .mul, name: src + ".negate", inputs: [b, minus], output: t, source: src))
                    out.append(VNode(code: .add, name: src, inputs: [t, k], output: y, source: src))
                    continue
                }
                if n.op == "Div", !g.isConstant(b), let c = g.tensors[a], let v = c.floats ?? c.ints.map({ $0.map(Float.init) }),
                   let k = v.first, v.allSatisfy({ $0 == k }), broadcast(c.shape, try g.shape(b)) == (try g.shape(b)) {
                    // constant / x = constant * (1 / x): Reciprocal has an int8 table, Div has no int8 form.
                    let f = [Attribute(.function, int: Int(UnaryFunction.reciprocal.rawValue))]
                    if k == 1 {
                        out.append(VNode(code: .unaryFunction, name: src, inputs: [b], output: y, attributes: f, source: src))
                    } else {
                        let r = g.fresh("\(src).reciprocal"), kn = g.fresh("\(src).numerator")
                        g.tensors[r] = IRTensor(name: r, shape: try g.shape(b))
                        g.tensors[kn] = IRTensor(name: kn, shape: [1], floats: [k])
                        out.append(VNode(code: .unaryFunction, name: src + ".reciprocal", inputs: [b], output: r, attributes: f, source: src))
                        out.append(VNode(code: .mul, name: src, inputs: [r, kn], output: y, source: src))
                    }
                    continue
                }
                if (n.op == "Sub" || n.op == "Div") && !g.isConstant(b) {
                    // Of two run-time values (or a constant divided by one), with broadcasting.
                    out.append(VNode(code: n.op == "Sub" ? .sub : .div, name: src, inputs: [a, b], output: y, source: src))
                    continue
                }
                if n.op == "Sub" || n.op == "Div" {
                    guard let c = g.tensors[b], let v = c.floats ?? c.ints.map({ $0.map(Float.init) }) else {
                        throw ConvertError("\(n.label): \(n.op) is supported with a constant right-hand side only")
                    }
                    let nb = g.fresh("\(src).\(n.op == "Sub" ? "negated" : "reciprocal")")
                    g.tensors[nb] = IRTensor(name: nb, shape: c.shape, floats: v.map { n.op == "Sub" ? -$0 : 1 / $0 })
                    b = nb
                }
                // MatMul + Add(constant bias of the output width) becomes FullyConnected's bias
                // (torch.onnx.export writes the bias first: Add(bias, MatMul)).
                if code == .add, g.isConstant(a), !g.isConstant(b) { swap(&a, &b) }
                if code == .add, let k = out.lastIndex(where: { $0.output == a }), out[k].code == .fullyConnected,
                   out[k].inputs.count == 2, g.consumers(of: a).count == 1, !g.graphOutputs.contains(a),
                   let bias = g.tensors[b]?.floats, bias.count == g.tensors[out[k].inputs[1]]!.shape[0] {
                    let bn = g.fresh("\(out[k].name).bias")
                    g.tensors[bn] = IRTensor(name: bn, shape: [bias.count], floats: bias)
                    out[k].inputs.append(bn)
                    out[k].output = y
                    continue
                }
                if g.isConstant(a) && !g.isConstant(b) { swap(&a, &b) }
                code = code == .add ? .add : .mul
                out.append(VNode(code: code, name: src, inputs: [a, b], output: y, source: src))
            case "Relu", "Clip":
                var lo: Float = n.op == "Relu" ? 0 : -.infinity, hi: Float = .infinity
                if n.op == "Clip" {
                    lo = n.float("min", lo); hi = n.float("max", hi)
                    if !x(1).isEmpty { lo = try requireConstant(1, "min").floats?.first ?? lo }
                    if !x(2).isEmpty { hi = try requireConstant(2, "max").floats?.first ?? hi }
                    if lo > hi { lo = hi }  // ONNX: min(max(x, lo), hi) is hi everywhere
                }
                let fusible: Set<OpCode> = [.conv, .depthwiseConv, .fullyConnected, .add, .mul]
                if let k = out.lastIndex(where: { $0.output == x(0) }), fusible.contains(out[k].code),
                   out[k].attribute(.activation) == nil, g.consumers(of: x(0)).count == 1, !g.graphOutputs.contains(x(0)) {
                    let act: FusedActivation = lo == 0 && hi == .infinity ? .relu : (lo == 0 && hi == 6 ? .relu6 : .clip)
                    out[k].attributes.append(Attribute(.activation, int: Int(act.rawValue)))
                    if act == .clip { out[k].attributes += [Attribute(.clipMin, float: lo), Attribute(.clipMax, float: hi)] }
                    out[k].output = y
                    out[k].source += "+" + src
                } else {
                    out.append(VNode(code: .clip, name: src, inputs: [x(0)], output: y,
                                     attributes: [Attribute(.clipMin, float: lo), Attribute(.clipMax, float: hi)], source: src))
                }
            case "LeakyRelu":
                out.append(VNode(code: .leakyRelu, name: src, inputs: [x(0)], output: y, attributes: [Attribute(.alpha, float: n.float("alpha", 0.01))], source: src))
            case "Sigmoid": out.append(VNode(code: .sigmoid, name: src, inputs: [x(0)], output: y, source: src))
            case "Tanh": out.append(VNode(code: .tanh, name: src, inputs: [x(0)], output: y, source: src))
            case "HardSwish": out.append(VNode(code: .hardSwish, name: src, inputs: [x(0)], output: y, source: src))
            case "HardSigmoid":
                out.append(VNode(code: .hardSigmoid, name: src, inputs: [x(0)], output: y,
                                 attributes: [Attribute(.alpha, float: n.float("alpha", 0.2)), Attribute(.beta, float: n.float("beta", 0.5))],
                                 source: src))
            case "Exp", "Log", "Sqrt", "Neg", "Abs", "Reciprocal":
                let f: UnaryFunction = switch n.op {
                case "Exp": .exp
                case "Log": .log
                case "Sqrt": .sqrt
                case "Neg": .neg
                case "Abs": .abs
                default: .reciprocal
                }
                out.append(VNode(code: .unaryFunction, name: src, inputs: [x(0)], output: y,
                                 attributes: [Attribute(.function, int: Int(f.rawValue))], source: src))
            case "Pow":
                // A constant exponent: 2 is x * x (exact in float32, Mul in int8), 0.5 is Sqrt, any
                // other a UnaryFunction pow.
                guard let e = g.tensors[x(1)], let ev = e.floats ?? e.ints.map({ $0.map(Float.init) }), let p = ev.first,
                      ev.allSatisfy({ $0 == p }), try broadcast(try g.shape(x(0)), e.shape) == g.shape(x(0)) else {
                    throw ConvertError("\(n.label): Pow is supported with a constant scalar exponent only")
                }
                if p == 2 {
                    out.append(VNode(code: .mul, name: src, inputs: [x(0), x(0)], output: y, source: src))
                } else {
                    var attrs = [Attribute(.function, int: Int((p == 0.5 ? UnaryFunction.sqrt : .pow).rawValue))]
                    if p != 0.5 { attrs.append(Attribute(.alpha, float: p)) }
                    out.append(VNode(code: .unaryFunction, name: src, inputs: [x(0)], output: y, attributes: attrs, source: src))
                }
            case "Max", "Min":
                // Variadic in ONNX: one input is the identity, more are chained pairwise.
                let ins = n.inputs.filter { !$0.isEmpty }
                if ins.count == 1 {
                    alias[y] = ins[0]
                    g.rename(y, to: ins[0])
                    continue
                }
                var acc = ins[0]
                for k in 1..<ins.count {
                    let target: String
                    if k == ins.count - 1 {
                        target = y
                    } else {
                        target = g.fresh("\(src).\(k)")
                        g.tensors[target] = IRTensor(name: target, shape: try broadcast(try g.shape(acc), try g.shape(ins[k])) ?? [])
                    }
                    var a = acc, b = ins[k]
                    if g.isConstant(a) && !g.isConstant(b) { swap(&a, &b) }
                    out.append(VNode(code: n.op == "Max" ? .max : .min, name: k == ins.count - 1 ? src : "\(src).\(k)",
                                     inputs: [a, b], output: target, source: src))
                    acc = target
                }
            case "Expand":
                // Of a run-time value (Expand of constants was folded): a broadcast copy.
                out.append(VNode(code: .expand, name: src, inputs: [x(0)], output: y, source: src))
            case "Split":
                // One Slice per output, each a constant window along the split axis.
                let xs = try g.shape(x(0))
                let (axis, sizes) = try ShapesAndConstants.splitSizes(n, g, xs)
                var first = 0
                for (k, size) in sizes.enumerated() {
                    defer { first += size }
                    let o = n.outputs[k]
                    if o.isEmpty || (g.consumers(of: o).isEmpty && !g.graphOutputs.contains(o)) { continue }
                    var starts = [Int](repeating: 0, count: xs.count)
                    starts[axis] = first
                    out.append(VNode(code: .slice, name: k == 0 ? src : "\(src).\(k)", inputs: [x(0)], output: o, attributes: [
                        Attribute(.starts, ints: starts), Attribute(.steps, ints: [Int](repeating: 1, count: xs.count))], source: src))
                }
            case "Softmax":
                let rank = try g.shape(x(0)).count
                var axis = n.int("axis", g.opset >= 13 ? -1 : 1)
                if axis < 0 { axis += rank }
                guard axis >= 0, axis < rank else { throw ConvertError("\(n.label): axis \(axis) is outside rank \(rank)") }
                if g.opset < 13, axis < rank - 1 {
                    // Before opset 13 Softmax normalizes the flattened axes [axis, rank): one line of
                    // their product, between two Reshapes.
                    let xs = try g.shape(x(0))
                    let flat = [xs[..<axis].reduce(1, *), xs[axis...].reduce(1, *)]
                    let a = g.fresh("\(src).flat"), b = g.fresh("\(src).flat_out")
                    g.tensors[a] = IRTensor(name: a, shape: flat)
                    g.tensors[b] = IRTensor(name: b, shape: flat)
                    out.append(VNode(code: .reshape, name: src + ".flatten", inputs: [x(0)], output: a, source: src))
                    out.append(VNode(code: .softmax, name: src, inputs: [a], output: b, attributes: [Attribute(.axis, int: 1)], source: src))
                    out.append(VNode(code: .reshape, name: src + ".unflatten", inputs: [b], output: y, source: src))
                } else {
                    out.append(VNode(code: .softmax, name: src, inputs: [x(0)], output: y, attributes: [Attribute(.axis, int: axis)], source: src))
                }
            case "LayerNormalization":
                let xs = try g.shape(x(0))
                var axis = n.int("axis", -1)
                if axis < 0 { axis += xs.count }
                guard axis >= 0, axis < xs.count else { throw ConvertError("\(n.label): axis \(n.int("axis", -1)) is outside rank \(xs.count)") }
                let normalized = xs[axis...].reduce(1, *)
                var ins = [x(0)]
                for (i, role) in [(1, "Scale"), (2, "B")] where !x(i).isEmpty {
                    let c = try requireConstant(i, role)
                    // Scale and B broadcast to the normalized shape; the runtime takes them whole.
                    var v = c.floats ?? c.ints!.map(Float.init)
                    if v.count != normalized {
                        guard let shape = broadcast(c.shape, Array(xs[axis...])), shape == Array(xs[axis...]) else {
                            throw ConvertError("\(n.label): \(role) of shape \(c.shape) does not broadcast to \(Array(xs[axis...]))")
                        }
                        v = (0..<normalized).map { v[broadcastIndex($0, shape, c.shape)] }
                    }
                    let name = g.fresh("\(src).\(role.lowercased())")
                    g.tensors[name] = IRTensor(name: name, shape: Array(xs[axis...]), floats: v)
                    ins.append(name)
                }
                // Mean and InvStdDev, when used: both present (a fresh name for an unused Mean).
                var extra: [String] = []
                let used = (1..<3).map { $0 < n.outputs.count && !n.outputs[$0].isEmpty }
                if used.contains(true) {
                    for i in 1...(used[1] ? 2 : 1) {
                        if used[i - 1] { extra.append(n.outputs[i]); continue }
                        let name = g.fresh("\(src).mean")
                        g.tensors[name] = IRTensor(name: name, shape: Array(xs[..<axis]) + [Int](repeating: 1, count: xs.count - axis))
                        extra.append(name)
                    }
                }
                out.append(VNode(code: .layerNormalization, name: src, inputs: ins, output: y,
                                 attributes: [Attribute(.axis, int: axis), Attribute(.epsilon, float: n.float("epsilon", 1e-5))],
                                 source: src, extraOutputs: extra))
            case "Erf": out.append(VNode(code: .erf, name: src, inputs: [x(0)], output: y, source: src))
            case "Gelu":
                let approximate = n.string("approximate") ?? "none"
                guard approximate == "none" || approximate == "tanh" else {
                    throw ConvertError("\(n.label): approximate='\(approximate)' is not supported (none, tanh)")
                }
                out.append(VNode(code: .gelu, name: src, inputs: [x(0)], output: y,
                                 attributes: approximate == "tanh" ? [Attribute(.approximate, int: 1)] : [], source: src))
            case "MaxPool", "AveragePool":
                let xs = try g.shape(x(0)), k = n.ints("kernel_shape")!
                let spatial = xs.count - 2
                guard spatial == 1 || spatial == 2 else { throw ConvertError("\(n.label): \(spatial)-D pooling is not supported (1-D and 2-D are)") }
                var (pads, outSizes) = try ShapesAndConstants.convOutput(n, x: Array(xs[2...]), kernel: k, spatial: spatial)
                let strides = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
                let dil = n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
                for d in 0..<spatial {  // ceil_mode as extra end padding
                    let need = (outSizes[d] - 1) * strides[d] + (k[d] - 1) * dil[d] + 1 - xs[2 + d] - pads[d]
                    pads[spatial + d] = max(pads[spatial + d], need)
                }
                if n.op == "AveragePool", n.int("count_include_pad", 0) == 1, n.int("ceil_mode", 0) == 1 {
                    throw ConvertError("\(n.label): AveragePool with both ceil_mode and count_include_pad is not supported")
                }
                var attrs = [Attribute(.kernelShape, ints: k), Attribute(.strides, ints: strides), Attribute(.pads, ints: pads)]
                attrs.append(Attribute(.dilations, ints: dil))
                if n.op == "AveragePool" { attrs.append(Attribute(.countIncludePad, int: n.int("count_include_pad", 0))) }
                out.append(VNode(code: n.op == "MaxPool" ? .maxPool : .averagePool, name: src, inputs: [x(0)], output: y, attributes: attrs, source: src))
            case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
                let xs = try g.shape(x(0))
                guard let axes = try ShapesAndConstants.reduceAxes(n, g, rank: xs.count) else {
                    // noop_with_empty_axes with no axes: the identity.
                    alias[y] = x(0)
                    g.rename(y, to: x(0))
                    continue
                }
                let keep = n.int("keepdims", 1) == 1
                if n.op == "ReduceMean", (3...4).contains(xs.count), axes == Array(2..<xs.count) {
                    // Over every spatial axis of [N, C, ...] it is global average pooling (what
                    // torch.onnx.export writes for adaptive_avg_pool2d(1) / mean(dim=(2, 3))).
                    if keep {
                        out.append(VNode(code: .globalAveragePool, name: src, inputs: [x(0)], output: y, source: src))
                    } else {
                        let t = g.fresh("\(src).pooled")
                        g.tensors[t] = IRTensor(name: t, shape: Array(xs[0..<2]) + [Int](repeating: 1, count: xs.count - 2))
                        out.append(VNode(code: .globalAveragePool, name: src, inputs: [x(0)], output: t, source: src))
                        out.append(VNode(code: .reshape, name: src + ".squeeze", inputs: [t], output: y, source: src))
                    }
                    continue
                }
                let function: ReduceFunction = switch n.op {
                case "ReduceMean": .mean
                case "ReduceSum": .sum
                case "ReduceMax": .max
                default: .min
                }
                out.append(VNode(code: .reduce, name: src, inputs: [x(0)], output: y, attributes: [
                    Attribute(.function, int: Int(function.rawValue)), Attribute(.axes, ints: axes)], source: src))
            case "GlobalAveragePool":
                out.append(VNode(code: .globalAveragePool, name: src, inputs: [x(0)], output: y, source: src))
            case "Concat":
                var axis = n.int("axis", 0)
                if axis < 0 { axis += try g.shape(x(0)).count }
                out.append(VNode(code: .concat, name: src, inputs: n.inputs, output: y, attributes: [Attribute(.axis, int: axis)], source: src))
            case "Reshape", "Flatten", "Squeeze", "Unsqueeze":
                out.append(VNode(code: .reshape, name: src, inputs: [x(0)], output: y, source: src))
            case "Transpose":
                let rank = try g.shape(x(0)).count
                out.append(VNode(code: .transpose, name: src, inputs: [x(0)], output: y,
                                 attributes: [Attribute(.perm, ints: n.ints("perm") ?? Array((0..<rank).reversed()))], source: src))
            case "Pad":
                let rank = try g.shape(x(0)).count
                let pads = try ShapesAndConstants.padsOf(n, g, rank: rank)
                guard pads.allSatisfy({ $0 >= 0 }) else { throw ConvertError("\(n.label): negative pads (cropping) are not supported") }
                let mode: PadMode
                switch n.string("mode") ?? "constant" {
                case "constant": mode = .constant
                case "edge": mode = .edge
                case "reflect": mode = .reflect
                case let m: throw ConvertError("\(n.label): pad mode \(m) is not supported")
                }
                var value: Float = n.float("value", 0)
                if !x(2).isEmpty { value = try requireConstant(2, "constant_value").floats?.first ?? value }
                out.append(VNode(code: .pad, name: src, inputs: [x(0)], output: y, attributes: [
                    Attribute(.pads, ints: pads), Attribute(.padMode, int: Int(mode.rawValue)), Attribute(.padValue, float: value),
                ], source: src))
            case "QuantizeLinear", "DequantizeLinear":
                try lowerQDQ(n, g, &out, src)
            case "LSTM", "GRU":
                out.append(try lowerRecurrent(n, g, src))
            case "Slice":
                let w = try ShapesAndConstants.sliceWindow(n, g)
                out.append(VNode(code: .slice, name: src, inputs: [x(0)], output: y,
                                 attributes: [Attribute(.starts, ints: w.starts), Attribute(.steps, ints: w.steps)], source: src))
            case "Resize", "Upsample":
                out.append(try lowerResize(n, g, src, input: x(0)))
            case "ConvTranspose":
                out += try lowerConvTranspose(n, g, src, inputs: n.inputs)
            case "Gather":
                // Constant indices into a run-time value (e.g. the last step of an LSTM's Y): one
                // Slice when they are evenly spaced, else a Slice per index joined by Concat; then
                // a Reshape when the index tensor is not 1-D.
                let xs = try g.shape(x(0))
                let idx = try requireConstant(1, "the indices")
                var axis = n.int("axis", 0)
                if axis < 0 { axis += xs.count }
                let d = xs[axis]
                let v = (idx.ints ?? idx.floats!.map { Int64($0) }).map { Int($0) < 0 ? Int($0) + d : Int($0) }
                guard !v.isEmpty, v.allSatisfy({ (0..<d).contains($0) }) else {
                    throw ConvertError("\(n.label): indices \(v) are out of range for axis \(axis) of size \(d)")
                }
                let step = v.count > 1 ? v[1] - v[0] : 1
                let even = step != 0 && v.indices.allSatisfy { v[$0] == v[0] + $0 * step }
                func window(_ first: Int, _ step: Int, _ count: Int, _ name: String) -> VNode {
                    var starts = [Int](repeating: 0, count: xs.count), steps = [Int](repeating: 1, count: xs.count)
                    (starts[axis], steps[axis]) = (first, step)
                    return VNode(code: .slice, name: name, inputs: [x(0)], output: "", attributes: [
                        Attribute(.starts, ints: starts), Attribute(.steps, ints: steps)], source: src)
                }
                var joined = xs
                joined[axis] = v.count
                let final = try g.shape(y)
                let gathered = final == joined ? y : g.fresh("\(src).gathered")
                if gathered != y { g.tensors[gathered] = IRTensor(name: gathered, shape: joined) }
                if even {
                    var s = window(v[0], step, v.count, src)
                    s.output = gathered
                    out.append(s)
                } else {
                    var parts: [String] = []
                    var one = xs
                    one[axis] = 1
                    for (k, i) in v.enumerated() {
                        var s = window(i, 1, 1, "\(src).\(k)")
                        s.output = g.fresh("\(src).index\(k)")
                        g.tensors[s.output] = IRTensor(name: s.output, shape: one)
                        parts.append(s.output)
                        out.append(s)
                    }
                    out.append(VNode(code: .concat, name: src, inputs: parts, output: gathered, attributes: [Attribute(.axis, int: axis)], source: src))
                }
                if gathered != y { out.append(VNode(code: .reshape, name: src + ".reshape", inputs: [gathered], output: y, source: src)) }
            default:
                throw ConvertError("\(n.label): unsupported")
            }
        }
        return out
    }

    /// ONNX LSTM / GRU onto the recurrent operators: inputs X, W, R, B, initial_h (, initial_c),
    /// every output present (fresh names for the unused ones, which the runtime uses as state).
    /// What the runtime does not do is refused by name: peepholes, input_forget, activations other
    /// than the defaults, sequence_lens shorter than the sequence.
    static func lowerRecurrent(_ n: IRNode, _ g: IRGraph, _ src: String) throws -> VNode {
        let lstm = n.op == "LSTM"
        func x(_ i: Int) -> String { i < n.inputs.count ? n.inputs[i] : "" }
        let r = try ShapesAndConstants.recurrentGeometry(n, g)
        let defaults = lstm ? ["Sigmoid", "Tanh", "Tanh"] : ["Sigmoid", "Tanh"]
        if let acts = n.strings("activations"), acts.map({ $0.lowercased() }) != Array(repeating: defaults, count: r.directions).joined().map({ $0.lowercased() }) {
            throw ConvertError("\(n.label): attribute activations=\(acts) is not supported (only the defaults \(defaults) per direction)")
        }
        if lstm, n.int("input_forget", 0) != 0 { throw ConvertError("\(n.label): attribute input_forget=1 is not supported") }
        if lstm, !x(7).isEmpty { throw ConvertError("\(n.label): input P (peepholes) is not supported") }
        if !x(4).isEmpty {
            guard let lens = g.tensors[x(4)]?.ints, lens.allSatisfy({ $0 == Int64(r.steps) }) else {
                throw ConvertError("\(n.label): input sequence_lens must be constant and equal to the sequence length \(r.steps)")
            }
        }
        for (i, role) in [(1, "W"), (2, "R"), (3, "B")] where !x(i).isEmpty {
            guard g.tensors[x(i)]?.floats != nil else { throw ConvertError("\(n.label): input \(role) must be a constant") }
        }
        let gates = lstm ? 4 : 3
        guard let ws = g.tensors[x(1)]?.shape, ws == [r.directions, gates * r.hidden, ws.count == 3 ? ws[2] : -1] else {
            throw ConvertError("\(n.label): W has shape \(g.tensors[x(1)]?.shape ?? []); expected [\(r.directions), \(gates * r.hidden), input size]")
        }
        let direction: RecurrentDirection = switch n.string("direction") ?? "forward" {
        case "reverse": .reverse
        case "bidirectional": .bidirectional
        default: .forward
        }
        var attributes = [Attribute(.direction, int: Int(direction.rawValue)), Attribute(.layout, int: r.layout)]
        if !lstm { attributes.append(Attribute(.linearBeforeReset, int: n.int("linear_before_reset", 0))) }
        if case .float(let clip)? = n.attributes["clip"] { attributes.append(Attribute(.cellClip, float: clip)) }
        let state = r.layout == 0 ? [r.directions, r.batch, r.hidden] : [r.batch, r.directions, r.hidden]
        var outputs: [String] = []
        for i in 0..<(lstm ? 3 : 2) {
            if i < n.outputs.count, !n.outputs[i].isEmpty { outputs.append(n.outputs[i]); continue }
            let name = g.fresh("\(src).\(["Y", "Y_h", "Y_c"][i])")
            g.tensors[name] = IRTensor(name: name, shape: i == 0 ? (r.layout == 0 ? [r.steps, r.directions, r.batch, r.hidden]
                                                                   : [r.batch, r.steps, r.directions, r.hidden]) : state)
            outputs.append(name)
        }
        let inputs = [x(0), x(1), x(2), x(3), x(5)] + (lstm ? [x(6)] : [])
        return VNode(code: lstm ? .lstm : .gru, name: src, inputs: inputs, output: outputs[0], attributes: attributes, source: src,
                     extraOutputs: Array(outputs.dropFirst()))
    }

    /// MatMul of two run-time values (attention's Q·Kᵀ and P·V) onto the MatMul operator. ONNX's
    /// 1-D operands are made 2-D by Reshapes ([K] → [1, K] on the left, [K, 1] on the right), and the
    /// dimension they added is reshaped away after.
    static func lowerMatMul(_ n: IRNode, _ g: IRGraph, _ out: inout [VNode], _ src: String) throws {
        var a = n.inputs[0], b = n.inputs[1]
        let y = n.outputs[0]
        let sa = try g.shape(a), sb = try g.shape(b)
        func reshaped(_ v: String, _ shape: [Int], _ role: String) -> String {
            let r = g.fresh("\(src).\(role)")
            g.tensors[r] = IRTensor(name: r, shape: shape)
            out.append(VNode(code: .reshape, name: "\(src).\(role)", inputs: [v], output: r, source: src))
            return r
        }
        if sa.count == 1 { a = reshaped(a, [1, sa[0]], "a2d") }
        if sb.count == 1 { b = reshaped(b, [sb[0], 1], "b2d") }
        if sa.count >= 2 && sb.count >= 2 {
            out.append(VNode(code: .matMul, name: src, inputs: [a, b], output: y, source: src))
            return
        }
        let pa = try g.shape(a), pb = try g.shape(b)
        guard let batch = broadcast(Array(pa.dropLast(2)), Array(pb.dropLast(2))) else {
            throw ConvertError("\(n.label): MatMul batch dims of \(sa) and \(sb) do not broadcast")
        }
        let full = g.fresh("\(src).product")
        g.tensors[full] = IRTensor(name: full, shape: batch + [pa[pa.count - 2], pb[pb.count - 1]])
        out.append(VNode(code: .matMul, name: src, inputs: [a, b], output: full, source: src))
        out.append(VNode(code: .reshape, name: src + ".reshape", inputs: [full], output: y, source: src))
    }

    /// W'[c] = W[c] * mul[c], b'[c] = b[c] * mul[c] + add[c].
    static func foldScale(into v: inout VNode, mul: [Float], add: [Float], _ g: IRGraph) throws {
        let w = g.tensors[v.inputs[1]]!
        let per = w.count / mul.count
        let wn = g.fresh("\(v.name).weight.folded")
        var wf = w.floats!
        for c in 0..<mul.count { for i in 0..<per { wf[c * per + i] *= mul[c] } }
        g.tensors[wn] = IRTensor(name: wn, shape: w.shape, floats: wf)
        let old = v.inputs.count > 2 ? g.tensors[v.inputs[2]]!.floats! : [Float](repeating: 0, count: mul.count)
        let bn = g.fresh("\(v.name).bias.folded")
        g.tensors[bn] = IRTensor(name: bn, shape: [mul.count], floats: (0..<mul.count).map { old[$0] * mul[$0] + add[$0] })
        v.inputs = [v.inputs[0], wn, bn]
    }

    /// QuantizeLinear / DequantizeLinear with constant per-tensor or per-axis parameters.
    static func lowerQDQ(_ n: IRNode, _ g: IRGraph, _ out: inout [VNode], _ src: String) throws {
        guard let s = g.tensors[n.inputs[1]]?.floats else { throw ConvertError("\(n.label): scale must be constant") }
        var zp: [Int32] = [Int32](repeating: 0, count: s.count)
        var dtype: DType = .uint8
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard let z = g.tensors[n.inputs[2]] else { throw ConvertError("\(n.label): zero point must be constant") }
            zp = (z.ints ?? z.floats!.map { Int64($0) }).map { Int32($0) }
            dtype = g.quantizedTypes[n.inputs[2]] ?? .uint8
        } else if n.op == "DequantizeLinear" {
            dtype = g.quantizedTypes[n.inputs[0]] ?? .int8
        }
        let shape = try g.shape(n.inputs[0]), rank = shape.count
        var axis = n.int("axis", 1)
        if axis < 0 { axis += rank }
        if n.int("block_size", 0) != 0 || (s.count > 1 && (axis >= rank || s.count != shape[axis])) {
            throw ConvertError("\(n.label): blocked quantization is not supported (per-tensor and per-axis are)")
        }
        if n.int("output_dtype", 0) != 0, ![2, 3].contains(n.int("output_dtype", 0)) {
            throw ConvertError("\(n.label): output type \(ONNXImporter.typeName(Int32(n.int("output_dtype", 0)))) is not supported (int8, uint8)")
        }
        let q = s.count == 1 ? Quantization(scale: s[0], zeroPoint: zp[0]) : Quantization(scales: s, zeroPoints: zp, axis: axis)
        let quantized = n.op == "QuantizeLinear" ? n.outputs[0] : n.inputs[0]
        g.valueTypes[quantized] = (dtype, q)
        out.append(VNode(code: n.op == "QuantizeLinear" ? .quantize : .dequantize, name: src, inputs: [n.inputs[0]], output: n.outputs[0], source: src))
    }
}

func transpose2D(_ v: [Float], rows: Int, cols: Int) -> [Float] {
    var t = [Float](repeating: 0, count: v.count)
    for r in 0..<rows { for c in 0..<cols { t[c * rows + r] = v[r * cols + c] } }
    return t
}

extension IRGraph {
    /// A value name not used yet, based on `base`.
    func fresh(_ base: String) -> String {
        var name = base, i = 1
        while tensors[name] != nil { name = "\(base).\(i)"; i += 1 }
        return name
    }
}
