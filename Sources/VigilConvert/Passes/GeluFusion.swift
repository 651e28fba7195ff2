/// Rewrites the GELU that PyTorch exports before opset 20, x · 0.5 · (1 + erf(x / √2)), as
/// Div (or Mul by 1/√2), Erf, Add 1, Mul by x and Mul by 0.5 (in either order), into one `Gelu`
/// node: one operator instead of five, and in int8 one 256-entry table whose only rounding is its
/// output's, instead of four requantized steps.
enum GeluFusion {
    static func run(_ g: IRGraph) {
        var removed = Set<Int>()
        var replacement: [Int: IRNode] = [:]
        for (e, erf) in g.nodes.enumerated() where erf.op == "Erf" {
            guard let m = match(e, g) else { continue }
            removed.formUnion(m.nodes)
            replacement[m.last] = IRNode(op: "Gelu", name: erf.name.isEmpty ? m.output : erf.name, inputs: [m.x], outputs: [m.output])
        }
        guard !removed.isEmpty else { return }
        var kept: [IRNode] = []
        for (i, n) in g.nodes.enumerated() {
            if let r = replacement[i] { kept.append(r) } else if !removed.contains(i) { kept.append(n) }
        }
        g.nodes = kept
    }

    /// The scalar value of a constant, if it is one (any shape with a single element).
    static func scalar(_ g: IRGraph, _ name: String) -> Double? {
        guard let t = g.tensors[name], t.isConstant, t.count == 1 else { return nil }
        return t.floats.map { Double($0[0]) } ?? t.ints.map { Double($0[0]) }
    }

    static func close(_ v: Double?, _ want: Double) -> Bool { v.map { abs($0 - want) <= 1e-6 * abs(want) } ?? false }

    /// The single consumer of `value` (nil if it has several, or none, or is a graph output).
    static func only(_ g: IRGraph, _ value: String) -> Int? {
        let c = g.consumers(of: value)
        return c.count == 1 && !g.graphOutputs.contains(value) ? c[0] : nil
    }

    /// The other input of a binary node, given one of them.
    static func other(_ n: IRNode, _ v: String) -> String? {
        guard n.inputs.count == 2 else { return nil }
        if n.inputs[0] == v { return n.inputs[1] }
        if n.inputs[1] == v { return n.inputs[0] }
        return nil
    }

    static func match(_ e: Int, _ g: IRGraph) -> (nodes: [Int], last: Int, x: String, output: String)? {
        let erf = g.nodes[e]
        // x / √2 or x · (1/√2)
        guard let p = g.nodes.firstIndex(where: { $0.outputs.first == erf.inputs[0] }), only(g, erf.inputs[0]) == e else { return nil }
        let pre = g.nodes[p]
        let x: String
        if pre.op == "Div", close(scalar(g, pre.inputs[1]), 2.0.squareRoot()) {
            x = pre.inputs[0]
        } else if pre.op == "Mul", let k = pre.inputs.firstIndex(where: { close(scalar(g, $0), 0.5.squareRoot()) }), pre.inputs.count == 2 {
            x = pre.inputs[1 - k]
        } else {
            return nil
        }
        guard !g.isConstant(x) else { return nil }
        // 1 + erf
        guard let a = only(g, erf.outputs[0]), g.nodes[a].op == "Add", let one = other(g.nodes[a], erf.outputs[0]),
              close(scalar(g, one), 1), let m1 = only(g, g.nodes[a].outputs[0]), g.nodes[m1].op == "Mul",
              let f1 = other(g.nodes[m1], g.nodes[a].outputs[0]) else { return nil }
        let first = g.nodes[m1]
        if f1 == x {
            // (x · (1 + erf)) · 0.5
            guard let m2 = only(g, first.outputs[0]), g.nodes[m2].op == "Mul", let h = other(g.nodes[m2], first.outputs[0]),
                  close(scalar(g, h), 0.5) else { return nil }
            return ([p, e, a, m1, m2], m2, x, g.nodes[m2].outputs[0])
        }
        if close(scalar(g, f1), 0.5) {
            // ((1 + erf) · 0.5) · x
            guard let m2 = only(g, first.outputs[0]), g.nodes[m2].op == "Mul", other(g.nodes[m2], first.outputs[0]) == x else { return nil }
            return ([p, e, a, m1, m2], m2, x, g.nodes[m2].outputs[0])
        }
        // (x · 0.5) · (1 + erf)
        guard let h = g.nodes.firstIndex(where: { $0.outputs.first == f1 }), g.nodes[h].op == "Mul", only(g, f1) == m1,
              other(g.nodes[h], x).map({ close(scalar(g, $0), 0.5) }) == true else { return nil }
        return ([p, e, a, h, m1], m1, x, first.outputs[0])
    }
}
