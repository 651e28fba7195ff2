import Testing
@testable import VigilImaging

/// A 3 x 4 signed 16-bit image whose values cover negatives, zero and the extremes.
let values16: [Int16] = [-32768, -1, 0, 1, 100, -100, 32767, 1234, -1234, 7, -7, 2]

func image(_ syntax: Syntax, extra: [El] = [], pixels: El? = nil, module: [El]? = nil) throws -> DicomImage {
    let b = DicomBuilder(syntax: syntax)
    let raw = values16.map { UInt16(bitPattern: $0) }
    let px: El
    if let pixels {
        px = pixels
    } else if syntax == .rle {
        px = El(tag: 0x7FE0_0010, vr: "OB", fragments: [[], rleFrame16(raw, spp: 1)])
    } else {
        px = pixelData16(raw, little: syntax.little)
    }
    let elements = (module ?? pixelModule(rows: 3, cols: 4, bitsAllocated: 16, signed: true)) + extra + [px]
    return try DicomImage(bytes: b.file(elements))
}

@Suite struct TransferSyntaxTests {
    @Test(arguments: [Syntax.implicitLE, .explicitLE, .explicitBE, .deflated, .rle])
    func decodesEachSyntax(_ syntax: Syntax) throws {
        let img = try image(syntax)
        #expect(img.transferSyntaxUID == syntax.rawValue)
        #expect(img.rows == 3 && img.columns == 4 && img.frames == 1)
        let px = try img.pixels(stage: .stored)
        #expect(px.shape == [3, 4])
        #expect(px.storage == .int16(values16))
    }

    @Test func compressedSyntaxIsRefusedByName() {
        let bytes = DicomBuilder(syntax: .jpegBaseline).file(
            pixelModule(rows: 2, cols: 2, bitsAllocated: 8) + [El(tag: 0x7FE0_0010, vr: "OB", fragments: [[], [0xFF, 0xD8, 0xFF, 0xD9]])])
        #expect {
            try DicomImage(bytes: bytes)
        } throws: { e in
            let e = e as! ImagingError
            return e.code == .unsupportedTransferSyntax && e.detail.contains("1.2.840.10008.1.2.4.50")
                && e.detail.contains("JPEG Baseline (Process 1)")
        }
    }

    @Test func rleMultiFrameRGB() throws {
        // 2 frames of 2 x 3 RGB, 16-bit, with a long replicate run in the last frame.
        let f0: [UInt16] = (0..<18).map { UInt16($0 * 1000) }
        let f1: [UInt16] = [UInt16](repeating: 0xABCD, count: 18)
        let px = El(tag: 0x7FE0_0010, vr: "OB", fragments: [[], rleFrame16(f0, spp: 3), rleFrame16(f1, spp: 3)])
        let img = try image(.rle, pixels: px,
                            module: pixelModule(rows: 2, cols: 3, bitsAllocated: 16, spp: 3, photometric: "RGB", planar: 0, frames: 2))
        let out = try img.pixels()
        #expect(out.shape == [2, 2, 3, 3])
        #expect(out.storage == .uint16(f0 + f1))
    }

    @Test func planarConfigurationIsInterleaved() throws {
        // Planar: all R, then all G, then all B (2 pixels).
        let planarBytes: [UInt8] = [10, 11, 20, 21, 30, 31]
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: planarBytes)
        let img = try image(.explicitLE, pixels: px,
                            module: pixelModule(rows: 1, cols: 2, bitsAllocated: 8, spp: 3, photometric: "RGB", planar: 1))
        #expect(try img.pixels().storage == .uint8([10, 20, 30, 11, 21, 31]))
        #expect(try img.pixels().shape == [1, 2, 3])
    }

    @Test func multiFrameShape() throws {
        let raw: [UInt16] = (0..<12).map { UInt16($0) }
        let img = try image(.explicitLE, pixels: pixelData16(raw, little: true),
                            module: pixelModule(rows: 2, cols: 2, bitsAllocated: 16, frames: 3))
        let px = try img.pixels()
        #expect(img.frames == 3)
        #expect(px.shape == [3, 2, 2])
        #expect(px.storage == .uint16(raw))
    }

    @Test func eightBitOWInBigEndianIsSwappedPairwise() throws {
        // Three 8-bit samples 1, 2, 3 written as OW big endian: 02 01 00 03 (padding byte displaced).
        let px = El(tag: 0x7FE0_0010, vr: "OW", value: [2, 1, 0, 3])
        let img = try image(.explicitBE, pixels: px, module: pixelModule(rows: 1, cols: 3, bitsAllocated: 8))
        #expect(try img.pixels().storage == .uint8([1, 2, 3]))
    }

    @Test func oneBitPixelsUnpackLSBFirst() throws {
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: [0b1000_0101, 0b0000_0001])
        let img = try image(.explicitLE, pixels: px, module: pixelModule(rows: 3, cols: 3, bitsAllocated: 1))
        #expect(try img.pixels().storage == .uint8([1, 0, 1, 0, 0, 0, 0, 1, 1]))
    }
}

@Suite struct SequenceTests {
    /// A sequence of undefined length holding undefined-length items, one with a nested sequence.
    func nestedSequence(undefined: Bool) -> El {
        let inner = El(tag: 0x0040_A730, vr: "SQ", items: [[.text(0x0040_A040, "CS", "TEXT")]],
                       undefined: undefined, undefinedItems: undefined)
        return El(tag: 0x0008_1140, vr: "SQ",
                  items: [[.text(0x0008_1150, "UI", "1.2.3"), inner], [], [.text(0x0008_1155, "UI", "1.2.3.4")]],
                  undefined: undefined, undefinedItems: undefined)
    }

    @Test(arguments: [Syntax.implicitLE, .explicitLE, .explicitBE, .deflated])
    func undefinedLengthSequencesAreSkippedCorrectly(_ syntax: Syntax) throws {
        for undefined in [true, false] {
            let img = try image(syntax, extra: [nestedSequence(undefined: undefined)])
            #expect(try img.pixels().storage == .int16(values16))
            let seq = try #require(img.dataSet[0x0008_1140])
            #expect(seq.items?.count == 3 || syntax == .implicitLE && !undefined)
        }
    }

    @Test func undefinedLengthUNIsAnImplicitSequence() throws {
        // PS3.5 6.2.2: UN of undefined length holds an Implicit VR Little Endian sequence.
        let implicitItem = DicomBuilder(syntax: .implicitLE).encode(.text(0x0008_0100, "SH", "CODE"), explicit: false, little: true)
        var body: [UInt8] = [0xFE, 0xFF, 0x00, 0xE0, 0xFF, 0xFF, 0xFF, 0xFF] + implicitItem + [0xFE, 0xFF, 0x0D, 0xE0, 0, 0, 0, 0]
        body += [0xFE, 0xFF, 0xDD, 0xE0, 0, 0, 0, 0]
        // Hand-written: tag (0009,1010), UN, reserved, undefined length, then the body.
        let header: [UInt8] = [0x09, 0x00, 0x10, 0x10, 0x55, 0x4E, 0, 0, 0xFF, 0xFF, 0xFF, 0xFF]
        let un = El(tag: 0x0009_1010, vr: "XX", value: header + body)
        var bytes = DicomBuilder(syntax: .explicitLE).file(pixelModule(rows: 3, cols: 4, bitsAllocated: 16, signed: true)
            + [pixelData16(values16.map { UInt16(bitPattern: $0) }, little: true)])
        // Splice the raw UN element in before (0028,xxxx): find the first (0028,0002) tag.
        let at = try #require(firstIndex(of: [0x28, 0x00, 0x02, 0x00], in: bytes))
        bytes.insert(contentsOf: un.value, at: at)
        let img = try DicomImage(bytes: bytes)
        #expect(img.dataSet[0x0009_1010]?.items?.count == 1)
        #expect(try img.pixels().storage == .int16(values16))
    }
}

func firstIndex(of needle: [UInt8], in hay: [UInt8]) -> Int? {
    guard hay.count >= needle.count else { return nil }
    for i in 0...(hay.count - needle.count) where Array(hay[i..<(i + needle.count)]) == needle { return i }
    return nil
}

@Suite struct BitDepthTests {
    @Test func signExtensionFromBitsStored() throws {
        // 12 bits stored in 16, signed: 0x0FFF is -1, 0x0800 is -2048, 0x07FF is 2047; garbage in the
        // top nibble (0xF123 -> 0x123 = 291) is ignored.
        let raw: [UInt16] = [0x0FFF, 0x0800, 0x07FF, 0xF123]
        let img = try image(.explicitLE, pixels: pixelData16(raw, little: true),
                            module: pixelModule(rows: 2, cols: 2, bitsAllocated: 16, bitsStored: 12, signed: true))
        #expect(try img.pixels().storage == .int16([-1, -2048, 2047, 291]))
    }

    @Test func unsignedHighBitsAreMasked() throws {
        let raw: [UInt16] = [0xF123, 0x0FFF, 0x1000, 0x8001]
        let img = try image(.explicitBE, pixels: pixelData16(raw, little: false),
                            module: pixelModule(rows: 2, cols: 2, bitsAllocated: 16, bitsStored: 12))
        #expect(try img.pixels().storage == .uint16([0x123, 0xFFF, 0, 1]))
    }

    @Test func eightAndThirtyTwoBits() throws {
        let px8 = El(tag: 0x7FE0_0010, vr: "OB", value: [0x7F, 0x80, 0xFF, 0x1F])
        let s8 = try image(.explicitLE, pixels: px8, module: pixelModule(rows: 2, cols: 2, bitsAllocated: 8, bitsStored: 5, signed: true))
        // 5 bits: 0x1F -> -1 ; 0x00 -> 0 ; 0x1F -> -1 ; 0x1F -> -1 (top bits dropped)
        #expect(try s8.pixels().storage == .int8([-1, 0, -1, -1]))
        let px32 = El(tag: 0x7FE0_0010, vr: "OB", value: [1, 0, 0, 0x80, 0xFF, 0xFF, 0xFF, 0xFF])
        let u32 = try image(.explicitLE, pixels: px32, module: pixelModule(rows: 1, cols: 2, bitsAllocated: 32))
        #expect(try u32.pixels().storage == .uint32([0x8000_0001, 0xFFFF_FFFF]))
        let i32 = try image(.explicitLE, pixels: px32, module: pixelModule(rows: 1, cols: 2, bitsAllocated: 32, signed: true))
        #expect(try i32.pixels().storage == .int32([Int32(bitPattern: 0x8000_0001), -1]))
    }
}

@Suite struct ValueStageTests {
    let rescale: [El] = [.text(0x0028_1053, "DS", "2.5"), .text(0x0028_1052, "DS", "-1024")]

    @Test func modalityLUTIsSlopeThenIntercept() throws {
        let img = try image(.explicitLE, extra: rescale)
        let m = try img.pixels(stage: .modality)
        #expect(m.storage == .float64(values16.map { Double($0) * 2.5 - 1024 }))
        #expect(m.shape == [3, 4])
    }

    @Test func linearWindowAsInPS3_3() throws {
        // Unsigned 8-bit, window center 100 width 51: below 75 -> 0, above 125 -> 255,
        // else ((x - 99.5) / 50 + 0.5) * 255 (PS3.3 C.11.2.1.2.1).
        let stored: [UInt8] = [0, 75, 76, 100, 125, 126, 200, 99]
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: stored)
        let img = try image(.explicitLE, extra: [.text(0x0028_1050, "DS", "100"), .text(0x0028_1051, "DS", "51")],
                            pixels: px, module: pixelModule(rows: 2, cols: 4, bitsAllocated: 8))
        let expected = stored.map { v -> Double in
            let x = Double(v)
            if x <= 99.5 - 25 { return 0 }
            if x > 99.5 + 25 { return 255 }
            return ((x - 99.5) / 50 + 0.5) * 255
        }
        #expect(try img.pixels(stage: .voi).storage == .float64(expected))
        #expect(expected[3] == 127.5 + 0.5 / 50 * 255)
        // An override window replaces the file's.
        let wide = try img.pixels(stage: .voi, window: Window(center: 128, width: 256))
        #expect(wide.doubles()[0] == ((0 - 127.5) / 255 + 0.5) * 255)
    }

    @Test func monochrome1KeepsStoredValuesAndThePipelineInvertsThem() throws {
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: [0, 255, 10, 245])
        let img = try image(.explicitLE, pixels: px, module: pixelModule(rows: 2, cols: 2, bitsAllocated: 8, photometric: "MONOCHROME1"))
        #expect(img.photometric == "MONOCHROME1")
        #expect(try img.pixels().storage == .uint8([0, 255, 10, 245]))
        let p = ImagePreprocessing(stage: .stored, height: 2, width: 2)
        #expect(try p.apply(to: img) == [255, 0, 245, 10])
        var keep = p
        keep.invertMonochrome1 = false
        #expect(try keep.apply(to: img) == [0, 255, 10, 245])
    }

    @Test func windowOnColourIsRefused() throws {
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: [1, 2, 3])
        let img = try image(.explicitLE, extra: [.text(0x0028_1050, "DS", "1"), .text(0x0028_1051, "DS", "2")], pixels: px,
                            module: pixelModule(rows: 1, cols: 1, bitsAllocated: 8, spp: 3, photometric: "RGB", planar: 0))
        #expect(throws: ImagingError.self) { try img.pixels(stage: .voi) }
    }
}

@Suite struct FixtureFileTests {
    static let dir: String = {
        var p = "\(#filePath)".split(separator: "/", omittingEmptySubsequences: false).dropLast(2).joined(separator: "/")
        p += "/Fixtures/dicom"
        return p
    }()

    @Test(arguments: [
        ("ct_explicit_le_sq.dcm", [8, 8], "1.2.840.10008.1.2.1"),
        ("ct_implicit.dcm", [8, 8], "1.2.840.10008.1.2"),
        ("rgb_big_endian.dcm", [4, 5, 3], "1.2.840.10008.1.2.2"),
        ("mono1_deflated.dcm", [6, 6], "1.2.840.10008.1.2.1.99"),
        ("rle_2frame.dcm", [2, 4, 4], "1.2.840.10008.1.2.5"),
    ])
    func readsCommittedFixtures(_ name: String, _ shape: [Int], _ uid: String) throws {
        let img = try DicomFile.read(path: Self.dir + "/" + name)
        #expect(img.transferSyntaxUID == uid)
        for stage in PixelStage.allCases where !(stage == .voi && img.samplesPerPixel == 3 && !img.windows.isEmpty) {
            #expect(try img.pixels(stage: stage).shape == shape)
        }
        let t = try ImagePreprocessing(height: 3, width: 3, channels: 3).apply(to: img, frame: img.frames - 1)
        #expect(t.count == 27 && t.allSatisfy { $0.isFinite })
    }

    @Test func rleFrameIsConstant() throws {
        // The second frame was written as a constant 500 (Tools/imaging/make_fixtures.py).
        let img = try DicomFile.read(path: Self.dir + "/rle_2frame.dcm")
        guard case .uint16(let v) = try img.pixels().storage else { Issue.record("dtype"); return }
        #expect(v[16...].allSatisfy { $0 == 500 })
    }
}
