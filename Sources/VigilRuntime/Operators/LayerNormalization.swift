internal import VigilModel

/// ONNX LayerNormalization (float32): over the axes from `axis` to the last (D elements per row),
/// mean = Σx / D, var = Σ(x − mean)² / D, y = (x − mean) / √(var + epsilon) × scale + bias, in float32
/// with the sums in index order. Scale and bias are constants of D elements. Optional outputs 1 and 2
/// are each row's mean and 1 / √(var + epsilon). There is no int8 form: in int8 models it runs in
/// float32 between a Dequantize and a Quantize.
struct LayerNormalizationOp {
    var x: Int, scale: Int, bias: Int?, y: Int
    var mean: Int?, invStdDev: Int?
    var rows: Int, cols: Int
    var epsilon: Float

    init(_ c: OpContext) throws(VigilError) {
        guard (2...3).contains(c.op.inputs.count), (1...3).contains(c.op.outputs.count) else {
            throw c.fail("has \(c.op.inputs.count) inputs and \(c.op.outputs.count) outputs; expected 2...3 inputs and 1...3 outputs")
        }
        x = try c.input(0); scale = try c.input(1); bias = c.optionalInput(2); y = c.output
        mean = c.op.outputs.count > 1 ? c.op.outputs[1] : nil
        invStdDev = c.op.outputs.count > 2 ? c.op.outputs[2] : nil
        let xs = c.tensor(x).shape
        var axis = try c.int(.axis, default: -1)
        if axis < 0 { axis += xs.count }
        guard axis >= 0, axis < xs.count else { throw c.badAttribute("axis \(axis) is outside rank \(xs.count)") }
        epsilon = try c.float(.epsilon, default: 1e-5)
        guard epsilon.isFinite, epsilon >= 0 else { throw c.badAttribute("epsilon must be finite and non-negative") }
        cols = xs[axis...].reduce(1, *)
        rows = c.tensor(x).elementCount / max(cols, 1)
        for (t, role) in [(x, "input"), (scale, "scale"), (y, "output")] { try c.expect(t, dtype: .float32, role) }
        try c.expectConstant(scale, "scale")
        guard c.tensor(scale).elementCount == cols else { throw c.fail("scale has \(c.tensor(scale).elementCount) elements; expected \(cols)") }
        if let bias {
            try c.expect(bias, dtype: .float32, "bias")
            try c.expectConstant(bias, "bias")
            guard c.tensor(bias).elementCount == cols else { throw c.fail("bias has \(c.tensor(bias).elementCount) elements; expected \(cols)") }
        }
        try c.expectShape(y, xs, "output")
        let stats = Array(xs[..<axis]) + [Int](repeating: 1, count: xs.count - axis)
        for (t, role) in [(mean, "mean"), (invStdDev, "inv_std_dev")] {
            guard let t else { continue }
            try c.expect(t, dtype: .float32, role)
            try c.expectShape(t, stats, role)
        }
    }

    func eval(_ t: SlotTable) {
        let X = t[x].assumingMemoryBound(to: Float.self), Y = t[y].assumingMemoryBound(to: Float.self)
        let S = t[scale].assumingMemoryBound(to: Float.self)
        let B = bias.map { t[$0].assumingMemoryBound(to: Float.self) }
        let M = mean.map { t[$0].assumingMemoryBound(to: Float.self) }
        let I = invStdDev.map { t[$0].assumingMemoryBound(to: Float.self) }
        let d = Float(cols)
        for r in 0..<rows {
            let xr = X + r * cols, yr = Y + r * cols
            var sum: Float = 0
            for i in 0..<cols { sum += xr[i] }
            let mu = sum / d
            var sq: Float = 0
            for i in 0..<cols { let v = xr[i] - mu; sq += v * v }
            let inv = 1 / (sq / d + epsilon).squareRoot()
            if let B {
                for i in 0..<cols { yr[i] = (xr[i] - mu) * inv * S[i] + B[i] }
            } else {
                for i in 0..<cols { yr[i] = (xr[i] - mu) * inv * S[i] }
            }
            M?[r] = mu
            I?[r] = inv
        }
    }
}
