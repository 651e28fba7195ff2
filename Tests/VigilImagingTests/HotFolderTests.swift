import Testing
import Foundation
@testable import VigilImaging

/// Collects what the handler saw, across threads.
final class Seen: @unchecked Sendable {  // all access under `lock`
    let lock = NSLock()
    var names: [String] = []
    func add(_ n: String) { lock.lock(); names.append(n); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return names }
}

@Suite struct HotFolderTests {
    @Test func rescansThenWatchesAndFilesAway() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("vigil-hot-\(getpid())-\(UInt32.random(in: 0...UInt32.max))").path
        try FileManager.default.createDirectory(atPath: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: dir) }
        let valid = DicomBuilder(syntax: .explicitLE).file(pixelModule(rows: 1, cols: 2, bitsAllocated: 16) + [pixelData16([1, 2], little: true)])
        // Present before start: picked up by the rescan.
        try Data(valid).write(to: URL(fileURLWithPath: dir + "/early.dcm"))
        try Data("not dicom".utf8).write(to: URL(fileURLWithPath: dir + "/junk.dcm"))

        let seen = Seen()
        let folder = try HotFolder(path: dir) { path, image in
            seen.add((path as NSString).lastPathComponent)
            if image.columns != 2 { throw ImagingError(.invalidArgument, "unexpected size") }
            if path.hasSuffix("reject.dcm") { throw ImagingError(.invalidArgument, "handler rejects this one") }
        }
        let thread = Thread { try? folder.run() }
        thread.start()
        // Arriving while running: written in place, and written under .part then renamed in.
        Thread.sleep(forTimeInterval: 0.3)
        try Data(valid).write(to: URL(fileURLWithPath: dir + "/late.dcm"))
        try Data(valid).write(to: URL(fileURLWithPath: dir + "/moved.dcm.part"))
        try FileManager.default.moveItem(atPath: dir + "/moved.dcm.part", toPath: dir + "/moved.dcm")
        try Data(valid).write(to: URL(fileURLWithPath: dir + "/reject.dcm"))

        let fm = FileManager.default
        let deadline = Date().addingTimeInterval(10)
        func done() -> [String] { ((try? fm.contentsOfDirectory(atPath: dir + "/done")) ?? []).sorted() }
        func failed() -> [String] { ((try? fm.contentsOfDirectory(atPath: dir + "/failed")) ?? []).sorted() }
        while Date() < deadline && (done().count < 3 || failed().count < 4) { Thread.sleep(forTimeInterval: 0.05) }
        folder.cancel()
        let stopDeadline = Date().addingTimeInterval(5)
        while !thread.isFinished && Date() < stopDeadline { Thread.sleep(forTimeInterval: 0.05) }
        #expect(thread.isFinished)

        #expect(done() == ["early.dcm", "late.dcm", "moved.dcm"])
        #expect(failed() == ["junk.dcm", "junk.dcm.reason.txt", "reject.dcm", "reject.dcm.reason.txt"])
        let reason = try String(contentsOfFile: dir + "/failed/junk.dcm.reason.txt", encoding: .utf8)
        #expect(reason.contains("not-dicom"))
        let reject = try String(contentsOfFile: dir + "/failed/reject.dcm.reason.txt", encoding: .utf8)
        #expect(reject.contains("handler rejects this one"))
        #expect(Set(seen.all) == ["early.dcm", "late.dcm", "moved.dcm", "reject.dcm"])
        #expect(try fm.contentsOfDirectory(atPath: dir).sorted() == ["done", "failed"])
    }
}
