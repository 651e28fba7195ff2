import Testing
@testable import VigilImaging

@Suite struct ResizeTests {
    func resize1D(_ v: [Double], to n: Int) -> [Double] {
        resizePlane(v, height: 1, width: v.count, outHeight: 1, outWidth: n)
    }

    @Test func areaAveragingHalves() {
        #expect(resize1D([1, 2, 3, 4], to: 2) == [1.5, 3.5])
    }

    @Test func areaAveragingWithFractionalCoverage() {
        // 3 -> 2: each output covers 1.5 inputs: (a0 + a1/2) / 1.5 and (a1/2 + a2) / 1.5.
        let out = resize1D([3, 6, 9], to: 2)
        #expect(abs(out[0] - 4) < 1e-12)
        #expect(abs(out[1] - 8) < 1e-12)
    }

    @Test func bilinearUpscaleHalfPixelCenters() {
        // 2 -> 4: source positions -0.25 (clamped to 0), 0.25, 0.75, 1.25 (clamped to 1).
        #expect(resize1D([0, 4], to: 4) == [0, 1, 3, 4])
    }

    @Test func twoDimensionalAreaAndMixedAxes() {
        // 4 x 4 -> 2 x 2 area: means of 2 x 2 blocks.
        let plane: [Double] = [1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16]
        #expect(resizePlane(plane, height: 4, width: 4, outHeight: 2, outWidth: 2) == [3.5, 5.5, 11.5, 13.5])
        // 2 x 2 -> 1 x 4: rows averaged (area), columns interpolated (bilinear).
        #expect(resizePlane([0, 4, 2, 6], height: 2, width: 2, outHeight: 1, outWidth: 4) == [1, 2, 4, 5])
    }

    @Test func identity() {
        let p: [Double] = [1, 2, 3, 4, 5, 6]
        #expect(resizePlane(p, height: 2, width: 3, outHeight: 2, outWidth: 3) == p)
    }
}

@Suite struct PipelineTests {
    /// A 2 x 4 unsigned 8-bit image 0...7.
    func grey() throws -> DicomImage {
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: [0, 1, 2, 3, 4, 5, 6, 7])
        return try image(.explicitLE, pixels: px, module: pixelModule(rows: 2, cols: 4, bitsAllocated: 8))
    }

    @Test func stretchNormalizeAndLayouts() throws {
        let img = try grey()
        var p = ImagePreprocessing(stage: .stored, height: 1, width: 2, scale: 2, mean: [1], std: [2])
        // Area 2x4 -> 1x2: means 2.5 and 4.5; then (v*2 - 1) / 2.
        #expect(try p.apply(to: img) == [2, 4])
        #expect(p.outputShape == [1, 1, 1, 2])
        p.channels = 3
        p.mean = [0, 1, 2]
        p.std = [1, 1, 1]
        #expect(try p.apply(to: img) == [5, 9, 4, 8, 3, 7])           // NCHW
        p.layout = .nhwc
        #expect(try p.apply(to: img) == [5, 4, 3, 9, 8, 7])           // NHWC
        #expect(p.outputShape == [1, 1, 2, 3])
    }

    @Test func cropKeepsTheCenter() throws {
        // 2 x 4 into 2 x 2 with crop: scale max(1, 0.5) = 1, no resize, cut one column each side.
        let p = ImagePreprocessing(stage: .stored, height: 2, width: 2, fit: .crop)
        #expect(try p.apply(to: grey()) == [1, 2, 5, 6])
    }

    @Test func padFillsTheRest() throws {
        // 2 x 4 into 4 x 4 with pad: scale min(2, 1) = 1, one pad row above and below.
        let p = ImagePreprocessing(stage: .stored, height: 4, width: 4, fit: .pad, padValue: -1)
        #expect(try p.apply(to: grey()) == [-1, -1, -1, -1, 0, 1, 2, 3, 4, 5, 6, 7, -1, -1, -1, -1])
    }

    @Test func colourToOneChannelIsLuminance() throws {
        let px = El(tag: 0x7FE0_0010, vr: "OB", value: [100, 200, 50])
        let img = try image(.explicitLE, pixels: px, module: pixelModule(rows: 1, cols: 1, bitsAllocated: 8, spp: 3, photometric: "RGB", planar: 0))
        let out = try ImagePreprocessing(stage: .stored, height: 1, width: 1).apply(to: img)
        #expect(out == [Float(0.299 * 100 + 0.587 * 200 + 0.114 * 50)])
    }

    @Test func frameSelectionAndBadArguments() throws {
        let raw: [UInt16] = [1, 2, 3, 4, 10, 20, 30, 40]
        let img = try image(.explicitLE, pixels: pixelData16(raw, little: true), module: pixelModule(rows: 2, cols: 2, bitsAllocated: 16, frames: 2))
        let p = ImagePreprocessing(stage: .stored, height: 2, width: 2)
        #expect(try p.apply(to: img, frame: 1) == [10, 20, 30, 40])
        #expect(throws: ImagingError.self) { try p.apply(to: img, frame: 2) }
        #expect(throws: ImagingError.self) { try ImagePreprocessing(height: 0, width: 2).apply(to: img) }
        #expect(throws: ImagingError.self) { try ImagePreprocessing(height: 2, width: 2, channels: 2).apply(to: img) }
    }
}
