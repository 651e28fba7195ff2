import VigilModel

/// Imports already-quantized ONNX (onnxruntime's quantize_static QDQ models, and the QOperator ops
/// QLinearConv, QLinearMatMul, ConvInteger, MatMulInteger) by turning it back into float ops plus
/// the scales and zero points it carries, which the int8 emitter then uses as they are:
/// 1. QOperator nodes are rewritten as DequantizeLinear -> float op -> QuantizeLinear;
/// 2. (after folding) DequantizeLinear of constant weights has become float constants, which the
///    emitter requantizes per channel — for symmetric weights this reproduces the same integers;
/// 3. QuantizeLinear -> DequantizeLinear pairs on activations are removed and their parameters kept
///    (uint8 parameters shifted to int8: zero point - 128, same scale, same real values).
enum QuantizedImport {
    static func rewriteQOperators(_ g: IRGraph) throws {
        var out: [IRNode] = []
        for n in g.nodes {
            func dq(_ x: String, _ s: String, _ z: String, axis: Int? = nil) -> String {
                let y = g.fresh("\(x).dequantized")
                var node = IRNode(op: "DequantizeLinear", name: "\(n.name).dq.\(x)", inputs: [x, s, z], outputs: [y])
                if let axis { node.attributes["axis"] = .int(axis) }
                out.append(node)
                return y
            }
            switch n.op {
            case "QLinearConv", "QLinearMatMul":
                let xf = dq(n.inputs[0], n.inputs[1], n.inputs[2])
                let wf = dq(n.inputs[3], n.inputs[4], n.inputs[5], axis: n.op == "QLinearConv" ? 0 : 1)
                let yf = g.fresh("\(n.outputs[0]).float")
                var ins = [xf, wf]
                if n.op == "QLinearConv", n.inputs.count > 8, !n.inputs[8].isEmpty {
                    // int32 bias with scale x_scale * w_scale[c]
                    guard let b = g.tensors[n.inputs[8]]?.ints, let xs = g.tensors[n.inputs[1]]?.floats,
                          let ws = g.tensors[n.inputs[4]]?.floats else {
                        throw ConvertError("\(n.label): bias and scales must be constant")
                    }
                    let bf = g.fresh("\(n.name).bias.float")
                    g.tensors[bf] = IRTensor(name: bf, shape: [b.count],
                                             floats: b.enumerated().map { Float($0.element) * xs[0] * ws[ws.count == 1 ? 0 : $0.offset] })
                    ins.append(bf)
                }
                var op = n
                op.op = n.op == "QLinearConv" ? "Conv" : "MatMul"
                op.inputs = ins
                op.outputs = [yf]
                out.append(op)
                out.append(IRNode(op: "QuantizeLinear", name: "\(n.name).q", inputs: [yf, n.inputs[6], n.inputs[7]], outputs: n.outputs))
            case "ConvInteger", "MatMulInteger":
                // Integer result = float result on zero-point-shifted operands with unit scales.
                let one = g.fresh("\(n.name).unit_scale")
                g.tensors[one] = IRTensor(name: one, shape: [], floats: [1])
                func zp(_ i: Int) -> String {
                    if i < n.inputs.count, !n.inputs[i].isEmpty { return n.inputs[i] }
                    let z = g.fresh("\(n.name).zero\(i)")
                    g.tensors[z] = IRTensor(name: z, shape: [], kind: .int64, ints: [0])
                    g.quantizedTypes[z] = g.quantizedTypes[n.inputs[i - 2]] ?? .uint8
                    return z
                }
                let xf = dq(n.inputs[0], one, zp(2)), wf = dq(n.inputs[1], one, zp(3), axis: n.op == "ConvInteger" ? 0 : 1)
                var op = n
                op.op = n.op == "ConvInteger" ? "Conv" : "MatMul"
                op.inputs = [xf, wf]
                out.append(op)
            default:
                out.append(n)
            }
        }
        g.nodes = out
    }

    /// Removes QuantizeLinear -> DequantizeLinear pairs on activations, recording their parameters.
    static func stripActivationQDQ(_ g: IRGraph) throws {
        var remove = Set<Int>()
        for (i, q) in g.nodes.enumerated() where q.op == "QuantizeLinear" {
            let yq = q.outputs[0]
            guard !g.graphOutputs.contains(yq) else { continue }
            let users = g.consumers(of: yq)
            guard !users.isEmpty, users.allSatisfy({ g.nodes[$0].op == "DequantizeLinear" }),
                  let p = params(q, g), users.allSatisfy({ params(g.nodes[$0], g).map { $0 == p } ?? false }) else { continue }
            let x = q.inputs[0]
            g.importedParams[x] = p
            remove.insert(i)
            for u in users {
                remove.insert(u)
                g.rename(g.nodes[u].outputs[0], to: x)
            }
        }
        g.nodes = g.nodes.enumerated().filter { !remove.contains($0.offset) }.map(\.element)
        for (name, _) in g.valueTypes where g.consumers(of: name).isEmpty && !g.graphOutputs.contains(name) {
            g.valueTypes.removeValue(forKey: name)
        }
    }

    /// Per-tensor (scale, int8 zero point) of a Q or DQ node with constant parameters.
    static func params(_ n: IRNode, _ g: IRGraph) -> (Float, Int32)? {
        guard n.inputs.count > 1, let s = g.tensors[n.inputs[1]]?.floats, s.count == 1 else { return nil }
        var z: Int32 = 0
        var unsigned = n.inputs.count < 3 || n.inputs[2].isEmpty ? false : (g.quantizedTypes[n.inputs[2]] ?? .uint8) == .uint8
        if n.inputs.count > 2, !n.inputs[2].isEmpty {
            guard let zt = g.tensors[n.inputs[2]], let zv = zt.ints, zv.count == 1 else { return nil }
            z = Int32(zv[0])
        } else {
            unsigned = false
        }
        return (s[0], unsigned ? z - 128 : z)
    }
}
