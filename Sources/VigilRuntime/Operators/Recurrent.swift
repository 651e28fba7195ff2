internal import VigilModel

/// What LSTM and GRU share: operands, shapes and the indexing of the ONNX layouts.
///
/// Inputs: X, W [D, G*H, I], R [D, G*H, H], optional B [D, 2*G*H] (input biases, then recurrent
/// biases), optional initial_h (shape of Y_h), and for LSTM optional initial_c (shape of Y_c);
/// absent optional inputs are -1. Outputs: Y, Y_h, and for LSTM Y_c. G is 4 (LSTM, gates i o f c)
/// or 3 (GRU, gates z r h), as in ONNX. Layout 0: X [T, N, I], Y [T, D, N, H], Y_h [D, N, H];
/// layout 1: X [N, T, I], Y [N, T, D, H], Y_h [N, D, H]. Everything is float32: there is no int8
/// kernel, and the converter keeps these operators in float inside int8 models.
///
/// Y_h (and Y_c) double as the running state, so evaluation needs only the gate scratch.
struct RecurrentShape {
    var x: Int, w: Int, r: Int, b: Int?, h0: Int?, c0: Int?
    var y: Int, yh: Int, yc: Int?
    var scratch: Int
    var steps: Int, batch: Int, inputSize: Int, hidden: Int, directions: Int, gates: Int
    var direction: RecurrentDirection
    var layout: Int
    var clip: Float

    init(_ c: OpContext, gates: Int) throws(VigilError) {
        let lstm = gates == 4
        try c.expectOperands(inputs: 3...(lstm ? 6 : 5), outputs: lstm ? 3 : 2)
        self.gates = gates
        x = try c.input(0); w = try c.input(1); r = try c.input(2)
        b = c.optionalInput(3); h0 = c.optionalInput(4); c0 = lstm ? c.optionalInput(5) : nil
        y = c.op.outputs[0]; yh = c.op.outputs[1]; yc = lstm ? c.op.outputs[2] : nil
        scratch = c.scratchSlot
        let rawDirection = try c.int(.direction, default: 0)
        guard let d = RecurrentDirection(rawValue: Int32(truncatingIfNeeded: rawDirection)), Int(d.rawValue) == rawDirection else {
            throw c.badAttribute("unknown direction \(rawDirection)")
        }
        direction = d
        directions = d == .bidirectional ? 2 : 1
        layout = try c.int(.layout, default: 0)
        guard layout == 0 || layout == 1 else { throw c.badAttribute("layout must be 0 or 1, not \(layout)") }
        clip = try c.float(.cellClip, default: .infinity)
        guard clip > 0 else { throw c.badAttribute("cell_clip must be positive") }
        for (t, role) in [(x, "input"), (w, "W"), (r, "R"), (y, "Y"), (yh, "Y_h")] {
            try c.expect(t, dtype: .float32, role)
        }
        try c.expectConstant(w, "W")
        try c.expectConstant(r, "R")
        let xs = c.tensor(x).shape, ws = c.tensor(w).shape
        guard xs.count == 3, ws.count == 3 else { throw c.fail("X must be 3-D and W [D, \(gates)*H, I]; they are \(xs) and \(ws)") }
        (steps, batch) = layout == 0 ? (xs[0], xs[1]) : (xs[1], xs[0])
        inputSize = xs[2]
        guard ws[0] == directions, ws[1] % gates == 0, ws[1] > 0, ws[2] == inputSize else {
            throw c.fail("W has shape \(ws); expected [\(directions), \(gates)*H, \(inputSize)]")
        }
        hidden = ws[1] / gates
        guard steps > 0, batch > 0 else { throw c.fail("X has shape \(xs); sequence and batch must be positive") }
        try c.expectShape(r, [directions, gates * hidden, hidden], "R")
        if let b {
            try c.expect(b, dtype: .float32, "B")
            try c.expectConstant(b, "B")
            try c.expectShape(b, [directions, 2 * gates * hidden], "B")
        }
        let state = layout == 0 ? [directions, batch, hidden] : [batch, directions, hidden]
        try c.expectShape(y, layout == 0 ? [steps, directions, batch, hidden] : [batch, steps, directions, hidden], "Y")
        try c.expectShape(yh, state, "Y_h")
        if let yc { try c.expect(yc, dtype: .float32, "Y_c"); try c.expectShape(yc, state, "Y_c") }
        if let h0 { try c.expect(h0, dtype: .float32, "initial_h"); try c.expectShape(h0, state, "initial_h") }
        if let c0 { try c.expect(c0, dtype: .float32, "initial_c"); try c.expectShape(c0, state, "initial_c") }
    }

    /// Gate pre-activations of one step, plus H for GRU's reset product.
    var scratchBytes: Int { 4 * (gates + 1) * hidden }

    @inline(__always) func xOffset(_ t: Int, _ n: Int) -> Int { (layout == 0 ? t * batch + n : n * steps + t) * inputSize }
    @inline(__always) func yOffset(_ t: Int, _ d: Int, _ n: Int) -> Int {
        (layout == 0 ? (t * directions + d) * batch + n : (n * steps + t) * directions + d) * hidden
    }
    @inline(__always) func stateOffset(_ d: Int, _ n: Int) -> Int { (layout == 0 ? d * batch + n : n * directions + d) * hidden }
    @inline(__always) func reversed(_ d: Int) -> Bool { direction == .reverse || d == 1 }

    /// g[j] = bias[j] + sum_i x[i] * m[j, i], for j in 0..<rows (m row-major, `cols` wide).
    @inline(__always) static func accumulate(_ g: UnsafeMutablePointer<Float>, rows: Int, _ m: UnsafePointer<Float>, cols: Int,
                                             _ x: UnsafePointer<Float>) {
        for j in 0..<rows {
            let row = m + j * cols
            var acc: Float = 0
            for i in 0..<cols { acc += x[i] * row[i] }
            g[j] += acc
        }
    }

    @inline(__always) func clipped(_ v: Float) -> Float { min(max(v, -clip), clip) }
}
