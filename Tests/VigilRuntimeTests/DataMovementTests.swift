// Concat, Reshape, Transpose and Pad. Only Concat with differing int8 quantization rounds; the rest
// must move values exactly.
import Testing
@testable import VigilRuntime
import VigilModel

// MARK: - Concat

@Suite struct ConcatTests {
    /// Four int8 inputs along axis 1: three requantized (different scale and zero point -128; a
    /// different scale and zero point 127; the output's scale with another zero point) and one
    /// copied (same quantization as the output).
    @Test(arguments: [1, -3])
    func concatInt8Axis1(_ axis: Int) throws {
        let shapes = [[1, 2, 5, 7], [1, 3, 5, 7], [1, 1, 5, 7], [1, 2, 5, 7]]
        let qs = [Quantization(scale: 0.05, zeroPoint: -128), Quantization(scale: 0.1, zeroPoint: 3),
                  Quantization(scale: 0.013, zeroPoint: 127), Quantization(scale: 0.1, zeroPoint: -20)]
        let outQ = Quantization(scale: 0.1, zeroPoint: 3)
        let yShape = [1, 8, 5, 7]
        var rng = SplitMix64(seed: 101)
        let xs = shapes.map { rng.int8s(product($0)) }
        var b = ModelBuilder()
        let ts = shapes.indices.map { b.addTensor("x\($0)", .int8, shapes[$0], quantization: qs[$0]) }
        let y = b.addTensor("y", .int8, yShape, quantization: outQ)
        singleOp(.concat, &b, inputs: ts, output: y, attributes: [Attribute(.axis, int: axis)])
        let out = try runModel(b, xs.map { .i8($0) }).int8()
        // Reference: channel c of the output comes from input i, channel c - offset_i.
        var ref: [Double] = [], exactCopy: [Int8?] = []
        for idx in allIndices(yShape) {
            var c = idx[1], i = 0
            while c >= shapes[i][1] { c -= shapes[i][1]; i += 1 }
            let q = xs[i][offset([0, c, idx[2], idx[3]], shapes[i])]
            ref.append(dq(q, qs[i].scale, qs[i].zeroPoint))
            exactCopy.append(i == 1 ? q : nil)
        }
        // input 0 spans [0, 12.75] and saturates above 12.4; input 3 ([-10.8, 14.7]) saturates
        // above 12.4 too; input 2 lies well within range.
        let saturated = expectInt8Close(out, scale: outQ.scale, zeroPoint: outQ.zeroPoint, reference: ref, "Concat int8 axis \(axis)")
        #expect(saturated > 0)
        for (i, e) in exactCopy.enumerated() {
            if let e, out[i] != e { Issue.record("copied input differs at \(i): \(out[i]) vs \(e)"); break }
        }
    }

    @Test(arguments: [0, 1, 2, -1])
    func concatFloat(_ axis: Int) throws {
        let base = [2, 3, 4]
        let a = (axis + 3) % 3
        let sizes = [1, 3, 2]
        let shapes = sizes.map { s -> [Int] in var sh = base; sh[a] = s; return sh }
        var yShape = base; yShape[a] = sizes.reduce(0, +)
        var rng = SplitMix64(seed: 102)
        let xs = shapes.map { rng.floats(product($0)) }
        var b = ModelBuilder()
        let ts = (0..<3).map { b.addTensor("x\($0)", .float32, shapes[$0]) }
        let y = b.addTensor("y", .float32, yShape)
        singleOp(.concat, &b, inputs: ts, output: y, attributes: [Attribute(.axis, int: axis)])
        var expected: [Float] = []
        for idx in allIndices(yShape) {
            var c = idx[a], i = 0
            while c >= sizes[i] { c -= sizes[i]; i += 1 }
            var src = idx; src[a] = c
            expected.append(xs[i][offset(src, shapes[i])])
        }
        expectBitExact(try runModel(b, xs.map { .f32($0) }).float(), expected, "Concat float32 axis \(axis)")
    }

    /// All inputs share the output's quantization: a pure copy.
    @Test func concatInt8SameQuantizationIsExact() throws {
        let q = Quantization(scale: 0.2, zeroPoint: -5)
        var rng = SplitMix64(seed: 103)
        let a = rng.int8s(3 * 5), c = rng.int8s(3 * 2)
        var b = ModelBuilder()
        let ta = b.addTensor("a", .int8, [3, 5], quantization: q)
        let tc = b.addTensor("c", .int8, [3, 2], quantization: q)
        let y = b.addTensor("y", .int8, [3, 7], quantization: q)
        singleOp(.concat, &b, inputs: [ta, tc], output: y, attributes: [Attribute(.axis, int: 1)])
        var expected: [Int8] = []
        for r in 0..<3 {
            expected.append(contentsOf: a[(r * 5)..<(r * 5 + 5)])
            expected.append(contentsOf: c[(r * 2)..<(r * 2 + 2)])
        }
        expectExact(try runModel(b, [.i8(a), .i8(c)]).int8(), expected, "Concat int8 copy")
    }
}

// MARK: - Reshape

@Suite struct ReshapeTests {
    @Test func reshapeInt8AndFloat() throws {
        var rng = SplitMix64(seed: 111)
        let q = Quantization(scale: 0.3, zeroPoint: 127)
        let xq = rng.int8s(3 * 5 * 7)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [1, 3, 5, 7], quantization: q)
        let shape = b.addConstant("shape", int32: [5, 21], shape: [2])
        let y = b.addTensor("y", .int8, [5, 21], quantization: q)
        singleOp(.reshape, &b, inputs: [x, shape], output: y)
        expectExact(try runModel(b, [.i8(xq)]).int8(), xq, "Reshape int8")

        let xf = rng.floats(3 * 5 * 7)
        var fb = ModelBuilder()
        let fx = fb.addTensor("x", .float32, [3, 5, 7])
        let fy = fb.addTensor("y", .float32, [105])
        singleOp(.reshape, &fb, inputs: [fx], output: fy)
        expectBitExact(try runModel(fb, [.f32(xf)]).float(), xf, "Reshape float32")
    }
}

// MARK: - Transpose

struct TransposeCase: Sendable, CustomStringConvertible {
    var shape: [Int]
    var perm: [Int]?
    var description: String { "\(shape) perm \(perm.map { "\($0)" } ?? "default")" }
}

@Suite struct TransposeTests {
    static let cases: [TransposeCase] = [
        TransposeCase(shape: [1, 3, 5, 7], perm: [0, 2, 3, 1]),
        TransposeCase(shape: [2, 3, 5, 7], perm: [3, 1, 0, 2]),
        TransposeCase(shape: [2, 3, 5, 7], perm: nil),
        TransposeCase(shape: [3, 5, 7], perm: [1, 0, 2]),
        TransposeCase(shape: [5, 7], perm: nil),
        TransposeCase(shape: [2, 1, 3, 1, 5, 2], perm: [5, 4, 0, 2, 1, 3]),
    ]

    static func expected<T>(_ x: [T], _ c: TransposeCase) -> ([T], [Int]) {
        let perm = c.perm ?? Array((0..<c.shape.count).reversed())
        let yShape = perm.map { c.shape[$0] }
        var y: [T] = []
        for idx in allIndices(yShape) {
            var src = [Int](repeating: 0, count: c.shape.count)
            for d in 0..<perm.count { src[perm[d]] = idx[d] }
            y.append(x[offset(src, c.shape)])
        }
        return (y, yShape)
    }

    @Test(arguments: cases)
    func transposeInt8(_ c: TransposeCase) throws {
        var rng = SplitMix64(seed: 121)
        let q = Quantization(scale: 0.01, zeroPoint: -128)
        let xq = rng.int8s(product(c.shape))
        let (ref, yShape) = Self.expected(xq, c)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.shape, quantization: q)
        let y = b.addTensor("y", .int8, yShape, quantization: q)
        singleOp(.transpose, &b, inputs: [x], output: y, attributes: c.perm.map { [Attribute(.perm, ints: $0)] } ?? [])
        expectExact(try runModel(b, [.i8(xq)]).int8(), ref, "Transpose int8 \(c)")
    }

    @Test(arguments: cases)
    func transposeFloat(_ c: TransposeCase) throws {
        var rng = SplitMix64(seed: 122)
        let xf = rng.floats(product(c.shape))
        let (ref, yShape) = Self.expected(xf, c)
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.shape)
        let y = b.addTensor("y", .float32, yShape)
        singleOp(.transpose, &b, inputs: [x], output: y, attributes: c.perm.map { [Attribute(.perm, ints: $0)] } ?? [])
        expectBitExact(try runModel(b, [.f32(xf)]).float(), ref, "Transpose float32 \(c)")
    }
}

// MARK: - Pad

struct PadCase: Sendable, CustomStringConvertible {
    var shape: [Int]
    var pads: [Int]
    var mode: PadMode
    var value: Float? = nil
    var description: String { "\(shape) pads \(pads) mode \(mode)" + (value.map { " value \($0)" } ?? "") }
    var outShape: [Int] { (0..<shape.count).map { shape[$0] + pads[$0] + pads[shape.count + $0] } }
    var attributes: [Attribute] {
        [Attribute(.pads, ints: pads), Attribute(.padMode, int: Int(mode.rawValue))]
            + (value.map { [Attribute(.padValue, float: $0)] } ?? [])
    }
}

@Suite struct PadTests {
    static let cases: [PadCase] = [
        PadCase(shape: [1, 3, 5, 4], pads: [0, 1, 2, 1, 0, 2, 1, 2], mode: .constant, value: 0.37),
        PadCase(shape: [1, 3, 5, 4], pads: [0, 1, 2, 1, 0, 2, 1, 2], mode: .constant),
        PadCase(shape: [1, 3, 5, 4], pads: [1, 0, 2, 3, 1, 1, 0, 1], mode: .edge),
        PadCase(shape: [1, 3, 5, 4], pads: [0, 1, 2, 1, 0, 2, 4, 3], mode: .reflect),
        PadCase(shape: [2, 7], pads: [0, 6, 0, 6], mode: .reflect),
        PadCase(shape: [3, 1, 5], pads: [2, 3, 0, 1, 0, 4], mode: .edge),
        PadCase(shape: [2, 3, 5], pads: [0, 0, 2, 0, 0, 0], mode: .constant, value: -100),  // int8: saturates to -128
    ]

    /// Source index along one dim, or nil for the constant (ONNX Pad semantics).
    static func source(_ o: Int, begin: Int, size n: Int, mode: PadMode) -> Int? {
        let i = o - begin
        if i >= 0 && i < n { return i }
        switch mode {
        case .constant: return nil
        case .edge: return i < 0 ? 0 : n - 1
        case .reflect:
            // mirror without repeating the edge: -1 -> 1, n -> n - 2
            var j = i
            while j < 0 || j >= n { j = j < 0 ? -j : 2 * (n - 1) - j }
            return j
        }
    }

    static func expected<T>(_ x: [T], _ c: PadCase, fill: T) -> [T] {
        let r = c.shape.count
        return allIndices(c.outShape).map { idx in
            var src: [Int] = []
            for d in 0..<r {
                guard let s = source(idx[d], begin: c.pads[d], size: c.shape[d], mode: c.mode) else { return fill }
                src.append(s)
            }
            return x[offset(src, c.shape)]
        }
    }

    @Test(arguments: cases)
    func padInt8(_ c: PadCase) throws {
        var rng = SplitMix64(seed: 131)
        let q = Quantization(scale: 0.1, zeroPoint: 3)
        let xq = rng.int8s(product(c.shape))
        // pad_value quantized with the tensor's parameters: round_half_even(v / 0.1) + 3, saturated
        let v = (c.value ?? 0) / Float(0.1)  // float32 division, as ONNX QuantizeLinear
        let fill = Int8(min(max(v.rounded(.toNearestOrEven) + 3, -128), 127))
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, c.shape, quantization: q)
        let y = b.addTensor("y", .int8, c.outShape, quantization: q)
        singleOp(.pad, &b, inputs: [x], output: y, attributes: c.attributes)
        expectExact(try runModel(b, [.i8(xq)]).int8(), Self.expected(xq, c, fill: fill), "Pad int8 \(c)")
    }

    @Test(arguments: cases)
    func padFloat(_ c: PadCase) throws {
        var rng = SplitMix64(seed: 132)
        let xf = rng.floats(product(c.shape))
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, c.shape)
        let y = b.addTensor("y", .float32, c.outShape)
        singleOp(.pad, &b, inputs: [x], output: y, attributes: c.attributes)
        expectBitExact(try runModel(b, [.f32(xf)]).float(), Self.expected(xf, c, fill: c.value ?? 0), "Pad float32 \(c)")
    }

    /// pad_value is quantized with round half to even: 1.25 / 0.5 = 2.5 -> 2, 1.75 / 0.5 = 3.5 -> 4.
    @Test(arguments: [(1.25, 2 + 3), (1.75, 4 + 3), (-1.25, -2 + 3), (1000, 127), (-1000, -128)] as [(Float, Int8)])
    func padInt8ValueRoundsHalfToEven(_ value: Float, _ fill: Int8) throws {
        let q = Quantization(scale: 0.5, zeroPoint: 3)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [1, 2], quantization: q)
        let y = b.addTensor("y", .int8, [1, 4], quantization: q)
        singleOp(.pad, &b, inputs: [x], output: y, attributes: [Attribute(.pads, ints: [0, 1, 0, 1]), Attribute(.padValue, float: value)])
        expectExact(try runModel(b, [.i8([-9, 9])]).int8(), [fill, -9, 9, fill], "Pad fill \(value)")
    }
}
