/// Index arithmetic for up to 6-D tensors, padded on the left to 6 dims so loops have fixed depth
/// and need no allocation at evaluation.
struct Index6 {
    var shape: [Int]  // 6 entries

    init(_ s: [Int]) {
        shape = [Int](repeating: 1, count: 6 - s.count) + s
    }
    /// Strides of `input` (right-aligned) broadcast to this output shape: 0 along broadcast dims.
    func broadcastStrides(_ input: [Int]) -> [Int] {
        let padded = [Int](repeating: 1, count: 6 - input.count) + input
        let cs = contiguousStrides(padded)
        var out = [Int](repeating: 0, count: 6)
        for d in 0..<6 where padded[d] != 1 { out[d] = cs[d] }
        return out
    }
    static func broadcastShape(_ a: [Int], _ b: [Int]) -> [Int]? {
        let r = max(a.count, b.count)
        let pa = [Int](repeating: 1, count: r - a.count) + a, pb = [Int](repeating: 1, count: r - b.count) + b
        var out: [Int] = []
        for d in 0..<r {
            if pa[d] == pb[d] || pb[d] == 1 { out.append(pa[d]) } else if pa[d] == 1 { out.append(pb[d]) } else { return nil }
        }
        return out
    }
}

/// Calls `body(outIndex, offsetA, offsetB)` for every element of a 6-D output, in C order.
@inline(__always)
func forEachBroadcast(_ shape: [Int], _ sa: [Int], _ sb: [Int], _ body: (Int, Int, Int) -> Void) {
    var o = 0
    for i0 in 0..<shape[0] { for i1 in 0..<shape[1] { for i2 in 0..<shape[2] {
        for i3 in 0..<shape[3] { for i4 in 0..<shape[4] {
            let a = i0 * sa[0] + i1 * sa[1] + i2 * sa[2] + i3 * sa[3] + i4 * sa[4]
            let b = i0 * sb[0] + i1 * sb[1] + i2 * sb[2] + i3 * sb[3] + i4 * sb[4]
            for i5 in 0..<shape[5] {
                body(o, a + i5 * sa[5], b + i5 * sb[5])
                o += 1
            }
        } }
    } } }
}
