// Element-by-element parser of a data set (PS3.5 chapter 7), with every length checked against the
// bytes that remain before it is used.

/// Parses elements from `bytes` in one encoding. Each method leaves `pos` after what it read.
struct DataSetParser {
    let bytes: [UInt8]
    var pos: Int
    var explicitVR: Bool
    var littleEndian: Bool
    /// For messages: "file" or "inflated data set".
    let origin: String
    /// Nesting of sequences; deeper input is refused so hostile files cannot exhaust the stack.
    static let maxDepth = 64
    static let undefinedLength: UInt32 = 0xFFFF_FFFF

    init(bytes: [UInt8], start: Int, explicitVR: Bool, littleEndian: Bool, origin: String) {
        self.bytes = bytes
        self.pos = start
        self.explicitVR = explicitVR
        self.littleEndian = littleEndian
        self.origin = origin
    }

    func truncated(_ what: String, at offset: Int) -> ImagingError {
        ImagingError(.truncated, "\(what) at \(origin) offset \(offset) runs past the end of the data (\(bytes.count) bytes)")
    }

    func u16(_ at: Int) -> UInt16 {
        let a = UInt16(bytes[at]), b = UInt16(bytes[at + 1])
        return littleEndian ? (b << 8 | a) : (a << 8 | b)
    }

    func u32(_ at: Int) -> UInt32 {
        let a = UInt32(u16(at)), b = UInt32(u16(at + 2))
        return littleEndian ? (b << 16 | a) : (a << 16 | b)
    }

    /// The tag at `at` (group then element, each in the current byte order).
    func tag(_ at: Int) -> UInt32 { UInt32(u16(at)) << 16 | UInt32(u16(at + 2)) }

    /// Parses elements until `end`, or (inside an undefined-length item) until an item delimiter.
    /// `stop(tag)` ends the loop before the element with that tag is consumed (file meta group).
    mutating func parseElements(end: Int, inUndefinedItem: Bool, depth: Int,
                                stop: ((UInt32) -> Bool)? = nil) throws(ImagingError) -> [DataElement] {
        var out: [DataElement] = []
        while pos < end {
            guard pos + 4 <= end else { throw truncated("element tag", at: pos) }
            let t = tag(pos)
            if let stop, stop(t) { break }
            if t == Tag.itemDelimiter {
                guard inUndefinedItem else {
                    throw ImagingError(.malformed, "item delimiter (FFFE,E00D) outside an item at \(origin) offset \(pos)")
                }
                guard pos + 8 <= end else { throw truncated("item delimiter", at: pos) }
                pos += 8
                return out
            }
            out.append(try parseElement(end: end, depth: depth))
        }
        if inUndefinedItem {
            throw ImagingError(.truncated, "undefined-length item ends at \(origin) offset \(pos) without an item delimiter (FFFE,E00D)")
        }
        return out
    }

    /// Parses one element whose tag is at `pos`.
    mutating func parseElement(end: Int, depth: Int) throws(ImagingError) -> DataElement {
        let start = pos
        let t = tag(pos)
        var vr: UInt16 = 0
        var length: UInt32
        // Items and delimiters (group FFFE) have no VR in any syntax.
        if explicitVR && t >> 16 != 0xFFFE {
            guard pos + 8 <= end else { throw truncated("element \(tagName(t)) header", at: start) }
            vr = UInt16(bytes[pos + 4]) << 8 | UInt16(bytes[pos + 5])
            guard isUpper(bytes[pos + 4]), isUpper(bytes[pos + 5]) else {
                throw ImagingError(.malformed, "element \(tagName(t)) at \(origin) offset \(start) has an invalid VR (bytes \(bytes[pos + 4]), \(bytes[pos + 5]))")
            }
            if VR.longForm.contains(vr) {
                guard pos + 12 <= end else { throw truncated("element \(tagName(t)) header", at: start) }
                length = u32(pos + 8)
                pos += 12
            } else {
                length = UInt32(u16(pos + 6))
                pos += 8
            }
        } else {
            guard pos + 8 <= end else { throw truncated("element \(tagName(t)) header", at: start) }
            length = u32(pos + 4)
            pos += 8
        }
        var element = DataElement(tag: t, vr: vr, offset: start, value: pos..<pos)
        if length == Self.undefinedLength {
            guard depth < Self.maxDepth else {
                throw ImagingError(.malformed, "sequences nested deeper than \(Self.maxDepth) at \(origin) offset \(start)")
            }
            if t == Tag.pixelData {  // also an icon image's, nested in a sequence
                element.fragments = try parseFragments(end: end, owner: t, ownerOffset: start)
            } else if vr == 0 || vr == VR.SQ || vr == VR.UN {
                // An undefined-length UN is a sequence encoded as Implicit VR Little Endian (PS3.5 6.2.2).
                let saved = (explicitVR, littleEndian)
                if vr == VR.UN { explicitVR = false; littleEndian = true }
                defer { (explicitVR, littleEndian) = saved }
                element.items = try parseItems(end: end, undefined: true, owner: t, ownerOffset: start, depth: depth + 1)
            } else {
                throw ImagingError(.malformed, "element \(tagName(t)) at \(origin) offset \(start) has undefined length with VR \(element.vrString)")
            }
            element.value = pos..<pos
            return element
        }
        let n = Int(length)
        guard n <= end - pos else {
            throw ImagingError(.truncated, "element \(tagName(t)) at \(origin) offset \(start) declares \(n) value bytes but only \(max(0, end - pos)) remain")
        }
        element.value = pos..<(pos + n)
        if vr == VR.SQ {
            guard depth < Self.maxDepth else {
                throw ImagingError(.malformed, "sequences nested deeper than \(Self.maxDepth) at \(origin) offset \(start)")
            }
            element.items = try parseItems(end: pos + n, undefined: false, owner: t, ownerOffset: start, depth: depth + 1)
        }
        pos = element.value.upperBound
        return element
    }

    /// Items of a sequence: up to the sequence delimiter (undefined length) or up to `end`.
    mutating func parseItems(end: Int, undefined: Bool, owner: UInt32, ownerOffset: Int, depth: Int) throws(ImagingError) -> [[DataElement]] {
        var items: [[DataElement]] = []
        while true {
            if !undefined && pos == end { return items }
            guard pos + 8 <= end else {
                throw ImagingError(.truncated, "sequence \(tagName(owner)) at \(origin) offset \(ownerOffset): item header at offset \(pos) runs past the end of the \(undefined ? "data" : "sequence") (offset \(end))")
            }
            let t = tag(pos)
            let length = u32(pos + 4)
            if t == Tag.sequenceDelimiter {
                pos += 8
                if undefined { return items }
                continue  // tolerated inside a defined-length sequence
            }
            guard t == Tag.item else {
                throw ImagingError(.malformed, "sequence \(tagName(owner)) at \(origin) offset \(ownerOffset): expected an item (FFFE,E000) at offset \(pos), found \(tagName(t))")
            }
            pos += 8
            if length == Self.undefinedLength {
                items.append(try parseElements(end: end, inUndefinedItem: true, depth: depth))
            } else {
                let n = Int(length)
                guard n <= end - pos else {
                    throw ImagingError(.truncated, "item of sequence \(tagName(owner)) at \(origin) offset \(pos - 8) declares \(n) bytes but only \(end - pos) remain")
                }
                let itemEnd = pos + n
                items.append(try parseElements(end: itemEnd, inUndefinedItem: false, depth: depth))
                pos = itemEnd
            }
        }
    }

    /// Encapsulated pixel data (PS3.5 A.4): defined-length items up to the sequence delimiter.
    mutating func parseFragments(end: Int, owner: UInt32, ownerOffset: Int) throws(ImagingError) -> [Range<Int>] {
        var fragments: [Range<Int>] = []
        while true {
            guard pos + 8 <= end else {
                throw ImagingError(.truncated, "encapsulated pixel data \(tagName(owner)) at \(origin) offset \(ownerOffset): fragment header at offset \(pos) runs past the end of the data (\(bytes.count) bytes)")
            }
            let t = tag(pos)
            let length = u32(pos + 4)
            pos += 8
            if t == Tag.sequenceDelimiter { return fragments }
            guard t == Tag.item else {
                throw ImagingError(.malformed, "encapsulated pixel data \(tagName(owner)): expected a fragment item (FFFE,E000) at \(origin) offset \(pos - 8), found \(tagName(t))")
            }
            let n = Int(length)
            guard length != Self.undefinedLength, n <= end - pos else {
                throw ImagingError(.truncated, "pixel data fragment at \(origin) offset \(pos - 8) declares \(length) bytes but only \(end - pos) remain")
            }
            fragments.append(pos..<(pos + n))
            pos += n
        }
    }
}

@inline(__always) func isUpper(_ b: UInt8) -> Bool { b >= 0x41 && b <= 0x5A }
