/// Consistent Overhead Byte Stuffing (Cheshire & Baker, 1999): rewrites a byte string so it holds
/// no 0x00, at a cost of one byte per started run of 254 bytes, so 0x00 can delimit frames.
///
/// Each block is a code byte `c` (1...255) followed by `c - 1` non-zero data bytes; a block with
/// `c < 255` stands for its data followed by one 0x00, except the last block, whose zero is not
/// part of the data. A block of 254 data bytes (`c = 255`) implies no zero. The encoder here is the
/// minimal one of the paper: data ending exactly on a full block gets no trailing 0x01 block; the
/// decoder accepts that trailing block when another encoder writes it.
public enum COBS {
    /// Upper bound on the stuffed length of `length` bytes (no delimiter).
    public static func maxEncodedLength(_ length: Int) -> Int {
        length + length / 254 + 1
    }

    /// Stuffs `bytes`; the result holds no 0x00 and no delimiter.
    public static func encode<Bytes: Collection<UInt8>>(_ bytes: Bytes) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: maxEncodedLength(bytes.count))
        let length = out.withUnsafeMutableBufferPointer { buffer in
            var stuffer = COBSStuffer(buffer)
            for byte in bytes { stuffer.append(byte) }
            return stuffer.finish(delimiter: false)
        }
        out.removeLast(out.count - length)
        return out
    }

    /// Unstuffs `encoded` (one frame's bytes without the 0x00 delimiter).
    /// - Throws: `.cobs` if a 0x00 appears inside or the last block runs past the end.
    public static func decode<Bytes: Collection<UInt8>>(_ encoded: Bytes) throws(SensorLinkError) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(encoded.count)
        var unstuffer = COBSUnstuffer()
        var offset = 0
        for byte in encoded {
            if byte == 0 { throw SensorLinkError(.cobs, found: offset, expected: encoded.count) }
            if let decoded = unstuffer.push(byte) { out.append(decoded) }
            offset += 1
        }
        if !unstuffer.isAtBlockBoundary {
            throw SensorLinkError(.cobs, found: offset, expected: offset + unstuffer.remaining)
        }
        return out
    }
}

/// Streams bytes through COBS into a buffer that is known to be large enough
/// (`COBS.maxEncodedLength(n)`, plus one for a delimiter). One pass, no scratch copy: the code
/// byte of the current block is a reserved slot filled in when the block closes.
struct COBSStuffer {
    private let out: UnsafeMutableBufferPointer<UInt8>
    private var next = 1
    private var codeIndex = 0
    private var code: UInt8 = 1
    private var lastBlockFull = false

    init(_ out: UnsafeMutableBufferPointer<UInt8>) {
        self.out = out
    }

    mutating func append(_ byte: UInt8) {
        lastBlockFull = false
        if byte == 0 {
            closeBlock()
        } else {
            out[next] = byte
            next += 1
            code += 1
            if code == 0xFF {
                closeBlock()
                lastBlockFull = true
            }
        }
    }

    private mutating func closeBlock() {
        out[codeIndex] = code
        codeIndex = next
        next += 1
        code = 1
    }

    /// Closes the last block, appends the 0x00 delimiter if asked, and returns the bytes written.
    mutating func finish(delimiter: Bool) -> Int {
        var end: Int
        if lastBlockFull {
            end = codeIndex  // the slot reserved for a following block is not needed
        } else {
            out[codeIndex] = code
            end = next
        }
        if delimiter {
            out[end] = 0
            end += 1
        }
        return end
    }
}

/// Unstuffs COBS one non-zero byte at a time; the caller handles 0x00 (the delimiter) itself.
struct COBSUnstuffer {
    /// Data bytes still due in the current block.
    private(set) var remaining = 0
    /// The previous block was shorter than 254, so a 0x00 belongs between it and the next block.
    private var zeroBeforeNextBlock = false

    /// True where a frame may legally end: no block is left incomplete.
    var isAtBlockBoundary: Bool { remaining == 0 }

    /// Takes one non-zero byte; returns the decoded byte it yields, if any (a code byte yields the
    /// 0x00 deferred from the previous block, or nothing).
    mutating func push(_ byte: UInt8) -> UInt8? {
        if remaining > 0 {
            remaining -= 1
            return byte
        }
        let zero = zeroBeforeNextBlock
        remaining = Int(byte) - 1
        zeroBeforeNextBlock = byte != 0xFF
        return zero ? 0 : nil
    }

    mutating func reset() {
        remaining = 0
        zeroBeforeNextBlock = false
    }
}
