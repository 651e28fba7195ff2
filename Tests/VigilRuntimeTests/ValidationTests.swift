// Operators reject bad attributes, shapes and quantization at prepare time with the right code.
import Testing
@testable import VigilRuntime
import VigilModel

struct BadModel: Sendable, CustomStringConvertible {
    var label: String
    var code: VigilError.Code
    var build: @Sendable () -> ModelBuilder
    var description: String { label }
}

private let q = Quantization(scale: 0.1, zeroPoint: 0)

/// A float or int8 Conv [1, 4, 5, 5] with weight [wOut, wIn, 3, 3] and the given output shape and attributes.
private func conv(int8: Bool = false, wShape: [Int] = [2, 4, 3, 3], yShape: [Int] = [1, 2, 3, 3],
                  attributes: [Attribute] = [], weightZero: Int32 = 0, constantWeight: Bool = true) -> ModelBuilder {
    var b = ModelBuilder()
    let n = product(wShape)
    let x = b.addTensor("x", int8 ? .int8 : .float32, [1, 4, 5, 5], quantization: int8 ? q : nil)
    let w: Int
    if !constantWeight {
        w = b.addTensor("w", .float32, wShape)
    } else if int8 {
        w = b.addConstant("w", int8: [Int8](repeating: 1, count: n), shape: wShape,
                          quantization: Quantization(scales: [Float](repeating: 0.01, count: wShape[0]),
                                                     zeroPoints: [Int32](repeating: weightZero, count: wShape[0]), axis: 0))
    } else {
        w = b.addConstant("w", float32: [Float](repeating: 0.1, count: n), shape: wShape)
    }
    let y = b.addTensor("y", int8 ? .int8 : .float32, yShape, quantization: int8 ? q : nil)
    b.addOp(.conv, "c", inputs: [x, w], outputs: [y], attributes: attributes)
    b.inputs = constantWeight ? [x] : [x, w]
    b.outputs = [y]
    return b
}

private func unary(_ code: OpCode, xShape: [Int] = [2, 3], yShape: [Int]? = nil, int8: Bool = false,
                   yQuant: Quantization? = nil, attributes: [Attribute] = []) -> ModelBuilder {
    var b = ModelBuilder()
    let x = b.addTensor("x", int8 ? .int8 : .float32, xShape, quantization: int8 ? q : nil)
    let y = b.addTensor("y", int8 ? .int8 : .float32, yShape ?? xShape, quantization: int8 ? (yQuant ?? q) : nil)
    singleOp(code, &b, inputs: [x], output: y, attributes: attributes)
    return b
}

let badModels: [BadModel] = [
    BadModel(label: "conv: wrong output shape", code: .badOperands) { conv(yShape: [1, 2, 5, 5]) },
    BadModel(label: "conv: wrong output channels", code: .badOperands) { conv(yShape: [1, 3, 3, 3]) },
    BadModel(label: "conv: group does not divide channels", code: .badAttribute) {
        conv(wShape: [2, 2, 3, 3], attributes: [Attribute(.group, int: 3)])
    },
    BadModel(label: "conv: weight channels disagree with group", code: .badAttribute) {
        conv(wShape: [2, 4, 3, 3], attributes: [Attribute(.group, int: 2)])
    },
    BadModel(label: "conv: group 0", code: .badAttribute) { conv(attributes: [Attribute(.group, int: 0)]) },
    BadModel(label: "conv: three strides for 2D", code: .badAttribute) { conv(attributes: [Attribute(.strides, ints: [1, 1, 1])]) },
    BadModel(label: "conv: stride 0", code: .badAttribute) { conv(attributes: [Attribute(.strides, ints: [0, 1])]) },
    BadModel(label: "conv: negative pad", code: .badAttribute) { conv(attributes: [Attribute(.pads, ints: [-1, 0, 0, 0])]) },
    BadModel(label: "conv: unknown fused activation", code: .badAttribute) { conv(attributes: [Attribute(.activation, int: 7)]) },
    BadModel(label: "conv: clip_min above clip_max", code: .badAttribute) {
        conv(attributes: [Attribute(.activation, int: 3), Attribute(.clipMin, float: 1), Attribute(.clipMax, float: 0)])
    },
    BadModel(label: "conv: kernel_shape disagrees with weight", code: .badAttribute) {
        conv(attributes: [Attribute(.kernelShape, ints: [2, 2])])
    },
    BadModel(label: "conv: kernel larger than padded input", code: .badOperands) { conv(wShape: [2, 4, 7, 7]) },
    BadModel(label: "conv: weight not constant", code: .unsupported) { conv(constantWeight: false) },
    BadModel(label: "conv int8: asymmetric weights", code: .badQuantization) { conv(int8: true, weightZero: 3) },
    BadModel(label: "depthwise: group not equal to channels", code: .badAttribute) {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [1, 3, 5, 5])
        let w = b.addConstant("w", float32: [Float](repeating: 0, count: 27), shape: [3, 1, 3, 3])
        let y = b.addTensor("y", .float32, [1, 3, 3, 3])
        singleOp(.depthwiseConv, &b, inputs: [x, w], output: y, attributes: [Attribute(.group, int: 1)])
        return b
    },
    BadModel(label: "fully connected: weight K differs from input", code: .badOperands) {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [2, 5])
        let w = b.addConstant("w", float32: [Float](repeating: 0, count: 12), shape: [3, 4])
        let y = b.addTensor("y", .float32, [2, 3])
        singleOp(.fullyConnected, &b, inputs: [x, w], output: y)
        return b
    },
    BadModel(label: "add: shapes do not broadcast", code: .badOperands) {
        var b = ModelBuilder()
        let a = b.addTensor("a", .float32, [1, 3, 4]), c = b.addTensor("b", .float32, [1, 2, 4])
        let y = b.addTensor("y", .float32, [1, 3, 4])
        singleOp(.add, &b, inputs: [a, c], output: y)
        return b
    },
    BadModel(label: "mul: output shape is not the broadcast shape", code: .badOperands) {
        var b = ModelBuilder()
        let a = b.addTensor("a", .float32, [1, 3, 4]), c = b.addTensor("b", .float32, [3, 1])
        let y = b.addTensor("y", .float32, [1, 3, 1])
        singleOp(.mul, &b, inputs: [a, c], output: y)
        return b
    },
    BadModel(label: "concat: sizes do not add up", code: .badOperands) {
        var b = ModelBuilder()
        let a = b.addTensor("a", .float32, [1, 2, 3]), c = b.addTensor("b", .float32, [1, 2, 3])
        let y = b.addTensor("y", .float32, [1, 5, 3])
        singleOp(.concat, &b, inputs: [a, c], output: y, attributes: [Attribute(.axis, int: 1)])
        return b
    },
    BadModel(label: "concat: axis out of range", code: .badAttribute) {
        var b = ModelBuilder()
        let a = b.addTensor("a", .float32, [1, 2, 3])
        let y = b.addTensor("y", .float32, [1, 2, 3])
        singleOp(.concat, &b, inputs: [a], output: y, attributes: [Attribute(.axis, int: 3)])
        return b
    },
    BadModel(label: "max pool: no kernel_shape", code: .badAttribute) { unary(.maxPool, xShape: [1, 2, 5, 5]) },
    BadModel(label: "max pool int8: quantization differs", code: .badQuantization) {
        unary(.maxPool, xShape: [1, 2, 4, 4], yShape: [1, 2, 2, 2], int8: true, yQuant: Quantization(scale: 0.2, zeroPoint: 0),
              attributes: [Attribute(.kernelShape, ints: [2, 2]), Attribute(.strides, ints: [2, 2])])
    },
    BadModel(label: "average pool: count_include_pad 2", code: .badAttribute) {
        unary(.averagePool, xShape: [1, 2, 4, 4], yShape: [1, 2, 3, 3],
              attributes: [Attribute(.kernelShape, ints: [2, 2]), Attribute(.countIncludePad, int: 2)])
    },
    BadModel(label: "average pool: wrong output shape", code: .badOperands) {
        unary(.averagePool, xShape: [1, 2, 4, 4], yShape: [1, 2, 2, 2], attributes: [Attribute(.kernelShape, ints: [2, 2])])
    },
    BadModel(label: "clip: min above max", code: .badAttribute) {
        unary(.clip, attributes: [Attribute(.clipMin, float: 2), Attribute(.clipMax, float: 1)])
    },
    BadModel(label: "sigmoid: output shape differs", code: .badOperands) { unary(.sigmoid, yShape: [3, 2]) },
    BadModel(label: "softmax int8: output not 1/256, -128", code: .badQuantization) { unary(.softmax, int8: true) },
    BadModel(label: "softmax: axis outside the rank", code: .badAttribute) { unary(.softmax, attributes: [Attribute(.axis, int: 7)]) },
    BadModel(label: "reshape: element count differs", code: .badOperands) { unary(.reshape, yShape: [7]) },
    BadModel(label: "reshape int8: quantization differs", code: .badQuantization) {
        unary(.reshape, yShape: [6], int8: true, yQuant: Quantization(scale: 0.1, zeroPoint: 1))
    },
    BadModel(label: "transpose: perm repeats an axis", code: .badAttribute) {
        unary(.transpose, xShape: [2, 3, 4], yShape: [2, 2, 4], attributes: [Attribute(.perm, ints: [0, 0, 2])])
    },
    BadModel(label: "transpose: output shape disagrees with perm", code: .badOperands) {
        unary(.transpose, xShape: [2, 3, 4], yShape: [2, 3, 4], attributes: [Attribute(.perm, ints: [1, 0, 2])])
    },
    BadModel(label: "pad: reflect pad as large as the dimension", code: .badAttribute) {
        unary(.pad, xShape: [2, 3], yShape: [2, 6], attributes: [Attribute(.pads, ints: [0, 3, 0, 0]), Attribute(.padMode, int: 2)])
    },
    BadModel(label: "pad: unknown mode", code: .badAttribute) {
        unary(.pad, xShape: [2, 3], attributes: [Attribute(.padMode, int: 9)])
    },
    BadModel(label: "pad: output shape disagrees with pads", code: .badOperands) {
        unary(.pad, xShape: [2, 3], yShape: [2, 4], attributes: [Attribute(.pads, ints: [0, 1, 0, 1])])
    },
    BadModel(label: "quantize: int32 output", code: .badOperands) {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [4])
        let y = b.addTensor("y", .int32, [4], quantization: q)
        singleOp(.quantize, &b, inputs: [x], output: y)
        return b
    },
    BadModel(label: "dequantize: float input", code: .badQuantization) {
        var b = ModelBuilder()
        let x = b.addTensor("x", .float32, [4])
        let y = b.addTensor("y", .float32, [4])
        singleOp(.dequantize, &b, inputs: [x], output: y)
        return b
    },
]

@Suite struct ValidationTests {
    @Test(arguments: badModels)
    func rejected(_ m: BadModel) {
        let e = prepareError(m.build())
        #expect(e != nil, "\(m.label): prepared without error")
        if let e {
            #expect(e.code == m.code, "\(m.label): got \(e)")
            #expect(!e.detail.isEmpty)
        }
    }

    /// The detail names the node.
    @Test func detailNamesTheNode() {
        let e = prepareError(conv(yShape: [1, 2, 5, 5]))
        #expect(e?.detail.contains("Conv 'c'") == true, "\(String(describing: e))")
    }

    /// The fixtures above are otherwise valid: fixing the one defect makes each prepare.
    @Test func controlModelsPrepare() {
        #expect(prepareError(conv()) == nil)
        #expect(prepareError(conv(int8: true)) == nil)
        #expect(prepareError(conv(wShape: [2, 2, 3, 3], attributes: [Attribute(.group, int: 2)])) == nil)
        #expect(prepareError(unary(.softmax, int8: true, yQuant: Quantization(scale: 1.0 / 256, zeroPoint: -128))) == nil)
        #expect(prepareError(unary(.pad, xShape: [2, 3], yShape: [2, 5], attributes: [Attribute(.pads, ints: [0, 2, 0, 0]), Attribute(.padMode, int: 2)])) == nil)
    }
}
