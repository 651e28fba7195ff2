internal import VigilModel

/// ONNX GRU (float32), gates in ONNX order z, r, h; default activations:
///   z = σ(x·Wz + h·Rz + Wbz + Rbz)    r = σ(x·Wr + h·Rr + Wbr + Rbr)
///   linear_before_reset 0: g = tanh(x·Wh + (r ⊙ h)·Rh + Rbh + Wbh)
///   linear_before_reset 1: g = tanh(x·Wh + r ⊙ (h·Rh + Rbh) + Wbh)
///   h' = (1 - z) ⊙ g + z ⊙ h
/// A cell clip, when set, bounds every pre-activation to [-clip, clip]. Operands: `RecurrentShape`.
struct GRUOp {
    let s: RecurrentShape
    let linearBeforeReset: Bool

    init(_ c: OpContext) throws(VigilError) {
        s = try RecurrentShape(c, gates: 3)
        let lbr = try c.int(.linearBeforeReset, default: 0)
        guard lbr == 0 || lbr == 1 else { throw c.badAttribute("linear_before_reset must be 0 or 1, not \(lbr)") }
        linearBeforeReset = lbr == 1
    }

    var scratchBytes: Int { s.scratchBytes }

    func eval(_ t: SlotTable) {
        let H = s.hidden, I = s.inputSize, G = 3 * H
        let X = t[s.x].assumingMemoryBound(to: Float.self), Y = t[s.y].assumingMemoryBound(to: Float.self)
        let W = UnsafePointer(t[s.w].assumingMemoryBound(to: Float.self)), R = UnsafePointer(t[s.r].assumingMemoryBound(to: Float.self))
        let Yh = t[s.yh].assumingMemoryBound(to: Float.self)
        // gate[0..<3H]: input-side pre-activations; rec[0..<H]: the recurrent part of the h gate.
        let gate = t[s.scratch].assumingMemoryBound(to: Float.self), rec = gate + G
        for d in 0..<s.directions {
            let wd = W + d * G * I, rd = R + d * G * H
            let B: UnsafeMutablePointer<Float>? = s.b.map { t[$0].assumingMemoryBound(to: Float.self) + d * 2 * G }
            for n in 0..<s.batch {
                let h = Yh + s.stateOffset(d, n)
                for k in 0..<H { h[k] = s.h0.map { t[$0].assumingMemoryBound(to: Float.self)[s.stateOffset(d, n) + k] } ?? 0 }
                for step in 0..<s.steps {
                    let time = s.reversed(d) ? s.steps - 1 - step : step
                    // z and r: both biases, input and recurrent products.
                    for j in 0..<2 * H { gate[j] = B.map { $0[j] + $0[G + j] } ?? 0 }
                    for j in 2 * H..<G { gate[j] = B?[j] ?? 0 }
                    RecurrentShape.accumulate(gate, rows: G, wd, cols: I, X + s.xOffset(time, n))
                    RecurrentShape.accumulate(gate, rows: 2 * H, rd, cols: H, h)
                    for j in 0..<2 * H { gate[j] = Sigmoid.apply(s.clipped(gate[j])) }
                    let rh = rd + 2 * H * H
                    if linearBeforeReset {
                        for k in 0..<H { rec[k] = B?[G + 2 * H + k] ?? 0 }
                        RecurrentShape.accumulate(rec, rows: H, rh, cols: H, h)
                        for k in 0..<H { gate[2 * H + k] += gate[H + k] * rec[k] }
                    } else {
                        // (r ⊙ h)·Rh, with r ⊙ h written over the r gate (no longer needed after).
                        for k in 0..<H {
                            gate[2 * H + k] += B?[G + 2 * H + k] ?? 0
                            gate[H + k] *= h[k]
                        }
                        RecurrentShape.accumulate(gate + 2 * H, rows: H, rh, cols: H, gate + H)
                    }
                    let out = Y + s.yOffset(time, d, n)
                    for k in 0..<H {
                        let z = gate[k], g = Tanh.apply(s.clipped(gate[2 * H + k]))
                        h[k] = (1 - z) * g + z * h[k]
                        out[k] = h[k]
                    }
                }
            }
        }
    }
}
