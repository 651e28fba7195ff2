// The streaming decoder's checks one at a time: resynchronization after garbage, the frame size
// bound, each drop counter, and sequence tracking (gaps across the 16-bit wrap, rewinds, restarts).
import SensorLink
import Testing

func waveformFrame(_ sequence: UInt16, samples: Int = 8) -> Frame {
    let block = WaveformBlock(channel: 0, format: .int32, rate: SampleRate(hertz: 500), firstSampleIndex: UInt64(sequence) * 8,
                              samples: (0..<samples).map { Int32($0) * 1000 - 3000 + Int32(sequence) })
    return Frame(sequence: sequence, timestamp: UInt64(sequence) * 16_000, payload: .waveform(block))
}

func wire(_ f: Frame) -> [UInt8] { try! f.encoded() }

/// Header + payload + valid CRC, stuffed and delimited: for frames the encoder refuses to build.
func rawWire(version: UInt8 = 1, type: UInt8, sequence: UInt16, payload: [UInt8]) -> [UInt8] {
    var body: [UInt8] = [version, type, UInt8(sequence & 0xFF), UInt8(sequence >> 8)] + [UInt8](repeating: 0, count: 8) + payload
    let crc = CRC16.checksum(body)
    body += [UInt8(crc & 0xFF), UInt8(crc >> 8)]
    return COBS.encode(body) + [0]
}

func frames(_ events: [DecoderEvent]) -> [Frame] {
    events.compactMap { if case .frame(let f) = $0 { f } else { nil } }
}

func drops(_ events: [DecoderEvent]) -> [SensorLinkError.Code] {
    events.compactMap { if case .dropped(let e) = $0 { e.code } else { nil } }
}

@Suite struct DecoderTests {
    @Test func resyncsAfterRandomGarbage() {
        var rng = SplitMix64(seed: 99)
        for trial in 0..<300 {
            let length = Int.random(in: 1...600, using: &rng)
            let withZeros = trial % 2 == 0
            let garbage = (0..<length).map { _ in withZeros ? UInt8.random(in: 0...255, using: &rng) : UInt8.random(in: 1...255, using: &rng) }
            let a = waveformFrame(UInt16(trial)), b = waveformFrame(UInt16(trial) + 1)
            var d = FrameDecoder()
            let events = d.feed(garbage + [0] + wire(a) + wire(b))
            #expect(frames(events) == [a, b], "trial \(trial)")
            #expect(d.statistics.frames == 2 && d.statistics.framesLost == 0)
            // Everything the garbage produced was counted as a drop, nothing as a frame.
            #expect(UInt64(drops(events).count) == d.statistics.framesDropped)
        }
    }

    @Test func garbageGluedToAFrameCostsThatFrameOnly() {
        var d = FrameDecoder()
        let events = d.feed([0x7E, 0x21, 0x99] + wire(waveformFrame(1)) + wire(waveformFrame(2)) + wire(waveformFrame(3)))
        #expect(frames(events) == [waveformFrame(2), waveformFrame(3)])
        #expect(d.statistics.framesDropped == 1)
    }

    @Test func awaitDelimiterSkipsTheFirstPartialFrameWithoutCountingAnError() {
        let stream = Array(wire(waveformFrame(1)).suffix(20)) + wire(waveformFrame(2))
        var strict = FrameDecoder()
        _ = strict.feed(stream)
        #expect(strict.statistics.framesDropped == 1)
        var attached = FrameDecoder(awaitDelimiter: true)
        let events = attached.feed(stream)
        #expect(events == [.frame(waveformFrame(2))])
        #expect(attached.statistics.framesDropped == 0)
        #expect(attached.statistics.bytesBeforeSync == 19)
    }

    @Test func frameSizeBound() throws {
        let frame = waveformFrame(5, samples: 40)
        var exact = FrameDecoder(maxFrameLength: frame.frameLength)
        #expect(frames(exact.feed(wire(frame))) == [frame])
        var short = FrameDecoder(maxFrameLength: frame.frameLength - 1)
        let events = short.feed(wire(frame) + wire(waveformFrame(6, samples: 2)))
        #expect(drops(events) == [.oversize])
        #expect(frames(events) == [waveformFrame(6, samples: 2)])
        #expect(short.statistics.oversizeFrames == 1)
        // A run with no delimiter for 100 kB costs one counted drop and bounded memory.
        var d = FrameDecoder()
        let flood = d.feed([UInt8](repeating: 0x37, count: 100_000) + [0] + wire(waveformFrame(7)))
        #expect(drops(flood) == [.oversize])
        #expect(frames(flood) == [waveformFrame(7)])
        #expect(d.statistics.droppedBytes == 100_000)
    }

    @Test func eachDropIsCountedUnderItsReason() {
        var flipped = wire(waveformFrame(3))
        flipped[15] ^= 0x80
        let stream = [0x05, 0x11, 0x00]                                 // cobs
            + [0x03, 0xAA, 0xBB, 0x00]                                 // too short
            + flipped                                                   // crc
            + rawWire(version: 9, type: 2, sequence: 4, payload: [])    // unsupported version
            + rawWire(type: 0x42, sequence: 5, payload: [1, 2, 3])      // unknown type
            + rawWire(type: 4, sequence: 6, payload: [0, 0, 50, 0, 0, 0, 0, 0, 1])  // one fault announced, none there
            + rawWire(type: 2, sequence: 7, payload: [0, 3] + [UInt8](repeating: 0, count: 14))  // sample format 3
        var d = FrameDecoder()
        let events = d.feed(stream)
        #expect(drops(events) == [.cobs, .tooShort, .crc, .unsupportedVersion, .unknownType, .malformedPayload, .badSampleFormat])
        let s = d.statistics
        #expect(s.cobsErrors == 1 && s.shortFrames == 1 && s.crcErrors == 1 && s.unsupportedVersions == 1)
        #expect(s.unknownTypes == 1 && s.malformedPayloads == 2 && s.frames == 0 && s.framesDropped == 7)
        // Intact frames 4...7 settled the sequence: no gaps among them.
        #expect(s.sequenceGaps == 0)
    }

    @Test func gapsAcrossTheWrapCarryTheirSize() {
        var d = FrameDecoder()
        let events = d.feed([0xFFFD, 0xFFFE, 0x0002, 0x0003, 0x0100].flatMap { wire(waveformFrame($0)) })
        let gaps = events.filter { if case .sequenceGap = $0 { true } else { false } }
        #expect(gaps == [.sequenceGap(expected: 0xFFFF, received: 2, lost: 3), .sequenceGap(expected: 4, received: 0x100, lost: 252)])
        #expect(d.statistics.sequenceGaps == 2 && d.statistics.framesLost == 255 && d.statistics.frames == 5)
    }

    @Test func gapEventPrecedesTheFrameThatRevealedIt() {
        var d = FrameDecoder()
        let events = d.feed(wire(waveformFrame(1)) + wire(waveformFrame(4)))
        #expect(events == [.frame(waveformFrame(1)), .sequenceGap(expected: 2, received: 4, lost: 2), .frame(waveformFrame(4))])
    }

    @Test func rewindIsReportedNotMerged() {
        var d = FrameDecoder()
        let events = d.feed(wire(waveformFrame(10)) + wire(waveformFrame(10)) + wire(waveformFrame(3)) + wire(waveformFrame(4)))
        #expect(events.filter { if case .sequenceRewound = $0 { true } else { false } }
            == [.sequenceRewound(expected: 11, received: 10), .sequenceRewound(expected: 11, received: 3)])
        #expect(d.statistics.sequenceRewinds == 2 && d.statistics.sequenceGaps == 0 && d.statistics.frames == 4)
    }

    @Test func bootHelloRestartsNumbering() {
        let hello = Frame(sequence: 0, timestamp: 0, payload: .hello(Hello(firmware: FirmwareVersion(1, 0, 0), boot: true, channels: [])))
        var periodic = hello
        periodic.sequence = 900
        periodic.payload = .hello(Hello(firmware: FirmwareVersion(1, 0, 0), boot: false, channels: []))
        var d = FrameDecoder()
        let events = d.feed([waveformFrame(500), waveformFrame(501), hello, waveformFrame(1), periodic].flatMap(wire))
        #expect(events.contains(.deviceRestarted(sequence: 0)))
        #expect(events.contains(.sequenceGap(expected: 2, received: 900, lost: 898)))  // a periodic hello is an ordinary frame
        #expect(d.statistics.deviceRestarts == 1 && d.statistics.sequenceGaps == 1 && d.statistics.sequenceRewinds == 0)
    }

    @Test func resetForgetsThePartialFrameAndTheSequence() {
        var d = FrameDecoder()
        let a = wire(waveformFrame(1))
        _ = d.feed(a + a.prefix(10))
        d.reset()
        let events = d.feed(a.suffix(5) + wire(waveformFrame(40)))
        #expect(events == [.frame(waveformFrame(40))])   // no gap: the link was down, not lossy
        #expect(d.statistics.framesDropped == 0 && d.statistics.bytesBeforeSync == 4)
    }

    @Test func paddingDelimitersAreNotFrames() {
        var d = FrameDecoder()
        let events = d.feed([0, 0, 0] + wire(waveformFrame(1)) + [0, 0] + wire(waveformFrame(2)) + [0])
        #expect(events == [.frame(waveformFrame(1)), .frame(waveformFrame(2))])
        #expect(d.statistics.framesDropped == 0)
    }

    @Test func decodeErrorsOfSingleFrames() {
        #expect(throws: SensorLinkError.self) { try Frame.decode(wire: [0x03, 0xAA, 0xBB, 0x00]) }
        var flipped = wire(waveformFrame(3))
        flipped[15] ^= 0x01
        do {
            _ = try Frame.decode(wire: flipped)
            Issue.record("flipped frame decoded")
        } catch {
            #expect(error.code == .crc)
        }
    }
}
