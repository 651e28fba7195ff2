// Small hand-built ONNX graphs for the converter's unit tests: built as protobuf messages (the same
// types the importer reads), converted in memory or through a temporary file, and run with the
// runtime's interpreter.
import Foundation
import VigilModel
import VigilRuntime
@testable import VigilConvert

struct ONNXGraphBuilder {
    var nodes: [Onnx_NodeProto] = []
    var initializers: [Onnx_TensorProto] = []
    var input: (name: String, shape: [Int])
    var output: (name: String, shape: [Int])
    var opset = 17

    init(input: (String, [Int]), output: (String, [Int])) {
        self.input = (input.0, input.1)
        self.output = (output.0, output.1)
    }

    mutating func node(_ op: String, _ inputs: [String], _ outputs: [String], name: String? = nil,
                       _ attributes: [Onnx_AttributeProto] = []) {
        var n = Onnx_NodeProto()
        n.opType = op
        n.name = name ?? outputs[0]
        n.input = inputs
        n.output = outputs
        n.attribute = attributes
        nodes.append(n)
    }

    mutating func floats(_ name: String, _ shape: [Int], _ values: [Float]) {
        precondition(shape.reduce(1, *) == values.count, "\(name): \(values.count) values for shape \(shape)")
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = shape.map(Int64.init)
        t.dataType = 1
        t.floatData = values
        initializers.append(t)
    }

    mutating func int64s(_ name: String, _ values: [Int64], shape: [Int]? = nil) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dims = (shape ?? [values.count]).map(Int64.init)
        t.dataType = 7
        t.int64Data = values
        initializers.append(t)
    }

    /// A scalar int8 (dataType 3) or uint8 (2) zero point, as QuantizeLinear/DequantizeLinear take it.
    mutating func zeroPoint(_ name: String, _ value: Int, signed: Bool = true) {
        var t = Onnx_TensorProto()
        t.name = name
        t.dataType = signed ? 3 : 2
        t.int32Data = [Int32(value)]
        initializers.append(t)
    }

    var proto: Onnx_ModelProto {
        func info(_ name: String, _ shape: [Int]) -> Onnx_ValueInfoProto {
            var v = Onnx_ValueInfoProto()
            v.name = name
            var tt = Onnx_TypeProto.Tensor()
            tt.elemType = 1
            tt.shape.dim = shape.map { d in
                var dim = Onnx_TensorShapeProto.Dimension()
                dim.dimValue = Int64(d)
                return dim
            }
            v.type.tensorType = tt
            return v
        }
        var g = Onnx_GraphProto()
        g.name = "unit"
        g.node = nodes
        g.initializer = initializers
        g.input = [info(input.name, input.shape)]
        g.output = [info(output.name, output.shape)]
        var m = Onnx_ModelProto()
        m.irVersion = 8
        var o = Onnx_OperatorSetIdProto()
        o.version = Int64(opset)
        m.opsetImport = [o]
        m.graph = g
        return m
    }

    /// The importer's graph after the shape/constant pass (what Lowering sees).
    func folded() throws -> IRGraph {
        let g = try ONNXImporter.graph(from: proto)
        try Lowering.checkSupported(g)
        try QuantizedImport.rewriteQOperators(g)
        try ShapesAndConstants.run(g)
        g.pruneUnused()
        return g
    }

    /// The lowered Vigil operators.
    func lowered() throws -> [VNode] { try Lowering.run(try folded()) }

    /// Converts through a temporary .onnx file, as vigil-convert does.
    func convert(_ options: ConversionOptions = { var o = ConversionOptions(); o.float = true; return o }()) throws -> ConversionResult {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-convert-tests-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let url = dir.appendingPathComponent("unit.onnx")
        try proto.serializedData().write(to: url)
        return try Converter.convert(onnx: url, options: options)
    }
}

func attribute(_ name: String, int: Int) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .int
    a.i = Int64(int)
    return a
}

func attribute(_ name: String, ints: [Int]) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .ints
    a.ints = ints.map(Int64.init)
    return a
}

func attribute(_ name: String, float: Float) -> Onnx_AttributeProto {
    var a = Onnx_AttributeProto()
    a.name = name
    a.type = .float
    a.f = float
    return a
}

/// Runs a serialized model on consecutive samples of `input` and returns output 0 of each, concatenated.
func run(_ model: [UInt8], _ input: [Float]) throws -> [Float] {
    try model.withUnsafeBytes { raw in
        let interp = try Interpreter(model: try ModelReader.read(raw))
        let per = interp.input(0).info.elementCount
        var out: [Float] = []
        for s in 0..<(input.count / per) {
            input[(s * per)..<((s + 1) * per)].withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
            interp.invoke()
            out += Array(interp.output(0).bytes.bindMemory(to: Float.self))
        }
        return out
    }
}

/// The tensors of a serialized model, by name.
func tensors(_ model: [UInt8]) throws -> [String: TensorInfo] {
    try model.withUnsafeBytes { raw in
        Dictionary(try ModelReader.read(raw).tensors.map { ($0.name, $0) }, uniquingKeysWith: { a, _ in a })
    }
}

/// Seeded values in [-1, 1) (a 64-bit LCG; the tests need no statistics, only repeatable numbers).
func seeded(_ n: Int, seed: UInt64) -> [Float] {
    var s = seed &* 6364136223846793005 &+ 1442695040888963407
    return (0..<n).map { _ in
        s = s &* 6364136223846793005 &+ 1442695040888963407
        return Float(Int64(bitPattern: s >> 11) % (1 << 24)) / Float(1 << 24) * 2 - 1
    }
}

func maxAbsDiff(_ a: [Float], _ b: [Float]) -> Float {
    precondition(a.count == b.count, "\(a.count) vs \(b.count) values")
    return zip(a, b).map { abs($0 - $1) }.max() ?? 0
}
