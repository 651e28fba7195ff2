import CVigilKernels
import Testing
@testable import VigilRuntime
import VigilModel

/// Every C kernel variant this CPU supports must produce the same bytes as the Swift reference
/// operators (docs/FORMAT.md). ARM variants are checked the same way under qemu by
/// Tools/kernels/test-arm.sh.
@Suite(.serialized) struct KernelParityTests {
    struct Case: CustomTestStringConvertible, Sendable {
        var cin, cout, h, w, k, stride, pad, dilation, group: Int
        var zx: Int32
        /// Fused activation (FusedActivation raw value) and output scale of the depthwise models; a
        /// small output scale makes the real multiplier large (shift n <= 32), which the vector
        /// kernels hand to the lane-by-lane requantization.
        var act = 2
        var outScale: Float = 0.03
        var testDescription: String {
            "conv \(cin)->\(cout) \(h)x\(w) k\(k) s\(stride) p\(pad) d\(dilation) g\(group) zx\(zx) act\(act) sy\(outScale)"
        }
    }
    static let cases: [Case] = [
        Case(cin: 3, cout: 8, h: 9, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, group: 1, zx: -3),
        Case(cin: 16, cout: 5, h: 6, w: 6, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: 127),
        Case(cin: 8, cout: 8, h: 11, w: 5, k: 3, stride: 2, pad: 2, dilation: 2, group: 2, zx: -128),
        Case(cin: 1, cout: 4, h: 1, w: 37, k: 7, stride: 2, pad: 3, dilation: 1, group: 1, zx: 5),
        Case(cin: 33, cout: 17, h: 5, w: 4, k: 3, stride: 1, pad: 1, dilation: 1, group: 1, zx: 0),
        Case(cin: 7, cout: 9, h: 9, w: 9, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: -77),   // 1x1, partial quad, 81 positions
        Case(cin: 12, cout: 6, h: 8, w: 8, k: 1, stride: 1, pad: 0, dilation: 1, group: 3, zx: 100),  // grouped 1x1
        // ECG-shaped 1D layers (direct convolution with AVX-VNNI): taps in the quad (few channels),
        // channels in the quad (many channels, or dilation), output-channel tails, position tails.
        Case(cin: 1, cout: 16, h: 1, w: 720, k: 7, stride: 2, pad: 3, dilation: 1, group: 1, zx: -128),
        Case(cin: 16, cout: 32, h: 1, w: 181, k: 5, stride: 2, pad: 2, dilation: 1, group: 1, zx: 127),
        Case(cin: 24, cout: 24, h: 1, w: 45, k: 9, stride: 1, pad: 4, dilation: 1, group: 1, zx: -5),
        Case(cin: 5, cout: 19, h: 1, w: 33, k: 3, stride: 3, pad: 1, dilation: 2, group: 1, zx: 60),
        Case(cin: 3, cout: 7, h: 1, w: 10, k: 9, stride: 1, pad: 0, dilation: 1, group: 1, zx: 1),    // 2 outputs
        Case(cin: 1, cout: 8, h: 16, w: 13, k: 3, stride: 2, pad: 1, dilation: 1, group: 1, zx: -100), // 2D, taps
        Case(cin: 6, cout: 40, h: 7, w: 6, k: 3, stride: 1, pad: 1, dilation: 2, group: 1, zx: 127),   // 2D, channels
        // 1x1 through the quad GEMM with K split into blocks (K/4 > 128): two row blocks (cout > 96)
        // over a partial panel, and full 64-position panels copied contiguously.
        Case(cin: 600, cout: 100, h: 9, w: 9, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: -128),
        Case(cin: 530, cout: 23, h: 8, w: 16, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: 127),
    ]

    static func variants() -> [vigil_kernel_variant] {
        (0..<Int(VIGIL_KERNEL_COUNT.rawValue)).map { vigil_kernel_variant(rawValue: UInt32($0)) }
            .filter { vigil_kernel_supported($0) != 0 }
    }

    func model(_ c: Case, seed: UInt64) -> ModelBuilder {
        var rng = SplitMix64(seed: seed)
        var b = ModelBuilder()
        let oneD = c.h == 1
        let xs = oneD ? [1, c.cin, c.w] : [1, c.cin, c.h, c.w]
        let eff = (c.k - 1) * c.dilation + 1
        let oh = oneD ? 1 : (c.h + 2 * c.pad - eff) / c.stride + 1, ow = (c.w + 2 * c.pad - eff) / c.stride + 1
        let ws = oneD ? [c.cout, c.cin / c.group, c.k] : [c.cout, c.cin / c.group, c.k, c.k]
        let x = b.addTensor("x", .int8, xs, quantization: Quantization(scale: 0.05, zeroPoint: c.zx))
        let w = b.addConstant("w", int8: rng.int8s(ws.reduce(1, *), -127...127), shape: ws,
                              quantization: Quantization(scales: (0..<c.cout).map { _ in Float(rng.uniform(0.002, 0.02)) },
                                                         zeroPoints: [Int32](repeating: 0, count: c.cout), axis: 0))
        let bias = b.addConstant("b", int32: (0..<c.cout).map { _ in Int32(rng.int(-2000...2000)) }, shape: [c.cout])
        let y = b.addTensor("y", .int8, oneD ? [1, c.cout, ow] : [1, c.cout, oh, ow], quantization: Quantization(scale: 0.04, zeroPoint: -7))
        let sp = oneD ? 1 : 2
        b.addOp(.conv, "conv", inputs: [x, w, bias], outputs: [y], attributes: [
            Attribute(.strides, ints: [Int](repeating: c.stride, count: sp)), Attribute(.pads, ints: [Int](repeating: c.pad, count: 2 * sp)),
            Attribute(.dilations, ints: [Int](repeating: c.dilation, count: sp)), Attribute(.group, int: c.group), Attribute(.activation, int: 1),
        ])
        // A fully connected layer on the flattened conv output, to cover the FC kernel path too.
        let flat = b.addTensor("flat", .int8, [1, b.tensor(y).elementCount], quantization: Quantization(scale: 0.04, zeroPoint: -7))
        b.addOp(.reshape, "flatten", inputs: [y], outputs: [flat])
        let n = 10, k = b.tensor(y).elementCount
        let fw = b.addConstant("fw", int8: rng.int8s(n * k, -127...127), shape: [n, k],
                               quantization: Quantization(scales: (0..<n).map { _ in Float(rng.uniform(0.001, 0.01)) }, zeroPoints: [Int32](repeating: 0, count: n), axis: 0))
        let fy = b.addTensor("fy", .int8, [1, n], quantization: Quantization(scale: 0.1, zeroPoint: 3))
        b.addOp(.fullyConnected, "fc", inputs: [flat, fw], outputs: [fy])
        b.inputs = [x]
        b.outputs = [y, fy]
        return b
    }

    /// Depthwise convolutions (multiplier 1 and 2, strides, dilation, asymmetric padding).
    static let depthwiseCases: [Case] = [
        Case(cin: 8, cout: 8, h: 9, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, group: 8, zx: -128),
        Case(cin: 4, cout: 8, h: 10, w: 10, k: 3, stride: 2, pad: 1, dilation: 1, group: 4, zx: 127),
        Case(cin: 6, cout: 6, h: 7, w: 8, k: 5, stride: 1, pad: 4, dilation: 2, group: 6, zx: 3),
        Case(cin: 5, cout: 5, h: 1, w: 40, k: 5, stride: 2, pad: 2, dilation: 1, group: 5, zx: -9),
        Case(cin: 3, cout: 3, h: 6, w: 37, k: 3, stride: 2, pad: 1, dilation: 1, group: 3, zx: 120),  // wide rows, stride 2
        Case(cin: 3, cout: 6, h: 5, w: 30, k: 3, stride: 1, pad: 1, dilation: 1, group: 3, zx: -120), // wide rows, stride 1
        // MobileNet-shaped 3x3 layers on the vectorized channel planes: channel counts that are not
        // a multiple of any vector width, planes smaller and larger than one vector (7x7, 15x15,
        // 37x70), odd sizes with stride 2, zero points at the extremes, ReLU, ReLU6 and none.
        Case(cin: 24, cout: 24, h: 7, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, group: 24, zx: 127),
        Case(cin: 17, cout: 17, h: 15, w: 15, k: 3, stride: 2, pad: 1, dilation: 1, group: 17, zx: -128, act: 1),
        Case(cin: 5, cout: 5, h: 37, w: 70, k: 3, stride: 1, pad: 1, dilation: 1, group: 5, zx: 0, act: 0),
        Case(cin: 9, cout: 9, h: 28, w: 33, k: 3, stride: 2, pad: 1, dilation: 1, group: 9, zx: 44),
        Case(cin: 3, cout: 3, h: 2, w: 2, k: 3, stride: 2, pad: 1, dilation: 1, group: 3, zx: -1),     // one output
        Case(cin: 8, cout: 8, h: 12, w: 12, k: 5, stride: 2, pad: 2, dilation: 1, group: 8, zx: 7),    // two quads per row
        Case(cin: 6, cout: 6, h: 11, w: 9, k: 3, stride: 1, pad: 2, dilation: 2, group: 6, zx: -60),   // vertical dilation
        // Large real multipliers (n <= 32): the lane-by-lane requantization, and saturation.
        Case(cin: 10, cout: 10, h: 9, w: 13, k: 3, stride: 1, pad: 1, dilation: 1, group: 10, zx: 3, act: 0, outScale: 0.0004),
        Case(cin: 7, cout: 7, h: 10, w: 10, k: 3, stride: 2, pad: 1, dilation: 1, group: 7, zx: -9, act: 2, outScale: 0.001),
        // Small planes (input of at most 64 bytes, stride 1, one step of 64 positions): AVX512-VNNI
        // builds the phase vectors with VPERMB from the input in a register. A full 64-byte input
        // with channel multiplier 2, and the lane-by-lane requantization on a 5x6 plane (7x7 above).
        Case(cin: 20, cout: 40, h: 8, w: 8, k: 3, stride: 1, pad: 0, dilation: 1, group: 20, zx: -77, act: 2),
        Case(cin: 19, cout: 19, h: 5, w: 6, k: 3, stride: 1, pad: 1, dilation: 1, group: 19, zx: 5, act: 0, outScale: 0.0004),
    ]

    func depthwiseModel(_ c: Case, seed: UInt64) -> ModelBuilder {
        var rng = SplitMix64(seed: seed)
        var b = ModelBuilder()
        let oneD = c.h == 1
        let eff = (c.k - 1) * c.dilation + 1
        let oh = oneD ? 1 : (c.h + 2 * c.pad - eff) / c.stride + 1, ow = (c.w + 2 * c.pad - eff) / c.stride + 1
        let ws = oneD ? [c.cout, 1, c.k] : [c.cout, 1, c.k, c.k]
        let x = b.addTensor("x", .int8, oneD ? [1, c.cin, c.w] : [1, c.cin, c.h, c.w], quantization: Quantization(scale: 0.05, zeroPoint: c.zx))
        let w = b.addConstant("w", int8: rng.int8s(ws.reduce(1, *), -127...127), shape: ws,
                              quantization: Quantization(scales: (0..<c.cout).map { _ in Float(rng.uniform(0.005, 0.05)) },
                                                         zeroPoints: [Int32](repeating: 0, count: c.cout), axis: 0))
        let bias = b.addConstant("b", int32: (0..<c.cout).map { _ in Int32(rng.int(-500...500)) }, shape: [c.cout])
        let y = b.addTensor("y", .int8, oneD ? [1, c.cout, ow] : [1, c.cout, oh, ow], quantization: Quantization(scale: c.outScale, zeroPoint: 11))
        let sp = oneD ? 1 : 2
        b.addOp(.depthwiseConv, "dw", inputs: [x, w, bias], outputs: [y], attributes: [
            Attribute(.strides, ints: [Int](repeating: c.stride, count: sp)), Attribute(.pads, ints: [Int](repeating: c.pad, count: 2 * sp)),
            Attribute(.dilations, ints: [Int](repeating: c.dilation, count: sp)), Attribute(.group, int: c.group), Attribute(.activation, int: c.act),
        ])
        b.inputs = [x]
        b.outputs = [y]
        return b
    }

    /// Every variant this CPU supports against the Swift reference; seed 1 feeds only -128 and 127.
    @Test(arguments: depthwiseCases)
    func depthwiseKernelMatchesReference(_ c: Case) throws {
        let before = vigil_kernel_selected()
        defer { _ = vigil_kernel_select(before) }
        for seed in 1...3 as ClosedRange<UInt64> {
            let bytes = depthwiseModel(c, seed: seed).serialize()
            var rng = SplitMix64(seed: seed &* 31)
            let n = c.cin * c.h * c.w
            let input = seed == 1 ? (0..<n).map { _ in rng.int(0...1) == 0 ? Int8.min : Int8.max } : rng.int8s(n)
            let reference = try run(bytes, input, .reference)
            for v in Self.variants() {
                #expect(vigil_kernel_select(v) == 1)
                #expect(try run(bytes, input, .optimized) == reference,
                        "\(String(cString: vigil_kernel_name(v))) depthwise differs on \(c.testDescription), seed \(seed)")
            }
        }
    }

    func run(_ bytes: [UInt8], _ input: [Int8], _ kernels: Interpreter.Kernels) throws -> [[UInt8]] {
        try bytes.withUnsafeBytes { raw in
            let interp = try Interpreter(model: try ModelReader.read(raw), kernels: kernels)
            input.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
            interp.invoke()
            return (0..<interp.outputCount).map { Array(interp.output($0).bytes) }
        }
    }

    @Test(arguments: cases)
    func kernelsMatchReference(_ c: Case) throws {
        let before = vigil_kernel_selected()
        defer { _ = vigil_kernel_select(before) }
        let variants = Self.variants()
        #expect(variants.contains(VIGIL_KERNEL_GENERIC))
        for seed in 1...3 as ClosedRange<UInt64> {
            let bytes = model(c, seed: seed).serialize()
            var rng = SplitMix64(seed: seed &* 77)
            let n = c.cin * c.h * c.w
            let input = rng.int8s(n)
            let reference = try run(bytes, input, .reference)
            for v in variants {
                #expect(vigil_kernel_select(v) == 1)
                let got = try run(bytes, input, .optimized)
                #expect(got == reference, "\(String(cString: vigil_kernel_name(v))) differs from the Swift reference on \(c.testDescription), seed \(seed)")
            }
        }
    }

    /// int8 Add of same-shape tensors (vigil_add_s8) after a depthwise layer, as in a MobileNetV2
    /// residual: every variant against the Swift reference. Scale ratios near 1 use the 32-bit split
    /// of the kernel (shift 17...47); a tiny one (shift past 47) its 64-bit loop; fused ReLU and none.
    @Test(arguments: [(Float(0.05), Float(0.04), Float(0.06), 0), (Float(0.02), Float(0.09), Float(0.03), 1),
                      (Float(0.05), Float(0.03), Float(0.5), 0), (Float(1e-7), Float(2e-7), Float(0.5), 1)])
    func addKernelMatchesReference(_ sx: Float, _ sd: Float, _ sy: Float, _ act: Int) throws {
        let before = vigil_kernel_selected()
        defer { _ = vigil_kernel_select(before) }
        var rng = SplitMix64(seed: 99)
        var b = ModelBuilder()
        let x = b.addTensor("x", .int8, [1, 6, 9, 11], quantization: Quantization(scale: sx, zeroPoint: -20))
        let w = b.addConstant("w", int8: rng.int8s(6 * 9, -127...127), shape: [6, 1, 3, 3],
                              quantization: Quantization(scales: [Float](repeating: 0.01, count: 6), zeroPoints: [Int32](repeating: 0, count: 6), axis: 0))
        let d = b.addTensor("d", .int8, [1, 6, 9, 11], quantization: Quantization(scale: sd, zeroPoint: 33))
        b.addOp(.depthwiseConv, "dw", inputs: [x, w], outputs: [d], attributes: [
            Attribute(.pads, ints: [1, 1, 1, 1]), Attribute(.group, int: 6),
        ])
        let y = b.addTensor("y", .int8, [1, 6, 9, 11], quantization: Quantization(scale: sy, zeroPoint: -3))
        b.addOp(.add, "add", inputs: [x, d], outputs: [y], attributes: [Attribute(.activation, int: act)])
        b.inputs = [x]
        b.outputs = [y]
        let bytes = b.serialize()
        for seed in 1...3 as ClosedRange<UInt64> {
            var r = SplitMix64(seed: seed)
            let input = seed == 1 ? (0..<594).map { _ in r.int(0...1) == 0 ? Int8.min : Int8.max } : r.int8s(594)
            let reference = try run(bytes, input, .reference)
            for v in Self.variants() {
                #expect(vigil_kernel_select(v) == 1)
                #expect(try run(bytes, input, .optimized) == reference,
                        "\(String(cString: vigil_kernel_name(v))) add differs, scales \(sx) \(sd) \(sy), seed \(seed)")
            }
        }
    }

    /// int8 MaxPool and GlobalAveragePool: the C kernels against the Swift reference.
    struct PoolParityCase: CustomTestStringConvertible, Sendable {
        var channels, h, w, k, stride, pad, dilation: Int
        var global = false
        var zx: Int32 = 0
        var testDescription: String {
            global ? "global average pool \(channels)x\(h)x\(w) zx\(zx)" : "max pool \(channels)x\(h)x\(w) k\(k) s\(stride) p\(pad) d\(dilation)"
        }
    }
    static let poolCases: [PoolParityCase] = [
        PoolParityCase(channels: 16, h: 1, w: 360, k: 2, stride: 2, pad: 0, dilation: 1),
        // Non-overlapping windows of 4 (the real ECG model): the AVX2 quad path, its scalar tail
        // (w 71: 17 outputs, one dropped input), padding at both ends, and a 2D pool.
        PoolParityCase(channels: 8, h: 1, w: 720, k: 4, stride: 4, pad: 0, dilation: 1),
        PoolParityCase(channels: 3, h: 1, w: 71, k: 4, stride: 4, pad: 0, dilation: 1),
        PoolParityCase(channels: 2, h: 1, w: 66, k: 4, stride: 4, pad: 3, dilation: 1),
        PoolParityCase(channels: 2, h: 9, w: 38, k: 4, stride: 4, pad: 1, dilation: 1),
        PoolParityCase(channels: 3, h: 1, w: 37, k: 3, stride: 2, pad: 1, dilation: 1),
        PoolParityCase(channels: 2, h: 1, w: 9, k: 4, stride: 3, pad: 3, dilation: 1),   // windows of padding only
        PoolParityCase(channels: 4, h: 9, w: 7, k: 3, stride: 2, pad: 1, dilation: 2),
        PoolParityCase(channels: 5, h: 6, w: 6, k: 2, stride: 1, pad: 0, dilation: 1),
        PoolParityCase(channels: 64, h: 1, w: 45, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: -128),
        PoolParityCase(channels: 3, h: 7, w: 5, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: 127),
        PoolParityCase(channels: 2, h: 1, w: 1, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: 3),
        // The AVX2 byte sums: exactly 16, 32 + 16, and a masked tail after 96.
        PoolParityCase(channels: 5, h: 1, w: 16, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: -7),
        PoolParityCase(channels: 3, h: 4, w: 12, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: 127),
        PoolParityCase(channels: 2, h: 1, w: 100, k: 0, stride: 1, pad: 0, dilation: 1, global: true, zx: -128),
    ]

    @Test(arguments: poolCases)
    func poolKernelsMatchReference(_ c: PoolParityCase) throws {
        let oneD = c.h == 1
        let eff = (c.k - 1) * c.dilation + 1
        let oh = oneD ? 1 : (c.h + 2 * c.pad - eff) / c.stride + 1, ow = (c.w + 2 * c.pad - eff) / c.stride + 1
        for seed in 1...3 as ClosedRange<UInt64> {
            var b = ModelBuilder()
            let xs = oneD ? [1, c.channels, c.w] : [1, c.channels, c.h, c.w]
            let x = b.addTensor("x", .int8, xs, quantization: Quantization(scale: 0.05, zeroPoint: c.zx))
            let sp = oneD ? 1 : 2
            if c.global {
                let y = b.addTensor("y", .int8, [1, c.channels] + [Int](repeating: 1, count: sp), quantization: Quantization(scale: 0.011, zeroPoint: -3))
                b.addOp(.globalAveragePool, "gap", inputs: [x], outputs: [y])
                b.outputs = [y]
            } else {
                let y = b.addTensor("y", .int8, oneD ? [1, c.channels, ow] : [1, c.channels, oh, ow], quantization: Quantization(scale: 0.05, zeroPoint: c.zx))
                b.addOp(.maxPool, "pool", inputs: [x], outputs: [y], attributes: [
                    Attribute(.kernelShape, ints: [Int](repeating: c.k, count: sp)), Attribute(.strides, ints: [Int](repeating: c.stride, count: sp)),
                    Attribute(.pads, ints: [Int](repeating: c.pad, count: 2 * sp)), Attribute(.dilations, ints: [Int](repeating: c.dilation, count: sp)),
                ])
                b.outputs = [y]
            }
            b.inputs = [x]
            let bytes = b.serialize()
            var rng = SplitMix64(seed: seed &* 13)
            // Seed 1: the extremes only (saturation and ties), the others random.
            let input = seed == 1 ? (0..<(c.channels * c.h * c.w)).map { _ in rng.int(0...1) == 0 ? Int8.min : Int8.max }
                                  : rng.int8s(c.channels * c.h * c.w)
            #expect(try run(bytes, input, .optimized) == run(bytes, input, .reference), "\(c.testDescription), seed \(seed)")
        }
    }

    /// A whole ECG-style network (conv, max pool, convs, global average pool, FC, softmax): every
    /// variant against the reference, end to end.
    @Test func ecgNetworkMatchesReference() throws {
        let before = vigil_kernel_selected()
        defer { _ = vigil_kernel_select(before) }
        var rng = SplitMix64(seed: 2024)
        var b = ModelBuilder()
        func q(_ s: Float, _ z: Int32) -> Quantization { Quantization(scale: s, zeroPoint: z) }
        let x = b.addTensor("x", .int8, [1, 1, 720], quantization: q(0.02, -4))
        var cur = x, len = 720, ch = 1
        func conv(_ cout: Int, _ k: Int, _ stride: Int, _ name: String) {
            let out = (len + 2 * (k / 2) - k) / stride + 1
            let w = b.addConstant(name + ".w", int8: rng.int8s(cout * ch * k, -127...127), shape: [cout, ch, k],
                                  quantization: Quantization(scales: (0..<cout).map { _ in Float(rng.uniform(0.002, 0.02)) },
                                                             zeroPoints: [Int32](repeating: 0, count: cout), axis: 0))
            let bias = b.addConstant(name + ".b", int32: (0..<cout).map { _ in Int32(rng.int(-3000...3000)) }, shape: [cout])
            let y = b.addTensor(name, .int8, [1, cout, out], quantization: q(0.03, -128))
            b.addOp(.conv, name, inputs: [cur, w, bias], outputs: [y], attributes: [
                Attribute(.strides, ints: [stride]), Attribute(.pads, ints: [k / 2, k / 2]), Attribute(.activation, int: 1),
            ])
            (cur, len, ch) = (y, out, cout)
        }
        conv(8, 9, 2, "c1")
        let pooled = b.addTensor("pool", .int8, [1, 8, len / 2], quantization: q(0.03, -128))
        b.addOp(.maxPool, "pool", inputs: [cur], outputs: [pooled], attributes: [Attribute(.kernelShape, ints: [2]), Attribute(.strides, ints: [2])])
        (cur, len) = (pooled, len / 2)
        conv(16, 7, 2, "c2")
        conv(24, 5, 2, "c3")
        conv(24, 5, 1, "c4")
        let gap = b.addTensor("gap", .int8, [1, 24, 1], quantization: q(0.02, -100))
        b.addOp(.globalAveragePool, "gap", inputs: [cur], outputs: [gap])
        let flat = b.addTensor("flat", .int8, [1, 24], quantization: q(0.02, -100))
        b.addOp(.reshape, "flatten", inputs: [gap], outputs: [flat])
        let fw = b.addConstant("fc.w", int8: rng.int8s(5 * 24, -127...127), shape: [5, 24],
                               quantization: Quantization(scales: [Float](repeating: 0.01, count: 5), zeroPoints: [Int32](repeating: 0, count: 5), axis: 0))
        let logits = b.addTensor("logits", .int8, [1, 5], quantization: q(0.1, 0))
        b.addOp(.fullyConnected, "fc", inputs: [flat, fw], outputs: [logits])
        let probs = b.addTensor("probs", .int8, [1, 5], quantization: q(1.0 / 256, -128))
        b.addOp(.softmax, "softmax", inputs: [logits], outputs: [probs])
        b.inputs = [x]
        b.outputs = [cur, probs]
        let bytes = b.serialize()
        for seed in 1...4 as ClosedRange<UInt64> {
            var r = SplitMix64(seed: seed)
            let input = r.int8s(720)
            let reference = try run(bytes, input, .reference)
            for v in Self.variants() {
                #expect(vigil_kernel_select(v) == 1)
                #expect(try run(bytes, input, .optimized) == reference, "\(String(cString: vigil_kernel_name(v))) differs on the ECG network, seed \(seed)")
            }
            // The profiling invoke (`vigil bench --profile`) gives the same bytes and charges each op
            // exactly the clock ticks read around it (a clock that advances by 1 per read).
            let profiled: [[UInt8]] = try bytes.withUnsafeBytes { raw in
                let interp = try Interpreter(model: try ModelReader.read(raw))
                input.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
                var ticks: UInt64 = 0
                var perOp = [UInt64](repeating: 0, count: interp.model.ops.count)
                perOp.withUnsafeMutableBufferPointer { buf in
                    interp.invoke(perOp: buf, clock: { ticks += 1; return ticks })
                }
                #expect(perOp == [UInt64](repeating: 1, count: interp.model.ops.count) && ticks == UInt64(perOp.count + 1))
                return (0..<interp.outputCount).map { Array(interp.output($0).bytes) }
            }
            #expect(profiled == reference, "the profiling invoke differs on the ECG network, seed \(seed)")
        }
    }

    /// float32 -> int8 Quantize (model inputs): the C kernel of every variant against the Swift
    /// reference, on ties, NaN, infinities, huge values and odd lengths (vector tails).
    @Test(arguments: [(Float(0.02), Int32(-128), 723), (Float(1.0 / 256), Int32(127), 5), (Float(0.37), Int32(0), 64)])
    func quantizeKernelMatchesReference(_ scale: Float, _ zero: Int32, _ n: Int) throws {
        let before = vigil_kernel_selected()
        defer { _ = vigil_kernel_select(before) }
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [1, n])
        let y = b.addTensor("y", .int8, [1, n], quantization: Quantization(scale: scale, zeroPoint: zero))
        b.addOp(.quantize, "q", inputs: [x], outputs: [y])
        b.inputs = [x]
        b.outputs = [y]
        let bytes = b.serialize()
        var rng = SplitMix64(seed: UInt64(n))
        let specials: [Float] = [.nan, .infinity, -.infinity, 0, -0.0, 1e30, -1e30, .leastNonzeroMagnitude]
        let values: [Float] = (0..<n).map { i in
            switch i % 4 {
            case 0: specials[(i / 4) % specials.count]
            case 1: (Float(rng.int(-300...300)) + 0.5) * scale   // exact ties
            default: Float(rng.uniform(-200, 200)) * scale
            }
        }
        func run(_ kernels: Interpreter.Kernels) throws -> [UInt8] {
            try bytes.withUnsafeBytes { raw in
                let interp = try Interpreter(model: try ModelReader.read(raw), kernels: kernels)
                values.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
                interp.invoke()
                return Array(interp.output(0).bytes)
            }
        }
        let reference = try run(.reference)
        for v in Self.variants() {
            #expect(vigil_kernel_select(v) == 1)
            #expect(try run(.optimized) == reference, "\(String(cString: vigil_kernel_name(v))) quantize differs, scale \(scale) zero \(zero)")
        }
    }
}
