import Foundation
import Testing
@testable import VigilSensors

/// Tests/Fixtures/vitals, written by Tools/vitals/make_fixtures.py with the `wfdb` and `edfio`
/// packages (independent readers and writers).
let vitalsFixtures = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
    .appendingPathComponent("Fixtures").appendingPathComponent("vitals")

/// The columns of an expected-values CSV (header row, then numbers), parsed here without the
/// reader under test.
func expectedColumns(_ name: String) throws -> [[Double]] {
    let text = try String(contentsOf: vitalsFixtures.appendingPathComponent(name), encoding: .utf8)
    let rows = text.split(separator: "\n").dropFirst().map { $0.split(separator: ",").map { Double($0)! } }
    return (0..<rows[0].count).map { k in rows.map { $0[k] } }
}

/// A scratch directory for malformed copies of the fixtures.
func scratchDirectory() throws -> URL {
    let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-vitals-\(UUID().uuidString)")
    try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
    return dir
}

@Suite struct WFDBReaderTests {
    @Test(arguments: ["rec212", "rec16"])
    func matchesTheWFDBPackage(_ record: String) throws {
        let rec = try RecordingReader.read(vitalsFixtures.appendingPathComponent("\(record).hea").path)
        let expected = try expectedColumns("\(record).expected.csv")
        #expect(rec.sampleRate == 360)
        #expect(rec.channels.map(\.name) == ["MLII", "INV"])
        #expect(rec.channels.map(\.unit) == ["mV", "mV"])
        for k in 0..<2 {
            #expect(rec.channels[k].samples.count == 720)
            let worst = zip(rec.channels[k].samples, expected[k]).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 1e-5, "signal \(k) differs from wfdb.rdrecord by \(worst) mV")
        }
    }

    @Test func datPathFindsItsHeader() throws {
        let rec = try RecordingReader.read(vitalsFixtures.appendingPathComponent("rec212.dat").path, options: .init(columns: ["INV"]))
        #expect(rec.channels.map(\.name) == ["INV"])
    }

    @Test func truncatedDataNamesTheFileAndBytes() throws {
        let dir = try scratchDirectory()
        try FileManager.default.copyItem(at: vitalsFixtures.appendingPathComponent("rec16.hea"), to: dir.appendingPathComponent("rec16.hea"))
        let dat = try Data(contentsOf: vitalsFixtures.appendingPathComponent("rec16.dat"))
        try dat.prefix(1000).write(to: dir.appendingPathComponent("rec16.dat"))
        do {
            _ = try WFDBReader.read(headerPath: dir.appendingPathComponent("rec16.hea").path)
            Issue.record("a truncated file was accepted")
        } catch {
            #expect(error.code == .malformed)
            #expect(error.detail.contains("rec16.dat") && error.detail.contains("truncated") && error.detail.contains("2880"))
        }
    }

    @Test func checksumMismatchIsRefused() throws {
        let dir = try scratchDirectory()
        try FileManager.default.copyItem(at: vitalsFixtures.appendingPathComponent("rec212.hea"), to: dir.appendingPathComponent("rec212.hea"))
        var dat = try Data(contentsOf: vitalsFixtures.appendingPathComponent("rec212.dat"))
        dat[30] ^= 0x01
        try dat.write(to: dir.appendingPathComponent("rec212.dat"))
        #expect(throws: SensorsError.self) { try WFDBReader.read(headerPath: dir.appendingPathComponent("rec212.hea").path) }
    }

    @Test func badHeaderFieldsNameTheLine() throws {
        let dir = try scratchDirectory()
        let hea = dir.appendingPathComponent("bad.hea")
        try "bad 1 360 10\nbad.dat 212 abc 12 0\n".write(to: hea, atomically: true, encoding: .utf8)
        do { _ = try WFDBReader.read(headerPath: hea.path); Issue.record("accepted") } catch {
            #expect(error.detail.contains("bad.hea:2") && error.detail.contains("gain"))
        }
        try "bad 1 360 10\nbad.dat 310 200 12 0\n".write(to: hea, atomically: true, encoding: .utf8)
        do { _ = try WFDBReader.read(headerPath: hea.path); Issue.record("accepted") } catch {
            #expect(error.code == .unsupported && error.detail.contains("310"))
        }
        try "bad 2 360 10\nbad.dat 16 200 12 0\n".write(to: hea, atomically: true, encoding: .utf8)
        #expect(throws: SensorsError.self) { try WFDBReader.read(headerPath: hea.path) }
    }

    @Test func format212PacksTwelveBitPairs() {
        // 0x123 and -2 (0xFFE): byte0 = 0x23, byte1 = 0xF1 (high nibbles), byte2 = 0xFE; a lone
        // third sample 0x800 (-2048, invalid) uses two bytes.
        let v = WFDBReader.decode([0x23, 0xF1, 0xFE, 0x00, 0x08], from: 0, count: 3, format: 212)
        #expect(v == [0x123, -2, -2048])
    }
}

@Suite struct EDFReaderTests {
    @Test func matchesTheEdfioPackage() throws {
        let rec = try RecordingReader.read(vitalsFixtures.appendingPathComponent("rec.edf").path)
        let expected = try expectedColumns("rec.edf.expected.csv")
        #expect(rec.sampleRate == 360)
        #expect(rec.channels.map(\.name) == ["MLII", "INV"])
        #expect(rec.channels[0].unit == "mV")
        for k in 0..<2 {
            #expect(rec.channels[k].samples.count == 720)
            let worst = zip(rec.channels[k].samples, expected[k]).map { abs(Double($0) - $1) }.max()!
            #expect(worst < 2e-6, "signal \(k) differs from edfio by \(worst)")
        }
    }

    @Test func truncatedEDFNamesTheByte() throws {
        let bytes = [UInt8](try Data(contentsOf: vitalsFixtures.appendingPathComponent("rec.edf")))
        do { _ = try EDFReader.decode(Array(bytes.prefix(bytes.count - 10)), name: "x.edf"); Issue.record("accepted") } catch {
            #expect(error.detail.contains("x.edf: byte") && error.detail.contains("truncated"))
        }
        var wrongVersion = bytes
        wrongVersion[0] = UInt8(ascii: "9")
        #expect(throws: SensorsError.self) { try EDFReader.decode(wrongVersion, name: "x.edf") }
        #expect(throws: SensorsError.self) { try EDFReader.decode(Array(bytes.prefix(100)), name: "x.edf") }
    }
}

@Suite struct CSVAndNPYReaderTests {
    func write(_ text: String, _ name: String) throws -> String {
        let url = try scratchDirectory().appendingPathComponent(name)
        try text.write(to: url, atomically: true, encoding: .utf8)
        return url.path
    }

    @Test func timeColumnGivesTheRate() throws {
        let path = try write("time,ecg,ppg\n0,1.5,10\n0.004,2.5,\n0.008,3.5,12\n", "a.csv")
        let rec = try CSVReader.read(path)
        #expect(abs(rec.sampleRate - 250) < 1e-9)
        #expect(rec.channels.map(\.name) == ["ecg", "ppg"])
        #expect(rec.channels[0].samples == [1.5, 2.5, 3.5])
        #expect(rec.channels[1].samples[1].isNaN)
        let ms = try write("timer,hr\n0,5\n10,6\n20,7\n", "b.csv")
        #expect(try CSVReader.read(ms, options: .init(timeColumn: "timer", timeScale: 0.001)).sampleRate == 100)
    }

    @Test func headerlessFileNumbersItsColumns() throws {
        let path = try write("530\n518\n506\n", "c.csv")
        let rec = try RecordingReader.read(path, options: .init(sampleRate: 100, columns: ["1"]))
        #expect(rec.channels.first?.samples == [530, 518, 506])
    }

    @Test func errorsNameLineAndColumn() throws {
        let path = try write("time,ecg\n0,1\n0.1,x\n", "d.csv")
        do { _ = try CSVReader.read(path); Issue.record("accepted") } catch {
            #expect(error.detail.contains("d.csv:3") && error.detail.contains("'ecg'"))
        }
        let back = try write("time,ecg\n0,1\n0,2\n", "e.csv")
        do { _ = try CSVReader.read(back); Issue.record("accepted") } catch { #expect(error.detail.contains("e.csv:3")) }
        let norate = try write("ecg\n1\n2\n", "f.csv")
        #expect(throws: SensorsError.self) { try CSVReader.read(norate) }
        let ragged = try write("a,b\n1,2\n3\n", "g.csv")
        do { _ = try CSVReader.read(ragged, options: .init(sampleRate: 10)); Issue.record("accepted") } catch { #expect(error.detail.contains("g.csv:3")) }
    }

    /// An .npy file built by hand from the format description.
    func npy(_ descr: String, shape: String, fortran: Bool = false, payload: [UInt8]) -> [UInt8] {
        var header = "{'descr': '\(descr)', 'fortran_order': \(fortran ? "True" : "False"), 'shape': \(shape), }"
        while (10 + header.utf8.count + 1) % 64 != 0 { header += " " }
        header += "\n"
        let len = header.utf8.count
        return [0x93] + Array("NUMPY".utf8) + [1, 0, UInt8(len & 0xFF), UInt8(len >> 8)] + Array(header.utf8) + payload
    }

    @Test func npyOneAndTwoDimensions() throws {
        let values: [Float] = [1, -2, 3.5, 4, 5, 6]
        let bytes = values.flatMap { v in withUnsafeBytes(of: v.bitPattern.littleEndian) { Array($0) } }
        let one = try NPYReader.decode(npy("<f4", shape: "(6,)", payload: bytes), sampleRate: 360, name: "x.npy")
        #expect(one.channels.count == 1 && one.channels[0].samples == values)
        let two = try NPYReader.decode(npy("<f4", shape: "(3, 2)", payload: bytes), sampleRate: 360, name: "x.npy")
        #expect(two.channels.map(\.samples) == [[1, 3.5, 5], [-2, 4, 6]])
        let f = try NPYReader.decode(npy("<f4", shape: "(3, 2)", fortran: true, payload: bytes), sampleRate: 360, name: "x.npy")
        #expect(f.channels.map(\.samples) == [[1, -2, 3.5], [4, 5, 6]])
        let i16 = try NPYReader.decode(npy("<i2", shape: "(2,)", payload: [0xFF, 0xFF, 0x02, 0x00]), sampleRate: 1, name: "x.npy")
        #expect(i16.channels[0].samples == [-1, 2])
    }

    @Test func npyErrorsNameTheProblem() {
        let short = npy("<f4", shape: "(10,)", payload: [0, 0, 0, 0])
        do { _ = try NPYReader.decode(short, sampleRate: 1, name: "y.npy"); Issue.record("accepted") } catch {
            #expect(error.detail.contains("y.npy: byte \(short.count - 4):") && error.detail.contains("needs"))
        }
        #expect(throws: SensorsError.self) { try NPYReader.decode([1, 2, 3], sampleRate: 1, name: "y.npy") }
        #expect(throws: SensorsError.self) { try NPYReader.decode(npy(">f4", shape: "(1,)", payload: [0, 0, 0, 0]), sampleRate: 1, name: "y.npy") }
        #expect(throws: SensorsError.self) { try NPYReader.decode(npy("<f4", shape: "(1, 1, 1)", payload: [0, 0, 0, 0]), sampleRate: 1, name: "y.npy") }
    }

    @Test func unknownExtensionAndMissingRate() throws {
        #expect(throws: SensorsError.self) { try RecordingReader.read("/nonexistent/file.wav") }
        #expect(throws: SensorsError.self) { try RecordingReader.read("/nonexistent/file.npy") }
        #expect(throws: SensorsError.self) { try RecordingReader.read("/nonexistent/file.csv", options: .init(sampleRate: 1)) }
    }
}

@Suite struct ReplayTests {
    @Test func blocksCoverTheRecordingInOrder() async throws {
        let rec = Recording(sampleRate: 100, channels: [Channel(name: "a", unit: "", samples: (0..<250).map(Float.init))])
        let replay = try RecordingReplay(rec, blockSize: 100)
        var seen: [Float] = []
        try await replay.run { seen += $0.channels[0] }
        #expect(seen == rec.channels[0].samples)
        #expect(replay.blocks.map(\.start) == [0, 100, 200])
    }

    @Test func realTimePacingTakesTheRecordingsDuration() async throws {
        let rec = Recording(sampleRate: 100, channels: [Channel(name: "a", unit: "", samples: [Float](repeating: 0, count: 20))])
        let replay = try RecordingReplay(rec, blockSize: 5, pacing: .realTime(speed: 1))
        let clock = ContinuousClock()
        let t = try await clock.measure { try await replay.run { _ in } }
        // The lower bound is the pacing check; the upper bound only catches a stall. It is loose:
        // parallel tests on a loaded 2-core machine delay wake-ups, and one CI run (2026-11-23,
        // load from three other builds) saw every async test of the process wait about 28 s.
        #expect(t >= .milliseconds(195) && t < .seconds(60))
        #expect(throws: SensorsError.self) { try RecordingReplay(rec, blockSize: 0) }
    }
}
