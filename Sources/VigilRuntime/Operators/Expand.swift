internal import VigilModel

/// Y = X broadcast to Y's shape (ONNX Expand with a constant target shape; NumPy broadcasting,
/// right-aligned). Values move unchanged, so int8 input and output share quantization.
struct ExpandOp {
    var x: Int, y: Int
    var shape: [Int], sx: [Int]
    var elementSize: Int

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        try sameTypeAndQuantization(c, x, y)
        let xs = c.tensor(x).shape, ys = c.tensor(y).shape
        guard xs.count <= ys.count, Index6.broadcastShape(xs, ys) == ys else {
            throw c.fail("input shape \(xs) does not broadcast to the output shape \(ys)")
        }
        let ix = Index6(ys)
        shape = ix.shape
        sx = ix.broadcastStrides(xs)
        elementSize = c.tensor(x).dtype.byteSize
    }

    func eval(_ t: SlotTable) {
        let X = UnsafeRawPointer(t[x]), Y = t[y]
        let size = elementSize
        forEachBroadcast(shape, sx, sx) { o, i, _ in
            (Y + o * size).copyMemory(from: X + i * size, byteCount: size)
        }
    }
}
