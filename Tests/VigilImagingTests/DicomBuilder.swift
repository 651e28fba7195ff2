// Builds small DICOM Part 10 files in memory for the tests: any of the decoded transfer syntaxes,
// sequences of defined or undefined length, native or RLE pixel data.

/// One data element to write. `items` makes a sequence; `undefined` writes it with undefined length.
struct El {
    var tag: UInt32
    var vr: String
    var value: [UInt8] = []
    var items: [[El]]? = nil
    var undefined = false
    var undefinedItems = false
    /// Encapsulated pixel data fragments (basic offset table first).
    var fragments: [[UInt8]]? = nil

    static func us(_ tag: UInt32, _ v: Int) -> El { El(tag: tag, vr: "US", value: [UInt8(v & 0xFF), UInt8(v >> 8)]) }
    static func text(_ tag: UInt32, _ vr: String, _ s: String) -> El {
        var b = Array(s.utf8)
        if b.count % 2 == 1 { b.append(vr == "UI" ? 0 : 0x20) }
        return El(tag: tag, vr: vr, value: b)
    }
}

enum Syntax: String, CaseIterable {
    case implicitLE = "1.2.840.10008.1.2"
    case explicitLE = "1.2.840.10008.1.2.1"
    case explicitBE = "1.2.840.10008.1.2.2"
    case deflated = "1.2.840.10008.1.2.1.99"
    case rle = "1.2.840.10008.1.2.5"
    case jpegBaseline = "1.2.840.10008.1.2.4.50"

    var explicit: Bool { self != .implicitLE }
    var little: Bool { self != .explicitBE }
}

struct DicomBuilder {
    var syntax: Syntax

    static let longVRs: Set<String> = ["OB", "OD", "OF", "OL", "OV", "OW", "SQ", "SV", "UC", "UN", "UR", "UT", "UV"]

    func u16(_ v: Int, little: Bool) -> [UInt8] {
        little ? [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF)] : [UInt8((v >> 8) & 0xFF), UInt8(v & 0xFF)]
    }
    func u32(_ v: UInt32, little: Bool) -> [UInt8] {
        let b = [UInt8(v & 0xFF), UInt8((v >> 8) & 0xFF), UInt8((v >> 16) & 0xFF), UInt8(v >> 24)]
        return little ? b : b.reversed()
    }

    func encode(_ e: El, explicit: Bool, little: Bool) -> [UInt8] {
        var out = u16(Int(e.tag >> 16), little: little) + u16(Int(e.tag & 0xFFFF), little: little)
        var body: [UInt8] = []
        if let items = e.items {
            for item in items {
                let content = items.isEmpty ? [] : item.flatMap { encode($0, explicit: explicit, little: little) }
                body += u16(0xFFFE, little: little) + u16(0xE000, little: little)
                if e.undefinedItems {
                    body += u32(0xFFFF_FFFF, little: little) + content
                    body += u16(0xFFFE, little: little) + u16(0xE00D, little: little) + u32(0, little: little)
                } else {
                    body += u32(UInt32(content.count), little: little) + content
                }
            }
            if e.undefined { body += u16(0xFFFE, little: little) + u16(0xE0DD, little: little) + u32(0, little: little) }
        } else if let fragments = e.fragments {
            for f in fragments {
                body += u16(0xFFFE, little: little) + u16(0xE000, little: little) + u32(UInt32(f.count), little: little) + f
            }
            body += u16(0xFFFE, little: little) + u16(0xE0DD, little: little) + u32(0, little: little)
        } else if e.vr == "US" && !little {
            // El.us writes little-endian; swap each 16-bit value for big endian.
            body = stride(from: 0, to: e.value.count, by: 2).flatMap { [e.value[$0 + 1], e.value[$0]] }
        } else {
            body = e.value
        }
        let undefined = e.undefined || e.fragments != nil
        let length = undefined ? 0xFFFF_FFFF : UInt32(body.count)
        if explicit {
            out += Array(e.vr.utf8)
            if Self.longVRs.contains(e.vr) {
                out += [0, 0] + u32(length, little: little)
            } else {
                out += u16(Int(length), little: little)
            }
        } else {
            out += u32(length, little: little)
        }
        return out + body
    }

    /// The whole file: preamble, DICM, meta group (explicit VR little endian), data set.
    func file(_ elements: [El]) -> [UInt8] {
        var meta: [UInt8] = []
        let uid = El.text(0x0002_0010, "UI", syntax.rawValue)
        let version = El(tag: 0x0002_0001, vr: "OB", value: [0, 1])
        let metaBody = [version, uid].flatMap { encode($0, explicit: true, little: true) }
        meta += encode(El(tag: 0x0002_0000, vr: "UL", value: u32(UInt32(metaBody.count), little: true)), explicit: true, little: true)
        meta += metaBody
        var data = elements.sorted { $0.tag < $1.tag }.flatMap { encode($0, explicit: syntax.explicit, little: syntax.little) }
        if syntax == .deflated { data = storedDeflate(data) }
        return [UInt8](repeating: 0, count: 128) + Array("DICM".utf8) + meta + data
    }

    /// A raw Deflate stream made of stored (uncompressed) blocks (RFC 1951 3.2.4).
    func storedDeflate(_ data: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        var i = 0
        repeat {
            let n = min(65535, data.count - i)
            let final: UInt8 = i + n == data.count ? 1 : 0
            out.append(final)
            out += [UInt8(n & 0xFF), UInt8(n >> 8), UInt8(~n & 0xFF), UInt8((~n >> 8) & 0xFF)]
            out += data[i..<(i + n)]
            i += n
        } while i < data.count
        return out
    }
}

/// Pixel-module attributes for a monochrome or RGB image.
func pixelModule(rows: Int, cols: Int, bitsAllocated: Int, bitsStored: Int? = nil, signed: Bool = false,
                 spp: Int = 1, photometric: String = "MONOCHROME2", planar: Int? = nil, frames: Int? = nil) -> [El] {
    var e: [El] = [
        .us(0x0028_0002, spp), .text(0x0028_0004, "CS", photometric),
        .us(0x0028_0010, rows), .us(0x0028_0011, cols),
        .us(0x0028_0100, bitsAllocated), .us(0x0028_0101, bitsStored ?? bitsAllocated),
        .us(0x0028_0102, (bitsStored ?? bitsAllocated) - 1), .us(0x0028_0103, signed ? 1 : 0),
    ]
    if let planar { e.append(.us(0x0028_0006, planar)) }
    if let frames { e.append(.text(0x0028_0008, "IS", String(frames))) }
    return e
}

/// Native pixel data from 16-bit sample words in the syntax's byte order.
func pixelData16(_ values: [UInt16], little: Bool) -> El {
    El(tag: 0x7FE0_0010, vr: "OW", value: values.flatMap { little ? [UInt8($0 & 0xFF), UInt8($0 >> 8)] : [UInt8($0 >> 8), UInt8($0 & 0xFF)] })
}

/// PackBits-encodes one RLE segment: replicate runs for repeats of 3 or more, literals otherwise.
func packBits(_ data: [UInt8]) -> [UInt8] {
    var out: [UInt8] = []
    var i = 0
    while i < data.count {
        var run = 1
        while i + run < data.count && data[i + run] == data[i] && run < 128 { run += 1 }
        if run >= 3 {
            out.append(UInt8(bitPattern: Int8(1 - run)))
            out.append(data[i])
            i += run
        } else {
            var j = i
            while j < data.count && j - i < 128 {
                if j + 2 < data.count && data[j] == data[j + 1] && data[j] == data[j + 2] { break }
                j += 1
            }
            out.append(UInt8(j - i - 1))
            out += data[i..<j]
            i = j
        }
    }
    if out.count % 2 == 1 { out.append(0x80) }  // no-op byte pads to even
    return out
}

/// One RLE frame of 16-bit samples (spp samples per pixel, interleaved input).
func rleFrame16(_ values: [UInt16], spp: Int) -> [UInt8] {
    var segments: [[UInt8]] = []
    for s in 0..<spp {
        let samples = stride(from: s, to: values.count, by: spp).map { values[$0] }
        segments.append(packBits(samples.map { UInt8($0 >> 8) }))
        segments.append(packBits(samples.map { UInt8($0 & 0xFF) }))
    }
    var header = [UInt8](repeating: 0, count: 64)
    func put(_ v: Int, _ at: Int) { for k in 0..<4 { header[at + k] = UInt8((v >> (8 * k)) & 0xFF) } }
    put(segments.count, 0)
    var offset = 64
    for (i, s) in segments.enumerated() { put(offset, 4 + 4 * i); offset += s.count }
    return header + segments.flatMap { $0 }
}
