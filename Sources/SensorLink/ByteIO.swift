// Little-endian field access for frames: FrameWriter streams fields through the CRC and COBS into
// the output buffer; ByteReader reads them back from a decoded frame. Both assume the caller has
// checked lengths first (the encoder its buffer size, the parsers their payload length).

/// Writes one frame's fields: every byte goes through the CRC and the COBS stuffer.
struct FrameWriter {
    private var stuffer: COBSStuffer
    private var crc = CRC16()

    init(_ out: UnsafeMutableBufferPointer<UInt8>) {
        stuffer = COBSStuffer(out)
    }

    mutating func u8(_ v: UInt8) {
        crc.update(v)
        stuffer.append(v)
    }
    mutating func i8(_ v: Int8) { u8(UInt8(bitPattern: v)) }
    mutating func u16(_ v: UInt16) {
        u8(UInt8(truncatingIfNeeded: v))
        u8(UInt8(truncatingIfNeeded: v >> 8))
    }
    mutating func i16(_ v: Int16) { u16(UInt16(bitPattern: v)) }
    mutating func u32(_ v: UInt32) {
        u16(UInt16(truncatingIfNeeded: v))
        u16(UInt16(truncatingIfNeeded: v >> 16))
    }
    mutating func i32(_ v: Int32) { u32(UInt32(bitPattern: v)) }
    mutating func u64(_ v: UInt64) {
        u32(UInt32(truncatingIfNeeded: v))
        u32(UInt32(truncatingIfNeeded: v >> 32))
    }
    mutating func f32(_ v: Float) { u32(v.bitPattern) }

    /// Appends the CRC of everything written (little-endian) and the 0x00 delimiter; returns the
    /// bytes written to the buffer.
    mutating func finish() -> Int {
        let value = crc.value
        stuffer.append(UInt8(truncatingIfNeeded: value))
        stuffer.append(UInt8(truncatingIfNeeded: value >> 8))
        return stuffer.finish(delimiter: true)
    }
}

/// Reads little-endian fields from a decoded frame. Array subscripts stay bounds-checked, so a
/// length check a parser forgot traps instead of reading foreign memory.
struct ByteReader {
    private let bytes: [UInt8]
    private(set) var offset: Int

    init(_ bytes: [UInt8], offset: Int) {
        self.bytes = bytes
        self.offset = offset
    }

    mutating func u8() -> UInt8 {
        defer { offset += 1 }
        return bytes[offset]
    }
    mutating func i8() -> Int8 { Int8(bitPattern: u8()) }
    mutating func u16() -> UInt16 {
        let lo = UInt16(u8())
        return lo | UInt16(u8()) << 8
    }
    mutating func i16() -> Int16 { Int16(bitPattern: u16()) }
    mutating func u32() -> UInt32 {
        let lo = UInt32(u16())
        return lo | UInt32(u16()) << 16
    }
    mutating func i32() -> Int32 { Int32(bitPattern: u32()) }
    mutating func u64() -> UInt64 {
        let lo = UInt64(u32())
        return lo | UInt64(u32()) << 32
    }
    mutating func f32() -> Float { Float(bitPattern: u32()) }
}
