import Foundation
import Testing

/// `invoke()` must not touch the heap. valgrind counts every allocation of a process; the probe
/// runs the bundled int8 test model 1 + R times, so equal totals for two values of R mean zero
/// allocations per invoke.
@Suite struct AllocationTests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func heapAllocations(model: String, runs: Int, threads: Int = 1) throws -> Int {
        let exe = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
            .appendingPathComponent("vigil-alloc-probe")
        guard FileManager.default.isExecutableFile(atPath: exe.path) else {
            throw ProbeError("probe \(exe.path) is missing; build with `swift build --build-tests`")
        }
        // valgrind 3.19 cannot read the DWARF 5 that clang 21 emits; it needs no debug info to count.
        let stripped = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-alloc-probe-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: stripped) }
        let strip = Process()
        strip.executableURL = URL(fileURLWithPath: "/usr/bin/objcopy")
        strip.arguments = ["--strip-debug", exe.path, stripped.path]
        try strip.run()
        strip.waitUntilExit()
        guard strip.terminationStatus == 0 else { throw ProbeError("objcopy --strip-debug failed on \(exe.path)") }
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/valgrind")
        p.arguments = ["--tool=memcheck", "--leak-check=no", stripped.path, model, String(runs), String(threads)]
        let err = Pipe()
        p.standardError = err
        p.standardOutput = FileHandle.nullDevice
        try p.run()
        let text = String(decoding: err.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0 else { throw ProbeError("probe failed (\(p.terminationStatus)):\n\(text)") }
        // "total heap usage: 1,234 allocs, 1,200 frees, 56,789 bytes allocated"
        guard let line = text.split(separator: "\n").first(where: { $0.contains("total heap usage:") }),
              let range = line.range(of: #"[0-9,]+ allocs"#, options: .regularExpression) else {
            throw ProbeError("no heap summary in valgrind output:\n\(text)")
        }
        return Int(line[range].dropLast(7).replacingOccurrences(of: ",", with: ""))!
    }

    @Test(arguments: ["Models/test/synthetic-ecg-cnn.vigil", "Models/test/synthetic-ecg-cnn-float.vigil",
                      "Models/test/eeg-net-taps.vigil", "Models/test/attention-cnn-taps.vigil"])
    func invokeDoesNotAllocate(_ model: String) throws {
        #expect(FileManager.default.isExecutableFile(atPath: "/usr/bin/valgrind"), "valgrind is missing: run Tools/setup.sh")
        let path = Self.repo.appendingPathComponent(model).path
        let few = try Self.heapAllocations(model: path, runs: 1)
        let many = try Self.heapAllocations(model: path, runs: 11)
        #expect(few > 0, "valgrind saw no allocations at all; the probe did not run")
        #expect(many == few, "\(many - few) heap allocations in 10 extra invokes of \(model)")
    }

    /// With intra-op threads the workers are started at load; invokes hand them work without
    /// allocating.
    @Test func threadedInvokeDoesNotAllocate() async throws { try await withCoresLock {
        let path = Self.repo.appendingPathComponent("Models/test/synthetic-ecg-cnn.vigil").path
        let few = try Self.heapAllocations(model: path, runs: 1, threads: 2)
        let many = try Self.heapAllocations(model: path, runs: 11, threads: 2)
        #expect(few > 0, "valgrind saw no allocations at all; the probe did not run")
        #expect(many == few, "\(many - few) heap allocations in 10 extra threaded invokes")
    } }
}

struct ProbeError: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}
