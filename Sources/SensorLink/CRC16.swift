/// CRC-16/CCITT-FALSE: polynomial 0x1021, initial value 0xFFFF, no reflection, no final XOR.
/// The check value (CRC of the ASCII bytes "123456789") is 0x29B1.
///
/// Bitwise rather than table-driven: no 512-byte table in a microcontroller's flash, and at
/// SensorLink's few kilobytes per second the eight shifts per byte cost nothing.
public struct CRC16: Equatable, Sendable {
    /// The CRC of the bytes fed so far.
    public private(set) var value: UInt16 = 0xFFFF

    /// A CRC with nothing fed yet (value 0xFFFF).
    public init() {}

    /// Feeds one byte.
    public mutating func update(_ byte: UInt8) {
        var crc = value ^ (UInt16(byte) << 8)
        for _ in 0..<8 {
            crc = crc & 0x8000 != 0 ? (crc << 1) ^ 0x1021 : crc << 1
        }
        value = crc
    }

    /// Feeds a sequence of bytes.
    public mutating func update<Bytes: Sequence<UInt8>>(_ bytes: Bytes) {
        for byte in bytes { update(byte) }
    }

    /// The CRC of `bytes`.
    public static func checksum<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> UInt16 {
        var crc = CRC16()
        crc.update(bytes)
        return crc.value
    }
}
