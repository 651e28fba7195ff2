import ArgumentParser
import Foundation
import VigilConvert
import VigilIO

@main
struct VigilConvertCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "vigil-convert",
        abstract: "Convert a float ONNX model into a Vigil .vigil model (int8, or float32 with --float).",
        discussion: """
            Calibration data is float32 [N, ...input shape without its batch of 1...] (.npy). Models \
            already quantized by onnxruntime (QDQ, QLinearConv/QLinearMatMul, ConvInteger/MatMulInteger) \
            keep their scales and zero points and need no calibration.

            Examples:
              vigil-convert ecg.onnx --calibration calib.npy -o ecg.vigil
              vigil-convert ecg.onnx --calibration calib.npy --method entropy --keep-float fc2 -o ecg.vigil
              vigil-convert ecg.onnx --float -o ecg-float.vigil
              vigil-convert ecg.onnx --calibration calib.npy --eval X.npy --labels y.npy --report out/ -o ecg.vigil
            """,
        version: Converter.version
    )

    @Argument(help: "The float (or onnxruntime-quantized) ONNX model.") var model: String?
    @Option(name: .shortAndLong, help: "Where to write the .vigil model.") var output: String?
    @Option(help: "Sign the model with this Ed25519 private key (a file of 64 hex characters).") var signKey: String?
    @Option(help: "Write a new Ed25519 key pair to PREFIX.key (private, mode 0600) and PREFIX.pub, and exit.") var generateKey: String?
    @Option(help: "Calibration samples (.npy, float32 [N, ...]).") var calibration: String?
    @Flag(help: "Keep the whole model in float32 (no calibration needed).") var float = false
    @Option(help: "ONNX node names to keep in float32, comma separated.") var keepFloat: String?
    @Option(help: "Calibration method: minmax, percentile or entropy.") var method = "minmax"
    @Option(help: "Keep only these graph outputs, comma separated (e.g. probabilities from skl2onnx).") var outputs: String?
    @Option(help: "Model name written into the metadata (default: the file name).") var name: String?
    @Option(help: "Model version written into the metadata.") var modelVersion: String?
    @Option(help: "A text file with one class label per line.") var labelsFile: String?
    @Option(help: "Intended use written into the metadata.") var intendedUse: String?
    @Option(help: "Preprocessing recorded in the metadata: input = raw * scale + offset ...") var inputScale: Double?
    @Option(help: "... then (input - mean) / std; mean and std per channel, comma separated.") var inputOffset: Double?
    @Option(help: "Per-channel means for the preprocessing recipe, comma separated.") var inputMean: String?
    @Option(help: "Per-channel standard deviations for the preprocessing recipe, comma separated.") var inputStd: String?
    @Option(help: "Kind of input for the preprocessing recipe: waveform, image or features.") var inputKind: String?
    @Option(help: "Sample rate of a waveform input, Hz.") var sampleRate: Double?
    @Option(help: "Evaluation samples (.npy, float32 [N, ...]): compare the int8 model with the float one.") var eval: String?
    @Option(help: "Class labels of the evaluation samples (.npy, integer [N]).") var labels: String?
    @Option(help: "Write the fidelity report (fidelity.json, fidelity.html) into this directory.") var report: String?
    @Option(help: "Sensitivity pass: keep layers whose int8 SQNR is below this many dB in float32.") var minSqnr: Double?
    @Option(help: "Sensitivity pass: keep at most this many layers in float32 (the budget).") var maxFloatLayers = 0

    func validate() throws {
        if generateKey != nil { return }
        guard model != nil, output != nil else { throw ValidationError("give the ONNX model and -o OUT.vigil (or --generate-key PREFIX)") }
        if labels != nil && eval == nil { throw ValidationError("--labels needs --eval") }
        if report != nil && eval == nil { throw ValidationError("--report needs --eval") }
        if float && eval != nil { throw ValidationError("--eval compares int8 with float32; drop --float") }
        if (minSqnr == nil) != (maxFloatLayers == 0) { throw ValidationError("--min-sqnr and --max-float-layers go together") }
        if !Converter.methods.contains(method) { throw ValidationError("--method must be one of \(Converter.methods.joined(separator: ", "))") }
    }

    func run() throws {
        if let prefix = generateKey {
            let (priv, pub) = ModelSignature.generateKey()
            let keyPath = prefix + ".key", pubPath = prefix + ".pub"
            guard FileManager.default.createFile(atPath: keyPath, contents: Data((priv + "\n").utf8), attributes: [.posixPermissions: 0o600]),
                  FileManager.default.createFile(atPath: pubPath, contents: Data((pub + "\n").utf8)) else {
                throw fail("cannot write \(keyPath) / \(pubPath)", 1)
            }
            print("wrote \(keyPath) (keep it secret) and \(pubPath), key id \(ModelSignature.keyID(ModelSignature.parseHexPublic(pub)))")
            return
        }
        let model = model!, output = output!
        var options = ConversionOptions()
        options.float = float
        options.method = method
        options.keepFloat = Set((keepFloat ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty })
        options.metadata.name = name
        if inputScale != nil || inputOffset != nil || inputMean != nil || inputStd != nil || inputKind != nil || sampleRate != nil {
            var p = ModelMetadata.Preprocessing()
            func list(_ s: String?, _ flag: String) throws -> [Double]? {
                guard let s else { return nil }
                let v = s.split(separator: ",").map { Double($0.trimmingCharacters(in: .whitespaces)) }
                guard v.allSatisfy({ $0 != nil }) else { throw fail("\(flag) takes numbers separated by commas") }
                return v.map { $0! }
            }
            p.scale = inputScale; p.offset = inputOffset; p.kind = inputKind; p.sampleRateHz = sampleRate
            p.mean = try list(inputMean, "--input-mean"); p.std = try list(inputStd, "--input-std")
            options.metadata.preprocessing = p
        }
        options.outputs = (outputs ?? "").split(separator: ",").map { String($0).trimmingCharacters(in: .whitespaces) }.filter { !$0.isEmpty }
        options.minSQNR = minSqnr
        options.maxFloatLayers = maxFloatLayers
        options.metadata.version = modelVersion
        options.metadata.intendedUse = intendedUse
        if let labelsFile {
            guard let text = try? String(contentsOfFile: labelsFile, encoding: .utf8) else {
                throw fail("cannot read labels file \(labelsFile)")
            }
            options.metadata.labels = text.split(whereSeparator: \.isNewline).map(String.init).filter { !$0.isEmpty }
        }
        if let calibration, !float {
            do { options.calibration = try NPY.read(contentsOf: URL(fileURLWithPath: calibration)).asFloat32() } catch { throw fail("\(error)") }
        }
        let interactive = isatty(STDERR_FILENO) == 1
        let result: ConversionResult
        do {
            result = try Converter.convert(onnx: URL(fileURLWithPath: model), options: options) { done, total in
                guard interactive, total > 0 else { return }
                let width = 30, filled = done * width / total
                let bar = String(repeating: "#", count: filled) + String(repeating: ".", count: width - filled)
                FileHandle.standardError.write("\rcalibrating [\(bar)] \(done)/\(total)\(done == total ? "\n" : "")".data(using: .utf8)!)
            }
        } catch { throw fail("\(error)") }
        for line in result.log { print(line) }
        var bytes = result.model
        if let eval, let artifacts = result.artifacts {
            let x: [Float]
            var y: [Int]? = nil
            do {
                x = try NPY.read(contentsOf: URL(fileURLWithPath: eval)).asFloat32()
                if let labels { y = try NPY.read(contentsOf: URL(fileURLWithPath: labels)).asFloat32().map { Int($0) } }
            } catch { throw fail("\(error)") }
            guard x.count % artifacts.inputElements == 0, x.count > 0 else {
                throw fail("\(eval) does not hold whole samples of \(artifacts.inputElements) values")
            }
            if let y, y.count != x.count / artifacts.inputElements {
                throw fail("\(labels!) has \(y.count) labels for \(x.count / artifacts.inputElements) samples")
            }
            let r: FidelityReport
            do { r = try Fidelity.evaluate(artifacts, samples: x, labels: y, classNames: options.metadata.labels) } catch { throw fail("\(error)", 1) }
            print(Fidelity.text(r), terminator: "")
            if let report {
                do { try HTMLReport.write(r, to: URL(fileURLWithPath: report)) } catch { throw fail("cannot write the report: \(error)", 1) }
                print("report: \(report)/fidelity.html, \(report)/fidelity.json")
            }
            // Record the figures in the model's provenance.
            var meta = result.metadata
            var prov = meta.provenance ?? ModelMetadata.Provenance()
            var fig: [String: Double] = ["top1_agreement": r.top1Agreement, "max_abs_error": r.maxAbsError,
                                         "mean_abs_error": r.meanAbsError, "eval_samples": Double(r.samples)]
            if let f = r.float, let q = r.int8 {
                fig["accuracy_float32"] = f.accuracy; fig["accuracy_int8"] = q.accuracy
                fig["macro_f1_float32"] = f.macroF1; fig["macro_f1_int8"] = q.macroF1
            }
            prov.fidelity = fig
            meta.provenance = prov
            do { bytes = try Converter.replacingMetadata(bytes, with: meta) } catch { throw fail("\(error)", 1) }
        }
        if let signKey {
            do {
                bytes = try ModelSignature.sign(bytes, privateKey: try ModelSignature.readHexKey(URL(fileURLWithPath: signKey)))
            } catch { throw fail("signing failed: \(error)") }
        }
        do { try Data(bytes).write(to: URL(fileURLWithPath: output)) } catch { throw fail("cannot write \(output): \(error.localizedDescription)", 1) }
        print("wrote \(output) (\(bytes.count) bytes, \(float ? "float32" : "int8")\(signKey != nil ? ", signed" : ""))")
    }
}

func fail(_ message: String, _ code: Int32 = 2) -> ExitCode {
    FileHandle.standardError.write("vigil-convert: \(message)\n".data(using: .utf8)!)
    return ExitCode(code)
}
