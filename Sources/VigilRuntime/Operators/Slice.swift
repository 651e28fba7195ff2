internal import VigilModel

/// Y[i0, i1, ...] = X[starts[0] + i0 × steps[0], starts[1] + i1 × steps[1], ...]: a strided window
/// of X with Y's shape (ONNX Slice with constant parameters, and Gather of constant, evenly spaced
/// indices, which the converter follows with a Reshape). Steps may be negative; every index read
/// must lie inside X. Values move unchanged, so int8 input and output share quantization.
struct SliceOp {
    var x: Int, y: Int
    var elementSize: Int
    /// Per axis: output extent, first input index, and input stride × step (in elements).
    var extents: [Int] = [], base = 0, inputSteps: [Int] = []
    var count: Int

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        try sameTypeAndQuantization(c, x, y)
        let xs = c.tensor(x).shape, ys = c.tensor(y).shape
        guard xs.count == ys.count, xs.count >= 1 else { throw c.fail("input shape \(xs) and output shape \(ys) differ in rank") }
        let starts = try c.ints(.starts, count: xs.count, default: [Int](repeating: 0, count: xs.count))
        let steps = try c.ints(.steps, count: xs.count, default: [Int](repeating: 1, count: xs.count))
        let strides = contiguousStrides(xs)
        for a in 0..<xs.count {
            let last = starts[a] + (ys[a] - 1) * steps[a]
            guard steps[a] != 0, starts[a] >= 0, starts[a] < xs[a], last >= 0, last < xs[a] else {
                throw c.badAttribute("axis \(a): start \(starts[a]), step \(steps[a]) and \(ys[a]) outputs leave the input's \(xs[a])")
            }
            base += starts[a] * strides[a]
            inputSteps.append(steps[a] * strides[a])
        }
        extents = ys
        count = c.tensor(y).elementCount
        elementSize = c.tensor(x).dtype.byteSize
    }

    func eval(_ t: SlotTable) {
        let X = UnsafeRawPointer(t[x]), Y = t[y]
        let rank = extents.count
        extents.withUnsafeBufferPointer { ext in
        inputSteps.withUnsafeBufferPointer { st in
            // An odometer over the output index; `src` follows it in input elements.
            var index = (0, 0, 0, 0, 0, 0)
            var src = base
            for o in 0..<count {
                (Y + o * elementSize).copyMemory(from: X + src * elementSize, byteCount: elementSize)
                var a = rank - 1
                while a >= 0 {
                    let i = Self.get(&index, a) + 1
                    if i < ext[a] {
                        Self.set(&index, a, i)
                        src += st[a]
                        break
                    }
                    src -= (ext[a] - 1) * st[a]
                    Self.set(&index, a, 0)
                    a -= 1
                }
            }
        }
        }
    }

    // A fixed-size index (rank ≤ 6, docs/FORMAT.md) so that eval does not allocate.
    @inline(__always) static func get(_ v: inout (Int, Int, Int, Int, Int, Int), _ i: Int) -> Int {
        switch i { case 0: v.0; case 1: v.1; case 2: v.2; case 3: v.3; case 4: v.4; default: v.5 }
    }
    @inline(__always) static func set(_ v: inout (Int, Int, Int, Int, Int, Int), _ i: Int, _ x: Int) {
        switch i { case 0: v.0 = x; case 1: v.1 = x; case 2: v.2 = x; case 3: v.3 = x; case 4: v.4 = x; default: v.5 = x }
    }
}
