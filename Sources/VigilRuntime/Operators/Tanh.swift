#if canImport(Glibc)
internal import Glibc
#endif

/// Tanh(x) = (e^2x - 1) / (e^2x + 1), computed as 1 - 2 / (e^2x + 1) (exact at the extremes).
enum Tanh {
    static func apply(_ x: Double) -> Double {
        if x > 20 { return 1 }
        if x < -20 { return -1 }
        return 1 - 2 / (deterministicExp(2 * x) + 1)
    }
    static func apply(_ x: Float) -> Float {
        #if canImport(Glibc)
        return tanhf(x)
        #else
        return Float(apply(Double(x)))
        #endif
    }
}
