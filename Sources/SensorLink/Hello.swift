/// Hello (type 0x01): who the device is and what it streams. Sent first after boot (with `boot`
/// set, sequence numbering starting anew) and then periodically, so a host that attaches later
/// learns the channels.
///
/// Payload: firmware major, minor, patch (u8 each), flags (u8; bit 0 = boot), channel count (u8),
/// then 16 bytes per channel (see `ChannelInfo`).
public struct Hello: Equatable, Sendable {
    /// The firmware's version.
    public var firmware: FirmwareVersion
    /// Set in the first hello after the device started: the sequence number restarts with it, so
    /// the receiver re-baselines instead of counting a gap.
    public var boot: Bool
    /// The channels the device streams, at most 255.
    public var channels: [ChannelInfo]

    /// Creates a hello payload.
    public init(firmware: FirmwareVersion, boot: Bool, channels: [ChannelInfo]) {
        self.firmware = firmware
        self.boot = boot
        self.channels = channels
    }
}

/// A firmware version, major.minor.patch.
public struct FirmwareVersion: Equatable, Sendable {
    public var major: UInt8
    public var minor: UInt8
    public var patch: UInt8

    /// Creates a version.
    public init(_ major: UInt8, _ minor: UInt8, _ patch: UInt8) {
        self.major = major
        self.minor = minor
        self.patch = patch
    }
}

/// One streamed channel, as announced in `Hello`. 16 bytes on the wire: id (u8), kind (u8),
/// sample format (u8), unit (u8), sample rate (u32, mHz), scale (f32), offset (i32).
/// A sample `raw` means `(raw - offset) * scale` in `unit`.
public struct ChannelInfo: Equatable, Sendable {
    /// The id waveform blocks of this channel carry.
    public var id: UInt8
    /// What the channel measures.
    public var kind: ChannelKind
    /// How its samples travel.
    public var format: SampleFormat
    /// The physical unit after scaling.
    public var unit: Unit
    /// Nominal sample rate.
    public var rate: SampleRate
    /// Physical units per count (IEEE 754 binary32).
    public var scale: Float
    /// The raw value that means zero in physical units.
    public var offset: Int32

    /// Creates a channel description.
    public init(id: UInt8, kind: ChannelKind, format: SampleFormat, unit: Unit, rate: SampleRate,
                scale: Float, offset: Int32) {
        self.id = id
        self.kind = kind
        self.format = format
        self.unit = unit
        self.rate = rate
        self.scale = scale
        self.offset = offset
    }

    static let wireLength = 16
}

/// What a channel measures. A struct over the wire byte so that kinds added later decode as
/// their raw value instead of failing.
public struct ChannelKind: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Not stated.
    public static let unspecified = ChannelKind(rawValue: 0)
    /// Electrocardiogram lead.
    public static let ecg = ChannelKind(rawValue: 1)
    /// Thoracic impedance (respiration).
    public static let respiration = ChannelKind(rawValue: 2)
    /// Photoplethysmogram, red LED.
    public static let ppgRed = ChannelKind(rawValue: 3)
    /// Photoplethysmogram, infrared LED.
    public static let ppgInfrared = ChannelKind(rawValue: 4)
}

/// Physical units of channels and vitals. Unknown codes decode as their raw value.
public struct Unit: RawRepresentable, Equatable, Hashable, Sendable {
    public let rawValue: UInt8
    public init(rawValue: UInt8) { self.rawValue = rawValue }

    /// Raw ADC counts, no physical unit.
    public static let counts = Unit(rawValue: 0)
    /// Millivolt (mV).
    public static let millivolt = Unit(rawValue: 1)
    /// Ohm (Ω).
    public static let ohm = Unit(rawValue: 2)
    /// Per minute (/min): heart, pulse and respiratory rates.
    public static let perMinute = Unit(rawValue: 3)
    /// Percent (%).
    public static let percent = Unit(rawValue: 4)
    /// Degree Celsius (°C).
    public static let celsius = Unit(rawValue: 5)
    /// Millimetre of mercury (mmHg).
    public static let mmHg = Unit(rawValue: 6)
}

/// How samples of a waveform block are encoded.
public enum SampleFormat: UInt8, Sendable {
    /// Two bytes per sample, little-endian two's complement.
    case int16 = 1
    /// Four bytes per sample, little-endian two's complement.
    case int32 = 2

    /// Bytes per sample.
    public var byteWidth: Int { self == .int16 ? 2 : 4 }
}

/// A sample rate in millihertz, so rates such as 0.5 Hz or 128.5 Hz are exact.
public struct SampleRate: Equatable, Hashable, Sendable {
    /// The rate in mHz (500 Hz = 500_000).
    public var milliHertz: UInt32

    /// A rate in mHz.
    public init(milliHertz: UInt32) { self.milliHertz = milliHertz }
    /// A whole number of hertz (at most 4_294_967).
    public init(hertz: UInt32) { self.milliHertz = hertz * 1000 }

    /// The rate in Hz.
    public var hertz: Double { Double(milliHertz) / 1000 }
}

extension Hello: PayloadCoding {
    static var frameType: FrameType { .hello }

    var payloadLength: Int { 5 + channels.count * ChannelInfo.wireLength }

    func validate() throws(SensorLinkError) {
        if channels.count > 255 {
            throw SensorLinkError(.tooManyItems, found: channels.count, expected: 255, frameType: FrameType.hello.rawValue)
        }
    }

    func write(to w: inout FrameWriter) {
        w.u8(firmware.major)
        w.u8(firmware.minor)
        w.u8(firmware.patch)
        w.u8(boot ? 1 : 0)
        w.u8(UInt8(channels.count))
        for c in channels {
            w.u8(c.id)
            w.u8(c.kind.rawValue)
            w.u8(c.format.rawValue)
            w.u8(c.unit.rawValue)
            w.u32(c.rate.milliHertz)
            w.f32(c.scale)
            w.i32(c.offset)
        }
    }

    static func read(_ r: inout ByteReader, length: Int) throws(SensorLinkError) -> Hello {
        guard length >= 5 else { throw malformed(.hello, length, 5) }
        let firmware = FirmwareVersion(r.u8(), r.u8(), r.u8())
        let flags = r.u8()
        let count = Int(r.u8())
        let expected = 5 + count * ChannelInfo.wireLength
        guard length == expected else { throw malformed(.hello, length, expected) }
        var channels: [ChannelInfo] = []
        channels.reserveCapacity(count)
        for _ in 0..<count {
            let id = r.u8()
            let kind = ChannelKind(rawValue: r.u8())
            let formatByte = r.u8()
            guard let format = SampleFormat(rawValue: formatByte) else {
                throw SensorLinkError(.badSampleFormat, found: Int(formatByte), expected: 0, frameType: FrameType.hello.rawValue)
            }
            let unit = Unit(rawValue: r.u8())
            let rate = SampleRate(milliHertz: r.u32())
            let scale = r.f32()
            let offset = r.i32()
            channels.append(ChannelInfo(id: id, kind: kind, format: format, unit: unit, rate: rate,
                                        scale: scale, offset: offset))
        }
        // Bits 1-7 of the flags are reserved: senders write 0, receivers ignore them.
        return Hello(firmware: firmware, boot: flags & 1 != 0, channels: channels)
    }
}
