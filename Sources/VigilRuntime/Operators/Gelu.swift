/// GELU (ONNX Gelu, opset 20): approximate 0 is x/2 · (1 + erf(x/√2)), what PyTorch's GELU exports
/// as Div, Erf, Add, Mul, Mul and the converter fuses back; approximate 1 is the tanh form
/// x/2 · (1 + tanh(√(2/π) · (x + 0.044715 x³))).
enum Gelu {
    static let invSqrt2 = 0.7071067811865476, sqrt2OverPi = 0.7978845608028654
    static func apply(_ x: Double, tanh: Bool) -> Double {
        tanh ? 0.5 * x * (1 + Tanh.apply(sqrt2OverPi * (x + 0.044715 * x * x * x))) : 0.5 * x * (1 + Erf.apply(x * invSqrt2))
    }
    static func apply(_ x: Float, tanh: Bool) -> Float {
        tanh ? 0.5 * x * (1 + Tanh.apply(Float(sqrt2OverPi) * (x + 0.044715 * x * x * x)))
             : 0.5 * x * (1 + Erf.apply(x * Float(invSqrt2)))
    }
}
