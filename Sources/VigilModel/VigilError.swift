/// The one error type of the Vigil core: a stable code plus a human detail that names the offending
/// thing ("tensor 4 (conv1.weight): data [96, 160) lies outside section WGHT of 120 bytes").
///
/// Codes are values, not enum cases, so new codes never break a caller's `switch`.
public struct VigilError: Error, Equatable, CustomStringConvertible {
    public var code: Code
    public var detail: String

    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.name): \(detail)" }

    public static func == (a: VigilError, b: VigilError) -> Bool { a.code == b.code && a.detail == b.detail }

    /// A stable error code. `name` is what logs and tests match on.
    public struct Code: Equatable, Sendable {
        public let rawValue: UInt16
        public let name: StaticString
        public init(_ rawValue: UInt16, _ name: StaticString) {
            self.rawValue = rawValue
            self.name = name
        }
        public static func == (a: Code, b: Code) -> Bool { a.rawValue == b.rawValue }

        // File structure
        public static let truncated = Code(1, "truncated")
        public static let badMagic = Code(2, "bad-magic")
        public static let unsupportedVersion = Code(3, "unsupported-version")
        public static let headerChecksum = Code(4, "header-checksum")
        public static let sectionChecksum = Code(5, "section-checksum")
        public static let sectionOutOfBounds = Code(6, "section-out-of-bounds")
        public static let sectionMisaligned = Code(7, "section-misaligned")
        public static let sectionOverlap = Code(8, "section-overlap")
        public static let missingSection = Code(9, "missing-section")
        public static let duplicateSection = Code(10, "duplicate-section")
        public static let unknownSection = Code(11, "unknown-required-section")
        public static let fileLength = Code(12, "file-length")
        public static let reservedNonZero = Code(13, "reserved-nonzero")
        // Tensor table
        public static let badTensorRecord = Code(20, "bad-tensor-record")
        public static let badDType = Code(21, "bad-dtype")
        public static let badShape = Code(22, "bad-shape")
        public static let shapeOverflow = Code(23, "shape-overflow")
        public static let dataOutOfBounds = Code(24, "data-out-of-bounds")
        public static let dataMisaligned = Code(25, "data-misaligned")
        public static let dataLength = Code(26, "data-length-mismatch")
        public static let badQuantization = Code(27, "bad-quantization")
        public static let badString = Code(28, "bad-string")
        // Graph
        public static let badGraph = Code(40, "bad-graph")
        public static let unknownOp = Code(41, "unknown-op")
        public static let badTensorIndex = Code(42, "bad-tensor-index")
        public static let danglingTensor = Code(43, "dangling-tensor")
        public static let cyclicGraph = Code(44, "cyclic-graph")
        public static let multipleProducers = Code(45, "multiple-producers")
        public static let badAttribute = Code(46, "bad-attribute")
        public static let badOperands = Code(47, "bad-operands")
        public static let badSignature = Code(48, "bad-signature")
        // Runtime
        public static let unsupported = Code(60, "unsupported")
        public static let outOfMemory = Code(61, "out-of-memory")
        public static let badInput = Code(62, "bad-input")
    }
}
