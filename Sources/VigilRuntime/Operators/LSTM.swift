internal import VigilModel

/// ONNX LSTM (float32), gates in ONNX order i, o, f, c; no peepholes, default activations:
///   i = σ(x·Wi + h·Ri + Wbi + Rbi)    o = σ(x·Wo + h·Ro + Wbo + Rbo)
///   f = σ(x·Wf + h·Rf + Wbf + Rbf)    g = tanh(x·Wc + h·Rc + Wbc + Rbc)
///   c' = f ⊙ c + i ⊙ g                h' = o ⊙ tanh(c')
/// A cell clip, when set, bounds every pre-activation to [-clip, clip]. Operands: `RecurrentShape`.
struct LSTMOp {
    let s: RecurrentShape

    init(_ c: OpContext) throws(VigilError) { s = try RecurrentShape(c, gates: 4) }

    var scratchBytes: Int { s.scratchBytes }

    func eval(_ t: SlotTable) {
        let H = s.hidden, I = s.inputSize, G = 4 * H
        let X = t[s.x].assumingMemoryBound(to: Float.self), Y = t[s.y].assumingMemoryBound(to: Float.self)
        let W = UnsafePointer(t[s.w].assumingMemoryBound(to: Float.self)), R = UnsafePointer(t[s.r].assumingMemoryBound(to: Float.self))
        let Yh = t[s.yh].assumingMemoryBound(to: Float.self), Yc = t[s.yc!].assumingMemoryBound(to: Float.self)
        let gate = t[s.scratch].assumingMemoryBound(to: Float.self)
        for d in 0..<s.directions {
            let wd = W + d * G * I, rd = R + d * G * H
            for n in 0..<s.batch {
                let h = Yh + s.stateOffset(d, n), cell = Yc + s.stateOffset(d, n)
                for k in 0..<H {
                    h[k] = s.h0.map { t[$0].assumingMemoryBound(to: Float.self)[s.stateOffset(d, n) + k] } ?? 0
                    cell[k] = s.c0.map { t[$0].assumingMemoryBound(to: Float.self)[s.stateOffset(d, n) + k] } ?? 0
                }
                for step in 0..<s.steps {
                    let time = s.reversed(d) ? s.steps - 1 - step : step
                    if let b = s.b {
                        let B = t[b].assumingMemoryBound(to: Float.self) + d * 2 * G
                        for j in 0..<G { gate[j] = B[j] + B[G + j] }
                    } else {
                        for j in 0..<G { gate[j] = 0 }
                    }
                    RecurrentShape.accumulate(gate, rows: G, wd, cols: I, X + s.xOffset(time, n))
                    RecurrentShape.accumulate(gate, rows: G, rd, cols: H, h)
                    let out = Y + s.yOffset(time, d, n)
                    for k in 0..<H {
                        let i = Sigmoid.apply(s.clipped(gate[k])), o = Sigmoid.apply(s.clipped(gate[H + k]))
                        let f = Sigmoid.apply(s.clipped(gate[2 * H + k])), g = Tanh.apply(s.clipped(gate[3 * H + k]))
                        cell[k] = f * cell[k] + i * g
                        h[k] = o * Tanh.apply(cell[k])
                        out[k] = h[k]
                    }
                }
            }
        }
    }
}
