// Verifies Tests/Fixtures/malformed/ against MalformedCorpus: the committed files are exactly what
// the generator produces, EXPECTED.txt lists exactly them, and each one fails with its pinned code.
// With VIGIL_REGENERATE_CORPUS=1 the files (and Tests/Fixtures/valid/small.vigil) are rewritten
// first from the generator.
//
// Operator-level cases (bad attribute, operand shape, quantization) only fail in
// `Interpreter(model:)`, which lives in VigilRuntime; see RuntimeBridge.swift for how this target
// checks them with and without VigilRuntime among its dependencies.
import Foundation
import Testing
import VigilModel

enum CorpusFiles {
    static let fixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent()
        .deletingLastPathComponent().appendingPathComponent("Fixtures")
    static let malformed = fixtures.appendingPathComponent("malformed")
    static let valid = fixtures.appendingPathComponent("valid").appendingPathComponent("small.vigil")
    static let expected = malformed.appendingPathComponent("EXPECTED.txt")

    /// Runs once per test process, before any test reads the folder.
    static let ready: Void = {
        guard ProcessInfo.processInfo.environment["VIGIL_REGENERATE_CORPUS"] == "1" else { return }
        let fm = FileManager.default
        try! fm.createDirectory(at: malformed, withIntermediateDirectories: true)
        try! fm.createDirectory(at: valid.deletingLastPathComponent(), withIntermediateDirectories: true)
        for name in try! fm.contentsOfDirectory(atPath: malformed.path) where name.hasSuffix(".vigil") {
            try! fm.removeItem(at: malformed.appendingPathComponent(name))
        }
        for c in MalformedCorpus.cases {
            try! Data(c.make()).write(to: malformed.appendingPathComponent(c.file))
        }
        try! Data(MalformedCorpus.expectedText().utf8).write(to: expected)
        try! Data(MalformedCorpus.valid()).write(to: valid)
    }()

    static func read(_ url: URL) throws -> [UInt8] { [UInt8](try Data(contentsOf: url)) }

    /// (file, code) pairs of EXPECTED.txt, in order.
    static func expectedEntries() throws -> [(file: String, code: String, what: String)] {
        let text = String(decoding: try read(expected), as: UTF8.self)
        var out: [(String, String, String)] = []
        for line in text.split(separator: "\n", omittingEmptySubsequences: true) where !line.hasPrefix("#") {
            let parts = line.split(separator: " ", maxSplits: 2, omittingEmptySubsequences: true)
            out.append((String(parts[0]), parts.count > 1 ? String(parts[1]) : "", parts.count > 2 ? String(parts[2]) : ""))
        }
        return out
    }
}

/// Where a file was rejected.
enum Verdict: Equatable, CustomStringConvertible {
    case reader(String, String)       // code name, detail
    case prepare(String, String)
    case accepted
    /// Read fine; VigilRuntime is not linked into this test target so prepare was not tried.
    case readOnly

    var code: String? {
        switch self {
        case .reader(let c, _), .prepare(let c, _): c
        default: nil
        }
    }
    var description: String {
        switch self {
        case .reader(let c, let d): "ModelReader: \(c): \(d)"
        case .prepare(let c, let d): "Interpreter: \(c): \(d)"
        case .accepted: "accepted"
        case .readOnly: "read (prepare not available)"
        }
    }
}

/// Reads `bytes` from a 64-byte aligned copy (as a memory map would give), then prepares an
/// interpreter when VigilRuntime is available.
func judge(_ bytes: [UInt8]) -> Verdict {
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(bytes.count, 1), alignment: 64)
    defer { buf.deallocate() }
    bytes.withUnsafeBytes { buf.copyMemory(from: $0) }
    let raw = UnsafeRawBufferPointer(start: buf.baseAddress, count: bytes.count)
    let model: Model
    do {
        model = try ModelReader.read(raw)
    } catch {
        return .reader("\(error.code.name)", error.detail)
    }
    guard let outcome = prepareWithRuntime(model) else { return .readOnly }
    if let error = outcome { return .prepare("\(error.code.name)", error.detail) }
    return .accepted
}

/// Codes `Interpreter(model:)` raises when it prepares an operator.
let prepareCodes: Set<String> = ["bad-operands", "bad-attribute", "bad-quantization", "unsupported"]

@Suite struct MalformedCorpusTests {
    init() { CorpusFiles.ready }

    @Test func corpusIsLargeAndNamesAreUnique() {
        let files = MalformedCorpus.cases.map(\.file)
        #expect(files.count >= 30)
        #expect(Set(files).count == files.count, "duplicate file names")
        for f in files { #expect(f.hasSuffix(".vigil") && !f.contains(" ")) }
    }

    @Test func expectedTxtMatchesGenerator() throws {
        let text = String(decoding: try CorpusFiles.read(CorpusFiles.expected), as: UTF8.self)
        #expect(text == MalformedCorpus.expectedText(),
                "EXPECTED.txt drifted from MalformedCorpus.swift; run VIGIL_REGENERATE_CORPUS=1 swift test --filter VigilModelTests")
        let entries = try CorpusFiles.expectedEntries()
        #expect(entries.map(\.file) == MalformedCorpus.cases.map(\.file))
        #expect(entries.map(\.code) == MalformedCorpus.cases.map(\.code))
    }

    @Test func folderHoldsExactlyTheListedFiles() throws {
        let onDisk = try FileManager.default.contentsOfDirectory(atPath: CorpusFiles.malformed.path)
            .filter { $0.hasSuffix(".vigil") }.sorted()
        #expect(onDisk == MalformedCorpus.cases.map(\.file).sorted())
    }

    /// The model every corruption starts from is itself accepted, so each file's failure is the
    /// corruption's doing.
    @Test func validFixtureMatchesGeneratorAndIsAccepted() throws {
        let valid = try CorpusFiles.read(CorpusFiles.valid)
        #expect(valid == MalformedCorpus.valid())
        #expect(judge(valid) == (runtimeLinked ? .accepted : .readOnly))
    }

    /// VIGIL_CORPUS_VERBOSE=1 prints where and why each file is rejected (for reviewing new cases).
    @Test(.enabled(if: ProcessInfo.processInfo.environment["VIGIL_CORPUS_VERBOSE"] == "1"))
    func printVerdicts() {
        for c in MalformedCorpus.cases { print("corpus: \(c.file): \(judge(c.make()))") }
    }

    @Test func generatorIsDeterministic() {
        for c in MalformedCorpus.cases { #expect(c.make() == c.make(), "\(c.file)") }
    }

    @Test(arguments: MalformedCorpus.cases)
    func committedFileMatchesGenerator(_ c: CorpusCase) throws {
        let onDisk = try CorpusFiles.read(CorpusFiles.malformed.appendingPathComponent(c.file))
        #expect(onDisk == c.make(), "\(c.file) differs from the generator; run VIGIL_REGENERATE_CORPUS=1 swift test --filter VigilModelTests")
    }

    /// The committed file (not the generator's output) fails with the code in EXPECTED.txt.
    @Test(arguments: MalformedCorpus.cases)
    func committedFileFailsWithPinnedCode(_ c: CorpusCase) throws {
        let entry = try #require(try CorpusFiles.expectedEntries().first { $0.file == c.file }, "\(c.file) not in EXPECTED.txt")
        let v = judge(try CorpusFiles.read(CorpusFiles.malformed.appendingPathComponent(c.file)))
        switch v {
        case .readOnly:
            #expect(prepareCodes.contains(entry.code), "\(c.file): read succeeded but EXPECTED.txt pins reader code \(entry.code)")
        default:
            #expect(v.code == entry.code, "\(c.file) (\(c.what)): expected \(entry.code), got \(v)")
        }
        // Each entry pins one check at one stage: the `operators` group fails in prepare, every
        // other group in the reader.
        let atPrepare = MalformedCorpus.operators.contains { $0.file == c.file }
        switch v {
        case .reader: #expect(!atPrepare, "\(c.file) should fail in Interpreter(model:), not in the reader: \(v)")
        case .prepare, .readOnly: #expect(atPrepare, "\(c.file) should fail in ModelReader.read: \(v)")
        case .accepted: break  // reported above
        }
    }
}
