public import VigilModel

/// The one requantization rule of Vigil (docs/FORMAT.md, "Requantization"):
///
///     y = clamp(zp + ((acc * m + 2^(n-1)) >> n), lo, hi)
///
/// with `acc` int32, `m` int32 in [2^30, 2^31) (or 0), `n` in [1, 62], a 64-bit product, an
/// arithmetic (flooring) shift (round half toward +infinity, one rounding step), and the shifted
/// value saturated to int32 before the zero point is added in 64 bits and the result clamped. The pair (m, n)
/// comes from the real multiplier by `Requantizer(real:)`; every kernel (Swift, C, NEON, AVX) is
/// bit-exact with `apply`.
public struct Requantizer: Sendable, Equatable {
    public var multiplier: Int32
    public var shift: Int32

    public init(multiplier: Int32, shift: Int32) {
        self.multiplier = multiplier
        self.shift = shift
    }

    /// Encodes a positive real multiplier as m * 2^-n. Deterministic: only exact double operations.
    public init(real: Double) throws(VigilError) {
        guard real.isFinite, real >= 0 else {
            throw VigilError(.badQuantization, "requantization multiplier \(real) is not a finite non-negative number")
        }
        if real == 0 || real < 0x1p-62 { self.init(multiplier: 0, shift: 1); return }
        // real = f * 2^e with f in [0.5, 1)
        var e = Int(real.exponent) + 1
        let f = real.significand / 2
        var m = (f * 0x1p31).rounded(.toNearestOrAwayFromZero)
        if m == 0x1p31 { m = 0x1p30; e += 1 }
        let n = 31 - e
        guard n >= 1 else {
            throw VigilError(.unsupported, "requantization multiplier \(real) is too large (at most 2^30)")
        }
        if n > 62 { self.init(multiplier: 0, shift: 1); return }
        self.init(multiplier: Int32(m), shift: Int32(n))
    }

    /// The rule above without zero point and clamp.
    @inline(__always) public func scale(_ acc: Int32) -> Int32 {
        let p = Int64(acc) &* Int64(multiplier) &+ (Int64(1) &<< Int64(shift &- 1))
        return Int32(clamping: p &>> Int64(shift))
    }

    @inline(__always) public func apply(_ acc: Int32, zeroPoint: Int32, lo: Int32, hi: Int32) -> Int32 {
        Int32(truncatingIfNeeded: min(max(Int64(scale(acc)) &+ Int64(zeroPoint), Int64(lo)), Int64(hi)))
    }
}

/// ONNX QuantizeLinear semantics in float32: round half to even of x / scale, plus the zero point,
/// saturated. NaN maps to the zero point.
@inline(__always) func quantizeValue(_ x: Float, scale: Float, zeroPoint: Int32, lo: Int32, hi: Int32) -> Int32 {
    let v = (x / scale).rounded(.toNearestOrEven)
    if v.isNaN { return min(max(zeroPoint, lo), hi) }
    let c = min(max(v, -0x1p30), 0x1p30)
    return min(max(Int32(c) &+ zeroPoint, lo), hi)
}

/// Same rule in double, for tables built at load.
func quantizeValue(_ x: Double, scale: Double, zeroPoint: Int32, lo: Int32, hi: Int32) -> Int32 {
    let v = (x / scale).rounded(.toNearestOrEven)
    if v.isNaN { return min(max(zeroPoint, lo), hi) }
    let c = min(max(v, -0x1p30), 0x1p30)
    return min(max(Int32(c) &+ zeroPoint, lo), hi)
}

/// Quantized range of an int8 output after a fused activation.
func activationRange(_ act: FusedActivation, clipMin: Float, clipMax: Float, scale: Float,
                     zeroPoint: Int32) -> (lo: Int32, hi: Int32) {
    var lo: Int32 = -128, hi: Int32 = 127
    func q(_ x: Float) -> Int32 {
        if x == .infinity { return 127 }
        if x == -.infinity { return -128 }
        return quantizeValue(x, scale: scale, zeroPoint: zeroPoint, lo: -128, hi: 127)
    }
    switch act {
    case .none: break
    case .relu: lo = max(lo, zeroPoint)
    case .relu6: lo = max(lo, zeroPoint); hi = min(hi, q(6))
    case .clip: lo = max(lo, q(clipMin)); hi = min(hi, q(clipMax))
    }
    return (lo, hi)
}

/// Float range of a fused activation.
func activationRange(_ act: FusedActivation, clipMin: Float, clipMax: Float) -> (lo: Float, hi: Float) {
    switch act {
    case .none: (-.infinity, .infinity)
    case .relu: (0, .infinity)
    case .relu6: (0, 6)
    case .clip: (clipMin, clipMax)
    }
}

/// exp(x) for the tables built at load, from IEEE double arithmetic only, so every platform
/// (including Embedded targets without libm) builds identical tables. Relative error < 1e-15.
func deterministicExp(_ x: Double) -> Double {
    if x.isNaN { return x }
    if x > 709 { return .infinity }
    if x < -745 { return 0 }
    // x = k ln2 + r, |r| <= ln2/2; exp(r) by Taylor series to degree 20 (converges fast).
    let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
    let k = (x / 0.6931471805599453).rounded(.toNearestOrEven)
    let r = (x - k * ln2Hi) - k * ln2Lo
    var term = 1.0, sum = 1.0
    for i in 1...20 {
        term = term * r / Double(i)
        sum += term
    }
    // scale by 2^k
    var ki = Int(k)
    var result = sum
    while ki > 0 { let s = min(ki, 1000); result *= Double(sign: .plus, exponent: s, significand: 1); ki -= s }
    while ki < 0 { let s = min(-ki, 1000); result *= Double(sign: .plus, exponent: -s, significand: 1); ki += s }
    return result
}
