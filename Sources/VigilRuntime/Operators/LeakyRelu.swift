/// LeakyRelu(x) = x for x >= 0, alpha * x otherwise.
enum LeakyRelu {
    static func apply(_ x: Double, alpha: Double) -> Double { x >= 0 ? x : alpha * x }
    static func apply(_ x: Float, alpha: Float) -> Float { x >= 0 ? x : alpha * x }
}
