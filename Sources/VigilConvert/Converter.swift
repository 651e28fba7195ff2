import Foundation
import VigilIO
import VigilModel
import VigilRuntime

/// The conversion pipeline: import, fold and infer shapes, lower to Vigil ops, then either emit
/// float32 or calibrate and emit int8.
public struct ConversionOptions: Sendable {
    public var float = false
    public var keepFloat: Set<String> = []
    public var calibration: [Float] = []
    public var method = "minmax"
    public var metadata = ModelMetadata()
    /// Sensitivity pass: keep in float32 the layers whose int8 SQNR on the calibration data is below
    /// `minSQNR` dB, worst first, at most `maxFloatLayers` of them.
    public var minSQNR: Double? = nil
    public var maxFloatLayers = 0
    /// Keep only these graph outputs (and what they need), e.g. skl2onnx's `probabilities` without
    /// the label-decoding ops behind `label`.
    public var outputs: [String] = []
    public init() {}
}

public struct ConversionResult {
    public var model: [UInt8]
    /// Float32 twin of the same graph (the reference for fidelity).
    public var floatModel: [UInt8]
    public var ranges: [String: ClosedRange<Float>]
    public var sourceSHA256: String
    public var log: [String]
    /// The metadata written into `model`.
    public var metadata: ModelMetadata
    /// Float and int8 twins with every activation tapped, for fidelity evaluation (nil with --float).
    public var artifacts: ConversionArtifacts?
}

public enum Converter {
    /// Replaces the metadata of a serialized model (e.g. to record fidelity figures measured after
    /// conversion). Any signature is dropped; sign afterwards.
    public static func replacingMetadata(_ file: [UInt8], with meta: ModelMetadata) throws -> [UInt8] {
        let json = try meta.encoded()
        return try file.withUnsafeBytes { raw -> [UInt8] in
            let model = try ModelReader.read(raw)
            var sections: [(SectionKind, [UInt8])] = []
            var flags: [UInt32] = []
            for s in model.sections where s.kind != .signature {
                sections.append((s.kind, s.kind == .metadata ? json : Array(raw[s.offset..<(s.offset + s.length)])))
                flags.append(s.flags)
            }
            return ModelBuilder.assemble(sections, flags: flags)
        }
    }

    public static let version = "0.1.0"
    public static var methods: [String] { CalibrationMethod.allCases.map(\.rawValue) }

    public static func convert(onnx url: URL, options: ConversionOptions,
                               progress: (Int, Int) -> Void = { _, _ in }) throws -> ConversionResult {
        do {
            return try run(url, options, progress)
        } catch let e as ConvertError {
            throw ConversionError(description: e.description)
        } catch let e as VigilError {
            throw ConversionError(description: "the converted graph is invalid: \(e)")
        }
    }

    static func run(_ url: URL, _ options: ConversionOptions, _ progress: (Int, Int) -> Void) throws -> ConversionResult {
        let (g, bytes) = try ONNXImporter.load(url)
        var log: [String] = ["imported \(g.nodes.count) ONNX nodes (opset \(g.opset)) from \(url.lastPathComponent)"]
        if !options.outputs.isEmpty {
            let unknown = options.outputs.filter { !g.outputs.contains($0) }
            guard unknown.isEmpty else {
                throw ConvertError("--outputs names \(unknown.joined(separator: ", ")); the model's outputs are \(g.outputs.joined(separator: ", "))")
            }
            g.outputs = options.outputs
            g.removeUnneededNodes()
            log.append("kept outputs \(options.outputs.joined(separator: ", ")); \(g.nodes.count) nodes remain")
        }
        try Lowering.checkSupported(g)
        try QuantizedImport.rewriteQOperators(g)
        try ShapesAndConstants.run(g)
        GeluFusion.run(g)
        if !options.float { try QuantizedImport.stripActivationQDQ(g) }
        g.pruneUnused()
        if !g.importedParams.isEmpty { log.append("kept the scales and zero points of \(g.importedParams.count) quantized activations") }
        let nodes = try Lowering.run(g)
        log.append("lowered to \(nodes.count) Vigil operators")
        let sha = sha256Hex(bytes)
        var meta = options.metadata
        if meta.name == nil { meta.name = url.deletingPathExtension().lastPathComponent }
        var prov = meta.provenance ?? ModelMetadata.Provenance()
        prov.sourceSha256 = sha
        prov.converter = "vigil-convert"
        prov.converterVersion = version
        meta.inputs = try g.inputs.map { ModelMetadata.TensorSpec(name: $0, shape: try g.shape($0), dtype: "float32") }
        meta.outputs = try g.outputs.map { ModelMetadata.TensorSpec(name: $0, shape: try g.shape($0), dtype: "float32") }

        var floatEmitter = Emitter(g, nodes, .float)
        meta.provenance = prov
        let floatModel = try floatEmitter.emit(metadata: try meta.encoded())
        if options.float {
            return ConversionResult(model: floatModel, floatModel: floatModel, ranges: [:], sourceSHA256: sha, log: log, metadata: meta, artifacts: nil)
        }
        let unknown = options.keepFloat.subtracting(g.nodes.map(\.name))
        if !unknown.isEmpty {
            throw ConvertError("--keep-float names nodes that are not in the model: \(unknown.sorted().joined(separator: ", "))")
        }
        guard g.inputs.count == 1 else { throw ConvertError("int8 conversion supports models with one input; this one has \(g.inputs.count)") }
        guard !options.calibration.isEmpty || !g.importedParams.isEmpty else {
            throw ConvertError("int8 conversion needs --calibration data (or --float)")
        }
        guard let method = CalibrationMethod(rawValue: options.method) else {
            throw ConvertError("unknown calibration method '\(options.method)'; use one of \(methods.joined(separator: ", "))")
        }
        var tapped = Emitter(g, nodes, .float, tap: true)
        let tapModel = try tapped.emit(metadata: Array("{}".utf8))
        let ranges = options.calibration.isEmpty ? [:] : try Calibrator.ranges(
            model: tapModel, inputName: g.inputs[0], names: tapped.taps, realOutputs: g.outputs,
            samples: options.calibration, method: method, progress: progress)
        let per = try g.shape(g.inputs[0]).reduce(1, *)
        if !options.calibration.isEmpty {
            prov.calibrationSamples = options.calibration.count / per
            prov.calibrationSha256 = sha256Hex(options.calibration.withUnsafeBytes { Array($0) })
            log.append("calibrated \(ranges.count) values on \(prov.calibrationSamples!) samples (\(method.rawValue))")
        }
        meta.provenance = prov
        var keep = options.keepFloat
        var keepReasons: [String: String] = [:]
        func artifacts(_ keep: Set<String>) throws -> ConversionArtifacts {
            var q = Emitter(g, nodes, .int8(ranges: ranges, keepFloat: keep), tap: true)
            q.keepReasons = keepReasons
            let int8Tapped = try q.emit(metadata: Array("{}".utf8))
            return ConversionArtifacts(name: meta.name ?? "model", floatTapped: tapModel, int8Tapped: int8Tapped, taps: tapped.taps, inputElements: per,
                                       floatOperators: nodes.compactMap { n in q.floatReason(n).map { ModelMetadata.FloatOperator(name: n.name, op: n.code.name, reason: $0) } },
                                       operators: nodes.map { n in
                                           let why = q.floatReason(n)
                                           return OperatorPrecision(name: n.name, op: n.code.name, precision: why == nil ? "int8" : "float32", reason: why)
                                       }, outputs: g.outputs)
        }
        if let minSQNR = options.minSQNR, options.maxFloatLayers > 0 {
            // Sensitivity pass on (up to 64 samples of) the calibration data.
            let probe = Array(options.calibration.prefix(64 * per))
            let r = try Fidelity.evaluate(try artifacts(keep), samples: probe, labels: nil, classNames: nil)
            let bySource = Dictionary(nodes.flatMap { n in ([n.output] + n.extraOutputs).map { ($0, n.source) } }, uniquingKeysWith: { a, _ in a })
            let worst = r.layers.filter { $0.sqnrDB < minSQNR }.sorted { $0.sqnrDB < $1.sqnrDB }.prefix(options.maxFloatLayers)
            for l in worst {
                let sources = (bySource[l.value] ?? "").split(separator: "+").map(String.init)
                keep.formUnion(sources)
                for s in sources where !options.keepFloat.contains(s) {
                    keepReasons[s] = String(format: "sensitivity: int8 SQNR %.1f dB < %.1f dB", l.sqnrDB, minSQNR)
                }
                log.append(String(format: "sensitivity: keeping %@ in float32 (int8 SQNR %.1f dB < %.1f dB)", sources.joined(separator: "+"), l.sqnrDB, minSQNR))
            }
            if worst.isEmpty { log.append(String(format: "sensitivity: every layer is at or above %.1f dB; nothing kept in float", minSQNR)) }
        }
        var int8 = Emitter(g, nodes, .int8(ranges: ranges, keepFloat: keep))
        int8.keepReasons = keepReasons
        let floatOps = nodes.compactMap { n in int8.floatReason(n).map { ModelMetadata.FloatOperator(name: n.name, op: n.code.name, reason: $0) } }
        meta.floatOperators = floatOps.isEmpty ? nil : floatOps
        for f in floatOps { log.append("runs in float32: \(f.op) '\(f.name)' (\(f.reason))") }
        let model = try int8.emit(metadata: try meta.encoded())
        return ConversionResult(model: model, floatModel: floatModel, ranges: ranges, sourceSHA256: sha, log: log,
                                metadata: meta, artifacts: try artifacts(keep))
    }
}

public struct ConversionError: Error, CustomStringConvertible {
    public var description: String
}
