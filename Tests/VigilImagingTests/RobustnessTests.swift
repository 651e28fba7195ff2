import Testing
@testable import VigilImaging

@Suite struct RobustnessTests {
    func validFile(_ syntax: Syntax) -> [UInt8] {
        let seq = El(tag: 0x0008_1140, vr: "SQ", items: [[.text(0x0008_1150, "UI", "1.2.3")], []],
                     undefined: true, undefinedItems: true)
        let px: El = syntax == .rle
            ? El(tag: 0x7FE0_0010, vr: "OB", fragments: [[], rleFrame16([1, 2, 3, 4, 5, 6], spp: 1)])
            : pixelData16([1, 2, 3, 4, 5, 6], little: syntax.little)
        return DicomBuilder(syntax: syntax).file(
            pixelModule(rows: 2, cols: 3, bitsAllocated: 16) + [seq, .text(0x0028_1050, "DS", "3"), .text(0x0028_1051, "DS", "4"), px])
    }

    /// Every prefix of a small valid file is an error, never a crash (and never a silent success:
    /// pixel data is the last element, so a shorter file always lacks some of it).
    @Test(arguments: [Syntax.implicitLE, .explicitLE, .explicitBE, .deflated, .rle])
    func truncatedAtEveryOffsetIsAnError(_ syntax: Syntax) throws {
        let full = validFile(syntax)
        let img = try DicomImage(bytes: full)
        #expect(try img.pixels(stage: .voi).count == 6)
        for n in 0..<full.count {
            let prefix = Array(full[0..<n])
            do {
                let img = try DicomImage(bytes: prefix)
                _ = try img.pixels(stage: .voi)
                Issue.record("prefix of \(n) of \(full.count) bytes decoded without an error")
            } catch {
                #expect(!error.detail.isEmpty)
            }
        }
    }

    /// Every single-byte corruption either decodes or fails with an ImagingError (no trap).
    @Test func everyByteFlipIsHandled() throws {
        let full = validFile(.explicitLE)
        for i in 0..<full.count {
            for v: UInt8 in [0x00, 0xFF, full[i] ^ 0x80] {
                var b = full
                b[i] = v
                _ = try? DicomImage(bytes: b).pixels(stage: .voi)
            }
        }
    }

    @Test func lengthPastEndNamesTagAndOffset() throws {
        var bytes = validFile(.explicitLE)
        // The Window Center element: "DS" then a 2-byte length; make the length huge.
        let at = try #require(firstIndex(of: [0x28, 0x00, 0x50, 0x10, 0x44, 0x53], in: bytes))
        bytes[at + 6] = 0xFF
        bytes[at + 7] = 0x7F
        #expect {
            try DicomImage(bytes: bytes)
        } throws: { e in
            let e = e as! ImagingError
            return e.code == .truncated && e.detail.contains("(0028,1050)") && e.detail.contains("offset \(at)")
        }
    }

    @Test func shortPixelDataNamesTheTag() throws {
        let bytes = DicomBuilder(syntax: .explicitLE).file(
            pixelModule(rows: 4, cols: 4, bitsAllocated: 16) + [pixelData16([1, 2, 3], little: true)])
        let img = try DicomImage(bytes: bytes)
        #expect {
            try img.pixels()
        } throws: { e in
            let e = e as! ImagingError
            return e.code == .truncated && e.detail.contains("(7FE0,0010)") && e.detail.contains("need 32")
        }
    }

    @Test func absurdDimensionsAreRefusedBeforeAllocating() throws {
        let bytes = DicomBuilder(syntax: .explicitLE).file(
            pixelModule(rows: 65535, cols: 65535, bitsAllocated: 32, spp: 3, photometric: "RGB", planar: 0, frames: 1000)
                + [pixelData16([1, 2], little: true)])
        #expect {
            try DicomImage(bytes: bytes)
        } throws: { e in (e as! ImagingError).code == .tooLarge }
        let zero = DicomBuilder(syntax: .explicitLE).file(pixelModule(rows: 0, cols: 4, bitsAllocated: 16) + [pixelData16([], little: true)])
        #expect(throws: ImagingError.self) { try DicomImage(bytes: zero) }
    }

    @Test func rleWithLyingSegmentOffsetsIsAnError() throws {
        var frame = rleFrame16([1, 2, 3, 4, 5, 6], spp: 1)
        frame[8] = 0xF0  // second segment offset past the frame
        let bytes = DicomBuilder(syntax: .rle).file(
            pixelModule(rows: 2, cols: 3, bitsAllocated: 16) + [El(tag: 0x7FE0_0010, vr: "OB", fragments: [[], frame])])
        let img = try DicomImage(bytes: bytes)
        #expect(throws: ImagingError.self) { try img.pixels() }
    }

    @Test func notDicomAndDeepNesting() throws {
        #expect { try DicomImage(bytes: [UInt8](repeating: 0, count: 200)) } throws: { ($0 as! ImagingError).code == .notDicom }
        // 100 nested undefined-length sequences: refused past the depth limit, not a stack overflow.
        var el = El(tag: 0x0008_1140, vr: "SQ", items: [[]], undefined: true, undefinedItems: true)
        for _ in 0..<100 { el = El(tag: 0x0008_1140, vr: "SQ", items: [[el]], undefined: true, undefinedItems: true) }
        let bytes = DicomBuilder(syntax: .explicitLE).file(pixelModule(rows: 1, cols: 1, bitsAllocated: 16) + [el, pixelData16([1], little: true)])
        #expect { try DicomImage(bytes: bytes) } throws: { ($0 as! ImagingError).code == .malformed }
    }

    @Test func missingFileIsAnIOError() {
        #expect { try DicomFile.read(path: "/nonexistent/x.dcm") } throws: { ($0 as! ImagingError).code == .io }
    }
}

@Suite struct NPYTests {
    @Test func headerAndPayload() {
        let a = PixelArray(shape: [2, 3], storage: .uint16([1, 2, 3, 4, 5, 0xFFFF]))
        let b = a.npyBytes()
        #expect(Array(b[0..<8]) == [0x93, 0x4E, 0x55, 0x4D, 0x50, 0x59, 1, 0])
        let headerLength = Int(b[8]) | Int(b[9]) << 8
        #expect((10 + headerLength) % 64 == 0)
        let header = String(decoding: b[10..<(10 + headerLength)], as: UTF8.self)
        #expect(header.hasPrefix("{'descr': '<u2', 'fortran_order': False, 'shape': (2, 3), }"))
        #expect(Array(b[(10 + headerLength)...]) == [1, 0, 2, 0, 3, 0, 4, 0, 5, 0, 0xFF, 0xFF])
    }
}
