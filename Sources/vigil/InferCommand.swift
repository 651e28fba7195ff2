import ArgumentParser
import Foundation
import VigilIO
import VigilModel
import VigilRuntime

struct InferCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "infer",
        abstract: "Run a model on every sample of a .npy file and write the stacked outputs.",
        discussion: """
            For a model input of shape [1, d1, ...], X.npy holds N samples as [N, d1, ...] (or \
            [N, 1, d1, ...]). Inputs of any numeric dtype are converted; float inputs of an int8 \
            model input are quantized with its parameters. Outputs are written as float32 \
            (int8 outputs dequantized), shaped [N, ...output shape without its batch of 1]. \
            Extra outputs of multi-output models go to OUT.1.npy, OUT.2.npy, ...; a model with several \
            inputs takes one --input per input, in order, each with the same N.

            Examples:
              vigil infer Models/ecg-rhythm/model.vigil --input Models/ecg-rhythm/eval.npy --output scores.npy
              vigil infer imaging.vigil --input slices.npy --output p.npy --threads 4
            """
    )

    @Argument(help: "The .vigil model.") var model: String
    @Option(name: .shortAndLong, help: "Input samples (.npy); repeat for each model input.") var input: [String]
    @Option(name: .shortAndLong, help: "Where to write the outputs (.npy).") var output: String
    @Option(help: "Refuse the model unless its signature verifies against the public keys (*.pub) in this directory.") var trustedKeys: String?
    @Option(help: "Intra-op threads: conv, depthwise and fully connected kernels split their output across T threads (outputs identical to T = 1; worth it on large models only).") var threads = 1

    func validate() throws {
        guard (1...256).contains(threads) else { throw ValidationError("--threads \(threads): must be between 1 and 256") }
    }

    func run() throws {
        let file: ModelFile
        do { file = try ModelFile(path: model) } catch { throw fail("\(error)") }
        if let trustedKeys {
            let verdict: ModelSignature.Verdict
            do { verdict = try ModelSignature.verify(file.model, trustedKeys: URL(fileURLWithPath: trustedKeys)) } catch { throw fail("\(model): \(error)") }
            guard case .verified = verdict else { throw fail("\(model): refused: signature \(verdict)", Exit.untrusted) }
        }
        let interp: Interpreter
        do { interp = try Interpreter(model: file.model, threads: threads) } catch { throw fail("\(model): \(error)") }
        guard interp.inputCount == input.count else {
            throw fail("\(model) has \(interp.inputCount) input(s); got \(input.count) --input file(s)")
        }
        var feeds: [(view: TensorView, bytes: [UInt8], size: Int)] = []
        var n = -1
        for (i, path) in input.enumerated() {
            let x: NPYArray
            do { x = try NPY.read(contentsOf: URL(fileURLWithPath: path)) } catch { throw fail("\(error)") }
            let view = interp.input(i)
            let count: Int
            do { count = try sampleCount(x.shape, modelShape: view.info.shape) } catch { throw fail("\(path): \(error)") }
            guard n < 0 || count == n else { throw fail("\(path) holds \(count) samples; the first input holds \(n)") }
            n = count
            feeds.append((view, try convertInput(x, to: view.info, path: path), view.info.byteCount))
        }
        var outputs: [[Float]] = Array(repeating: [], count: interp.outputCount)
        for i in 0..<interp.outputCount { outputs[i].reserveCapacity(n * interp.output(i).info.elementCount) }
        for s in 0..<n {
            for f in feeds {
                f.bytes.withUnsafeBytes { src in
                    f.view.bytes.copyMemory(from: UnsafeRawBufferPointer(rebasing: src[(s * f.size)..<((s + 1) * f.size)]))
                }
            }
            interp.invoke()
            for i in 0..<interp.outputCount { outputs[i] += interp.output(i).dequantized() }
        }
        for i in 0..<interp.outputCount {
            let shape = interp.output(i).info.shape
            let outShape = [n] + (shape.first == 1 ? Array(shape.dropFirst()) : shape)
            let path = i == 0 ? output : numberedPath(output, i)
            do {
                try NPY.write(NPYArray(float32: outputs[i], shape: outShape), to: URL(fileURLWithPath: path))
            } catch { throw fail("\(error)", Exit.failure) }
        }
    }
}

struct ShapeMismatch: Error, CustomStringConvertible { var description: String }

/// Number of samples in a file of `shape` for a model input of `modelShape` (DESIGN.md contract).
func sampleCount(_ shape: [Int], modelShape: [Int]) throws -> Int {
    let inner = modelShape.first == 1 ? Array(modelShape.dropFirst()) : modelShape
    if shape.count == inner.count + 1, Array(shape.dropFirst()) == inner { return shape[0] }
    if shape.count == modelShape.count + 1, Array(shape.dropFirst()) == modelShape { return shape[0] }
    if shape == modelShape { return 1 }
    throw ShapeMismatch(description: "array shape \(shape) does not hold samples of the model input shape \(modelShape); expected [N, \(inner.map(String.init).joined(separator: ", "))]")
}

/// The samples as raw bytes of the model input's dtype.
func convertInput(_ x: NPYArray, to info: TensorInfo, path: String) throws -> [UInt8] {
    switch info.dtype {
    case .float32:
        var out: [UInt8] = []
        out.reserveCapacity(x.count * 4)
        for v in x.asFloat32() { withUnsafeBytes(of: v.bitPattern.littleEndian) { out += $0 } }
        return out
    case .int8, .uint8:
        if (x.dtype == .int8 && info.dtype == .int8) || (x.dtype == .uint8 && info.dtype == .uint8) { return x.data }
        guard let q = info.quantization, q.isPerTensor else {
            throw fail("\(path): the model input is \(info.dtype.name) without per-tensor quantization; pass \(info.dtype.name) data")
        }
        let (lo, hi): (Float, Float) = info.dtype == .int8 ? (-128, 127) : (0, 255)
        return x.asFloat32().map { v in
            let r = (v / q.scale).rounded(.toNearestOrEven) + Float(q.zeroPoint)
            let c = r.isNaN ? Float(q.zeroPoint) : min(max(r, lo), hi)
            return info.dtype == .int8 ? UInt8(bitPattern: Int8(c)) : UInt8(c)
        }
    case .int32:
        throw fail("\(path): int32 model inputs are not supported by infer")
    }
}

func numberedPath(_ path: String, _ i: Int) -> String {
    let url = URL(fileURLWithPath: path)
    let stem = url.deletingPathExtension().path
    return "\(stem).\(i).\(url.pathExtension.isEmpty ? "npy" : url.pathExtension)"
}
