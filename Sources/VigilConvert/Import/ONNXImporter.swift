import Foundation
import SwiftProtobuf
import VigilModel

/// Reads an ONNX model (opsets 13-21, as torch.onnx.export, tf2onnx and skl2onnx write them) into
/// the converter's graph. Symbolic dimensions (a dynamic batch) are fixed at 1.
enum ONNXImporter {
    static func load(_ url: URL) throws -> (IRGraph, [UInt8]) {
        let data: Data
        do { data = try Data(contentsOf: url) } catch {
            throw ConvertError("\(url.path): cannot read: \(error.localizedDescription)")
        }
        let model: Onnx_ModelProto
        do { model = try Onnx_ModelProto(serializedBytes: data) } catch {
            throw ConvertError("\(url.path): not an ONNX model (protobuf decoding failed: \(error))")
        }
        return (try graph(from: model, directory: url.deletingLastPathComponent()), Array(data))
    }

    static func graph(from model: Onnx_ModelProto, directory: URL? = nil) throws -> IRGraph {
        let g = IRGraph()
        let proto = model.graph
        g.name = proto.name
        for o in model.opsetImport where o.domain.isEmpty || o.domain == "ai.onnx" { g.opset = Int(o.version) }
        guard (7...25).contains(g.opset) else { throw ConvertError("ONNX opset \(g.opset) is not supported (7 to 25)") }
        var initialized = Set<String>()
        for t in proto.initializer {
            g.tensors[t.name] = try tensor(t, g, directory: directory)
            initialized.insert(t.name)
        }
        for v in proto.input where !initialized.contains(v.name) {
            let tt = v.type.tensorType
            let shape = try tt.shape.dim.map { d -> Int in
                if case .dimValue(let n)? = d.value, n > 0 { return Int(n) }
                // An explicit 0 is an empty tensor (not a dynamic size, which is 1 here): not representable.
                if case .dimValue(0)? = d.value { throw ConvertError("graph input '\(v.name)' has a dimension of size 0; empty tensors are not supported") }
                return 1
            }
            g.tensors[v.name] = IRTensor(name: v.name, shape: shape)
            switch tt.elemType {
            case 1: break
            case 3: g.quantizedTypes[v.name] = .int8
            case 2: g.quantizedTypes[v.name] = .uint8
            case 6: g.quantizedTypes[v.name] = .int32
            default: throw ConvertError("graph input '\(v.name)' has element type \(typeName(tt.elemType)); float32, int8, uint8 and int32 inputs are supported")
            }
            g.inputs.append(v.name)
        }
        g.outputs = proto.output.map(\.name)
        for n in proto.node {
            // Ops of other domains keep a "domain:Op" name, so the up-front check lists them (after
            // --outputs has pruned what is not needed); from ai.onnx.ml only Scaler is taken.
            let standard = n.domain.isEmpty || n.domain == "ai.onnx" || (n.domain == "ai.onnx.ml" && n.opType == "Scaler")
            let op = standard ? n.opType : "\(n.domain):\(n.opType)"
            var attrs: [String: IRAttribute] = [:]
            for a in n.attribute {
                switch a.type {
                case .float: attrs[a.name] = .float(a.f)
                case .int: attrs[a.name] = .int(Int(a.i))
                case .string: attrs[a.name] = .string(String(decoding: a.s, as: UTF8.self))
                case .tensor: attrs[a.name] = .tensor(try tensor(a.t, g))
                case .floats: attrs[a.name] = .floats(a.floats)
                case .ints: attrs[a.name] = .ints(a.ints.map { Int($0) })
                case .strings: attrs[a.name] = .strings(a.strings.map { String(decoding: $0, as: UTF8.self) })
                default: break  // graphs, sparse tensors, type protos: unused by supported ops
                }
            }
            g.nodes.append(IRNode(op: op, name: n.name, inputs: n.input, outputs: n.output, attributes: attrs))
        }
        return g
    }

    static func tensor(_ t: Onnx_TensorProto, _ g: IRGraph, directory: URL? = nil) throws -> IRTensor {
        let shape = t.dims.map { Int($0) }
        let count = shape.reduce(1, *)
        var raw = [UInt8](t.rawData)
        if t.dataLocation == .external {
            raw = try externalData(t, directory)
        }
        func fromRaw<T>(_: T.Type) -> [T]? {
            guard !raw.isEmpty else { return nil }
            guard raw.count == count * MemoryLayout<T>.size else { return nil }
            return raw.withUnsafeBytes { p in (0..<count).map { p.loadUnaligned(fromByteOffset: $0 * MemoryLayout<T>.size, as: T.self) } }
        }
        var out = IRTensor(name: t.name, shape: shape)
        switch t.dataType {
        case 1: out.floats = fromRaw(Float.self) ?? t.floatData
        case 11: out.floats = (fromRaw(Double.self) ?? t.doubleData).map { Float($0) }
        case 10:  // float16
            let bits = fromRaw(UInt16.self) ?? t.int32Data.map { UInt16(truncatingIfNeeded: $0) }
            out.floats = bits.map { Float(Float16(bitPattern: $0)) }
        case 7: out.kind = .int64; out.ints = fromRaw(Int64.self) ?? t.int64Data
        case 6: out.kind = .int64; out.ints = (fromRaw(Int32.self) ?? t.int32Data).map { Int64($0) }
        case 3:
            out.kind = .int64; out.ints = (fromRaw(Int8.self) ?? t.int32Data.map { Int8(truncatingIfNeeded: $0) }).map { Int64($0) }
            g.quantizedTypes[t.name] = .int8
        case 2:
            out.kind = .int64; out.ints = (fromRaw(UInt8.self) ?? t.int32Data.map { UInt8(truncatingIfNeeded: $0) }).map { Int64($0) }
            g.quantizedTypes[t.name] = .uint8
        case 9: out.kind = .int64; out.ints = (fromRaw(UInt8.self) ?? t.int32Data.map { UInt8(truncatingIfNeeded: $0) }).map { Int64($0) }
        default:
            throw ConvertError("tensor '\(t.name)' has element type \(typeName(t.dataType)), which is not supported")
        }
        guard (out.floats?.count ?? out.ints!.count) == count else {
            throw ConvertError("tensor '\(t.name)': \(out.floats?.count ?? out.ints!.count) values for shape \(shape)")
        }
        return out
    }

    /// Weights stored beside the model (torch.onnx.export with dynamo, or models over 2 GB): the
    /// `location` file relative to the model, from `offset` for `length` bytes.
    static func externalData(_ t: Onnx_TensorProto, _ directory: URL?) throws -> [UInt8] {
        var info: [String: String] = [:]
        for e in t.externalData { info[e.key] = e.value }
        guard let location = info["location"], let directory else {
            throw ConvertError("tensor '\(t.name)' uses external data without a location")
        }
        guard !location.hasPrefix("/"), !location.split(separator: "/").contains("..") else {
            throw ConvertError("tensor '\(t.name)': external data location '\(location)' must stay beside the model")
        }
        let url = directory.appendingPathComponent(location)
        guard let handle = try? FileHandle(forReadingFrom: url) else {
            throw ConvertError("tensor '\(t.name)': cannot open its external data file \(url.path)")
        }
        defer { try? handle.close() }
        let offset = UInt64(info["offset"] ?? "0") ?? 0
        let expected = t.dims.reduce(1, *) * Int64(elementSize(t.dataType))
        let length = Int(info["length"].flatMap { Int($0) } ?? Int(expected))
        try handle.seek(toOffset: offset)
        let data = try handle.read(upToCount: length) ?? Data()
        guard data.count == length else {
            throw ConvertError("tensor '\(t.name)': external data file \(location) ends before offset \(offset) + \(length)")
        }
        return [UInt8](data)
    }

    static func elementSize(_ t: Int32) -> Int {
        switch t {
        case 2, 3, 9: 1
        case 4, 5, 10, 16: 2
        case 1, 6, 12: 4
        default: 8
        }
    }

    static func typeName(_ t: Int32) -> String {
        let names = [1: "float32", 2: "uint8", 3: "int8", 4: "uint16", 5: "int16", 6: "int32", 7: "int64", 8: "string",
                     9: "bool", 10: "float16", 11: "float64", 12: "uint32", 13: "uint64", 16: "bfloat16"]
        return names[Int(t)] ?? "type \(t)"
    }
}
