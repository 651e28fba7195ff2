// Transfer syntaxes: which ones this reader decodes, and the names of the ones it refuses, so that
// an error can say "JPEG 2000 Image Compression (1.2.840.10008.1.2.4.91)" rather than a bare UID.

/// How a transfer syntax encodes the data set and the pixel data.
public struct TransferSyntax: Sendable, Equatable {
    /// The UID, e.g. `1.2.840.10008.1.2.1`.
    public var uid: String
    /// The name in DICOM PS3.6 Annex A, e.g. "Explicit VR Little Endian".
    public var name: String
    /// Data set elements carry their VR.
    var explicitVR: Bool
    /// Multi-byte values are little-endian.
    var littleEndian: Bool
    /// The data set after the file meta group is a raw Deflate stream.
    var deflated: Bool
    /// How pixel data is stored.
    var pixelEncoding: PixelEncoding

    enum PixelEncoding: Sendable, Equatable {
        case native
        case rle
        /// Encapsulated in a codec this reader does not implement.
        case unsupported
    }

    /// True for the syntaxes whose pixel data this reader decodes.
    public var isSupported: Bool { pixelEncoding != .unsupported }

    /// The transfer syntax for `uid`. Unknown UIDs are taken as encapsulated explicit VR little
    /// endian with an unsupported codec (PS3.5 10.1: every encapsulated syntax uses that encoding).
    public static func lookup(_ uid: String) -> TransferSyntax {
        switch uid {
        case "1.2.840.10008.1.2":
            return .init(uid: uid, name: "Implicit VR Little Endian", explicitVR: false, littleEndian: true, deflated: false, pixelEncoding: .native)
        case "1.2.840.10008.1.2.1":
            return .init(uid: uid, name: "Explicit VR Little Endian", explicitVR: true, littleEndian: true, deflated: false, pixelEncoding: .native)
        case "1.2.840.10008.1.2.1.99":
            return .init(uid: uid, name: "Deflated Explicit VR Little Endian", explicitVR: true, littleEndian: true, deflated: true, pixelEncoding: .native)
        case "1.2.840.10008.1.2.2":
            return .init(uid: uid, name: "Explicit VR Big Endian", explicitVR: true, littleEndian: false, deflated: false, pixelEncoding: .native)
        case "1.2.840.10008.1.2.5":
            return .init(uid: uid, name: "RLE Lossless", explicitVR: true, littleEndian: true, deflated: false, pixelEncoding: .rle)
        default:
            return .init(uid: uid, name: compressedNames[uid] ?? "unknown transfer syntax",
                         explicitVR: true, littleEndian: true, deflated: false, pixelEncoding: .unsupported)
        }
    }

    /// Names of encapsulated syntaxes (PS3.6 Table A-1) so that the refusal can name them.
    static let compressedNames: [String: String] = [
        "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
        "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
        "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
        "1.2.840.10008.1.2.4.70": "JPEG Lossless, Non-Hierarchical, First-Order Prediction (Process 14 [Selection Value 1])",
        "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless Image Compression",
        "1.2.840.10008.1.2.4.81": "JPEG-LS Lossy (Near-Lossless) Image Compression",
        "1.2.840.10008.1.2.4.90": "JPEG 2000 Image Compression (Lossless Only)",
        "1.2.840.10008.1.2.4.91": "JPEG 2000 Image Compression",
        "1.2.840.10008.1.2.4.92": "JPEG 2000 Part 2 Multi-component Image Compression (Lossless Only)",
        "1.2.840.10008.1.2.4.93": "JPEG 2000 Part 2 Multi-component Image Compression",
        "1.2.840.10008.1.2.4.94": "JPIP Referenced",
        "1.2.840.10008.1.2.4.95": "JPIP Referenced Deflate",
        "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile / Main Level",
        "1.2.840.10008.1.2.4.101": "MPEG2 Main Profile / High Level",
        "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264 High Profile / Level 4.1",
        "1.2.840.10008.1.2.4.103": "MPEG-4 AVC/H.264 BD-compatible High Profile / Level 4.1",
        "1.2.840.10008.1.2.4.104": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 2D Video",
        "1.2.840.10008.1.2.4.105": "MPEG-4 AVC/H.264 High Profile / Level 4.2 For 3D Video",
        "1.2.840.10008.1.2.4.106": "MPEG-4 AVC/H.264 Stereo High Profile / Level 4.2",
        "1.2.840.10008.1.2.4.107": "HEVC/H.265 Main Profile / Level 5.1",
        "1.2.840.10008.1.2.4.108": "HEVC/H.265 Main 10 Profile / Level 5.1",
        "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 Image Compression (Lossless Only)",
        "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL Options Image Compression (Lossless Only)",
        "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000 Image Compression",
        "1.2.840.10008.1.2.8.1": "JPEG XL Lossless",
        "1.2.840.10008.1.2.8.2": "JPEG XL JPEG Recompression",
        "1.2.840.10008.1.2.8.3": "JPEG XL",
    ]
}
