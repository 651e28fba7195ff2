import Foundation
import Testing
import VigilIO

/// Runs the built `vigil` binary as a user would, checking outputs and exit codes.
@Suite struct CLITests {
    static let repo = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let binDir = URL(fileURLWithPath: "/proc/self/exe").resolvingSymlinksInPath().deletingLastPathComponent()
    static let model = repo.appendingPathComponent("Models/test/synthetic-ecg-cnn.vigil").path
    static let floatModel = repo.appendingPathComponent("Models/test/synthetic-ecg-cnn-float.vigil").path
    static let input = repo.appendingPathComponent("Models/test/synthetic-ecg-input.npy").path

    struct Result { var status: Int32; var out: String; var err: String }

    static func vigil(_ args: [String]) throws -> Result {
        let p = Process()
        p.executableURL = binDir.appendingPathComponent("vigil")
        p.arguments = args
        let o = Pipe(), e = Pipe()
        p.standardOutput = o
        p.standardError = e
        try p.run()
        let out = o.fileHandleForReading.readDataToEndOfFile(), err = e.fileHandleForReading.readDataToEndOfFile()
        p.waitUntilExit()
        return Result(status: p.terminationStatus, out: String(decoding: out, as: UTF8.self), err: String(decoding: err, as: UTF8.self))
    }

    static func temp(_ name: String) -> URL {
        FileManager.default.temporaryDirectory.appendingPathComponent("vigil-cli-\(UUID().uuidString)-\(name)")
    }

    @Test func inspectShowsEverySection() throws {
        let r = try Self.vigil(["inspect", Self.model])
        #expect(r.status == 0, "\(r.err)")
        for needle in ["format     1.0", "metadata", "synthetic-ecg-cnn", "tensors (19)", "per-axis 0: 8 scales",
                       "operators (10)", "DepthwiseConv", "arena plan:", "naive sum"] {
            #expect(r.out.contains(needle), "inspect output lacks \(needle)")
        }
    }

    @Test func inferWritesStackedDequantizedOutputs() throws {
        let out = Self.temp("y.npy")
        let r = try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", out.path])
        #expect(r.status == 0, "\(r.err)")
        let y = try NPY.read(contentsOf: out)
        #expect(y.dtype == .float32)
        #expect(y.shape == [16, 3])
        // Softmax rows sum to 1 within the int8 output step (1/256) per class.
        let v = y.asFloat32()
        for row in 0..<16 {
            let s = v[(row * 3)..<(row * 3 + 3)].reduce(0, +)
            #expect(abs(s - 1) <= 3.0 / 256, "row \(row) sums to \(s)")
        }
    }

    @Test func inferAcceptsExtraUnitDimensionAndOtherDtypes() throws {
        let x = try NPY.read(contentsOf: URL(fileURLWithPath: Self.input)).asFloat32()
        // [N, 1, 1, 720] float64: the same samples, so the same outputs
        var d: [UInt8] = []
        for f in x { withUnsafeBytes(of: Double(f).bitPattern.littleEndian) { d += $0 } }
        let in64 = Self.temp("x64.npy")
        try NPY.write(NPYArray(dtype: .float64, shape: [16, 1, 1, 720], data: d), to: in64)
        let a = Self.temp("a.npy"), b = Self.temp("b.npy")
        #expect(try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", a.path]).status == 0)
        let r = try Self.vigil(["infer", Self.model, "--input", in64.path, "--output", b.path])
        #expect(r.status == 0, "\(r.err)")
        #expect(try NPY.read(contentsOf: a) == NPY.read(contentsOf: b))
    }

    /// --threads splits the kernels' outputs across threads; the bytes must not change, and a
    /// count out of range is refused before any work.
    @Test func inferWithThreadsGivesTheSameBytes() throws {
        let a = Self.temp("t1.npy"), b = Self.temp("t3.npy")
        #expect(try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", a.path]).status == 0)
        let r = try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", b.path, "--threads", "3"])
        #expect(r.status == 0, "\(r.err)")
        #expect(try Data(contentsOf: a) == Data(contentsOf: b))
        let bad = try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", b.path, "--threads", "0"])
        #expect(bad.status != 0 && bad.err.contains("--threads 0: must be between 1 and 256"), "\(bad.err)")
    }

    @Test func inferRejectsWrongShapeWithClearError() throws {
        let bad = Self.temp("bad.npy")
        try NPY.write(NPYArray(float32: [Float](repeating: 0, count: 2 * 700), shape: [2, 700]), to: bad)
        let r = try Self.vigil(["infer", Self.model, "--input", bad.path, "--output", Self.temp("y.npy").path])
        #expect(r.status == 2)
        #expect(r.err.contains("[2, 700]") && r.err.contains("[N, 1, 720]"), "\(r.err)")
    }

    @Test func inferRejectsMissingAndMalformedFiles() throws {
        var r = try Self.vigil(["infer", Self.model, "--input", "/nonexistent.npy", "--output", Self.temp("y.npy").path])
        #expect(r.status == 2)
        #expect(r.err.contains("/nonexistent.npy"))
        let junk = Self.temp("junk.vigil")
        try Data("not a model at all, just text that is long enough for a header......".utf8).write(to: junk)
        r = try Self.vigil(["infer", junk.path, "--input", Self.input, "--output", Self.temp("y.npy").path])
        #expect(r.status == 2)
        #expect(r.err.contains("bad-magic"), "\(r.err)")
    }

    @Test func floatAndInt8ModelsAgree() throws {
        let q = Self.temp("q.npy"), f = Self.temp("f.npy")
        #expect(try Self.vigil(["infer", Self.model, "--input", Self.input, "--output", q.path]).status == 0)
        #expect(try Self.vigil(["infer", Self.floatModel, "--input", Self.input, "--output", f.path]).status == 0)
        let a = try NPY.read(contentsOf: q).asFloat32(), b = try NPY.read(contentsOf: f).asFloat32()
        #expect(a.count == b.count)
        let worst = zip(a, b).map { abs($0 - $1) }.max() ?? 1
        #expect(worst < 0.02, "int8 and float32 scores differ by \(worst)")
    }

    @Test func alertsReplayIsDeterministicAndMatchesTheCheckedTimeline() throws {
        let csv = Self.repo.appendingPathComponent("Tests/Fixtures/alerts/deterioration.csv").path
        let first = try Self.vigil(["alerts", "replay", "--input", csv, "--json"])
        let second = try Self.vigil(["alerts", "replay", "--input", csv, "--json"])
        #expect(first.status == 0, "\(first.err)")
        #expect(first.out == second.out)
        let expected = try String(contentsOf: Self.repo.appendingPathComponent("Tests/Fixtures/alerts/deterioration.expected.json"), encoding: .utf8)
        #expect(first.out.trimmingCharacters(in: .whitespacesAndNewlines) == expected.trimmingCharacters(in: .whitespacesAndNewlines))
    }

    @Test func helpShowsExamples() throws {
        for cmd in ["infer", "inspect"] {
            let r = try Self.vigil([cmd, "--help"])
            #expect(r.status == 0)
            #expect(r.out.contains("Example"), "\(cmd) --help has no example")
        }
    }
}
