internal import VigilModel

/// Reshape, and Flatten, Squeeze and Unsqueeze, which the converter lowers to it (shapes are static):
/// the bytes are copied unchanged. int8 input and output must share quantization.
struct ReshapeOp {
    var x: Int, y: Int, bytes: Int

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...2)  // an optional constant shape input is ignored
        x = try c.input(0); y = c.output
        guard c.tensor(x).elementCount == c.tensor(y).elementCount else {
            throw c.fail("input has \(c.tensor(x).elementCount) elements, output \(c.tensor(y).elementCount)")
        }
        try sameTypeAndQuantization(c, x, y)
        bytes = c.tensor(x).byteCount
    }

    func eval(_ t: SlotTable) {
        t[y].copyMemory(from: t[x], byteCount: bytes)
    }
}

/// Data-movement ops leave values untouched, so input and output must agree on dtype and quantization.
func sameTypeAndQuantization(_ c: OpContext, _ x: Int, _ y: Int) throws(VigilError) {
    try c.expect(y, dtype: c.tensor(x).dtype, "output")
    guard c.tensor(x).quantization == c.tensor(y).quantization else {
        throw VigilError(.badQuantization, "\(c.label): input and output quantization must be equal")
    }
}
