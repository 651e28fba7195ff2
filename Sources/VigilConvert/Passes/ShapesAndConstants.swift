import Foundation

/// Walks the graph in order, folding nodes whose inputs are all constant (the shape arithmetic
/// exporters emit: Shape, Gather, Unsqueeze, Concat, Cast, Reshape of constants, Constant, ...) and
/// inferring the static shape of every other node's outputs.
struct ShapesAndConstants {
    static let foldable: Set<String> = [
        "Constant", "Shape", "Gather", "Unsqueeze", "Squeeze", "Concat", "Cast", "Reshape", "Identity",
        "Add", "Sub", "Mul", "Div", "Slice", "ConstantOfShape", "Flatten", "Transpose", "Range", "Neg", "Sqrt",
        "DequantizeLinear", "Expand", "Exp", "Log", "Abs", "Reciprocal", "Pow",
        // Shape arithmetic of exported attention and of Keras 3's recurrent loops; booleans are
        // int64 0/1 here.
        "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Not", "Mod", "Where",
    ]

    static func run(_ g: IRGraph) throws {
        var kept: [IRNode] = []
        for n in g.nodes {
            if try fold(n, g) { continue }
            try infer(n, g)
            kept.append(n)
        }
        g.nodes = kept
    }

    // MARK: Folding

    static func constant(_ g: IRGraph, _ name: String) -> IRTensor? {
        guard let t = g.tensors[name], t.isConstant else { return nil }
        return t
    }

    /// Folds `n` when every input is constant (or it is Shape of a known shape). Returns true if folded.
    static func fold(_ n: IRNode, _ g: IRGraph) throws -> Bool {
        guard foldable.contains(n.op), n.outputs.count == 1 else { return false }
        let out = n.outputs[0]
        if n.op == "Constant" {
            guard case .tensor(var t)? = n.attributes["value"] else {
                if case .float(let v)? = n.attributes["value_float"] { g.tensors[out] = IRTensor(name: out, shape: [], floats: [v]); return true }
                if case .int(let v)? = n.attributes["value_int"] { g.tensors[out] = IRTensor(name: out, shape: [], kind: .int64, ints: [Int64(v)]); return true }
                if case .ints(let v)? = n.attributes["value_ints"] { g.tensors[out] = IRTensor(name: out, shape: [v.count], kind: .int64, ints: v.map(Int64.init)); return true }
                if case .floats(let v)? = n.attributes["value_floats"] { g.tensors[out] = IRTensor(name: out, shape: [v.count], floats: v); return true }
                throw ConvertError("\(n.label): unsupported Constant attribute")
            }
            t.name = out
            g.tensors[out] = t
            return true
        }
        if n.op == "Shape" {
            guard let t = g.tensors[n.inputs[0]] else { return false }
            var s = t.shape.map(Int64.init)
            let rank = s.count
            var start = n.int("start", 0), end = n.int("end", rank)
            if start < 0 { start += rank }
            if end < 0 { end += rank }
            s = Array(s[max(0, min(start, rank))..<max(0, min(end, rank))])
            g.tensors[out] = IRTensor(name: out, shape: [s.count], kind: .int64, ints: s)
            return true
        }
        let present = n.inputs.filter { !$0.isEmpty }
        guard !present.isEmpty, present.allSatisfy({ constant(g, $0) != nil }) else { return false }
        let ins = n.inputs.map { $0.isEmpty ? nil : constant(g, $0) }
        let a = ins[0]!
        func values(_ t: IRTensor) -> [Double] { t.floats.map { $0.map(Double.init) } ?? t.ints!.map(Double.init) }
        func make(_ v: [Double], _ shape: [Int], _ kind: IRTensor.Kind) -> IRTensor {
            kind == .int64 ? IRTensor(name: out, shape: shape, kind: .int64, ints: v.map { Int64($0) })
                : IRTensor(name: out, shape: shape, floats: v.map { Float($0) })
        }
        var result: IRTensor
        switch n.op {
        case "Identity":
            result = a
            result.name = out
        case "Cast":
            let to = n.int("to", 1)
            let isFloat = to == 1 || to == 10 || to == 11 || to == 16
            result = make(values(a).map { isFloat ? $0 : $0.rounded(.towardZero) }, a.shape, isFloat ? .float : .int64)
        case "Neg": result = make(values(a).map { -$0 }, a.shape, a.kind)
        case "DequantizeLinear":
            // Constant weights stored quantized: (q - zero point) * scale, per tensor or per axis.
            let s = values(ins[1]!), z = ins.count > 2 && ins[2] != nil ? values(ins[2]!) : [Double](repeating: 0, count: s.count)
            var axis = n.int("axis", 1)
            if axis < 0 { axis += a.shape.count }
            let channels = max(s.count, z.count)
            let inner = channels == 1 ? a.count : a.shape[(axis + 1)...].reduce(1, *)
            let v = values(a).enumerated().map { i, q -> Double in
                let c = channels == 1 ? 0 : (i / inner) % channels
                return (q - z[z.count == 1 ? 0 : c]) * s[s.count == 1 ? 0 : c]
            }
            result = make(v, a.shape, .float)
        case "Sqrt": result = make(values(a).map { $0.squareRoot() }, a.shape, a.kind)
        case "Exp": result = make(values(a).map { Foundation.exp($0) }, a.shape, .float)
        case "Log": result = make(values(a).map { Foundation.log($0) }, a.shape, .float)
        case "Abs": result = make(values(a).map { Swift.abs($0) }, a.shape, a.kind)
        case "Reciprocal": result = make(values(a).map { 1 / $0 }, a.shape, .float)
        case "Expand":
            // Initial LSTM/GRU states and class tokens: a constant broadcast to a constant shape.
            let target = (ins[1]!.ints ?? []).map(Int.init)
            guard let shape = broadcast(a.shape, target) else { throw ConvertError("\(n.label): shape \(a.shape) does not expand to \(target)") }
            let va = values(a)
            result = make((0..<shape.reduce(1, *)).map { va[broadcastIndex($0, shape, a.shape)] }, shape, a.kind)
        case "Add", "Sub", "Mul", "Div", "Pow":
            let b = ins[1]!
            guard let shape = broadcast(a.shape, b.shape) else { throw ConvertError("\(n.label): shapes \(a.shape) and \(b.shape) do not broadcast") }
            let va = values(a), vb = values(b)
            let kind: IRTensor.Kind = a.kind == .int64 && b.kind == .int64 ? .int64 : .float
            var v: [Double] = []
            for i in 0..<shape.reduce(1, *) {
                let x = va[broadcastIndex(i, shape, a.shape)], y = vb[broadcastIndex(i, shape, b.shape)]
                switch n.op {
                case "Add": v.append(x + y)
                case "Sub": v.append(x - y)
                case "Mul": v.append(x * y)
                case "Pow": v.append(Foundation.pow(x, y))
                default: v.append(kind == .int64 ? (x / y).rounded(.down) : x / y)
                }
            }
            result = make(v, shape, kind)
        case "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual", "And", "Or", "Mod":
            let b = ins[1]!
            guard let shape = broadcast(a.shape, b.shape) else { throw ConvertError("\(n.label): shapes \(a.shape) and \(b.shape) do not broadcast") }
            let va = values(a), vb = values(b)
            let kind: IRTensor.Kind = n.op == "Mod" && (a.kind == .float || b.kind == .float) ? .float : .int64
            var v: [Double] = []
            for i in 0..<shape.reduce(1, *) {
                let x = va[broadcastIndex(i, shape, a.shape)], y = vb[broadcastIndex(i, shape, b.shape)]
                switch n.op {
                case "Equal": v.append(x == y ? 1 : 0)
                case "Less": v.append(x < y ? 1 : 0)
                case "Greater": v.append(x > y ? 1 : 0)
                case "LessOrEqual": v.append(x <= y ? 1 : 0)
                case "GreaterOrEqual": v.append(x >= y ? 1 : 0)
                case "And": v.append(x != 0 && y != 0 ? 1 : 0)
                case "Or": v.append(x != 0 || y != 0 ? 1 : 0)
                default:
                    // fmod=1: C fmod (sign of the dividend); fmod=0: integer mod, sign of the divisor.
                    guard y != 0 else { throw ConvertError("\(n.label): Mod by zero") }
                    let r = x.truncatingRemainder(dividingBy: y)
                    v.append(n.int("fmod", 0) == 1 || r == 0 || (r < 0) == (y < 0) ? r : r + y)
                }
            }
            result = make(v, shape, kind)
        case "Not": result = make(values(a).map { $0 == 0 ? 1 : 0 }, a.shape, .int64)
        case "Where":
            let b = ins[1]!, c = ins[2]!
            guard let ab = broadcast(a.shape, b.shape), let shape = broadcast(ab, c.shape) else {
                throw ConvertError("\(n.label): shapes \(a.shape), \(b.shape) and \(c.shape) do not broadcast")
            }
            let va = values(a), vb = values(b), vc = values(c)
            let v = (0..<shape.reduce(1, *)).map { i in
                va[broadcastIndex(i, shape, a.shape)] != 0 ? vb[broadcastIndex(i, shape, b.shape)] : vc[broadcastIndex(i, shape, c.shape)]
            }
            result = make(v, shape, b.kind == .float || c.kind == .float ? .float : .int64)
        case "Gather":
            let idx = ins[1]!
            var axis = n.int("axis", 0)
            if axis < 0 { axis += a.shape.count }
            let va = values(a)
            let outer = a.shape[..<axis].reduce(1, *), inner = a.shape[(axis + 1)...].reduce(1, *), dim = a.shape[axis]
            var v: [Double] = []
            for o in 0..<outer {
                for k in values(idx) {
                    var j = Int(k)
                    if j < 0 { j += dim }
                    guard j >= 0, j < dim else { throw ConvertError("\(n.label): index \(Int(k)) out of range \(dim)") }
                    for i in 0..<inner { v.append(va[(o * dim + j) * inner + i]) }
                }
            }
            result = make(v, Array(a.shape[..<axis]) + idx.shape + Array(a.shape[(axis + 1)...]), a.kind)
        case "Unsqueeze", "Squeeze":
            let axes = try axesOf(n, g, ins)
            let shape = n.op == "Unsqueeze" ? try unsqueezed(a.shape, axes) : squeezed(a.shape, axes)
            result = a
            result.name = out
            result.shape = shape
        case "Concat":
            var axis = n.int("axis", 0)
            if axis < 0 { axis += a.shape.count }
            let parts = ins.compactMap { $0 }
            let outer = a.shape[..<axis].reduce(1, *)
            var v: [Double] = []
            for o in 0..<outer {
                for p in parts {
                    let inner = p.shape[axis...].reduce(1, *)
                    v += values(p)[(o * inner)..<((o + 1) * inner)]
                }
            }
            var shape = a.shape
            shape[axis] = parts.map { $0.shape[axis] }.reduce(0, +)
            result = make(v, shape, parts.contains { $0.kind == .float } ? .float : .int64)
        case "Reshape":
            result = a
            result.name = out
            result.shape = try reshaped(a.shape, ins[1]!.ints ?? [], allowZero: n.int("allowzero", 0) == 1, n)
        case "Flatten":
            var axis = n.int("axis", 1)
            if axis < 0 { axis += a.shape.count }
            result = a
            result.name = out
            result.shape = [a.shape[..<axis].reduce(1, *), a.shape[axis...].reduce(1, *)]
        case "Transpose":
            let perm = n.ints("perm") ?? Array((0..<a.shape.count).reversed())
            let shape = perm.map { a.shape[$0] }
            let va = values(a), strides = contiguous(a.shape)
            var v = [Double](repeating: 0, count: va.count)
            for i in 0..<va.count {
                var rem = i, src = 0
                for (d, s) in contiguous(shape).enumerated() {
                    src += (rem / s) * strides[perm[d]]
                    rem %= s
                }
                v[i] = va[src]
            }
            result = make(v, shape, a.kind)
        case "Slice":
            guard a.shape.count == 1 else { return false }  // 1-D shape vectors only
            let starts = ins[1]!.ints ?? [], ends = ins.count > 2 ? ins[2]?.ints ?? [] : []
            let steps = ins.count > 4 ? ins[4]?.ints ?? [1] : [1]
            guard starts.count == 1, ends.count == 1, steps == [1] else { return false }
            let n0 = a.shape[0]
            func clampIndex(_ x: Int64) -> Int { let v = x < 0 ? Int(max(x + Int64(n0), 0)) : Int(min(x, Int64(n0))); return v }
            let s = clampIndex(starts[0]), e = clampIndex(ends[0])
            let v = values(a)
            result = make(s < e ? Array(v[s..<e]) : [], [max(e - s, 0)], a.kind)
        case "ConstantOfShape":
            let shape = (a.ints ?? []).map(Int.init)
            var value: Double = 0
            var kind: IRTensor.Kind = .float
            if case .tensor(let t)? = n.attributes["value"] {
                value = values(t).first ?? 0
                kind = t.kind
            }
            result = make([Double](repeating: value, count: shape.reduce(1, *)), shape, kind)
        case "Range":
            let s = values(a)[0], l = values(ins[1]!)[0], d = values(ins[2]!)[0]
            var v: [Double] = []
            var x = s
            while d > 0 ? x < l : x > l { v.append(x); x += d }
            result = make(v, [v.count], a.kind)
        default:
            return false
        }
        result.name = out
        g.tensors[out] = result
        return true
    }

    // MARK: Shape inference

    static func infer(_ n: IRNode, _ g: IRGraph) throws {
        func s(_ i: Int) throws -> [Int] { try g.shape(n.inputs[i]) }
        func set(_ shape: [Int], _ i: Int = 0) {
            g.tensors[n.outputs[i]] = IRTensor(name: n.outputs[i], shape: shape)
        }
        switch n.op {
        case "Relu", "Clip", "LeakyRelu", "Sigmoid", "Tanh", "HardSwish", "HardSigmoid", "BatchNormalization", "Dropout", "Scaler",
             "Identity", "Softmax", "QuantizeLinear", "DequantizeLinear", "Cast", "Neg", "Sqrt", "Exp", "Abs", "Not",
             "Erf", "Gelu", "Log", "Reciprocal":
            set(try s(0))
            for i in 1..<n.outputs.count where !n.outputs[i].isEmpty { set(try s(0), i) }  // Dropout mask
        case "Add", "Sub", "Mul", "Div", "Pow", "Sum", "Max", "Min", "Equal", "Less", "Greater", "LessOrEqual", "GreaterOrEqual",
             "And", "Or", "Mod", "Where":
            var shape = try s(0)
            for i in 1..<n.inputs.count {
                guard let b = broadcast(shape, try s(i)) else {
                    throw ConvertError("\(n.label): input shapes \(shape) and \(try s(i)) do not broadcast")
                }
                shape = b
            }
            set(shape)
        case "Conv":
            let xi = 0, wi = 1
            let x = try s(xi), w = try s(wi)
            let spatial = x.count - 2
            let k = n.ints("kernel_shape") ?? Array(w[2...])
            let (pads, out) = try convOutput(n, x: Array(x[2...]), kernel: k, spatial: spatial)
            _ = pads
            set([x[0], w[0]] + out)
        case "MaxPool", "AveragePool":
            let x = try s(0)
            guard let k = n.ints("kernel_shape") else { throw ConvertError("\(n.label): kernel_shape is required") }
            let (_, out) = try convOutput(n, x: Array(x[2...]), kernel: k, spatial: x.count - 2)
            set([x[0], x[1]] + out)
            if n.outputs.count > 1, !n.outputs[1].isEmpty { throw ConvertError("\(n.label): MaxPool indices output is not supported") }
        case "ReduceMean", "ReduceSum", "ReduceMax", "ReduceMin":
            let x = try s(0)
            guard let axes = try reduceAxes(n, g, rank: x.count) else { set(x); return }
            let keep = n.int("keepdims", 1) == 1
            set(x.enumerated().compactMap { i, d in axes.contains(i) ? (keep ? 1 : nil) : d })
        case "LayerNormalization":
            let x = try s(0)
            var axis = n.int("axis", -1)
            if axis < 0 { axis += x.count }
            guard axis >= 0, axis < x.count else { throw ConvertError("\(n.label): axis \(n.int("axis", -1)) is outside rank \(x.count)") }
            set(x)
            for i in 1..<n.outputs.count where !n.outputs[i].isEmpty { set(Array(x[..<axis]) + [Int](repeating: 1, count: x.count - axis), i) }
        case "Split":
            let x = try s(0)
            let (axis, sizes) = try splitSizes(n, g, x)
            for (i, size) in sizes.enumerated() where !n.outputs[i].isEmpty {
                var shape = x
                shape[axis] = size
                set(shape, i)
            }
        case "GlobalAveragePool", "GlobalMaxPool":
            let x = try s(0)
            set([x[0], x[1]] + [Int](repeating: 1, count: x.count - 2))
        case "Gemm":
            let a = try s(0), b = try s(1)
            let m = n.int("transA", 0) == 1 ? a[1] : a[0], nn = n.int("transB", 0) == 1 ? b[0] : b[1]
            set([m, nn])
        case "MatMul":
            let a = try s(0), b = try s(1)
            guard b.count >= 1, a.count >= 1 else { throw ConvertError("\(n.label): MatMul of shapes \(a) and \(b)") }
            guard a.last == (b.count == 1 ? b[0] : b[b.count - 2]) else { throw ConvertError("\(n.label): MatMul inner dimensions of \(a) and \(b) differ") }
            if b.count == 1 { set(Array(a.dropLast())); return }
            if a.count == 1 { set(Array(b.dropLast(2)) + [b.last!]); return }
            guard let batch = broadcast(Array(a.dropLast(2)), Array(b.dropLast(2))) else {
                throw ConvertError("\(n.label): MatMul batch dims of \(a) and \(b) do not broadcast")
            }
            set(batch + [a[a.count - 2], b.last!])
        case "Concat":
            var axis = n.int("axis", 0)
            var shape = try s(0)
            if axis < 0 { axis += shape.count }
            shape[axis] = try n.inputs.map { try g.shape($0)[axis] }.reduce(0, +)
            set(shape)
        case "Flatten":
            let x = try s(0)
            var axis = n.int("axis", 1)
            if axis < 0 { axis += x.count }
            set([x[..<axis].reduce(1, *), x[axis...].reduce(1, *)])
        case "Reshape":
            guard let shapeIn = constant(g, n.inputs[1])?.ints else {
                throw ConvertError("\(n.label): the target shape must be constant (after folding)")
            }
            set(try reshaped(try s(0), shapeIn, allowZero: n.int("allowzero", 0) == 1, n))
        case "Squeeze":
            set(squeezed(try s(0), try axesOf(n, g, n.inputs.map { constant(g, $0) })))
        case "Unsqueeze":
            set(try unsqueezed(try s(0), try axesOf(n, g, n.inputs.map { $0.isEmpty ? nil : constant(g, $0) })))
        case "Transpose":
            let x = try s(0)
            let perm = n.ints("perm") ?? Array((0..<x.count).reversed())
            set(perm.map { x[$0] })
        case "Slice":
            set(try sliceWindow(n, g).shape)
        case "Gather":
            let x = try s(0)
            guard let idx = constant(g, n.inputs[1]) else { throw ConvertError("\(n.label): Gather of a run-time value needs constant indices") }
            var axis = n.int("axis", 0)
            if axis < 0 { axis += x.count }
            guard axis >= 0, axis < x.count else { throw ConvertError("\(n.label): axis \(n.int("axis", 0)) of rank \(x.count)") }
            set(Array(x[..<axis]) + idx.shape + Array(x[(axis + 1)...]))
        case "ConstantOfShape", "Range":
            // Their output size is a value, not a shape: static only when the inputs are constant
            // (then they were folded above).
            throw ConvertError("\(n.label): \(n.op) needs constant inputs (after folding) to have a static shape")
        case "Expand":
            guard let target = constant(g, n.inputs[1])?.ints, let shape = broadcast(try s(0), target.map(Int.init)) else {
                throw ConvertError("\(n.label): Expand needs a constant target shape that \(try s(0)) broadcasts to")
            }
            set(shape)
        case "LSTM", "GRU":
            let r = try recurrentGeometry(n, g)
            let state = r.layout == 0 ? [r.directions, r.batch, r.hidden] : [r.batch, r.directions, r.hidden]
            for (i, o) in n.outputs.enumerated() where !o.isEmpty {
                if i == 0 {
                    set(r.layout == 0 ? [r.steps, r.directions, r.batch, r.hidden] : [r.batch, r.steps, r.directions, r.hidden])
                } else {
                    set(state, i)
                }
            }
        case "Resize", "Upsample":
            set(try resizeGeometry(n, g).output)
        case "ConvTranspose":
            set(try convTransposeGeometry(n, g).output)
        case "Pad":
            let x = try s(0)
            let pads = try padsOf(n, g, rank: x.count)
            set((0..<x.count).map { x[$0] + pads[$0] + pads[x.count + $0] })
        default:
            throw ConvertError("\(n.label): no shape rule for op \(n.op)")
        }
    }

    /// Resolved begin/end pads and output spatial sizes for Conv and pools (auto_pad, ceil_mode).
    static func convOutput(_ n: IRNode, x: [Int], kernel: [Int], spatial: Int) throws -> ([Int], [Int]) {
        let strides = n.ints("strides") ?? [Int](repeating: 1, count: spatial)
        let dil = n.ints("dilations") ?? [Int](repeating: 1, count: spatial)
        var pads = n.ints("pads") ?? [Int](repeating: 0, count: 2 * spatial)
        guard kernel.count == spatial, strides.count == spatial, dil.count == spatial, pads.count == 2 * spatial else {
            throw ConvertError("\(n.label): kernel/strides/dilations/pads do not match \(spatial) spatial dims")
        }
        let autoPad = n.string("auto_pad") ?? "NOTSET"
        var out: [Int] = []
        for d in 0..<spatial {
            let eff = (kernel[d] - 1) * dil[d] + 1
            switch autoPad {
            case "SAME_UPPER", "SAME_LOWER":
                let o = (x[d] + strides[d] - 1) / strides[d]
                let total = max((o - 1) * strides[d] + eff - x[d], 0)
                let small = total / 2
                (pads[d], pads[spatial + d]) = autoPad == "SAME_UPPER" ? (small, total - small) : (total - small, small)
                out.append(o)
            case "VALID":
                pads[d] = 0; pads[spatial + d] = 0
                out.append((x[d] - eff) / strides[d] + 1)
            default:
                let span = x[d] + pads[d] + pads[spatial + d] - eff
                if n.int("ceil_mode", 0) == 1 {
                    var o = (span + strides[d] - 1) / strides[d] + 1
                    // ONNX: the last window must start inside the input or left padding
                    if (o - 1) * strides[d] >= x[d] + pads[d] { o -= 1 }
                    out.append(o)
                } else {
                    out.append(span / strides[d] + 1)
                }
            }
        }
        return (pads, out)
    }

    /// The window an ONNX Slice with constant starts/ends/axes/steps (inputs from opset 10,
    /// attributes before) takes of its input: first index and step per axis, and the output shape.
    static func sliceWindow(_ n: IRNode, _ g: IRGraph) throws -> (starts: [Int], steps: [Int], shape: [Int]) {
        let x = try g.shape(n.inputs[0])
        func list(_ i: Int, _ attr: String) throws -> [Int]? {
            if let v = n.ints(attr) { return v }
            guard i < n.inputs.count, !n.inputs[i].isEmpty else { return nil }
            guard let t = constant(g, n.inputs[i]), let v = t.ints else { throw ConvertError("\(n.label): input \(i) of Slice must be constant") }
            return v.map { Int(clamping: $0) }
        }
        guard let st = try list(1, "starts"), let en = try list(2, "ends") else { throw ConvertError("\(n.label): starts and ends are required") }
        let axes = try list(3, "axes") ?? Array(0..<st.count), stepsIn = try list(4, "steps") ?? [Int](repeating: 1, count: st.count)
        guard st.count == en.count, axes.count == st.count, stepsIn.count == st.count else {
            throw ConvertError("\(n.label): starts, ends, axes and steps differ in length")
        }
        var starts = [Int](repeating: 0, count: x.count), steps = [Int](repeating: 1, count: x.count), shape = x
        for (k, a0) in axes.enumerated() {
            let a = a0 < 0 ? a0 + x.count : a0
            guard a >= 0, a < x.count, stepsIn[k] != 0 else { throw ConvertError("\(n.label): axis \(a0) or step \(stepsIn[k]) is invalid for rank \(x.count)") }
            let d = x[a], step = stepsIn[k]
            var b = st[k] < 0 ? st[k] + d : st[k], e = en[k] < 0 ? en[k] + d : en[k]
            if step > 0 { b = min(max(b, 0), d); e = min(max(e, 0), d) } else { b = min(max(b, 0), d - 1); e = min(max(e, -1), d - 1) }
            let count = step > 0 ? (e - b + step - 1) / step : (b - e + (-step) - 1) / (-step)
            guard count > 0 else { throw ConvertError("\(n.label): the slice of axis \(a) is empty") }
            (starts[a], steps[a], shape[a]) = (b, step, count)
        }
        return (starts, steps, shape)
    }

    /// Sizes of an ONNX LSTM or GRU node: X is [T, N, I] (layout 0) or [N, T, I] (layout 1).
    static func recurrentGeometry(_ n: IRNode, _ g: IRGraph) throws -> (steps: Int, batch: Int, hidden: Int, directions: Int, layout: Int) {
        let x = try g.shape(n.inputs[0])
        guard x.count == 3 else { throw ConvertError("\(n.label): X has shape \(x); expected 3 dimensions") }
        let layout = n.int("layout", 0)
        guard layout == 0 || layout == 1 else { throw ConvertError("\(n.label): attribute layout=\(layout) is not 0 or 1") }
        let direction = n.string("direction") ?? "forward"
        guard ["forward", "reverse", "bidirectional"].contains(direction) else {
            throw ConvertError("\(n.label): attribute direction='\(direction)' is not forward, reverse or bidirectional")
        }
        let gates = n.op == "LSTM" ? 4 : 3
        var hidden = n.int("hidden_size", 0)
        if hidden <= 0, n.inputs.count > 1, let w = g.tensors[n.inputs[1]], w.shape.count == 3 { hidden = w.shape[1] / gates }
        guard hidden > 0 else { throw ConvertError("\(n.label): hidden_size is missing") }
        return (layout == 0 ? x[0] : x[1], layout == 0 ? x[1] : x[0], hidden, direction == "bidirectional" ? 2 : 1, layout)
    }

    /// The reduced axes of ReduceMean/Sum/Max/Min, normalized and ascending (attribute before
    /// opset 18, input from 18, ReduceSum's input from 13); nil when the op is the identity (no axes
    /// with noop_with_empty_axes=1). No axes otherwise means all of them.
    static func reduceAxes(_ n: IRNode, _ g: IRGraph, rank: Int) throws -> [Int]? {
        var axes = n.ints("axes") ?? []
        if n.ints("axes") == nil, n.inputs.count > 1, !n.inputs[1].isEmpty {
            guard let v = constant(g, n.inputs[1])?.ints else { throw ConvertError("\(n.label): axes must be constant") }
            axes = v.map(Int.init)
        }
        if axes.isEmpty { return n.int("noop_with_empty_axes", 0) == 1 ? nil : Array(0..<rank) }
        let norm = axes.map { $0 < 0 ? $0 + rank : $0 }
        guard norm.allSatisfy({ (0..<rank).contains($0) }), Set(norm).count == norm.count else {
            throw ConvertError("\(n.label): axes \(axes) are invalid for rank \(rank)")
        }
        return norm.sorted()
    }

    /// Axis and output sizes of an ONNX Split: sizes from the `split` attribute (before opset 13) or
    /// constant input, else `num_outputs` (opset 18: ceil-sized parts, the last smaller) or the
    /// number of outputs (equal parts).
    static func splitSizes(_ n: IRNode, _ g: IRGraph, _ x: [Int]) throws -> (Int, [Int]) {
        var axis = n.int("axis", 0)
        if axis < 0 { axis += x.count }
        guard axis >= 0, axis < x.count else { throw ConvertError("\(n.label): axis \(n.int("axis", 0)) of rank \(x.count)") }
        let d = x[axis], parts = n.outputs.count
        var sizes: [Int]
        if let v = n.ints("split") {
            sizes = v
        } else if n.inputs.count > 1, !n.inputs[1].isEmpty {
            guard let v = constant(g, n.inputs[1])?.ints else { throw ConvertError("\(n.label): split sizes must be constant") }
            sizes = v.map(Int.init)
        } else {
            let k = n.int("num_outputs", parts)
            let chunk = (d + k - 1) / k
            sizes = (0..<k).map { Swift.min(chunk, Swift.max(d - $0 * chunk, 0)) }
        }
        guard sizes.count == parts, sizes.reduce(0, +) == d, sizes.allSatisfy({ $0 > 0 }) else {
            throw ConvertError("\(n.label): split sizes \(sizes) do not divide axis \(axis) of size \(d) into \(parts) non-empty parts")
        }
        return (axis, sizes)
    }

    static func axesOf(_ n: IRNode, _ g: IRGraph, _ ins: [IRTensor?]) throws -> [Int] {
        if let a = n.ints("axes") { return a }
        if ins.count > 1, let t = ins[1], let v = t.ints { return v.map(Int.init) }
        if n.inputs.count > 1, !n.inputs[1].isEmpty { throw ConvertError("\(n.label): axes must be constant") }
        return []
    }

    static func padsOf(_ n: IRNode, _ g: IRGraph, rank: Int) throws -> [Int] {
        if let p = n.ints("pads") { return p }
        guard n.inputs.count > 1, let t = constant(g, n.inputs[1]), let v = t.ints else {
            throw ConvertError("\(n.label): pads must be constant")
        }
        if n.inputs.count > 3, !n.inputs[3].isEmpty { throw ConvertError("\(n.label): the axes input of Pad is not supported") }
        guard v.count == 2 * rank else { throw ConvertError("\(n.label): \(v.count) pads for rank \(rank)") }
        return v.map(Int.init)
    }
}

func broadcast(_ a: [Int], _ b: [Int]) -> [Int]? {
    let r = max(a.count, b.count)
    let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
    var out: [Int] = []
    for d in 0..<r {
        if pa[d] == pb[d] || pb[d] == 1 { out.append(pa[d]) } else if pa[d] == 1 { out.append(pb[d]) } else { return nil }
    }
    return out
}

/// Index into a tensor of `shape` broadcast to `outShape` for flat output index `i`.
func broadcastIndex(_ i: Int, _ outShape: [Int], _ shape: [Int]) -> Int {
    let padded = [Int](repeating: 1, count: outShape.count - shape.count) + shape
    let os = contiguous(outShape), ss = contiguous(padded)
    var rem = i, idx = 0
    for d in 0..<outShape.count {
        let c = rem / os[d]
        rem %= os[d]
        if padded[d] != 1 { idx += c * ss[d] }
    }
    return idx
}

func contiguous(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) { s[i] = acc; acc *= shape[i] }
    return s
}

func reshaped(_ x: [Int], _ target: [Int64], allowZero: Bool, _ n: IRNode) throws -> [Int] {
    var out = target.enumerated().map { i, v in v == 0 && !allowZero && i < x.count ? x[i] : Int(v) }
    let total = x.reduce(1, *)
    if let m = out.firstIndex(of: -1) {
        let rest = out.enumerated().filter { $0.offset != m }.map(\.element).reduce(1, *)
        guard rest > 0, total % rest == 0 else { throw ConvertError("\(n.label): cannot reshape \(x) to \(target)") }
        out[m] = total / rest
    }
    guard out.reduce(1, *) == total, out.allSatisfy({ $0 >= 0 }) else {
        throw ConvertError("\(n.label): cannot reshape \(x) to \(target)")
    }
    return out
}

func squeezed(_ x: [Int], _ axes: [Int]) -> [Int] {
    if axes.isEmpty { return x.filter { $0 != 1 } }
    let norm = Set(axes.map { $0 < 0 ? $0 + x.count : $0 })
    return x.enumerated().filter { !norm.contains($0.offset) }.map(\.element)
}

func unsqueezed(_ x: [Int], _ axes: [Int]) throws -> [Int] {
    let r = x.count + axes.count
    let norm = Set(axes.map { $0 < 0 ? $0 + r : $0 })
    var out: [Int] = []
    var it = x.makeIterator()
    for d in 0..<r { out.append(norm.contains(d) ? 1 : (it.next() ?? 1)) }
    return out
}
