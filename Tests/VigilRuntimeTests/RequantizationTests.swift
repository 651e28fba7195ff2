// Saturation when the requantized value itself leaves the int32 range: a large (but accepted,
// < 2^30) real multiplier times a large accumulator. The result must clamp to 127 / -128, not wrap.
import Testing
@testable import VigilRuntime
import VigilModel

@Suite struct RequantizationSaturationTests {
    /// Add: (a - z_a) * s_a / s_y = 255 / 1e-7 = 2.55e9 > 2^31.
    @Test func addWithHugeScaleRatioSaturates() throws {
        var b = ModelBuilder()
        let ta = b.addTensor("a", .int8, [4], quantization: Quantization(scale: 1, zeroPoint: -128))
        let tb = b.addTensor("b", .int8, [4], quantization: Quantization(scale: 1, zeroPoint: 0))
        let ty = b.addTensor("y", .int8, [4], quantization: Quantization(scale: 1e-7, zeroPoint: 0))
        singleOp(.add, &b, inputs: [ta, tb], output: ty)
        // real a = 255, 0, 255, 0; real b = 0, 0, -128, -128  -> sums 255, 0, 127, -128
        let out = try runModel(b, [.i8([127, -128, 127, -128]), .i8([0, 0, -128, -128])]).int8()
        expectExact(out, [127, 0, 127, -128], "Add with s_a / s_y = 1e7")
    }

    /// Mul: 255 * 255 * (1 * 1 / 1e-5) = 6.5e9 > 2^31.
    @Test func mulWithHugeScaleRatioSaturates() throws {
        var b = ModelBuilder()
        let q = Quantization(scale: 1, zeroPoint: -128)
        let ta = b.addTensor("a", .int8, [3], quantization: q)
        let tb = b.addTensor("b", .int8, [3], quantization: Quantization(scale: 1, zeroPoint: 0))
        let ty = b.addTensor("y", .int8, [3], quantization: Quantization(scale: 1e-5, zeroPoint: 0))
        singleOp(.mul, &b, inputs: [ta, tb], output: ty)
        // (a - za) * (b - zb) = 255 * 127, 255 * -128, 0
        let out = try runModel(b, [.i8([127, 127, -128]), .i8([127, -128, 5])]).int8()
        expectExact(out, [127, -128, 0], "Mul with s_a s_b / s_y = 1e5")
    }

    /// Conv: 27 taps of (255 * 127) with s_x s_w / s_y = (1/127) / 1e-6: about 6.9e9 > 2^31.
    @Test func convWithHugeScaleRatioSaturates() throws {
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [1, 3, 3, 3], quantization: Quantization(scale: 1, zeroPoint: -128))
        let w = b.addConstant("w", int8: [Int8](repeating: 127, count: 27) + [Int8](repeating: -127, count: 27), shape: [2, 3, 3, 3],
                              quantization: Quantization(scales: [1.0 / 127, 1.0 / 127], zeroPoints: [0, 0], axis: 0))
        let y = b.addTensor("y", .int8, [1, 2, 1, 1], quantization: Quantization(scale: 1e-6, zeroPoint: 0))
        singleOp(.conv, &b, inputs: [x, w], output: y)
        let out = try runModel(b, [.i8([Int8](repeating: 127, count: 27))]).int8()
        expectExact(out, [127, -128], "Conv with s_x s_w / s_y = 7874")
    }

    /// The same ops with moderate multipliers stay exact at the int8 ends (control).
    @Test func moderateMultipliersSaturate() throws {
        var b = ModelBuilder()
        let ta = b.addTensor("a", .int8, [2], quantization: Quantization(scale: 1, zeroPoint: -128))
        let tb = b.addTensor("b", .int8, [2], quantization: Quantization(scale: 1, zeroPoint: 0))
        let ty = b.addTensor("y", .int8, [2], quantization: Quantization(scale: 1e-3, zeroPoint: 0))
        singleOp(.mul, &b, inputs: [ta, tb], output: ty)
        expectExact(try runModel(b, [.i8([127, 127]), .i8([127, -128])]).int8(), [127, -128], "Mul with s_y = 1e-3")
    }
}
