import ArgumentParser
import Foundation
import VigilIO
import VigilModel
import VigilRuntime

struct InspectCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "inspect",
        abstract: "Show a model's sections, metadata, tensors, operators and arena plan.",
        discussion: """
            The file is fully validated first; a malformed file is reported with its error code.

            Example:
              vigil inspect Models/ecg-rhythm/model.vigil
            """
    )

    @Argument(help: "The .vigil model.") var model: String
    @Option(help: "Verify the signature against the public keys (*.pub) in this directory.") var trustedKeys: String?

    func run() throws {
        let file: ModelFile
        do { file = try ModelFile(path: model) } catch { throw fail("\(error)") }
        let m = file.model
        print("model      \(model)")
        print("format     \(m.majorVersion).\(m.minorVersion), \(file.byteCount) bytes")
        print("sections  ", m.sections.map { "\($0.kind.text) \($0.length) B @\($0.offset)" }.joined(separator: ", "))
        print("signature  \(try signatureLine(file, trustedKeys))")
        print("\nmetadata")
        print(indent(prettyJSON(file.metadataText), 2))

        print("\ntensors (\(m.tensors.count))")
        var rows: [[String]] = [["#", "name", "dtype", "shape", "kind", "quantization"]]
        for (i, t) in m.tensors.enumerated() {
            var kind = t.isConstant ? "const" : "act"
            if m.inputs.contains(i) { kind = "input" }
            if m.outputs.contains(i) { kind = "output" }
            rows.append(["\(i)", t.name, t.dtype.name, "[\(t.shape.map(String.init).joined(separator: ","))]", kind, describe(t.quantization)])
        }
        print(table(rows))

        print("\noperators (\(m.ops.count))")
        // Precision of each operator: that of its first output (Quantize and Dequantize convert);
        // for float32 operators of a model that also has int8 ones, the reason the converter recorded.
        let reasons = Dictionary(((try? file.metadata())?.floatOperators ?? []).map { ($0.name, $0.reason) }, uniquingKeysWith: { a, _ in a })
        rows = [["#", "op", "name", "precision", "inputs -> outputs", "attributes"]]
        for (k, op) in m.ops.enumerated() {
            var precision = op.code == .quantize || op.code == .dequantize ? "convert" : m.tensors[op.outputs[0]].dtype.name
            if precision == "float32", let why = reasons[op.name] { precision += " (\(why))" }
            let ins = op.inputs.map { $0 < 0 ? "-" : "\($0)" }.joined(separator: ",")
            let outs = op.outputs.map(String.init).joined(separator: ",")
            let attrs: String = op.attributes.map { a -> String in
                if a.key == .function, let raw = a.ints.first {
                    // Reduce and UnaryFunction: the function by name.
                    let f = op.code == .reduce ? ReduceFunction(rawValue: Int32(raw))?.name : UnaryFunction(rawValue: Int32(raw))?.name
                    if let f { return "function=\(f)" }
                }
                let v = a.key.isFloat ? a.floats.map { "\($0)" } : a.ints.map(String.init)
                return "\(a.key.name)=\(v.count == 1 ? v[0] : "[" + v.joined(separator: ",") + "]")"
            }.joined(separator: " ")
            rows.append(["\(k)", op.code.name, op.name, precision, "\(ins) -> \(outs)", attrs])
        }
        print(table(rows))

        let interp: Interpreter
        do { interp = try Interpreter(model: m) } catch { throw fail("\(model): \(error)") }
        let saved = interp.naiveBytes > 0 ? 100 * (interp.naiveBytes - interp.arenaBytes) / interp.naiveBytes : 0
        print("\narena plan: \(interp.arenaBytes) bytes (naive sum of activations and scratch: \(interp.naiveBytes) bytes, \(saved)% saved)")
        rows = [["offset", "bytes", "ops", "buffer"]]
        for p in interp.placements.sorted(by: { ($0.offset, $0.firstOp) < ($1.offset, $1.firstOp) }) {
            let what = p.tensor.map { "tensor \($0) \(m.tensors[$0].name)" } ?? "scratch of op \(p.op!)"
            rows.append(["\(p.offset)", "\(p.size)", "\(p.firstOp)...\(p.lastOp)", what])
        }
        print(table(rows))
    }
}

func describe(_ q: Quantization?) -> String {
    guard let q else { return "-" }
    if q.isPerTensor { return "scale=\(q.scale) zp=\(q.zeroPoint)" }
    let lo = q.scales.min()!, hi = q.scales.max()!
    return "per-axis \(q.axis!): \(q.scales.count) scales [\(lo) ... \(hi)]"
}

func table(_ rows: [[String]]) -> String {
    guard let first = rows.first else { return "" }
    var widths = [Int](repeating: 0, count: first.count)
    for r in rows { for (i, c) in r.enumerated() { widths[i] = max(widths[i], c.count) } }
    return rows.map { r in
        "  " + r.enumerated().map { i, c in i == r.count - 1 ? c : c.padding(toLength: widths[i], withPad: " ", startingAt: 0) }
            .joined(separator: "  ")
    }.joined(separator: "\n")
}

func indent(_ s: String, _ n: Int) -> String {
    s.split(separator: "\n", omittingEmptySubsequences: false).map { String(repeating: " ", count: n) + $0 }.joined(separator: "\n")
}

func prettyJSON(_ text: String) -> String {
    guard let data = text.data(using: .utf8), let obj = try? JSONSerialization.jsonObject(with: data),
          let out = try? JSONSerialization.data(withJSONObject: obj, options: [.prettyPrinted, .sortedKeys]) else {
        return text
    }
    return String(decoding: out, as: UTF8.self)
}

func signatureLine(_ file: ModelFile, _ trustedKeys: String?) throws -> String {
    do {
        guard let info = try ModelSignature.info(file.model) else { return "none" }
        guard let trustedKeys else { return "Ed25519, key \(info.keyID) (not checked; pass --trusted-keys DIR)" }
        switch try ModelSignature.verify(file.model, trustedKeys: URL(fileURLWithPath: trustedKeys)) {
        case .verified(let id): return "Ed25519, key \(id): verified against \(trustedKeys)"
        case .untrustedKey(let id): return "Ed25519, key \(id): NOT TRUSTED (no matching key in \(trustedKeys))"
        case .invalid(let id): return "Ed25519, key \(id): INVALID (the file was changed after signing)"
        case .unsigned: return "none"
        }
    } catch { throw fail("\(error)") }
}
