// The committed vectors pin the wire format: the Swift encoder must produce exactly the bytes the
// Python reference (Tools/sensorlink/make_vectors.py) wrote, and the decoder must read them back
// and report, for each damaged stream, exactly the events and counters the reference decoder did.
import Foundation
import SensorLink
import Testing

@Suite struct VectorTests {
    static let frames = Vectors.document.frames
    static let streams = Vectors.document.streams

    @Test func crcVectors() {
        #expect(CRC16.checksum(Array("123456789".utf8)) == 0x29B1)
        for v in Vectors.document.crc {
            #expect(CRC16.checksum(Array(v.ascii.utf8)) == v.crc, "\(v.ascii)")
        }
    }

    @Test(arguments: Vectors.document.cobs)
    func cobsVector(_ v: Vectors.COBSVector) throws {
        let decoded = [UInt8](hex: v.decodedHex)
        let encoded = [UInt8](hex: v.encodedHex)
        #expect(COBS.encode(decoded) == encoded)
        #expect(try COBS.decode(encoded) == decoded)
    }

    @Test(arguments: frames)
    func encodesToCommittedBytes(_ v: Vectors.FrameVector) throws {
        let frame = try #require(v.frame)
        let wire = try Vectors.bytes(v.file!)
        #expect(try frame.encoded() == wire)
        // The pieces: unstuffed bytes and CRC as the generator computed them.
        let unstuffed = [UInt8](hex: v.unstuffedHex!)
        #expect(frame.frameLength == unstuffed.count)
        #expect(try COBS.decode(wire.dropLast()) == unstuffed)
        #expect(CRC16.checksum(unstuffed.dropLast(2)) == v.crc)
        // Into a caller's buffer of the documented size, via the stateful encoder too.
        var buffer = [UInt8](repeating: 0xAA, count: SensorLink.maxEncodedLength(frameLength: frame.frameLength))
        var span = buffer.mutableSpan
        let n = try frame.encode(into: &span)
        #expect(Array(buffer[..<n]) == wire)
        var encoder = FrameEncoder(firstSequence: frame.sequence)
        span = buffer.mutableSpan
        #expect(try encoder.encode(frame.payload, timestamp: frame.timestamp, into: &span) == wire.count)
        #expect(Array(buffer[..<wire.count]) == wire)
        #expect(encoder.nextSequence == frame.sequence &+ 1)
    }

    @Test(arguments: frames)
    func decodesCommittedBytes(_ v: Vectors.FrameVector) throws {
        let frame = try #require(v.frame)
        let wire = try Vectors.bytes(v.file!)
        #expect(try Frame.decode(wire: wire) == frame)
        #expect(try Frame.decode(wire: wire.dropLast()) == frame)
        var decoder = FrameDecoder()
        let events = decoder.feed(wire)
        var expected: [DecoderEvent] = [.frame(frame)]
        if case .hello(let h) = frame.payload, h.boot { expected.insert(.deviceRestarted(sequence: frame.sequence), at: 0) }
        #expect(events == expected)
        #expect(decoder.statistics.frames == 1 && decoder.statistics.framesDropped == 0)
    }

    @Test func longRunUsesFullCOBSBlocks() throws {
        // The generator meant this vector to exercise 254-byte blocks; make sure it still does.
        let wire = try Vectors.bytes("waveform-long-run.bin")
        #expect(wire.contains(0xFF))
        #expect(try Vectors.bytes("waveform-max.bin").count == SensorLink.maxFrameLength + 5)
    }

    @Test(arguments: streams)
    func streamEventsAndCounters(_ s: Vectors.StreamVector) throws {
        let bytes = try Vectors.bytes(s.file)
        var decoder = FrameDecoder()
        let events = decoder.feed(bytes).map(ComparableEvent.init)
        #expect(events == s.expectedEvents)
        #expect(decoder.statistics.byName == s.statistics)
    }

    /// Every split of each stream into two chunks, and byte-by-byte feeding, decode the same.
    @Test(arguments: streams)
    func chunkedAtEverySplitPoint(_ s: Vectors.StreamVector) throws {
        let bytes = try Vectors.bytes(s.file)
        var whole = FrameDecoder()
        let reference = whole.feed(bytes)
        for split in 1..<bytes.count {
            var d = FrameDecoder()
            let events = d.feed(bytes[..<split]) + d.feed(bytes[split...])
            if events != reference || d.statistics != whole.statistics {
                Issue.record("\(s.file): split at \(split) decodes differently")
                return
            }
        }
        var d = FrameDecoder()
        var events: [DecoderEvent] = []
        for b in bytes { d.consume(b) { events.append($0) } }
        #expect(events == reference)
        #expect(d.statistics == whole.statistics)
    }

    /// Random chunk sizes from 1 byte to 3 frames.
    @Test(arguments: streams)
    func randomChunks(_ s: Vectors.StreamVector) throws {
        let bytes = try Vectors.bytes(s.file)
        var whole = FrameDecoder()
        let reference = whole.feed(bytes)
        var rng = SplitMix64(seed: 0x5EED)
        for _ in 0..<50 {
            var d = FrameDecoder()
            var events: [DecoderEvent] = []
            var at = 0
            while at < bytes.count {
                let n = Int.random(in: 1...300, using: &rng)
                let end = min(bytes.count, at + n)
                events += d.feed(bytes[at..<end])
                at = end
            }
            #expect(events == reference)
            #expect(d.statistics == whole.statistics)
        }
    }

    /// The fixture folder holds exactly what the generator lists.
    @Test func fixtureFolderMatchesTheList() throws {
        let names = Set(try FileManager.default.contentsOfDirectory(atPath: Vectors.directory.path))
        let listed = Set(Vectors.document.frames.compactMap(\.file) + Vectors.document.streams.map(\.file))
        #expect(names == listed.union(["vectors.json", "README.md"]))
    }
}
