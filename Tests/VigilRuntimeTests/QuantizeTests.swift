// Quantize (float -> int8/uint8, int8 -> int8) and Dequantize (int8/uint8/int32 -> float), exact.
import Testing
@testable import VigilRuntime
import VigilModel

/// ONNX QuantizeLinear written out for the tests: float32 division, round half to even, saturate;
/// NaN gives the zero point.
func expectedQuantize(_ x: Float, scale: Float, zeroPoint: Int32, lo: Int, hi: Int) -> Int {
    let v = x / scale
    if v.isNaN { return Int(zeroPoint) }
    if v >= Float(hi - lo + 1000) { return hi }
    if v <= -Float(hi - lo + 1000) { return lo }
    var r = v.rounded(.down)
    let frac = v - r
    if frac > 0.5 || (frac == 0.5 && Int(r) % 2 != 0) { r += 1 }
    return min(max(Int(r) + Int(zeroPoint), lo), hi)
}

@Suite struct QuantizeTests {
    /// Ties round half to even (2.5 -> 2, 3.5 -> 4, -2.5 -> -2, 0.5 -> 0), the zero point is added
    /// after rounding, and values beyond the range saturate.
    @Test func quantizeFloatToInt8Ties() throws {
        let x: [Float] = [1.25, 1.75, -1.25, -1.75, 0.25, -0.25, 0.75, 0, 1000, -1000, .infinity, -.infinity, .nan, 63.25, -64.75]
        // scale 0.5: x / s = 2.5, 3.5, -2.5, -3.5, 0.5, -0.5, 1.5, 0, 2000, -2000, inf, -inf, nan, 126.5, -129.5
        // rounded x / s (NaN: 0, i.e. the zero point), then + 1 and saturated
        let rounded = [2, 4, -2, -4, 0, 0, 2, 0, 2000, -2000, 1 << 30, -(1 << 30), 0, 126, -130]
        let expected: [Int8] = rounded.map { Int8(min(max($0 + 1, -128), 127)) }
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [x.count])
        let ty = b.addTensor("y", .int8, [x.count], quantization: Quantization(scale: 0.5, zeroPoint: 1))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        let out = try runModel(b, [.f32(x)]).int8()
        expectExact(out, expected, "Quantize float -> int8 ties")
        #expect(out[0] == 3 && out[2] == -1 && out[4] == 1)  // 2.5 -> 2 (+1), -2.5 -> -2 (+1), 0.5 -> 0 (+1)
    }

    @Test(arguments: [(0.02, -128), (0.02, 127), (0.1, 0), (0.0037, -5)] as [(Float, Int32)])
    func quantizeFloatToInt8Random(_ scale: Float, _ zp: Int32) throws {
        var rng = SplitMix64(seed: 141)
        let x = rng.floats(3 * 5 * 7, -4, 4)
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [1, 3, 5, 7])
        let ty = b.addTensor("y", .int8, [1, 3, 5, 7], quantization: Quantization(scale: scale, zeroPoint: zp))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        let expected = x.map { Int8(expectedQuantize($0, scale: scale, zeroPoint: zp, lo: -128, hi: 127)) }
        expectExact(try runModel(b, [.f32(x)]).int8(), expected, "Quantize float -> int8 s=\(scale) z=\(zp)")
    }

    @Test func quantizeFloatToUInt8() throws {
        var rng = SplitMix64(seed: 142)
        var x = rng.floats(5 * 7, -1, 6)
        x += [-0.125, 0.125, 0.375, -100, 100, .nan]  // x / s = -2.5, 2.5, 7.5, ...
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [x.count])
        let ty = b.addTensor("y", .uint8, [x.count], quantization: Quantization(scale: 0.05, zeroPoint: 20))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        let out = try runModel(b, [.f32(x)]).uint8()
        expectExact(out, x.map { UInt8(expectedQuantize($0, scale: 0.05, zeroPoint: 20, lo: 0, hi: 255)) }, "Quantize float -> uint8")
        #expect(Array(out.suffix(3)) == [0, 255, 20])
    }

    @Test func quantizeFloatToUInt8ExactTies() throws {
        let x: [Float] = [0.625, 0.875, -0.625, -10, 200, 0]  // scale 0.25: 2.5, 3.5, -2.5
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [x.count])
        let ty = b.addTensor("y", .uint8, [x.count], quantization: Quantization(scale: 0.25, zeroPoint: 128))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        expectExact(try runModel(b, [.f32(x)]).uint8(), [130, 132, 126, 88, 255, 128], "Quantize uint8 ties")
    }

    /// Per-axis float -> int8 (axis 1 of [2, 3, 4]).
    @Test func quantizeFloatToInt8PerAxis() throws {
        var rng = SplitMix64(seed: 143)
        let x = rng.floats(2 * 3 * 4, -3, 3)
        let scales: [Float] = [0.01, 0.05, 0.25], zps: [Int32] = [-128, 0, 127]
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [2, 3, 4])
        let ty = b.addTensor("y", .int8, [2, 3, 4], quantization: Quantization(scales: scales, zeroPoints: zps, axis: 1))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        let expected = allIndices([2, 3, 4]).enumerated().map { i, idx in
            Int8(expectedQuantize(x[i], scale: scales[idx[1]], zeroPoint: zps[idx[1]], lo: -128, hi: 127))
        }
        expectExact(try runModel(b, [.f32(x)]).int8(), expected, "Quantize per axis")
    }

    /// int8 -> int8 requantization, all 256 inputs: round half to even of s_x (q - z_x) / s_y.
    @Test(arguments: [
        (0.5, 0, 1.0, 0),        // exact ties: q / 2
        (0.5, -128, 1.0, 5),
        (0.1, 127, 0.03, -20),   // saturates both ways
        (0.03, -7, 0.1, 100),
    ] as [(Float, Int32, Float, Int32)])
    func quantizeInt8ToInt8(_ sx: Float, _ zx: Int32, _ sy: Float, _ zy: Int32) throws {
        let xq = (-128...127).map { Int8($0) }
        var b = ModelBuilder()
        let tx = b.addTensor("x", .int8, [256], quantization: Quantization(scale: sx, zeroPoint: zx))
        let ty = b.addTensor("y", .int8, [256], quantization: Quantization(scale: sy, zeroPoint: zy))
        singleOp(.quantize, &b, inputs: [tx], output: ty)
        let expected: [Int8] = xq.map { q in
            let v = Double(sx) * Double(Int32(q) - zx) / Double(sy)
            return Int8(min(max(v.rounded(.toNearestOrEven) + Double(zy), -128), 127))
        }
        let out = try runModel(b, [.i8(xq)]).int8()
        expectExact(out, expected, "Quantize int8 -> int8 (\(sx), \(zx)) -> (\(sy), \(zy))")
        if sx == 0.5 && zx == 0 && sy == 1 && zy == 0 {
            // q = 5 -> 2.5 -> 2; q = 7 -> 3.5 -> 4; q = -5 -> -2.5 -> -2; q = 127 -> 63.5 -> 64
            #expect(out[128 + 5] == 2 && out[128 + 7] == 4 && out[128 - 5] == -2 && out[255] == 64)
        }
    }
}

@Suite struct DequantizeTests {
    @Test(arguments: [(0.05, -128), (0.05, 127), (0.3, 3)] as [(Float, Int32)])
    func dequantizeInt8PerTensor(_ s: Float, _ z: Int32) throws {
        let xq = (-128...127).map { Int8($0) }
        var b = ModelBuilder()
        let tx = b.addTensor("x", .int8, [2, 128], quantization: Quantization(scale: s, zeroPoint: z))
        let ty = b.addTensor("y", .float32, [2, 128])
        singleOp(.dequantize, &b, inputs: [tx], output: ty)
        let out = try runModel(b, [.i8(xq)]).float()
        expectBitExact(out, xq.map { Float(Int32($0) - z) * s }, "Dequantize int8")
        // and within float rounding of the real value
        expectFloatClose(out, dq(xq, s, z), tolerance: 1e-6, "Dequantize int8 vs Double")
    }

    @Test func dequantizeInt8PerAxis() throws {
        var rng = SplitMix64(seed: 151)
        let shape = [2, 3, 5]
        let xq = rng.int8s(product(shape))
        let scales: [Float] = [0.1, 0.02, 1.5], zps: [Int32] = [-128, 0, 127]
        var b = ModelBuilder()
        let tx = b.addTensor("x", .int8, shape, quantization: Quantization(scales: scales, zeroPoints: zps, axis: 1))
        let ty = b.addTensor("y", .float32, shape)
        singleOp(.dequantize, &b, inputs: [tx], output: ty)
        let expected = allIndices(shape).enumerated().map { i, idx in Float(Int32(xq[i]) - zps[idx[1]]) * scales[idx[1]] }
        expectBitExact(try runModel(b, [.i8(xq)]).float(), expected, "Dequantize per axis 1")
    }

    @Test func dequantizeInt8PerAxisZero() throws {
        var rng = SplitMix64(seed: 152)
        let shape = [3, 4]
        let xq = rng.int8s(product(shape))
        let scales: [Float] = [0.5, 0.25, 0.125]
        var b = ModelBuilder()
        let tx = b.addTensor("x", .int8, shape, quantization: Quantization(scales: scales, zeroPoints: [0, 0, 0], axis: 0))
        let ty = b.addTensor("y", .float32, shape)
        singleOp(.dequantize, &b, inputs: [tx], output: ty)
        let expected = (0..<12).map { Float(xq[$0]) * scales[$0 / 4] }
        expectBitExact(try runModel(b, [.i8(xq)]).float(), expected, "Dequantize per axis 0")
    }

    @Test func dequantizeUInt8AndInt32() throws {
        let u: [UInt8] = [0, 1, 127, 128, 200, 255]
        var b = ModelBuilder()
        let tx = b.addTensor("x", .uint8, [6], quantization: Quantization(scale: 0.25, zeroPoint: 128))
        let ty = b.addTensor("y", .float32, [6])
        singleOp(.dequantize, &b, inputs: [tx], output: ty)
        expectBitExact(try runModel(b, [.u8(u)]).float(), [-32, -31.75, -0.25, 0, 18, 31.75], "Dequantize uint8")

        let i: [Int32] = [0, 1, -1, 1 << 20, -(1 << 24), Int32.max, Int32.min]
        var ib = ModelBuilder()
        let ix = ib.addTensor("x", .int32, [7], quantization: Quantization(scale: 0.001, zeroPoint: 0))
        let iy = ib.addTensor("y", .float32, [7])
        singleOp(.dequantize, &ib, inputs: [ix], output: iy)
        expectBitExact(try runModel(ib, [.i32(i)]).float(), i.map { Float($0) * Float(0.001) }, "Dequantize int32")
    }

    /// Quantize then Dequantize returns every representable value exactly.
    @Test func roundTrip() throws {
        let s: Float = 0.125, z: Int32 = -3
        let x = (-128...127).map { Float(Int32($0) - z) * s }
        var b = ModelBuilder()
        let tx = b.addTensor("x", .float32, [256])
        let tq = b.addTensor("q", .int8, [256], quantization: Quantization(scale: s, zeroPoint: z))
        let ty = b.addTensor("y", .float32, [256])
        b.addOp(.quantize, inputs: [tx], outputs: [tq])
        b.addOp(.dequantize, inputs: [tq], outputs: [ty])
        b.inputs = [tx]; b.outputs = [ty]
        expectBitExact(try runModel(b, [.f32(x)]).float(), x, "round trip")
    }
}
