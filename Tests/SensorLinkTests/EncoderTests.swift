// The encoder's contract: output in the caller's buffer, nothing written on error, sequence
// numbers advancing per frame and wrapping, and the ring-buffer path byte-identical to the
// WaveformBlock path.
import SensorLink
import Testing

@Suite struct EncoderTests {
    static let block = WaveformBlock(channel: 1, format: .int16, rate: SampleRate(hertz: 250), firstSampleIndex: 99,
                                     samples: [0, 1, -1, 300, -300])

    @Test func bufferTooSmallWritesNothing() {
        let frame = Frame(sequence: 1, timestamp: 2, payload: .waveform(Self.block))
        let needed = SensorLink.maxEncodedLength(frameLength: frame.frameLength)
        var buffer = [UInt8](repeating: 0xAA, count: needed - 1)
        var span = buffer.mutableSpan
        do {
            _ = try frame.encode(into: &span)
            Issue.record("encoded into a short buffer")
        } catch {
            #expect(error.code == .bufferTooSmall)
            #expect(error.found == needed - 1 && error.expected == needed)
        }
        #expect(buffer.allSatisfy { $0 == 0xAA })
    }

    @Test func frameTooLong() {
        let samples = [Int32](repeating: 1, count: WaveformBlock.maxSamples(format: .int16) + 1)
        let block = WaveformBlock(channel: 0, format: .int16, rate: SampleRate(hertz: 500), firstSampleIndex: 0, samples: samples)
        #expect(throws: SensorLinkError(.frameTooLong, found: SensorLink.maxFrameLength + 2, expected: SensorLink.maxFrameLength,
                                        frameType: FrameType.waveform.rawValue)) {
            try Frame(sequence: 0, timestamp: 0, payload: .waveform(block)).encoded()
        }
        var ok = block
        ok.samples.removeLast()
        #expect((try? Frame(sequence: 0, timestamp: 0, payload: .waveform(ok)).encoded()) != nil)
    }

    @Test func sampleOutOfRangeNamesTheSample() {
        var block = Self.block
        block.samples[3] = 40_000
        #expect(throws: SensorLinkError(.sampleOutOfRange, found: 40_000, expected: 3, frameType: FrameType.waveform.rawValue)) {
            try Frame(sequence: 0, timestamp: 0, payload: .waveform(block)).encoded()
        }
        block.format = .int32
        #expect((try? Frame(sequence: 0, timestamp: 0, payload: .waveform(block)).encoded()) != nil)
    }

    @Test func tooManyItems() {
        let reading = VitalReading(kind: .heartRate, unit: .perMinute, mantissa: 60)
        let vitals = Vitals([VitalReading](repeating: reading, count: 256))
        #expect(throws: SensorLinkError(.tooManyItems, found: 256, expected: 255, frameType: FrameType.vitals.rawValue)) {
            try Frame(sequence: 0, timestamp: 0, payload: .vitals(vitals)).encoded()
        }
    }

    @Test func sequenceAdvancesAndWraps() throws {
        var encoder = FrameEncoder(firstSequence: 0xFFFE)
        var buffer = [UInt8](repeating: 0, count: 64)
        var sequences: [UInt16] = []
        for _ in 0..<3 {
            var span = buffer.mutableSpan
            let n = try encoder.encode(.vitals(Vitals([])), timestamp: 5, into: &span)
            sequences.append(try Frame.decode(wire: buffer[..<n]).sequence)
        }
        #expect(sequences == [0xFFFE, 0xFFFF, 0])
        #expect(encoder.nextSequence == 1)
    }

    @Test func failedEncodeKeepsTheSequence() {
        var encoder = FrameEncoder(firstSequence: 10)
        var buffer = [UInt8](repeating: 0, count: 8)
        var span = buffer.mutableSpan
        #expect(throws: SensorLinkError.self) { try encoder.encode(.vitals(Vitals([])), timestamp: 0, into: &span) }
        #expect(encoder.nextSequence == 10)
    }

    /// The firmware's path: samples from a ring buffer's two halves, as Int16 or Int32, lazily.
    @Test func waveformFromAnyCollectionMatchesTheBlock() throws {
        let ring: [Int16] = [300, -300, 0, 1, -1, 7, 8]  // oldest sample at index 5
        let ordered = ring[5...] + ring[..<5]
        var buffer = [UInt8](repeating: 0, count: 128)
        var encoder = FrameEncoder(firstSequence: 3)
        var span = buffer.mutableSpan
        let n = try encoder.encodeWaveform(channel: 1, format: .int16, rate: SampleRate(hertz: 250), firstSampleIndex: 99,
                                           samples: ordered, timestamp: 1000, into: &span)
        let block = WaveformBlock(channel: 1, format: .int16, rate: SampleRate(hertz: 250), firstSampleIndex: 99,
                                  samples: ordered.map(Int32.init))
        let expected = try Frame(sequence: 3, timestamp: 1000, payload: .waveform(block)).encoded()
        #expect(Array(buffer[..<n]) == expected)

        span = buffer.mutableSpan
        let lazy = (0..<5).lazy.map { Int64($0) * 1_000_000 }
        let m = try encoder.encodeWaveform(channel: 2, format: .int32, rate: SampleRate(milliHertz: 128_500), firstSampleIndex: 0,
                                           samples: lazy, timestamp: 0, into: &span)
        let decoded = try Frame.decode(wire: buffer[..<m])
        #expect(decoded.sequence == 4)
        #expect(decoded.payload == .waveform(WaveformBlock(channel: 2, format: .int32, rate: SampleRate(milliHertz: 128_500),
                                                           firstSampleIndex: 0, samples: [0, 1_000_000, 2_000_000, 3_000_000, 4_000_000])))
        span = buffer.mutableSpan
        #expect(throws: SensorLinkError(.sampleOutOfRange, found: 3_000_000_000, expected: 1, frameType: 2)) {
            try encoder.encodeWaveform(channel: 2, format: .int32, rate: SampleRate(hertz: 1), firstSampleIndex: 0,
                                       samples: [Int64(0), 3_000_000_000], timestamp: 0, into: &span)
        }
    }

    @Test func vitalValues() {
        #expect(VitalReading(kind: .temperature, unit: .celsius, mantissa: 368, exponent: -1).value == 36.8)
        #expect(VitalReading(kind: .heartRate, unit: .perMinute, mantissa: 72).value == 72)
        #expect(VitalReading(kind: .heartRate, unit: .perMinute, mantissa: 12, exponent: 2).value == 1200)
        #expect(SampleRate(milliHertz: 128_500).hertz == 128.5)
    }

    @Test func errorDescriptionsNameTheProblem() {
        let e = SensorLinkError(.sampleOutOfRange, found: 40_000, expected: 3, frameType: 2)
        #expect(e.description == "sample-out-of-range: sample 3 = 40000 does not fit the sample format (frame type 2)")
        #expect(SensorLinkError(.crc, found: 0x1234, expected: 0xABCD).description == "crc: CRC received 0x1234, computed 0xabcd")
    }
}
