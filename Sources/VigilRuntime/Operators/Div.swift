internal import VigilModel

/// Elementwise division of two run-time values with NumPy broadcasting (ONNX Div; division by a
/// constant becomes Mul by its reciprocal at conversion). float32 only: in int8 models the
/// converter runs it between a Dequantize and a Quantize.
struct DivOp {
    var a: Int, b: Int, y: Int
    var shape: [Int], sa: [Int], sb: [Int]

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 2...2)
        a = try c.input(0); b = try c.input(1); y = c.output
        (shape, sa, sb) = try broadcastOperands(c, a, b, y)
        try c.expect(a, dtype: .float32, "input 0"); try c.expect(b, dtype: .float32, "input 1")
        try c.expect(y, dtype: .float32, "output")
    }

    func eval(_ t: SlotTable) {
        let A = t[a].assumingMemoryBound(to: Float.self), B = t[b].assumingMemoryBound(to: Float.self)
        let Y = t[y].assumingMemoryBound(to: Float.self)
        forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = A[i] / B[j] }
    }
}
