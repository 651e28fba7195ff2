// An image read from a DICOM file: its pixel-module attributes, checked once, and its pixels at
// the stage the caller asks for.

/// Which transform stages the returned values have been through (DICOM PS3.3 C.11).
public enum PixelStage: String, Sendable, CaseIterable {
    /// Stored values: sign-extended (or masked) to Bits Stored, integer dtype of Bits Allocated.
    case stored
    /// After the modality LUT (Rescale Slope/Intercept), float64.
    case modality
    /// After the modality LUT and then the VOI transform (Window Center/Width), float64.
    case voi
}

/// A VOI window: center and width as in (0028,1050) and (0028,1051).
public struct Window: Sendable, Equatable {
    /// Window Center.
    public var center: Double
    /// Window Width.
    public var width: Double
    /// Makes a window.
    public init(center: Double, width: Double) {
        self.center = center
        self.width = width
    }
}

/// A decoded DICOM image file: pixel-module attributes and access to its pixels.
public struct DicomImage: Sendable {
    /// Rows (0028,0010).
    public let rows: Int
    /// Columns (0028,0011).
    public let columns: Int
    /// Number of Frames (0028,0008); 1 when absent.
    public let frames: Int
    /// Samples per Pixel (0028,0002): 1 or 3.
    public let samplesPerPixel: Int
    /// Photometric Interpretation (0028,0004) as written, e.g. `MONOCHROME2`.
    public let photometric: String
    /// Transfer Syntax UID (0002,0010).
    public let transferSyntaxUID: String
    /// The transfer syntax's name, e.g. "Explicit VR Little Endian".
    public let transferSyntaxName: String
    /// Bits Allocated (0028,0100): 1, 8, 16 or 32.
    public let bitsAllocated: Int
    /// Bits Stored (0028,0101).
    public let bitsStored: Int
    /// Pixel Representation (0028,0103): false unsigned, true two's complement.
    public let isSigned: Bool
    /// Planar Configuration (0028,0006): true when colour planes are stored one after another.
    public let isPlanar: Bool
    /// Rescale Slope and Intercept (0028,1053)/(0028,1052), when both are present.
    public let rescale: (slope: Double, intercept: Double)?
    /// The windows of (0028,1050)/(0028,1051), first one first.
    public let windows: [Window]
    /// VOI LUT Function (0028,1056), upper-cased; `LINEAR` when absent.
    public let voiFunction: String

    let transferSyntax: TransferSyntax
    let dataSet: DataSet
    let pixelElement: DataElement
    let hasModalityLUTSequence: Bool
    let hasVOILUTSequence: Bool

    /// Largest pixel data decoded (stored values, all frames).
    public static let maxPixelBytes = 1 << 30

    /// Parses a whole Part 10 file in memory. Throws for a file that is not DICOM, is truncated
    /// or malformed, has no pixel data, uses a transfer syntax this reader does not decode (the
    /// error names its UID and name), or has pixel-module attributes out of range.
    public init(bytes: [UInt8]) throws(ImagingError) {
        let (ts, ds): (TransferSyntax, DataSet)
        do {
            (ts, ds) = try DicomFile.parseDataSet(bytes)
        } catch let error where error.code != .notDicom {
            // A compressed file is refused for its syntax first, whatever else is wrong with it.
            if let uid = DicomFile.metaTransferSyntax(bytes), !TransferSyntax.lookup(uid).isSupported {
                let t = TransferSyntax.lookup(uid)
                throw ImagingError(.unsupportedTransferSyntax, "transfer syntax \(t.uid) (\(t.name)) is compressed with a codec this reader does not decode (and the data set does not parse: \(error.detail))")
            }
            throw error
        }
        transferSyntax = ts
        dataSet = ds
        transferSyntaxUID = ts.uid
        transferSyntaxName = ts.name
        guard let px = ds[Tag.pixelData] else {
            throw ImagingError(.missingAttribute, "no Pixel Data (7FE0,0010) in the data set")
        }
        pixelElement = px
        guard ts.isSupported else {
            throw ImagingError(.unsupportedTransferSyntax, "transfer syntax \(ts.uid) (\(ts.name)) is compressed with a codec this reader does not decode")
        }
        func required(_ tag: UInt32, _ name: String) throws(ImagingError) -> Int {
            guard let v = try ds.uint16(tag) else { throw ImagingError(.missingAttribute, "missing \(name) \(tagName(tag))") }
            return v
        }
        rows = try required(Tag.rows, "Rows")
        columns = try required(Tag.columns, "Columns")
        bitsAllocated = try required(Tag.bitsAllocated, "Bits Allocated")
        bitsStored = try ds.uint16(Tag.bitsStored) ?? bitsAllocated
        let pr = try ds.uint16(Tag.pixelRepresentation) ?? 0
        samplesPerPixel = try ds.uint16(Tag.samplesPerPixel) ?? 1
        let planar = try ds.uint16(Tag.planarConfiguration) ?? 0
        isPlanar = samplesPerPixel > 1 && planar == 1
        photometric = ds.string(Tag.photometricInterpretation)?.uppercased() ?? (samplesPerPixel == 3 ? "RGB" : "MONOCHROME2")
        isSigned = pr == 1

        guard rows > 0, columns > 0 else {
            throw ImagingError(.invalidAttribute, "image is \(rows) x \(columns) (Rows (0028,0010), Columns (0028,0011)); both must be at least 1")
        }
        guard [1, 8, 16, 32].contains(bitsAllocated) else {
            throw ImagingError(.unsupportedPixelFormat, "Bits Allocated (0028,0100) is \(bitsAllocated); supported: 1, 8, 16, 32")
        }
        guard bitsStored >= 1, bitsStored <= bitsAllocated else {
            throw ImagingError(.invalidAttribute, "Bits Stored (0028,0101) is \(bitsStored) with Bits Allocated \(bitsAllocated)")
        }
        guard pr <= 1 else { throw ImagingError(.invalidAttribute, "Pixel Representation (0028,0103) is \(pr); must be 0 or 1") }
        guard samplesPerPixel == 1 || samplesPerPixel == 3 else {
            throw ImagingError(.unsupportedPixelFormat, "Samples per Pixel (0028,0002) is \(samplesPerPixel); supported: 1, 3")
        }
        guard bitsAllocated != 1 || samplesPerPixel == 1 else {
            throw ImagingError(.unsupportedPixelFormat, "Bits Allocated 1 with Samples per Pixel \(samplesPerPixel)")
        }

        let frameValue = try ds.number(Tag.numberOfFrames) ?? 1
        guard frameValue >= 0, frameValue == frameValue.rounded(), frameValue <= Double(Self.maxPixelBytes) else {
            throw ImagingError(.invalidAttribute, "Number of Frames (0028,0008) is \(frameValue)")
        }
        frames = max(1, Int(frameValue))
        // Rows and Columns are 16-bit, so this product cannot overflow before the frame factor.
        let samples = rows.multipliedReportingOverflow(by: columns * samplesPerPixel)
        let total = samples.partialValue.multipliedReportingOverflow(by: frames)
        let bytes = total.partialValue.multipliedReportingOverflow(by: max(1, bitsAllocated / 8))
        guard !samples.overflow, !total.overflow, !bytes.overflow, bytes.partialValue <= Self.maxPixelBytes else {
            throw ImagingError(.tooLarge, "\(frames) frame(s) of \(rows) x \(columns) x \(samplesPerPixel) at \(bitsAllocated) bits exceed the \(Self.maxPixelBytes)-byte pixel cap")
        }

        if let s = try ds.number(Tag.rescaleSlope), let i = try ds.number(Tag.rescaleIntercept) {
            rescale = (s, i)
        } else {
            rescale = nil
        }
        let centers = try ds.numbers(Tag.windowCenter) ?? []
        let widths = try ds.numbers(Tag.windowWidth) ?? []
        windows = zip(centers, widths).map { Window(center: $0, width: $1) }
        voiFunction = ds.string(Tag.voiLUTFunction)?.uppercased() ?? "LINEAR"
        hasModalityLUTSequence = !(ds[Tag.modalityLUTSequence]?.items?.isEmpty ?? true) || (ds[Tag.modalityLUTSequence].map { $0.value.count > 0 } ?? false)
        hasVOILUTSequence = !(ds[Tag.voiLUTSequence]?.items?.isEmpty ?? true) || (ds[Tag.voiLUTSequence].map { $0.value.count > 0 } ?? false)
    }

    /// The shape pixels of this image take: `[rows, cols]`, with a leading frame count when there
    /// is more than one frame and a trailing 3 for colour.
    public var shape: [Int] {
        var s = [rows, columns]
        if frames > 1 { s.insert(frames, at: 0) }
        if samplesPerPixel == 3 { s.append(3) }
        return s
    }

    /// All frames at `stage` (see `PixelStage`), shaped as `shape`.
    public func pixels(stage: PixelStage = .stored) throws(ImagingError) -> PixelArray {
        try pixels(stage: stage, window: nil)
    }

    /// All frames at `stage`, with `window` replacing the file's first window at the VOI stage.
    public func pixels(stage: PixelStage, window: Window?) throws(ImagingError) -> PixelArray {
        let stored = try PixelDecoder(image: self).decode()
        if stage == .stored { return stored }
        guard stored.count <= Self.maxPixelBytes / 4 else {
            throw ImagingError(.tooLarge, "\(stored.count) values in float64 exceed the \(Self.maxPixelBytes / 4 * 8)-byte cap of the \(stage.rawValue) stage")
        }
        return PixelArray(shape: stored.shape, storage: .float64(try transform(stored.doubles(), to: stage, window: window)))
    }

    /// One frame's values at `stage` (samples interleaved), without converting the other frames.
    func frameValues(_ frame: Int, stage: PixelStage, window: Window?) throws(ImagingError) -> [Double] {
        let stored = try PixelDecoder(image: self).decode()
        let n = rows * columns * samplesPerPixel
        let all = stored.doubles(range: (frame * n)..<((frame + 1) * n))
        return stage == .stored ? all : try transform(all, to: stage, window: window)
    }

    /// Stored values through the modality LUT and, for `.voi`, the VOI transform.
    func transform(_ stored: [Double], to stage: PixelStage, window: Window?) throws(ImagingError) -> [Double] {
        let m = try modalityValues(stored)
        return stage == .voi ? try voiValues(m, override: window) : m
    }
}
