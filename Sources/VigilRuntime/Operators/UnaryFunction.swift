#if canImport(Glibc)
internal import Glibc
#endif
internal import VigilModel

/// The UnaryFunction operator's functions (ONNX Exp, Log, Sqrt, Neg, Abs, Reciprocal, Pow with a
/// constant exponent). The double forms build the int8 tables at load from IEEE +, −, ×, ÷ only
/// (`deterministicExp`, `deterministicLog`, `deterministicSqrt`), so the tables are identical on
/// every platform, Embedded included (which has no libm to call); the float32 forms use libm where
/// there is one.
enum MathFunction {
    static func apply(_ f: UnaryFunction, _ x: Double, exponent: Double) -> Double {
        switch f {
        case .exp: deterministicExp(x)
        case .log: deterministicLog(x)
        case .sqrt: deterministicSqrt(x)
        case .neg: -x
        case .abs: Swift.abs(x)
        case .reciprocal: 1 / x
        case .pow: deterministicPow(x, exponent)
        }
    }

    @inline(__always) static func apply(_ f: UnaryFunction, _ x: Float, exponent: Float) -> Float {
        switch f {
        case .neg: return -x
        case .abs: return Swift.abs(x)
        case .reciprocal: return 1 / x
        #if canImport(Glibc)
        case .sqrt: return sqrtf(x)
        case .exp: return expf(x)
        case .log: return logf(x)
        case .pow: return powf(x, exponent)
        #else
        case .sqrt, .exp, .log, .pow: return Float(apply(f, Double(x), exponent: Double(exponent)))
        #endif
        }
    }
}

/// Natural logarithm from IEEE double arithmetic only (relative error below 1e-15): x = m × 2^e with
/// m in [√½, √2), then ln m = 2 atanh(s), s = (m − 1) / (m + 1), by its series to s^41 summed from
/// the small terms up. ln 0 = −inf; negative x and NaN give NaN.
func deterministicLog(_ x: Double) -> Double {
    if x.isNaN || x < 0 { return .nan }
    if x == 0 { return -.infinity }
    if x == .infinity { return x }
    var e = Int(x.exponent)
    var m = x.significand  // [1, 2)
    if m > 1.4142135623730951 { m /= 2; e += 1 }
    let s = (m - 1) / (m + 1), s2 = s * s
    var sum = 0.0
    var k = 41
    while k >= 3 {
        sum = (sum + 1 / Double(k)) * s2
        k -= 2
    }
    let lnm = 2 * s * (1 + sum)
    let ln2Hi = 6.93147180369123816490e-01, ln2Lo = 1.90821492927058770002e-10
    return (Double(e) * ln2Hi + lnm) + Double(e) * ln2Lo
}

/// Square root from IEEE arithmetic only (Swift's squareRoot() becomes a libm call in Embedded
/// builds): x = m × 2^(2k) with m in [1, 4), y = 1 + (m − 1) / 3, six Newton steps
/// y = (y + m / y) / 2, then y × 2^k. Within 1 ulp of the correctly rounded root. sqrt(−0) = −0;
/// negative x and NaN give NaN.
func deterministicSqrt(_ x: Double) -> Double {
    if x.isNaN || x < 0 { return .nan }
    if x == 0 || x == .infinity { return x }
    var e = Int(x.exponent)
    var m = x.significand  // [1, 2)
    if e & 1 != 0 { m *= 2; e -= 1 }
    var y = 1 + (m - 1) / 3
    for _ in 0..<6 { y = (y + m / y) / 2 }
    return y * Double(sign: .plus, exponent: e / 2, significand: 1)
}

/// x^p for the tables: exact for p = 0, 1, 2, 0.5 and integer p by repeated multiplication (|p| ≤ 64),
/// exp(p ln x) otherwise (NaN for negative x, as C pow gives for a non-integer exponent).
func deterministicPow(_ x: Double, _ p: Double) -> Double {
    if p == 0 { return 1 }
    if p == 0.5 { return deterministicSqrt(x) }
    if p == p.rounded(), Swift.abs(p) <= 64 {
        var r = 1.0
        for _ in 0..<Int(Swift.abs(p)) { r *= x }
        return p < 0 ? 1 / r : r
    }
    if x == 0 { return p > 0 ? 0 : .infinity }
    return deterministicExp(p * deterministicLog(x))
}
