import Foundation
import Testing
import VigilModel
import VigilRuntime

/// Inputs the fuzzer (or a reviewer) found crashing, replayed for good.
@Suite struct RegressionTests {
    static let dir = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Tools/fuzz/regressions")

    @Test func hugeArenaIsRefusedNotAllocated() throws {
        let bytes = Array(try Data(contentsOf: Self.dir.appendingPathComponent("huge-arena.vigil")))
        let aligned = UnsafeMutableRawBufferPointer.allocate(byteCount: bytes.count, alignment: 64)
        defer { aligned.deallocate() }
        aligned.copyBytes(from: bytes)
        let model = try ModelReader.read(UnsafeRawBufferPointer(aligned))
        #expect(throws: VigilError.self) { _ = try Interpreter(model: model) }
        do {
            _ = try Interpreter(model: model)
        } catch {
            #expect(error.code == .outOfMemory, "\(error)")
        }
    }
}
