internal import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// Quantize: float32 -> int8/uint8 (ONNX QuantizeLinear: round half to even of x / scale, plus the
/// zero point, saturated), per tensor or per axis; or int8 -> int8 requantization through a table.
struct QuantizeOp {
    var x: Int, y: Int
    var outer: Int, channels: Int, inner: Int
    var scales: [Float] = [], zeros: [Int32] = []
    var lo: Int32 = -128, hi: Int32 = 127
    var isUInt8: Bool
    var table: [Int8] = []  // int8 -> int8
    /// float32 -> int8 with one scale through vigil_quantize_f32_s8 (model inputs).
    var useKernel = false

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        guard c.tensor(x).shape == c.tensor(y).shape else { throw c.fail("output shape must equal input shape") }
        let od = c.tensor(y).dtype
        guard od == .int8 || od == .uint8 else { throw c.fail("output is \(od.name); expected int8 or uint8") }
        isUInt8 = od == .uint8
        if isUInt8 { (lo, hi) = (0, 255) }
        guard let q = c.tensor(y).quantization else {
            throw VigilError(.badQuantization, "\(c.label): output (tensor \(y)) has no quantization")
        }
        (outer, channels, inner) = axisSplit(c.tensor(y).shape, q.axis)
        scales = q.scales
        zeros = q.zeroPoints
        switch c.tensor(x).dtype {
        case .float32:
            #if canImport(CVigilKernels)
            useKernel = c.optimized && !isUInt8 && q.isPerTensor
            #endif
        case .int8 where od == .int8 && q.isPerTensor:
            let (sx, zx) = try c.perTensor(x, "input")
            for v in -128...127 {
                let real = Double(sx) * Double(Int32(v) - zx)
                table.append(Int8(truncatingIfNeeded: quantizeValue(real, scale: Double(q.scale), zeroPoint: q.zeroPoint, lo: -128, hi: 127)))
            }
        default:
            throw c.unsupported("Quantize from \(c.tensor(x).dtype.name) to \(od.name)")
        }
    }

    func eval(_ t: SlotTable) {
        #if canImport(CVigilKernels)
        if useKernel {
            vigil_quantize_f32_s8(t[x].assumingMemoryBound(to: Float.self), Int32(outer * channels * inner), scales[0], zeros[0],
                                  lo, hi, t[y].assumingMemoryBound(to: Int8.self))
            return
        }
        #endif
        if !table.isEmpty {
            let X = t[x].assumingMemoryBound(to: Int8.self), Y = t[y].assumingMemoryBound(to: Int8.self)
            table.withUnsafeBufferPointer { lut in
                for i in 0..<(outer * channels * inner) { Y[i] = lut[Int(X[i]) &+ 128] }
            }
            return
        }
        let X = t[x].assumingMemoryBound(to: Float.self)
        var i = 0
        for _ in 0..<outer {
            for ch in 0..<channels {
                let s = scales[ch], z = zeros[ch]
                for _ in 0..<inner {
                    let q = quantizeValue(X[i], scale: s, zeroPoint: z, lo: lo, hi: hi)
                    if isUInt8 { t[y].assumingMemoryBound(to: UInt8.self)[i] = UInt8(truncatingIfNeeded: q) }
                    else { t[y].assumingMemoryBound(to: Int8.self)[i] = Int8(truncatingIfNeeded: q) }
                    i += 1
                }
            }
        }
    }
}

/// Dequantize: int8/uint8/int32 -> float32, (q - zero point) * scale in float32, per tensor or
/// per axis (ONNX DequantizeLinear).
struct DequantizeOp {
    var x: Int, y: Int
    var outer: Int, channels: Int, inner: Int
    var scales: [Float] = [], zeros: [Int32] = []
    var dtype: DType

    init(_ c: OpContext) throws(VigilError) {
        try c.expectOperands(inputs: 1...1)
        x = try c.input(0); y = c.output
        guard c.tensor(x).shape == c.tensor(y).shape else { throw c.fail("output shape must equal input shape") }
        try c.expect(y, dtype: .float32, "output")
        dtype = c.tensor(x).dtype
        guard dtype != .float32, let q = c.tensor(x).quantization else {
            throw VigilError(.badQuantization, "\(c.label): input (tensor \(x)) must be a quantized integer tensor")
        }
        (outer, channels, inner) = axisSplit(c.tensor(x).shape, q.axis)
        scales = q.scales
        zeros = q.zeroPoints
    }

    func eval(_ t: SlotTable) {
        let Y = t[y].assumingMemoryBound(to: Float.self)
        var i = 0
        for _ in 0..<outer {
            for ch in 0..<channels {
                let s = scales[ch], z = zeros[ch]
                for _ in 0..<inner {
                    let q: Int32
                    switch dtype {
                    case .int8: q = Int32(t[x].assumingMemoryBound(to: Int8.self)[i])
                    case .uint8: q = Int32(t[x].assumingMemoryBound(to: UInt8.self)[i])
                    default: q = t[x].assumingMemoryBound(to: Int32.self)[i]
                    }
                    Y[i] = Float(Int64(q) - Int64(z)) * s
                    i += 1
                }
            }
        }
    }
}

/// (outer, channels, inner) element counts around a quantization axis (channels 1 if per tensor).
func axisSplit(_ shape: [Int], _ axis: Int?) -> (Int, Int, Int) {
    guard let axis else {
        var n = 1
        for d in shape { n *= d }
        return (1, 1, n)
    }
    var outer = 1, inner = 1
    for d in 0..<axis { outer *= shape[d] }
    for d in (axis + 1)..<shape.count { inner *= shape[d] }
    return (outer, shape[axis], inner)
}
