/// The sending side of a link: numbers the frames and encodes them into caller-provided buffers,
/// allocating nothing (the firmware's UART path).
///
/// The sequence number advances for every frame encoded, whether or not the caller manages to
/// send it: a frame dropped on the device (full transmit queue) then shows up on the host as a
/// sequence gap instead of vanishing.
public struct FrameEncoder: Sendable {
    /// The sequence number the next frame gets.
    public var nextSequence: UInt16

    /// An encoder whose first frame gets `firstSequence` (0 after boot).
    public init(firstSequence: UInt16 = 0) {
        nextSequence = firstSequence
    }

    /// Encodes `payload` stamped `timestamp` (µs) into `out`, delimiter included; returns the
    /// bytes written. See `Frame.encode(into:)` for the buffer size.
    public mutating func encode(_ payload: Payload, timestamp: UInt64,
                                into out: inout MutableSpan<UInt8>) throws(SensorLinkError) -> Int {
        let n = try Frame(sequence: nextSequence, timestamp: timestamp, payload: payload).encode(into: &out)
        nextSequence &+= 1
        return n
    }

    /// Encodes a waveform block straight from any collection of integer samples (a ring buffer's
    /// slice, a DMA buffer), without building a `WaveformBlock`; `timestamp` is the device time
    /// of the first sample. Every sample must fit `format`.
    public mutating func encodeWaveform<Samples: Collection>(
        channel: UInt8, format: SampleFormat, rate: SampleRate, firstSampleIndex: UInt64, samples: Samples,
        timestamp: UInt64, into out: inout MutableSpan<UInt8>
    ) throws(SensorLinkError) -> Int where Samples.Element: BinaryInteger {
        try WaveformBlock.validate(samples, format: format)
        let length = WaveformBlock.payloadLength(count: samples.count, format: format)
        let n = try encodeFrame(type: .waveform, sequence: nextSequence, timestamp: timestamp,
                                payloadLength: length, into: &out) { w in
            WaveformBlock.write(channel: channel, format: format, rate: rate, firstSampleIndex: firstSampleIndex,
                                samples: samples, to: &w)
        }
        nextSequence &+= 1
        return n
    }
}
