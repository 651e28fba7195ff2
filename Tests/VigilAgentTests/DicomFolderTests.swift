import Foundation
import Logging
import Testing
@testable import VigilAgent

/// A minimal Explicit VR Little Endian Part 10 file: `rows` x `cols` MONOCHROME2, 16-bit unsigned.
func tinyDicom(rows: UInt16, cols: UInt16, pixel: (Int, Int) -> UInt16) -> [UInt8] {
    var out = [UInt8](repeating: 0, count: 128) + Array("DICM".utf8)
    func tag(_ g: UInt16, _ e: UInt16) { out += [UInt8(g & 0xff), UInt8(g >> 8), UInt8(e & 0xff), UInt8(e >> 8)] }
    func short(_ g: UInt16, _ e: UInt16, _ vr: String, _ value: [UInt8]) {
        var v = value
        if v.count % 2 == 1 { v.append(vr == "UI" ? 0 : 0x20) }
        tag(g, e); out += Array(vr.utf8); out += [UInt8(v.count & 0xff), UInt8(v.count >> 8)]; out += v
    }
    func us(_ g: UInt16, _ e: UInt16, _ x: UInt16) { short(g, e, "US", [UInt8(x & 0xff), UInt8(x >> 8)]) }
    var meta: [UInt8] = []
    swap(&out, &meta)
    short(0x0002, 0x0002, "UI", Array("1.2.840.10008.5.1.4.1.1.7".utf8))
    short(0x0002, 0x0003, "UI", Array("1.2.3.4".utf8))
    short(0x0002, 0x0010, "UI", Array("1.2.840.10008.1.2.1".utf8))
    swap(&out, &meta)
    // (0002,0001) is OB, whose explicit-VR header has a 4-byte length.
    meta = [0x02, 0x00, 0x01, 0x00] + Array("OB".utf8) + [0, 0, 2, 0, 0, 0, 0, 1] + meta
    short(0x0002, 0x0000, "UL", [UInt8(meta.count & 0xff), UInt8((meta.count >> 8) & 0xff), 0, 0])
    out += meta
    short(0x0008, 0x0060, "CS", Array("OT".utf8))
    us(0x0028, 0x0002, 1)
    short(0x0028, 0x0004, "CS", Array("MONOCHROME2".utf8))
    us(0x0028, 0x0010, rows)
    us(0x0028, 0x0011, cols)
    us(0x0028, 0x0100, 16)
    us(0x0028, 0x0101, 16)
    us(0x0028, 0x0102, 15)
    us(0x0028, 0x0103, 0)
    var pixels: [UInt8] = []
    for r in 0..<Int(rows) { for c in 0..<Int(cols) { let v = pixel(r, c); pixels += [UInt8(v & 0xff), UInt8(v >> 8)] } }
    tag(0x7FE0, 0x0010); out += Array("OW".utf8) + [0, 0]
    let n = UInt32(pixels.count)
    out += [UInt8(n & 0xff), UInt8((n >> 8) & 0xff), UInt8((n >> 16) & 0xff), UInt8(n >> 24)]
    out += pixels
    return out
}

@Suite(.serialized) struct DicomFolderTests {
    /// A file dropped into the folder is classified (prediction to the sinks) and moved to done/;
    /// a file that is not DICOM goes to failed/ with its reason.
    @Test func hotFolderIntoAModel() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-hot-\(getpid())")
        try? FileManager.default.removeItem(at: dir)
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        let yaml = """
            device: {site: test, id: bed-3, patient: Patient/pseudo-3}
            pipelines:
              - {name: ct, kind: dicom-folder, folder: \(dir.path), model: \(repoRoot)/Models/test/op-coverage.vigil}
            state_dir: \(dir.path)/state
            """
        let config = try AgentConfiguration.parse(yaml, file: "t.yaml")
        let sink = CollectingSink()
        var logger = Logger(label: "test")
        logger.logLevel = .warning
        let agent = Agent(configuration: config, logger: logger, sinks: [sink])
        let run = Task { try await agent.run(duration: 6) }
        try await Task.sleep(for: .seconds(1))
        try Data(tinyDicom(rows: 20, cols: 24) { r, c in UInt16(r * 100 + c) }).write(to: dir.appendingPathComponent("a.dcm.part"))
        try FileManager.default.moveItem(at: dir.appendingPathComponent("a.dcm.part"), to: dir.appendingPathComponent("a.dcm"))
        try Data("not a dicom file".utf8).write(to: dir.appendingPathComponent("b.dcm"))
        try await run.value
        let predictions = await sink.predictions
        #expect(predictions.count == 1)
        #expect(predictions.first?.model.id == "op-coverage" && predictions.first?.scores.count == 5)
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("done/a.dcm").path))
        #expect(FileManager.default.fileExists(atPath: dir.appendingPathComponent("failed/b.dcm.reason.txt").path))
    }
}
