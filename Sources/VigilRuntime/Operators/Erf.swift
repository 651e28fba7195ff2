#if canImport(Glibc)
internal import Glibc
#endif

/// The error function. Tables built at load use `apply(Double)`, which only adds, multiplies and
/// divides IEEE doubles (and `deterministicExp`), so every platform builds the same table:
///   erf(x) = 2/√π · e^(−x²) · Σ_{n≥0} x (2x²)^n / (1·3·…·(2n+1))
/// (all terms positive, no cancellation), summed in order until a term no longer changes the sum;
/// |x| ≥ 6 gives ±1 (erfc(6) < 2^−55).
enum Erf {
    static func apply(_ x: Double) -> Double {
        if x.isNaN { return x }
        if x >= 6 { return 1 }
        if x <= -6 { return -1 }
        let x2 = x * x
        var term = x, sum = x, n = 0.0
        while n < 500 {
            n += 1
            term = term * (2 * x2) / (2 * n + 1)
            let next = sum + term
            if next == sum { break }
            sum = next
        }
        return 1.1283791670955126 * deterministicExp(-x2) * sum  // 2/√π
    }
    static func apply(_ x: Float) -> Float {
        #if canImport(Glibc)
        return erff(x)
        #else
        return Float(apply(Double(x)))
        #endif
    }
}
