/// Waveform block (type 0x02): consecutive samples of one channel.
///
/// Payload: channel id (u8), sample format (u8), sample count (u16), sample rate (u32, mHz),
/// index of the first sample (u64), then the samples (int16 or int32 each). The frame's timestamp
/// is the device time of the first sample. `firstSampleIndex` counts the channel's samples since
/// boot, so a receiver sees exactly which samples a lost frame held.
public struct WaveformBlock: Equatable, Sendable {
    /// The channel, as announced in `Hello`.
    public var channel: UInt8
    /// How the samples travel; every sample must fit it.
    public var format: SampleFormat
    /// The channel's nominal sample rate.
    public var rate: SampleRate
    /// Index of `samples[0]` in the channel's sample stream since boot.
    public var firstSampleIndex: UInt64
    /// The samples, at most 65535 (and at most what fits `SensorLink.maxPayloadLength`).
    /// Held as Int32 whatever the format, so a block decodes and re-encodes to the same bytes.
    public var samples: [Int32]

    /// Creates a block.
    public init(channel: UInt8, format: SampleFormat, rate: SampleRate, firstSampleIndex: UInt64, samples: [Int32]) {
        self.channel = channel
        self.format = format
        self.rate = rate
        self.firstSampleIndex = firstSampleIndex
        self.samples = samples
    }

    /// Bytes before the samples.
    static let fixedLength = 16

    /// The payload length of a block of `count` samples in `format`.
    public static func payloadLength(count: Int, format: SampleFormat) -> Int {
        fixedLength + count * format.byteWidth
    }

    /// The most samples one frame can carry in `format`.
    public static func maxSamples(format: SampleFormat) -> Int {
        (SensorLink.maxPayloadLength - fixedLength) / format.byteWidth
    }

    /// Checks that `samples` fit a block in `format`: count and range of every sample.
    static func validate<Samples: Collection>(_ samples: Samples, format: SampleFormat) throws(SensorLinkError)
    where Samples.Element: BinaryInteger {
        let count = samples.count
        if count > 0xFFFF {
            throw SensorLinkError(.tooManyItems, found: count, expected: 0xFFFF, frameType: FrameType.waveform.rawValue)
        }
        var index = 0
        for s in samples {
            let fits = format == .int16 ? Int16(exactly: s) != nil : Int32(exactly: s) != nil
            if !fits {
                // Clamped so that the report itself cannot overflow Int on 32-bit targets.
                let found = Int(exactly: s) ?? (s < 0 ? Int.min : Int.max)
                throw SensorLinkError(.sampleOutOfRange, found: found, expected: index, frameType: FrameType.waveform.rawValue)
            }
            index += 1
        }
    }

    /// Writes a block's payload; `validate` has passed.
    static func write<Samples: Collection>(channel: UInt8, format: SampleFormat, rate: SampleRate, firstSampleIndex: UInt64,
                                           samples: Samples, to w: inout FrameWriter) where Samples.Element: BinaryInteger {
        w.u8(channel)
        w.u8(format.rawValue)
        w.u16(UInt16(samples.count))
        w.u32(rate.milliHertz)
        w.u64(firstSampleIndex)
        switch format {
        case .int16: for s in samples { w.i16(Int16(truncatingIfNeeded: s)) }
        case .int32: for s in samples { w.i32(Int32(truncatingIfNeeded: s)) }
        }
    }
}

extension WaveformBlock: PayloadCoding {
    static var frameType: FrameType { .waveform }

    var payloadLength: Int { Self.payloadLength(count: samples.count, format: format) }

    func validate() throws(SensorLinkError) {
        try Self.validate(samples, format: format)
    }

    func write(to w: inout FrameWriter) {
        Self.write(channel: channel, format: format, rate: rate, firstSampleIndex: firstSampleIndex,
                   samples: samples, to: &w)
    }

    static func read(_ r: inout ByteReader, length: Int) throws(SensorLinkError) -> WaveformBlock {
        guard length >= fixedLength else { throw malformed(.waveform, length, fixedLength) }
        let channel = r.u8()
        let formatByte = r.u8()
        guard let format = SampleFormat(rawValue: formatByte) else {
            throw SensorLinkError(.badSampleFormat, found: Int(formatByte), expected: 0, frameType: FrameType.waveform.rawValue)
        }
        let count = Int(r.u16())
        let expected = payloadLength(count: count, format: format)
        guard length == expected else { throw malformed(.waveform, length, expected) }
        let rate = SampleRate(milliHertz: r.u32())
        let first = r.u64()
        var samples = [Int32](repeating: 0, count: count)
        switch format {
        case .int16: for i in 0..<count { samples[i] = Int32(r.i16()) }
        case .int32: for i in 0..<count { samples[i] = r.i32() }
        }
        return WaveformBlock(channel: channel, format: format, rate: rate, firstSampleIndex: first, samples: samples)
    }
}
