/// HardSigmoid(x) = clamp(alpha * x + beta, 0, 1) (ONNX HardSigmoid; PyTorch's Hardsigmoid exports
/// alpha 1/6, beta 0.5; the ONNX defaults are 0.2 and 0.5).
enum HardSigmoid {
    static func apply(_ x: Double, alpha: Double, beta: Double) -> Double { min(max(alpha * x + beta, 0), 1) }
    static func apply(_ x: Float, alpha: Float, beta: Float) -> Float { min(max(alpha * x + beta, 0), 1) }
}
