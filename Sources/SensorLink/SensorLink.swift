// SensorLink: the frame codec between the sensor-bridge microcontroller and the host.
// The wire format is specified in docs/SENSORLINK.md; this file holds its constants.
//
// The module is Foundation-free and compiles as Embedded Swift (Tools/sensorlink/check-embedded.sh):
// typed throws, no existentials, no string formatting outside `#if !hasFeature(Embedded)`.

/// Protocol constants shared by the encoder and the decoder.
public enum SensorLink {
    /// The protocol version this module writes and reads (header byte 0).
    public static let version: UInt8 = 1
    /// Bytes of the frame header: version, type, sequence (u16), device timestamp in µs (u64).
    public static let headerLength = 12
    /// Bytes of the CRC-16/CCITT-FALSE that ends every frame (little-endian).
    public static let crcLength = 2
    /// The shortest possible frame: a header, an empty payload and the CRC.
    public static let minFrameLength = headerLength + crcLength
    /// The longest frame (header + payload + CRC, before COBS) a sender may emit and a receiver
    /// must accept.
    public static let maxFrameLength = 1024
    /// The longest payload a frame of `maxFrameLength` bytes can carry.
    public static let maxPayloadLength = maxFrameLength - minFrameLength

    /// Bytes on the wire, at most, for a frame of `frameLength` bytes before COBS: the stuffed
    /// bytes (one code byte per started block of 254) plus the 0x00 delimiter. An encoder's output
    /// buffer must hold this many bytes.
    public static func maxEncodedLength(frameLength: Int) -> Int {
        COBS.maxEncodedLength(frameLength) + 1
    }
}

/// What a frame carries; header byte 1.
public enum FrameType: UInt8, Sendable {
    /// Firmware version and the channels the device streams, sent at boot and periodically.
    case hello = 0x01
    /// A block of consecutive samples of one channel.
    case waveform = 0x02
    /// Numeric vital signs computed on the device.
    case vitals = 0x03
    /// Lead-off, battery, dropped samples and sensor faults.
    case status = 0x04
}
