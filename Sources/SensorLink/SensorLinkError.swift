/// Why a frame could not be encoded, or why bytes on the wire did not make a usable frame.
///
/// A struct with a stable `code` (so new codes never break callers) and the numbers that name the
/// offending thing. The human-readable `description` exists on hosted builds only: string
/// formatting would cost a microcontroller ~20 KiB of flash.
public struct SensorLinkError: Error, Equatable, Sendable {
    /// Which check failed.
    public var code: Code
    /// The offending number: a length, a byte value, a sample, a CRC (see each `Code`).
    public var found: Int
    /// What the check allowed or expected instead (see each `Code`).
    public var expected: Int
    /// The frame type byte the error is about, or 0 when the error is not about one frame type.
    public var frameType: UInt8

    /// Creates an error; see `Code` for what `found` and `expected` hold for each code.
    public init(_ code: Code, found: Int, expected: Int, frameType: UInt8 = 0) {
        self.code = code
        self.found = found
        self.expected = expected
        self.frameType = frameType
    }

    /// A stable error code. `name` is what logs and tests match on.
    public struct Code: Equatable, Sendable {
        /// Stable numeric value.
        public let rawValue: UInt8
        /// Stable kebab-case name.
        public let name: StaticString

        /// Creates a code; use the predefined ones.
        public init(_ rawValue: UInt8, _ name: StaticString) {
            self.rawValue = rawValue
            self.name = name
        }

        public static func == (a: Code, b: Code) -> Bool { a.rawValue == b.rawValue }

        // Encoding
        /// The output buffer is too small: `found` = its size, `expected` = bytes needed at most.
        public static let bufferTooSmall = Code(1, "buffer-too-small")
        /// The frame would exceed `SensorLink.maxFrameLength`: `found` = its length.
        public static let frameTooLong = Code(2, "frame-too-long")
        /// A sample does not fit the block's sample format: `found` = the sample,
        /// `expected` = its index in the block.
        public static let sampleOutOfRange = Code(3, "sample-out-of-range")
        /// A list is longer than its count field allows: `found` = its length, `expected` = the limit.
        public static let tooManyItems = Code(4, "too-many-items")

        // Decoding: the bytes between two delimiters
        /// A COBS block runs past the end of the frame (bytes were lost or garbage was read):
        /// `found` = the encoded length, `expected` = the length the last block announced.
        public static let cobs = Code(10, "cobs")
        /// The frame is longer than the receiver accepts; its bytes were discarded up to the next
        /// delimiter: `found` = bytes decoded before giving up, `expected` = the limit.
        public static let oversize = Code(11, "oversize")
        /// Shorter than a header and a CRC: `found` = the decoded length.
        public static let tooShort = Code(12, "too-short")
        /// The CRC does not match: `found` = the CRC received, `expected` = the CRC computed.
        public static let crc = Code(13, "crc")

        // Decoding: an intact frame (CRC valid) that cannot be used
        /// A protocol version this decoder does not read: `found` = the version byte.
        public static let unsupportedVersion = Code(20, "unsupported-version")
        /// A frame type this decoder does not know: `found` = the type byte.
        public static let unknownType = Code(21, "unknown-type")
        /// The payload length does not match what its count fields say: `found` = the payload
        /// length, `expected` = the length its counts imply.
        public static let malformedPayload = Code(22, "malformed-payload")
        /// A sample format byte that is neither int16 (1) nor int32 (2): `found` = the byte.
        public static let badSampleFormat = Code(23, "bad-sample-format")
    }
}

#if !hasFeature(Embedded)
extension SensorLinkError: CustomStringConvertible {
    /// `code-name: what happened, with the numbers`, for logs and test failures.
    public var description: String {
        let type = frameType == 0 ? "" : " (frame type \(frameType))"
        let what: String
        switch code {
        case .bufferTooSmall: what = "output buffer holds \(found) bytes, the frame needs up to \(expected)"
        case .frameTooLong: what = "frame of \(found) bytes exceeds the \(expected)-byte limit"
        case .sampleOutOfRange: what = "sample \(expected) = \(found) does not fit the sample format"
        case .tooManyItems: what = "\(found) items exceed the limit of \(expected)"
        case .cobs: what = "COBS block announces \(expected) bytes, the frame has \(found)"
        case .oversize: what = "frame passed \(found) bytes, the limit is \(expected); discarded"
        case .tooShort: what = "frame of \(found) bytes, at least \(expected) needed"
        case .crc: what = "CRC received 0x\(String(found, radix: 16)), computed 0x\(String(expected, radix: 16))"
        case .unsupportedVersion: what = "protocol version \(found), this decoder reads \(expected)"
        case .unknownType: what = "unknown frame type \(found)"
        case .malformedPayload: what = "payload of \(found) bytes, its counts imply \(expected)"
        case .badSampleFormat: what = "sample format \(found) is neither 1 (int16) nor 2 (int32)"
        default: what = "found \(found), expected \(expected)"
        }
        return "\(code.name): \(what)\(type)"
    }
}
#endif
