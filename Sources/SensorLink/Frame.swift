/// One SensorLink frame: header fields and a typed payload.
///
/// On the wire: `COBS(header ‖ payload ‖ CRC) ‖ 0x00`, where the header is version (u8),
/// type (u8), sequence (u16), timestamp (u64, µs) and the CRC is CRC-16/CCITT-FALSE over header
/// and payload, little-endian like every field. See docs/SENSORLINK.md.
public struct Frame: Equatable, Sendable {
    /// The sender's frame counter, +1 per frame built, wrapping at 65536.
    public var sequence: UInt16
    /// Device time in microseconds since boot (for a waveform block: of its first sample).
    public var timestamp: UInt64
    /// What the frame carries.
    public var payload: Payload

    /// Creates a frame.
    public init(sequence: UInt16, timestamp: UInt64, payload: Payload) {
        self.sequence = sequence
        self.timestamp = timestamp
        self.payload = payload
    }

    /// The type byte of the payload.
    public var type: FrameType { payload.type }

    /// Header, payload and CRC, before COBS.
    public var frameLength: Int { SensorLink.minFrameLength + payload.payloadLength }

    /// Encodes the frame, its 0x00 delimiter included, at the start of `out`; returns the bytes
    /// written. `out` must hold `SensorLink.maxEncodedLength(frameLength:)` bytes; nothing is
    /// written when an error is thrown. Allocates nothing.
    public func encode(into out: inout MutableSpan<UInt8>) throws(SensorLinkError) -> Int {
        switch payload {
        case .hello(let p): try encodeFrame(p, sequence: sequence, timestamp: timestamp, into: &out)
        case .waveform(let p): try encodeFrame(p, sequence: sequence, timestamp: timestamp, into: &out)
        case .vitals(let p): try encodeFrame(p, sequence: sequence, timestamp: timestamp, into: &out)
        case .status(let p): try encodeFrame(p, sequence: sequence, timestamp: timestamp, into: &out)
        }
    }

    /// The frame's bytes on the wire, 0x00 delimiter included.
    public func encoded() throws(SensorLinkError) -> [UInt8] {
        var bytes = [UInt8](repeating: 0, count: SensorLink.maxEncodedLength(frameLength: frameLength))
        var span = bytes.mutableSpan
        let count = try encode(into: &span)
        bytes.removeLast(bytes.count - count)
        return bytes
    }

    /// Decodes one frame as it travels on the wire: COBS-stuffed, its final 0x00 optional.
    public static func decode<Bytes: BidirectionalCollection<UInt8>>(wire: Bytes) throws(SensorLinkError) -> Frame {
        var body = wire[...]
        if body.last == 0 { body = body.dropLast() }
        let raw = try COBS.decode(body)
        return try decode(unstuffed: raw, count: raw.count)
    }

    /// Checks and parses `bytes[0..<count]`, an unstuffed frame (header, payload, CRC). The
    /// checks run in the order the decoder counts them: length, CRC, version, type, payload.
    static func decode(unstuffed bytes: [UInt8], count: Int) throws(SensorLinkError) -> Frame {
        let header = try FrameHeader.check(bytes, count: count)
        return try header.parsePayload(bytes)
    }
}

/// The payload of a frame, by type.
public enum Payload: Equatable, Sendable {
    case hello(Hello)
    case waveform(WaveformBlock)
    case vitals(Vitals)
    case status(DeviceStatus)

    /// The frame type that carries this payload.
    public var type: FrameType {
        switch self {
        case .hello: .hello
        case .waveform: .waveform
        case .vitals: .vitals
        case .status: .status
        }
    }

    /// Bytes of the payload on the wire (before COBS).
    public var payloadLength: Int {
        switch self {
        case .hello(let p): p.payloadLength
        case .waveform(let p): p.payloadLength
        case .vitals(let p): p.payloadLength
        case .status(let p): p.payloadLength
        }
    }
}

/// A payload type's wire form. Used through generics only: no existentials, so it compiles as
/// Embedded Swift and every call is specialized.
protocol PayloadCoding {
    static var frameType: FrameType { get }
    var payloadLength: Int { get }
    /// Throws if the payload cannot be encoded (counts over their field's range, samples that do
    /// not fit the format). Runs before a byte is written.
    func validate() throws(SensorLinkError)
    /// Writes the payload; `validate` has passed.
    func write(to w: inout FrameWriter)
    /// Reads a payload of `length` bytes; throws `.malformedPayload` or `.badSampleFormat`.
    static func read(_ r: inout ByteReader, length: Int) throws(SensorLinkError) -> Self
}

func malformed(_ type: FrameType, _ length: Int, _ expected: Int) -> SensorLinkError {
    SensorLinkError(.malformedPayload, found: length, expected: expected, frameType: type.rawValue)
}

func encodeFrame<P: PayloadCoding>(_ payload: P, sequence: UInt16, timestamp: UInt64,
                                   into out: inout MutableSpan<UInt8>) throws(SensorLinkError) -> Int {
    try payload.validate()
    return try encodeFrame(type: P.frameType, sequence: sequence, timestamp: timestamp,
                           payloadLength: payload.payloadLength, into: &out) { w in payload.write(to: &w) }
}

/// Checks the sizes, then writes header, payload (by `body`), CRC and delimiter in one pass.
func encodeFrame(type: FrameType, sequence: UInt16, timestamp: UInt64, payloadLength: Int,
                 into out: inout MutableSpan<UInt8>, body: (inout FrameWriter) -> Void) throws(SensorLinkError) -> Int {
    let frameLength = SensorLink.minFrameLength + payloadLength
    guard frameLength <= SensorLink.maxFrameLength else {
        throw SensorLinkError(.frameTooLong, found: frameLength, expected: SensorLink.maxFrameLength, frameType: type.rawValue)
    }
    let needed = SensorLink.maxEncodedLength(frameLength: frameLength)
    guard out.count >= needed else {
        throw SensorLinkError(.bufferTooSmall, found: out.count, expected: needed, frameType: type.rawValue)
    }
    return out.withUnsafeMutableBufferPointer { buffer in
        var w = FrameWriter(buffer)
        w.u8(SensorLink.version)
        w.u8(type.rawValue)
        w.u16(sequence)
        w.u64(timestamp)
        body(&w)
        return w.finish()
    }
}

/// The header of an unstuffed frame whose length and CRC have been checked.
struct FrameHeader {
    let version: UInt8
    let typeByte: UInt8
    let sequence: UInt16
    let timestamp: UInt64
    let payloadLength: Int

    /// Checks length and CRC and reads the header; does not look at version or type yet.
    static func check(_ bytes: [UInt8], count: Int) throws(SensorLinkError) -> FrameHeader {
        guard count >= SensorLink.minFrameLength else {
            throw SensorLinkError(.tooShort, found: count, expected: SensorLink.minFrameLength)
        }
        var crc = CRC16()
        for i in 0..<(count - SensorLink.crcLength) { crc.update(bytes[i]) }
        let received = UInt16(bytes[count - 2]) | UInt16(bytes[count - 1]) << 8
        guard received == crc.value else {
            throw SensorLinkError(.crc, found: Int(received), expected: Int(crc.value), frameType: bytes[1])
        }
        var r = ByteReader(bytes, offset: 0)
        return FrameHeader(version: r.u8(), typeByte: r.u8(), sequence: r.u16(), timestamp: r.u64(),
                           payloadLength: count - SensorLink.minFrameLength)
    }

    /// Whether this is a hello announcing a boot (the sequence restarts), looked up without
    /// parsing the rest of the payload.
    func isBootHello(_ bytes: [UInt8]) -> Bool {
        version == SensorLink.version && typeByte == FrameType.hello.rawValue && payloadLength >= 4
            && bytes[SensorLink.headerLength + 3] & 1 != 0
    }

    /// Checks version and type and parses the payload.
    func parsePayload(_ bytes: [UInt8]) throws(SensorLinkError) -> Frame {
        guard version == SensorLink.version else {
            throw SensorLinkError(.unsupportedVersion, found: Int(version), expected: Int(SensorLink.version), frameType: typeByte)
        }
        guard let type = FrameType(rawValue: typeByte) else {
            throw SensorLinkError(.unknownType, found: Int(typeByte), expected: 0, frameType: typeByte)
        }
        let payload: Payload
        switch type {
        case .hello: payload = .hello(try read(Hello.self, bytes))
        case .waveform: payload = .waveform(try read(WaveformBlock.self, bytes))
        case .vitals: payload = .vitals(try read(Vitals.self, bytes))
        case .status: payload = .status(try read(DeviceStatus.self, bytes))
        }
        return Frame(sequence: sequence, timestamp: timestamp, payload: payload)
    }

    private func read<P: PayloadCoding>(_: P.Type, _ bytes: [UInt8]) throws(SensorLinkError) -> P {
        var r = ByteReader(bytes, offset: SensorLink.headerLength)
        return try P.read(&r, length: payloadLength)
    }
}
