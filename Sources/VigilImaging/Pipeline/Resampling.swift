// One-dimensional resampling weights, applied separably to rows and then columns: area averaging
// where an axis shrinks (each output sample is the mean of the source interval it covers, with
// fractional coverage at its ends) and bilinear interpolation with half-pixel centers where it grows.

/// For each output index, the source indexes and weights that make it (weights sum to 1).
struct ResampleWeights: Sendable {
    var taps: [[(index: Int, weight: Double)]]

    /// Weights taking `source` samples to `target` samples.
    init(source: Int, target: Int) {
        precondition(source > 0 && target > 0)
        if target == source {
            taps = (0..<target).map { [($0, 1.0)] }
        } else if target < source {
            let scale = Double(source) / Double(target)
            taps = (0..<target).map { i in
                let lo = Double(i) * scale, hi = Double(i + 1) * scale
                var t: [(Int, Double)] = []
                var j = Int(lo.rounded(.down))
                while j < source && Double(j) < hi {
                    let overlap = min(hi, Double(j + 1)) - max(lo, Double(j))
                    if overlap > 0 { t.append((j, overlap / scale)) }
                    j += 1
                }
                return t
            }
        } else {
            let scale = Double(source) / Double(target)
            taps = (0..<target).map { i in
                let x = min(max((Double(i) + 0.5) * scale - 0.5, 0), Double(source - 1))
                let j = Int(x.rounded(.down))
                let f = x - Double(j)
                return f == 0 || j + 1 >= source ? [(j, 1.0)] : [(j, 1 - f), (j + 1, f)]
            }
        }
    }
}

/// Resizes one channel plane (`height` x `width`, row-major) to `outHeight` x `outWidth`.
func resizePlane(_ plane: [Double], height: Int, width: Int, outHeight: Int, outWidth: Int) -> [Double] {
    let rowWeights = ResampleWeights(source: height, target: outHeight)
    let colWeights = ResampleWeights(source: width, target: outWidth)
    // Rows first: outHeight x width.
    var tmp = [Double](repeating: 0, count: outHeight * width)
    for (oy, taps) in rowWeights.taps.enumerated() {
        for (sy, w) in taps {
            let src = sy * width, dst = oy * width
            for x in 0..<width { tmp[dst + x] += w * plane[src + x] }
        }
    }
    var out = [Double](repeating: 0, count: outHeight * outWidth)
    for y in 0..<outHeight {
        for (ox, taps) in colWeights.taps.enumerated() {
            var s = 0.0
            for (sx, w) in taps { s += w * tmp[y * width + sx] }
            out[y * outWidth + ox] = s
        }
    }
    return out
}
