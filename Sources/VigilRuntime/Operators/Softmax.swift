#if canImport(Glibc)
internal import Glibc
#endif
internal import VigilModel

/// Softmax over one axis (any; attention uses the last axis of [N, heads, S, S]). The tensor is
/// [outer, cols, inner] around that axis; each of the outer × inner lines of `cols` elements,
/// `inner` apart, is normalized on its own.
/// int8: output quantization fixed at scale 1/256, zero point -128. With d = max - q (0...255),
/// e[d] = round(exp(-d * s_in) * 2^20) from a table built at load, S = sum(e), and
/// y = clamp((e * 256 + S / 2) / S - 128, -128, 127) in integer arithmetic.
struct SoftmaxOp {
    var x: Int, y: Int, outer: Int, cols: Int, inner: Int
    var isInt8: Bool
    var table: [UInt32] = []

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let xs = c.tensor(x).shape
        guard xs == c.tensor(y).shape, !xs.isEmpty else { throw c.fail("output shape must equal input shape") }
        var axis = try c.int(.axis, default: -1)
        if axis < 0 { axis += xs.count }
        guard axis >= 0, axis < xs.count else { throw c.badAttribute("axis \(axis) is outside rank \(xs.count)") }
        cols = xs[axis]
        outer = xs[..<axis].reduce(1, *)
        inner = xs[(axis + 1)...].reduce(1, *)
        guard cols <= 1 << 20 else { throw c.unsupported("softmax over \(cols) elements") }
        isInt8 = c.tensor(x).dtype == .int8
        try c.expect(y, dtype: c.tensor(x).dtype, "output")
        if isInt8 {
            let (sx, _) = try c.perTensor(x, "input"), (sy, zy) = try c.perTensor(y, "output")
            guard sy == 1.0 / 256, zy == -128 else {
                throw VigilError(.badQuantization, "\(c.label): int8 Softmax output must have scale 1/256 and zero point -128")
            }
            for d in 0..<256 {
                table.append(UInt32((deterministicExp(-Double(d) * Double(sx)) * 0x1p20).rounded(.toNearestOrEven)))
            }
        } else {
            try c.expect(x, dtype: .float32, "input")
        }
    }

    func eval(_ t: SlotTable) {
        let (cols, inner) = (cols, inner)
        if isInt8 {
            let X = t[x].assumingMemoryBound(to: Int8.self), Y = t[y].assumingMemoryBound(to: Int8.self)
            table.withUnsafeBufferPointer { e in
                for o in 0..<outer {
                    for q in 0..<inner {
                        let xr = X + o * cols * inner + q, yr = Y + o * cols * inner + q
                        var m = Int8.min
                        for i in 0..<cols { m = max(m, xr[i * inner]) }
                        var sum: UInt64 = 0
                        for i in 0..<cols { sum += UInt64(e[Int(m) - Int(xr[i * inner])]) }
                        for i in 0..<cols {
                            let v = (UInt64(e[Int(m) - Int(xr[i * inner])]) << 8 + sum / 2) / sum
                            yr[i * inner] = Int8(truncatingIfNeeded: min(Int64(v) - 128, 127))
                        }
                    }
                }
            }
        } else {
            let X = t[x].assumingMemoryBound(to: Float.self), Y = t[y].assumingMemoryBound(to: Float.self)
            for o in 0..<outer {
                for q in 0..<inner {
                    let xr = X + o * cols * inner + q, yr = Y + o * cols * inner + q
                    var m = -Float.infinity
                    for i in 0..<cols { m = max(m, xr[i * inner]) }
                    var sum: Float = 0
                    for i in 0..<cols {
                        #if canImport(Glibc)
                        let v = expf(xr[i * inner] - m)
                        #else
                        let v = Float(deterministicExp(Double(xr[i * inner] - m)))
                        #endif
                        yr[i * inner] = v
                        sum += v
                    }
                    for i in 0..<cols { yr[i * inner] /= sum }
                }
            }
        }
    }
}
