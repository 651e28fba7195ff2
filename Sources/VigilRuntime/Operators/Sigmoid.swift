#if canImport(Glibc)
internal import Glibc
#endif

/// Sigmoid(x) = 1 / (1 + e^-x).
enum Sigmoid {
    static func apply(_ x: Double) -> Double { 1 / (1 + deterministicExp(-x)) }
    static func apply(_ x: Float) -> Float {
        #if canImport(Glibc)
        return 1 / (1 + expf(-x))
        #else
        return Float(apply(Double(x)))
        #endif
    }
}
