// vigil-alloc-probe MODEL RUNS [THREADS]: loads MODEL, prepares it (with THREADS intra-op threads,
// default 1), invokes it once to warm up, then RUNS more times on a zero input. Run under `valgrind` with two RUNS values: equal heap allocation totals
// prove that `invoke()` allocates nothing (Tests/VigilRuntimeTests/AllocationTests.swift).
// It links only the core (no VigilIO, hence no BoringSSL, whose DWARF 5 valgrind 3.19 cannot read).
import Foundation
import VigilModel
import VigilRuntime

let args = CommandLine.arguments
guard args.count == 3 || args.count == 4, let runs = Int(args[2]), runs >= 0, let threads = Int(args.count == 4 ? args[3] : "1"),
      threads >= 1, let data = FileManager.default.contents(atPath: args[1]) else {
    FileHandle.standardError.write("usage: vigil-alloc-probe MODEL RUNS [THREADS]\n".data(using: .utf8)!)
    exit(64)
}
let bytes = UnsafeMutableRawBufferPointer.allocate(byteCount: max(data.count, 1), alignment: 64)
data.copyBytes(to: bytes.bindMemory(to: UInt8.self))
do {
    let interp = try Interpreter(model: try ModelReader.read(UnsafeRawBufferPointer(rebasing: bytes[0..<data.count])), threads: threads)
    interp.invoke()
    for _ in 0..<runs { interp.invoke() }
} catch {
    FileHandle.standardError.write("vigil-alloc-probe: \(error)\n".data(using: .utf8)!)
    exit(1)
}
