internal import VigilModel

/// The first half of a transposed convolution (ONNX ConvTranspose, which the converter lowers to
/// ZeroInsert followed by a stride-1 Conv with flipped, in/out-swapped weights): spreads the
/// spatial elements of `[N, C, L]` or `[N, C, H, W]` `strides` apart, with zeros between them and
/// `pads` zeros before and after (all begins, then all ends; a negative pad crops):
///
///     Y[n, c, pad_begin + i × stride] = X[n, c, i], every other element zero
///     out = (in − 1) × stride + 1 + pad_begin + pad_end
///
/// int8 keeps the input's quantization and fills with its zero point, so the convolution's
/// `Σ (x − z_x) × w` gets exactly nothing from the inserted elements; float32 fills with 0.
/// Reusing Conv keeps every convolution kernel (x86, ARM, the Embedded core) for the decoder of a
/// U-Net, bit-exact by construction, at the cost of multiplying the inserted zeros.
struct ZeroInsertOp {
    var x: Int, y: Int
    var elementSize: Int
    var planes: Int, inH: Int, inW: Int, outH: Int, outW: Int
    /// Per output row (column): the source row (column), or −1 for a filled one.
    var rows: [Int32] = [], cols: [Int32] = []
    var fill: UInt32 = 0

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        try sameTypeAndQuantization(c, x, y)
        let xs = c.tensor(x).shape, ys = c.tensor(y).shape
        guard xs.count == 3 || xs.count == 4, ys.count == xs.count, xs[0] == ys[0], xs[1] == ys[1] else {
            throw c.fail("input \(xs) and output \(ys) must be [N, C, L] or [N, C, H, W] with the same N and C")
        }
        let spatial = xs.count - 2
        let strides = try c.ints(.strides, count: spatial, default: [Int](repeating: 1, count: spatial))
        let pads = try c.ints(.pads, count: 2 * spatial, default: [Int](repeating: 0, count: 2 * spatial))
        for s in strides where s < 1 || s > 1024 { throw c.badAttribute("stride \(s) outside 1...1024") }
        for p in pads where p < -(1 << 16) || p > 1 << 16 { throw c.badAttribute("pad \(p) outside -65536...65536") }
        var expected = Array(xs[0..<2])
        for d in 0..<spatial { expected.append((xs[2 + d] - 1) * strides[d] + 1 + pads[d] + pads[spatial + d]) }
        guard ys == expected, expected.allSatisfy({ $0 >= 1 }) else {
            throw c.fail("output shape \(ys); strides \(strides) and pads \(pads) give \(expected)")
        }
        let dtype = c.tensor(x).dtype
        switch dtype {
        case .float32: fill = 0
        case .int8: fill = UInt32(UInt8(bitPattern: Int8(truncatingIfNeeded: try c.perTensor(x, "input").zeroPoint)))
        default: throw c.unsupported("ZeroInsert of \(dtype.name)")
        }
        elementSize = dtype.byteSize
        planes = xs[0] * xs[1]
        (inH, outH) = spatial == 2 ? (xs[2], ys[2]) : (1, 1)
        (inW, outW) = (xs[spatial + 1], ys[spatial + 1])
        rows = spatial == 2 ? Self.sources(outH, inH, strides[0], pads[0]) : [0]
        cols = Self.sources(outW, inW, strides[spatial - 1], pads[spatial - 1])
    }

    /// For each output index along one axis, the input index it holds, or −1.
    static func sources(_ out: Int, _ input: Int, _ stride: Int, _ begin: Int) -> [Int32] {
        var s: [Int32] = []
        for o in 0..<out {
            let k = o - begin
            s.append(k >= 0 && k % stride == 0 && k / stride < input ? Int32(k / stride) : -1)
        }
        return s
    }

    func eval(_ t: SlotTable) {
        if elementSize == 1 { run(t, UInt8(truncatingIfNeeded: fill)) } else { run(t, fill) }
    }

    @inline(__always) func run<T>(_ t: SlotTable, _ fill: T) {
        let X = UnsafePointer(t[x].assumingMemoryBound(to: T.self)), Y = t[y].assumingMemoryBound(to: T.self)
        rows.withUnsafeBufferPointer { rs in
        cols.withUnsafeBufferPointer { cs in
            var o = 0
            for p in 0..<planes {
                let plane = X + p * inH * inW
                for oy in 0..<outH {
                    let r = Int(rs[oy])
                    if r < 0 {
                        (Y + o).initialize(repeating: fill, count: outW)
                        o += outW
                        continue
                    }
                    let row = plane + r * inW
                    for ox in 0..<outW {
                        let i = Int(cs[ox])
                        Y[o] = i < 0 ? fill : row[i]
                        o += 1
                    }
                }
            }
        }
        }
    }
}
