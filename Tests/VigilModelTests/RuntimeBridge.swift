// The one file of this target that touches VigilRuntime. Operator-level corpus entries fail in
// `Interpreter(model:)`, so checking their exact code needs VigilRuntime linked into the test.
//
// `canImport(VigilRuntime)` alone is not a safe test: SwiftPM puts every module of the package in
// one Modules directory, so it can be true while VigilRuntime's own C dependency (CVigilKernels)
// is not visible to this target, and the import then fails. That module map is
// passed only to targets that depend on VigilRuntime, so `canImport(CVigilKernels)` tells whether
// the dependency is declared. Without it, the corpus test still checks that every operator-level
// entry passes ModelReader.read (it must fail later, not earlier).
import VigilModel
#if canImport(VigilRuntime) && canImport(CVigilKernels)
import VigilRuntime

let runtimeLinked = true

/// nil: prepare not available; .some(nil): prepared; .some(error): prepare threw.
func prepareWithRuntime(_ model: Model) -> VigilError?? {
    do {
        _ = try Interpreter(model: model)
        return .some(nil)
    } catch {
        return .some(error)
    }
}

/// Runs the corpus base model once on `input` ([1, 1, 4, 4] float32) and returns its [1, 3] output.
func runBaseModel(input: [Float]) throws -> [Float]? {
    try withModel(CorpusSpec.base().serialize()) { m in
        let interp = try Interpreter(model: m)
        input.withUnsafeBytes { interp.input(0).bytes.copyMemory(from: $0) }
        interp.invoke()
        let out = interp.output(0).bytes
        return (0..<(out.count / 4)).map { out.load(fromByteOffset: 4 * $0, as: Float.self) }
    }
}
#else
let runtimeLinked = false
func prepareWithRuntime(_ model: Model) -> VigilError?? { nil }
func runBaseModel(input: [Float]) throws -> [Float]? { nil }
#endif
