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
        var testDescription: String { "conv \(cin)->\(cout) \(h)x\(w) k\(k) s\(stride) p\(pad) d\(dilation) g\(group) zx\(zx)" }
    }
    static let cases: [Case] = [
        Case(cin: 3, cout: 8, h: 9, w: 7, k: 3, stride: 1, pad: 1, dilation: 1, group: 1, zx: -3),
        Case(cin: 16, cout: 5, h: 6, w: 6, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: 127),
        Case(cin: 8, cout: 8, h: 11, w: 5, k: 3, stride: 2, pad: 2, dilation: 2, group: 2, zx: -128),
        Case(cin: 1, cout: 4, h: 1, w: 37, k: 7, stride: 2, pad: 3, dilation: 1, group: 1, zx: 5),
        Case(cin: 33, cout: 17, h: 5, w: 4, k: 3, stride: 1, pad: 1, dilation: 1, group: 1, zx: 0),
        Case(cin: 7, cout: 9, h: 9, w: 9, k: 1, stride: 1, pad: 0, dilation: 1, group: 1, zx: -77),   // 1x1, partial quad, 81 positions
        Case(cin: 12, cout: 6, h: 8, w: 8, k: 1, stride: 1, pad: 0, dilation: 1, group: 3, zx: 100),  // grouped 1x1
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
        let y = b.addTensor("y", .int8, oneD ? [1, c.cout, ow] : [1, c.cout, oh, ow], quantization: Quantization(scale: 0.03, zeroPoint: 11))
        let sp = oneD ? 1 : 2
        b.addOp(.depthwiseConv, "dw", inputs: [x, w, bias], outputs: [y], attributes: [
            Attribute(.strides, ints: [Int](repeating: c.stride, count: sp)), Attribute(.pads, ints: [Int](repeating: c.pad, count: 2 * sp)),
            Attribute(.dilations, ints: [Int](repeating: c.dilation, count: sp)), Attribute(.group, int: c.group), Attribute(.activation, int: 2),
        ])
        b.inputs = [x]
        b.outputs = [y]
        return b
    }

    @Test(arguments: depthwiseCases)
    func depthwiseKernelMatchesReference(_ c: Case) throws {
        for seed in 1...3 as ClosedRange<UInt64> {
            let bytes = depthwiseModel(c, seed: seed).serialize()
            var rng = SplitMix64(seed: seed &* 31)
            let input = rng.int8s(c.cin * c.h * c.w)
            #expect(try run(bytes, input, .optimized) == run(bytes, input, .reference), "\(c.testDescription), seed \(seed)")
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
}
