// vigil-alloc-probe MODEL RUNS: loads MODEL, prepares it, invokes it once to warm up, then RUNS more
// times on a zero input. Run under `valgrind` with two RUNS values: equal heap allocation totals
// prove that `invoke()` allocates nothing (Tests/VigilRuntimeTests/AllocationTests.swift).
import Foundation
import VigilIO
import VigilRuntime

let args = CommandLine.arguments
guard args.count == 3, let runs = Int(args[2]), runs >= 0 else {
    FileHandle.standardError.write("usage: vigil-alloc-probe MODEL RUNS\n".data(using: .utf8)!)
    exit(64)
}
do {
    let file = try ModelFile(path: args[1])
    let interp = try Interpreter(model: file.model)
    interp.invoke()
    for _ in 0..<runs { interp.invoke() }
    withExtendedLifetime(file) {}
} catch {
    FileHandle.standardError.write("vigil-alloc-probe: \(error)\n".data(using: .utf8)!)
    exit(1)
}
