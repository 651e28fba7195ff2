// Errors of the DICOM reader, the pixel decoder, the image pipeline and the hot folder.

/// A failure to read, decode or preprocess an image. The `detail` names the offending thing: the
/// tag as `(gggg,eeee)`, the byte offset, the transfer syntax UID and name, or the file.
public struct ImagingError: Error, CustomStringConvertible, Sendable, Equatable {
    /// What kind of failure; new codes may be added, so switch with a `default`.
    public enum Code: String, Sendable, Equatable {
        /// Not a DICOM Part 10 file (no `DICM` after the 128-byte preamble).
        case notDicom = "not-dicom"
        /// A length or structure runs past the end of the data.
        case truncated
        /// The bytes are present but do not form a valid element, item or sequence.
        case malformed
        /// A transfer syntax this reader does not decode (JPEG family and others).
        case unsupportedTransferSyntax = "unsupported-transfer-syntax"
        /// A pixel format (bits, samples, photometric, LUT) this decoder does not handle.
        case unsupportedPixelFormat = "unsupported-pixel-format"
        /// A required attribute is absent or unreadable.
        case missingAttribute = "missing-attribute"
        /// An attribute value is out of its valid range (absurd dimensions, bad window width).
        case invalidAttribute = "invalid-attribute"
        /// The decoded size would exceed the allocation cap.
        case tooLarge = "too-large"
        /// The Deflate stream or an RLE segment is corrupt.
        case corruptCompressedData = "corrupt-compressed-data"
        /// A file-system failure (open, read, rename, inotify).
        case io
        /// A caller-supplied argument is invalid (frame index, preprocessing settings).
        case invalidArgument = "invalid-argument"
    }

    /// The kind of failure.
    public var code: Code
    /// A human sentence naming the offending tag, offset, UID or file.
    public var detail: String

    /// Makes an error from a code and a detail sentence.
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    /// `code: detail`, as printed by the CLI.
    public var description: String { "\(code.rawValue): \(detail)" }
}

/// `(gggg,eeee)` for a tag, as DICOM writes it.
func tagName(_ tag: UInt32) -> String {
    "(" + hex4(UInt16(truncatingIfNeeded: tag >> 16)) + "," + hex4(UInt16(truncatingIfNeeded: tag)) + ")"
}

func hex4(_ v: UInt16) -> String {
    let s = String(v, radix: 16, uppercase: true)
    return String(repeating: "0", count: 4 - s.count) + s
}
