internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// Elementwise addition (and subtraction: the Sub operator) with NumPy broadcasting and a fused
/// activation.
///
/// int8: both inputs are rescaled to the output scale with one shared shift n and 64-bit
/// multipliers (docs/FORMAT.md, "Add"): t = (a - za) * Ma + (b - zb) * Mb, y = zy + ((t + 2^(n-1)) >> n).
/// Sub is the same with Mb negated.
struct AddOp {
    var a: Int, b: Int, y: Int
    var shape: [Int], sa: [Int], sb: [Int]
    var isInt8: Bool
    var za: Int64 = 0, zb: Int64 = 0, zy: Int32 = 0, ma: Int64 = 0, mb: Int64 = 0, n: Int64 = 1
    var lo: Int32 = -128, hi: Int32 = 127
    var flo: Float = -.infinity, fhi: Float = .infinity
    /// int8 inputs of the output's shape (no broadcasting) go through vigil_add_s8.
    var useKernel = false
    var count = 0
    var subtract = false

    init(_ c: OpContext, subtract: Bool = false) throws(VigilError) {
        self.subtract = subtract
        try c.expectOperands(inputs: 2...2)
        a = try c.input(0); b = try c.input(1); y = c.output
        (shape, sa, sb) = try broadcastOperands(c, a, b, y)
        let (act, cmin, cmax) = try c.activation()
        isInt8 = c.tensor(y).dtype == .int8
        if isInt8 {
            try c.expect(a, dtype: .int8, "input 0"); try c.expect(b, dtype: .int8, "input 1")
            let (s0, z0) = try c.perTensor(a, "input 0"), (s1, z1) = try c.perTensor(b, "input 1")
            let (s2, z2) = try c.perTensor(y, "output")
            (za, zb, zy) = (Int64(z0), Int64(z1), z2)
            (lo, hi) = activationRange(act, clipMin: cmin, clipMax: cmax, scale: s2, zeroPoint: z2)
            (ma, mb, n) = try AddOp.multipliers(Double(s0) / Double(s2), Double(s1) / Double(s2))
            if subtract { mb = -mb }
            #if canImport(CVigilKernels)
            let ys = c.tensor(y).shape
            count = c.tensor(y).elementCount
            useKernel = c.optimized && c.tensor(a).shape == ys && c.tensor(b).shape == ys && count <= Int(Int32.max)
            #endif
        } else {
            try c.expect(a, dtype: .float32, "input 0"); try c.expect(b, dtype: .float32, "input 1")
            try c.expect(y, dtype: .float32, "output")
            (flo, fhi) = activationRange(act, clipMin: cmin, clipMax: cmax)
        }
    }

    /// Two real multipliers as integers over one shift: the larger lands in [2^30, 2^31].
    static func multipliers(_ ra: Double, _ rb: Double) throws(VigilError) -> (Int64, Int64, Int64) {
        let big = max(ra, rb)
        guard big.isFinite, big > 0, big < 0x1p30 else {
            throw VigilError(.unsupported, "Add scale ratio \(big) outside (0, 2^30)")
        }
        let e = Int(big.exponent) + 1  // big = f * 2^e, f in [0.5, 1)
        let n = min(max(31 - e, 1), 62)
        let scale = Double(sign: .plus, exponent: n, significand: 1)
        return (Int64((ra * scale).rounded(.toNearestOrAwayFromZero)),
                Int64((rb * scale).rounded(.toNearestOrAwayFromZero)), Int64(n))
    }

    func eval(_ t: SlotTable) {
        if isInt8 {
            let A = t[a].assumingMemoryBound(to: Int8.self), B = t[b].assumingMemoryBound(to: Int8.self)
            let Y = t[y].assumingMemoryBound(to: Int8.self)
            #if canImport(CVigilKernels)
            if useKernel {
                vigil_add_s8(A, B, Int32(count), Int32(za), Int32(zb), ma, mb, Int32(n), zy, lo, hi, Y)
                return
            }
            #endif
            let round = Int64(1) << (n - 1)
            forEachBroadcast(shape, sa, sb) { o, i, j in
                let s = (Int64(A[i]) - za) * ma + (Int64(B[j]) - zb) * mb
                let v = ((s + round) >> n) + Int64(zy)
                Y[o] = Int8(truncatingIfNeeded: min(max(v, Int64(lo)), Int64(hi)))
            }
        } else {
            let A = t[a].assumingMemoryBound(to: Float.self), B = t[b].assumingMemoryBound(to: Float.self)
            let Y = t[y].assumingMemoryBound(to: Float.self)
            if subtract {
                forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = min(max(A[i] - B[j], flo), fhi) }
            } else {
                forEachBroadcast(shape, sa, sb) { o, i, j in Y[o] = min(max(A[i] + B[j], flo), fhi) }
            }
        }
    }
}

/// Checks that a and b broadcast to y's shape; returns the 6-D shape and input strides.
func broadcastOperands(_ c: OpContext, _ a: Int, _ b: Int, _ y: Int) throws(VigilError) -> ([Int], [Int], [Int]) {
    let ash = c.tensor(a).shape, bsh = c.tensor(b).shape, ysh = c.tensor(y).shape
    guard let s = Index6.broadcastShape(ash, bsh), s == ysh else {
        throw c.fail("inputs \(ash) and \(bsh) do not broadcast to the output shape \(ysh)")
    }
    let ix = Index6(ysh)
    return (ix.shape, ix.broadcastStrides(ash), ix.broadcastStrides(bsh))
}
