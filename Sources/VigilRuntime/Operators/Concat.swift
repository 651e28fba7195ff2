internal import VigilModel

/// Concatenation along `axis`. int8 inputs whose quantization differs from the output's are
/// requantized (multiplier s_in / s_out); equal ones are copied.
struct ConcatOp {
    struct Part {
        var tensor: Int
        var inner: Int  // elements per outer index (shape[axis...] product)
        var copy: Bool
        var rq: Requantizer
        var zIn: Int32
    }
    var parts: [Part] = []
    var y: Int, outer: Int, outInner: Int, elementSize: Int
    var isInt8: Bool, zy: Int32 = 0

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...64)
        y = c.output
        let ys = c.tensor(y).shape, rank = ys.count
        var axis = try c.int(.axis, default: 0)
        if axis < 0 { axis += rank }
        guard axis >= 0, axis < rank else { throw c.badAttribute("axis \(axis) outside the output rank \(rank)") }
        let dtype = c.tensor(y).dtype
        isInt8 = dtype == .int8
        guard isInt8 || dtype == .float32 else { throw c.unsupported("dtype \(dtype.name)") }
        elementSize = dtype.byteSize
        outer = 1
        for d in 0..<axis { outer *= ys[d] }
        outInner = c.tensor(y).elementCount / outer
        var sum = 0
        let (sy, zy) = isInt8 ? try c.perTensor(y, "output") : (1, 0)
        self.zy = zy
        for i in 0..<c.op.inputs.count {
            let t = try c.input(i)
            try c.expect(t, dtype: dtype, "input \(i)")
            let s = c.tensor(t).shape
            guard s.count == rank else { throw c.fail("input \(i) has rank \(s.count), output \(rank)") }
            for d in 0..<rank where d != axis && s[d] != ys[d] {
                throw c.fail("input \(i) shape \(s) differs from output \(ys) outside axis \(axis)")
            }
            sum += s[axis]
            var part = Part(tensor: t, inner: c.tensor(t).elementCount / outer, copy: true,
                            rq: Requantizer(multiplier: 0, shift: 1), zIn: 0)
            if isInt8 {
                let (si, zi) = try c.perTensor(t, "input \(i)")
                if si != sy || zi != zy {
                    part.copy = false
                    part.rq = try Requantizer(real: Double(si) / Double(sy))
                    part.zIn = zi
                }
            }
            parts.append(part)
        }
        guard sum == ys[axis] else { throw c.fail("inputs add up to \(sum) along axis \(axis); output has \(ys[axis])") }
    }

    func eval(_ t: SlotTable) {
        let Y = t[y]
        parts.withUnsafeBufferPointer { parts in
            var offset = 0
            for p in parts {
                let X = t[p.tensor]
                for o in 0..<outer {
                    let dst = Y + (o * outInner + offset) * elementSize
                    let src = X + o * p.inner * elementSize
                    if p.copy {
                        dst.copyMemory(from: src, byteCount: p.inner * elementSize)
                    } else {
                        let s = src.assumingMemoryBound(to: Int8.self), d = dst.assumingMemoryBound(to: Int8.self)
                        for i in 0..<p.inner {
                            d[i] = Int8(truncatingIfNeeded: p.rq.apply(Int32(s[i]) &- p.zIn, zeroPoint: zy, lo: -128, hi: 127))
                        }
                    }
                }
                offset += p.inner
            }
        }
    }
}
