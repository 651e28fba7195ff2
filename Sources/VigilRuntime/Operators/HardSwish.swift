/// HardSwish(x) = x * clamp(x / 6 + 1/2, 0, 1) (ONNX HardSwish: HardSigmoid with alpha 1/6, beta 0.5).
enum HardSwish {
    static func apply(_ x: Double) -> Double { x * min(max(x / 6 + 0.5, 0), 1) }
    static func apply(_ x: Float) -> Float { x * min(max(x / 6 + 0.5, 0), 1) }
}
