internal import VigilModel

/// Pad with `pads` = [begin_0, ..., begin_r-1, end_0, ..., end_r-1] (non-negative), in mode
/// constant (pad_value; for int8 quantized with the tensor's parameters), edge or reflect.
struct PadOp {
    var x: Int, y: Int, elementSize: Int
    var mode: PadMode
    var inShape: [Int], outShape: [Int], begins: [Int], inStrides: [Int]  // 6-D
    var fill: UInt32 = 0

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let xs = c.tensor(x).shape, rank = xs.count
        let pads = try c.ints(.pads, count: 2 * rank, default: [Int](repeating: 0, count: 2 * rank))
        for p in pads where p < 0 || p > 1 << 16 { throw c.badAttribute("pad \(p) outside 0...65536") }
        let m = try c.int(.padMode, default: 0)
        guard let mode = PadMode(rawValue: Int32(truncatingIfNeeded: m)), Int(mode.rawValue) == m else {
            throw c.badAttribute("unknown pad mode \(m)")
        }
        self.mode = mode
        var expected: [Int] = []
        for d in 0..<rank {
            expected.append(xs[d] + pads[d] + pads[rank + d])
            if mode == .reflect && (pads[d] >= xs[d] || pads[rank + d] >= xs[d]) {
                throw c.badAttribute("reflect padding \(pads[d]),\(pads[rank + d]) must be smaller than dimension \(d) (\(xs[d]))")
            }
        }
        guard c.tensor(y).shape == expected else { throw c.fail("output shape \(c.tensor(y).shape); pads give \(expected)") }
        try sameTypeAndQuantization(c, x, y)
        elementSize = c.tensor(x).dtype.byteSize
        let lead = [Int](repeating: 1, count: 6 - rank)
        inShape = lead + xs
        outShape = lead + expected
        begins = [Int](repeating: 0, count: 6 - rank) + Array(pads[0..<rank])
        inStrides = contiguousStrides(inShape)
        let value = try c.float(.padValue, default: 0)
        switch c.tensor(x).dtype {
        case .float32: fill = value.bitPattern
        case .int8:
            let (s, z) = try c.perTensor(x, "input")
            fill = UInt32(UInt8(bitPattern: Int8(quantizeValue(value, scale: s, zeroPoint: z, lo: -128, hi: 127))))
        default: throw c.unsupported("Pad of \(c.tensor(x).dtype.name)")
        }
    }

    /// Source index along one dim for output position `o`, or -1 for the constant.
    @inline(__always) func source(_ o: Int, _ d: Int) -> Int {
        let i = o - begins[d], n = inShape[d]
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return -1
        case .edge: return i < 0 ? 0 : n - 1
        case .reflect: return i < 0 ? -i : 2 * (n - 1) - i
        }
    }

    func eval(_ t: SlotTable) {
        if elementSize == 1 { run(t, UInt8(truncatingIfNeeded: fill)) } else { run(t, fill) }
    }

    @inline(__always) func run<T: FixedWidthInteger>(_ t: SlotTable, _ fill: T) {
        let X = t[x].assumingMemoryBound(to: T.self), Y = t[y].assumingMemoryBound(to: T.self)
        let s = outShape, st = inStrides
        var o = 0
        for i0 in 0..<s[0] { let j0 = source(i0, 0)
        for i1 in 0..<s[1] { let j1 = source(i1, 1)
        for i2 in 0..<s[2] { let j2 = source(i2, 2)
        for i3 in 0..<s[3] { let j3 = source(i3, 3)
        for i4 in 0..<s[4] { let j4 = source(i4, 4)
            let outer = j0 < 0 || j1 < 0 || j2 < 0 || j3 < 0 || j4 < 0
            let base = j0 * st[0] + j1 * st[1] + j2 * st[2] + j3 * st[3] + j4 * st[4]
            for i5 in 0..<s[5] {
                let j5 = source(i5, 5)
                Y[o] = outer || j5 < 0 ? fill : X[base + j5]
                o += 1
            }
        } } } } }
    }
}
