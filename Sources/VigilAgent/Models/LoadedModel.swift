import Foundation
import VigilAlerts
import VigilIO
import VigilModel
import VigilRuntime

/// A model ready to run inside a pipeline: mapped, signature-checked, planned, with the identity
/// (id, version, file digest) every prediction and alarm carries.
///
/// Not thread-safe: one pipeline owns one instance and calls `run` from its own task. A reload
/// builds a new instance and swaps it in between windows.
public final class LoadedModel {
    public let path: String
    public let identity: ModelIdentity
    public let labels: [String]
    public let metadata: ModelMetadata
    /// Samples per window and the sample rate the model expects, from its metadata or input shape.
    public let windowSamples: Int
    public let sampleRate: Double?
    /// How the signature check went: "verified <key id>", "unsigned", ...
    public let signatureStatus: String
    public let loadMicroseconds: Int
    private let file: ModelFile
    private let interpreter: Interpreter

    /// Loads `path`; when `trustedKeys` is set, a model whose signature does not verify against one
    /// of those keys is refused. `threads`: the interpreter's intra-op threads (1: none started).
    public init(path: String, trustedKeys: String?, threads: Int = 1) throws(AgentError) {
        let start = ContinuousClock.now
        self.path = path
        do { file = try ModelFile(path: path) } catch { throw AgentError(.model, "\(path): \(error)") }
        if let trustedKeys {
            let verdict: ModelSignature.Verdict
            do { verdict = try ModelSignature.verify(file.model, trustedKeys: URL(fileURLWithPath: trustedKeys)) } catch {
                throw AgentError(.untrustedModel, "\(path): \(error)")
            }
            guard case .verified(let key) = verdict else {
                throw AgentError(.untrustedModel, "\(path): refused: signature \(verdict) (trusted keys: \(trustedKeys))")
            }
            signatureStatus = "verified \(key)"
        } else {
            signatureStatus = ((try? ModelSignature.info(file.model)) ?? nil).map { "signed \($0.keyID), not checked" } ?? "unsigned"
        }
        do { metadata = try file.metadata() } catch { throw AgentError(.model, "\(path): metadata: \(error)") }
        do { interpreter = try Interpreter(model: file.model, threads: threads) } catch { throw AgentError(.model, "\(path): \(error)") }
        guard interpreter.inputCount == 1, interpreter.outputCount >= 1 else {
            throw AgentError(.model, "\(path): the agent runs single-input models; this one has \(interpreter.inputCount) inputs")
        }
        let digest = "sha256:" + ModelSignature.digest(file.model).map { String(format: "%02x", $0) }.joined()
        let name = metadata.name ?? URL(fileURLWithPath: path).deletingPathExtension().lastPathComponent
        identity = ModelIdentity(id: name, version: metadata.version ?? "0", digest: digest)
        let outCount = interpreter.output(0).info.elementCount
        labels = metadata.labels ?? (0..<outCount).map { "class\($0)" }
        guard labels.count == outCount else {
            throw AgentError(.model, "\(path): \(labels.count) labels for \(outCount) output scores")
        }
        windowSamples = metadata.preprocessing?.windowSamples ?? interpreter.input(0).info.elementCount
        sampleRate = metadata.preprocessing?.sampleRateHz
        loadMicroseconds = Int((ContinuousClock.now - start) / .microseconds(1))
    }

    /// Elements of the input tensor.
    public var inputCount: Int { interpreter.input(0).info.elementCount }
    /// Intra-op threads the interpreter runs with (fewer than asked only if threads could not start).
    public var threads: Int { interpreter.threads }

    /// Runs one input (already preprocessed, `inputCount` floats) and returns the first output's
    /// scores as floats (int8 outputs dequantized).
    public func run(_ input: [Float]) throws(AgentError) -> [Float] {
        guard interpreter.input(0).store(input) else {
            throw AgentError(.model, "\(path): input of \(input.count) values for a tensor of \(inputCount)")
        }
        interpreter.invoke()
        return interpreter.output(0).dequantized()
    }
}

/// An error of the agent, with a code for the exit status and a detail naming the offending thing.
public struct AgentError: Error, CustomStringConvertible, Sendable {
    public enum Code: String, Sendable {
        case config, model, untrustedModel = "untrusted-model", source, output, state
    }
    public var code: Code
    public var detail: String
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }
    public var description: String { detail }
}
