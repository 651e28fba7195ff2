// The parsed structure of a data set: elements that point into one byte buffer by range.

/// Tags this module reads.
enum Tag {
    static let transferSyntaxUID: UInt32 = 0x0002_0010
    static let samplesPerPixel: UInt32 = 0x0028_0002
    static let photometricInterpretation: UInt32 = 0x0028_0004
    static let planarConfiguration: UInt32 = 0x0028_0006
    static let numberOfFrames: UInt32 = 0x0028_0008
    static let rows: UInt32 = 0x0028_0010
    static let columns: UInt32 = 0x0028_0011
    static let bitsAllocated: UInt32 = 0x0028_0100
    static let bitsStored: UInt32 = 0x0028_0101
    static let pixelRepresentation: UInt32 = 0x0028_0103
    static let windowCenter: UInt32 = 0x0028_1050
    static let windowWidth: UInt32 = 0x0028_1051
    static let rescaleIntercept: UInt32 = 0x0028_1052
    static let rescaleSlope: UInt32 = 0x0028_1053
    static let voiLUTFunction: UInt32 = 0x0028_1056
    static let modalityLUTSequence: UInt32 = 0x0028_3000
    static let voiLUTSequence: UInt32 = 0x0028_3010
    static let pixelData: UInt32 = 0x7FE0_0010
    static let item: UInt32 = 0xFFFE_E000
    static let itemDelimiter: UInt32 = 0xFFFE_E00D
    static let sequenceDelimiter: UInt32 = 0xFFFE_E0DD
}

/// One element: its tag, VR (two ASCII letters, or 0 when the syntax is implicit), where it starts
/// and where its value lies in the data set's bytes. Sequences keep their items; encapsulated pixel
/// data keeps its fragments (the first one is the basic offset table).
struct DataElement: Sendable {
    var tag: UInt32
    var vr: UInt16
    /// Byte offset of the element's tag.
    var offset: Int
    /// The value bytes (empty for sequences and encapsulated pixel data).
    var value: Range<Int>
    /// Items of a sequence (explicit SQ, or any undefined-length element but pixel data).
    var items: [[DataElement]]? = nil
    /// Encapsulated pixel data: the item value ranges, basic offset table first.
    var fragments: [Range<Int>]? = nil

    var vrString: String {
        vr == 0 ? "implicit" : String(decoding: [UInt8(vr >> 8), UInt8(vr & 0xFF)], as: UTF8.self)
    }
}

/// Builds a VR code from two ASCII letters.
func vrCode(_ a: Character, _ b: Character) -> UInt16 {
    UInt16(a.asciiValue!) << 8 | UInt16(b.asciiValue!)
}

enum VR {
    static let OB = vrCode("O", "B"), OW = vrCode("O", "W"), SQ = vrCode("S", "Q"), UN = vrCode("U", "N")
    /// VRs with a 2-byte reserved field and a 4-byte length in explicit syntaxes (PS3.5 7.1.2).
    static let longForm: Set<UInt16> = [
        vrCode("O", "B"), vrCode("O", "D"), vrCode("O", "F"), vrCode("O", "L"), vrCode("O", "V"),
        vrCode("O", "W"), vrCode("S", "Q"), vrCode("S", "V"), vrCode("U", "C"), vrCode("U", "N"),
        vrCode("U", "R"), vrCode("U", "T"), vrCode("U", "V"),
    ]
}

/// A parsed data set: the bytes it came from, how they are encoded, and its top-level elements.
struct DataSet: Sendable {
    var bytes: [UInt8]
    var littleEndian: Bool
    /// Top-level elements by tag (a repeated tag keeps its first occurrence).
    var elements: [UInt32: DataElement]
    /// Where these bytes came from, for error messages ("file", "inflated data set").
    var origin: String

    subscript(tag: UInt32) -> DataElement? { elements[tag] }

    func valueBytes(_ e: DataElement) -> ArraySlice<UInt8> { bytes[e.value] }

    /// An unsigned 16-bit value (VR US), or nil when absent; an error when too short.
    func uint16(_ tag: UInt32) throws(ImagingError) -> Int? {
        guard let e = elements[tag] else { return nil }
        guard e.value.count >= 2 else {
            throw ImagingError(.malformed, "\(tagName(tag)) at \(origin) offset \(e.offset) has \(e.value.count) value bytes; a US value needs 2")
        }
        let a = UInt16(bytes[e.value.lowerBound]), b = UInt16(bytes[e.value.lowerBound + 1])
        return Int(littleEndian ? (b << 8 | a) : (a << 8 | b))
    }

    /// A text value with trailing spaces and NULs removed, or nil when absent.
    func string(_ tag: UInt32) -> String? {
        guard let e = elements[tag] else { return nil }
        return trimmedText(bytes[e.value])
    }

    /// The backslash-separated values of a text element.
    func strings(_ tag: UInt32) -> [String]? {
        guard let s = string(tag) else { return nil }
        return s.split(separator: "\\", omittingEmptySubsequences: false).map { trimSpaces(String($0)) }
    }

    /// A decimal string (DS) or integer string (IS), first value; nil when absent or empty.
    func number(_ tag: UInt32) throws(ImagingError) -> Double? {
        guard let values = try numbers(tag), let first = values.first else { return nil }
        return first
    }

    /// All values of a DS or IS element; nil when absent or empty.
    func numbers(_ tag: UInt32) throws(ImagingError) -> [Double]? {
        guard let parts = strings(tag), !(parts.count == 1 && parts[0].isEmpty) else { return nil }
        var out: [Double] = []
        for p in parts {
            guard let v = Double(p), v.isFinite else {
                throw ImagingError(.invalidAttribute, "\(tagName(tag)) at \(origin) offset \(elements[tag]!.offset): '\(p)' is not a number")
            }
            out.append(v)
        }
        return out
    }
}

func trimmedText(_ bytes: ArraySlice<UInt8>) -> String {
    var end = bytes.endIndex
    while end > bytes.startIndex, bytes[end - 1] == 0x20 || bytes[end - 1] == 0 { end -= 1 }
    var start = bytes.startIndex
    while start < end, bytes[start] == 0x20 { start += 1 }
    return String(decoding: bytes[start..<end], as: UTF8.self)
}

func trimSpaces(_ s: String) -> String {
    var t = Substring(s)
    while t.first == " " { t = t.dropFirst() }
    while t.last == " " || t.last == "\0" { t = t.dropLast() }
    return String(t)
}
