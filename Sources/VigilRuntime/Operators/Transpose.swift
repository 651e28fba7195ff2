internal import VigilModel

/// Transpose by `perm` (default: reverse the axes), any dtype, up to 6 dims.
struct TransposeOp {
    var x: Int, y: Int, elementSize: Int
    var outShape: [Int]      // 6-D, padded
    var inStrides: [Int]     // input stride for each output dim, 6-D

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        let xs = c.tensor(x).shape, rank = xs.count
        let perm = try c.ints(.perm, count: rank, default: Array((0..<rank).reversed()))
        var seen = [Bool](repeating: false, count: rank)
        for p in perm {
            guard p >= 0, p < rank, !seen[p] else { throw c.badAttribute("perm \(perm) is not a permutation of 0..<\(rank)") }
            seen[p] = true
        }
        let expected = perm.map { xs[$0] }
        guard c.tensor(y).shape == expected else { throw c.fail("output shape \(c.tensor(y).shape); perm gives \(expected)") }
        try sameTypeAndQuantization(c, x, y)
        elementSize = c.tensor(x).dtype.byteSize
        let cs = contiguousStrides(xs)
        outShape = [Int](repeating: 1, count: 6 - rank) + expected
        inStrides = [Int](repeating: 0, count: 6 - rank) + perm.map { cs[$0] }
    }

    func eval(_ t: SlotTable) {
        switch elementSize {
        case 1: run(t, UInt8.self)
        default: run(t, UInt32.self)
        }
    }

    @inline(__always) func run<T>(_ t: SlotTable, _: T.Type) {
        let X = t[x].assumingMemoryBound(to: T.self), Y = t[y].assumingMemoryBound(to: T.self)
        forEachBroadcast(outShape, inStrides, inStrides) { o, i, _ in Y[o] = X[i] }
    }
}
