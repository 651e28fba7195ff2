// A long stream with random damage of every kind the serial line can do: dropped and flipped
// bytes, lost and extra delimiters, garbage, truncation. The decoder must deliver exactly the
// frames that arrived intact, each equal to what was sent, and count every other one.
import SensorLink
import Testing

@Suite struct CorruptionTests {
    enum Damage: CaseIterable {
        case none, flipBit, dropByte, dropDelimiter, garbageGlued, garbageSeparated, extraDelimiters, truncate, insertZero
    }

    @Test(arguments: [UInt64(1), 2, 3])
    func everyLostFrameIsCountedAndNothingWrongIsDelivered(seed: UInt64) throws {
        var rng = SplitMix64(seed: seed)
        let count = 1500
        let first = UInt16.random(in: 0...UInt16.max, using: &rng)  // so the run crosses the wrap often
        var sent: [Frame] = []
        var stream: [UInt8] = []
        var damages = [Damage](repeating: .none, count: count)
        for k in 0..<count {
            let frame = randomFrame(sequence: first &+ UInt16(k), &rng)
            sent.append(frame)
            var bytes = try frame.encoded()
            // The first and last frames stay intact so that the counts below must add up.
            let damage = k == 0 || k == count - 1 || Int.random(in: 0..<3, using: &rng) > 0
                ? Damage.none : Damage.allCases.randomElement(using: &rng)!
            let body = bytes.count - 1
            damages[k] = damage
            switch damage {
            case .none, .extraDelimiters, .garbageSeparated:
                break
            case .flipBit:
                bytes[Int.random(in: 0..<body, using: &rng)] ^= 1 << UInt8.random(in: 0...7, using: &rng)
            case .dropByte:
                bytes.remove(at: Int.random(in: 0..<body, using: &rng))
            case .insertZero:
                bytes.insert(0, at: Int.random(in: 1..<body, using: &rng))
            case .truncate:
                bytes.removeSubrange((body - Int.random(in: 1...min(8, body - 1), using: &rng))..<body)
            case .dropDelimiter:
                bytes.removeLast()
            case .garbageGlued:
                bytes.insert(contentsOf: (0..<Int.random(in: 1...20, using: &rng)).map { _ in UInt8.random(in: 1...255, using: &rng) }, at: 0)
            }
            if damage == .garbageSeparated {
                stream += (0..<Int.random(in: 1...40, using: &rng)).map { _ in UInt8.random(in: 0...255, using: &rng) } + [0]
            }
            if damage == .extraDelimiters { stream += [0, 0] }
            stream += bytes
        }

        var decoder = FrameDecoder()
        var delivered: [Frame] = []
        var chunkStart = 0
        while chunkStart < stream.count {  // in serial-read-sized chunks
            let end = min(stream.count, chunkStart + Int.random(in: 1...512, using: &rng))
            decoder.feed(stream[chunkStart..<end]) { event in
                if case .frame(let f) = event { delivered.append(f) }
            }
            chunkStart = end
        }

        // Which frames reach the decoder intact: an undamaged body with a delimiter on each side.
        // A lost delimiter merges the frame with the next; a delimiter inserted before the next
        // frame (extra delimiters) gives it back, and so does, for the frame after, garbage that
        // ends in a delimiter.
        let bodyIntact = damages.map { [.none, .garbageSeparated, .extraDelimiters, .dropDelimiter].contains($0) }
        let endsClean = (0..<count).map { k in damages[k] != .dropDelimiter || (k + 1 < count && damages[k + 1] == .extraDelimiters) }
        let startsClean = (0..<count).map { k in
            k == 0 || damages[k - 1] != .dropDelimiter || [.garbageSeparated, .extraDelimiters].contains(damages[k])
        }
        let survives = (0..<count).map { bodyIntact[$0] && endsClean[$0] && startsClean[$0] }
        let expected = (0..<count).filter { survives[$0] }.map { sent[$0] }
        #expect(delivered.count == expected.count)
        // Compared frame by frame so that a failure names the frame, not 1000 of them.
        let deliveredSequences = delivered.map(\.sequence)
        let expectedSequences = expected.map(\.sequence)
        if deliveredSequences != expectedSequences {
            let extra = Set(deliveredSequences).subtracting(expectedSequences).sorted()
            let missing = Set(expectedSequences).subtracting(deliveredSequences).sorted()
            let describe = { (seqs: [UInt16]) in seqs.prefix(5).map { "\($0) (\(damages[Int($0 &- first)]))" } }
            Issue.record("delivered but damaged: \(describe(extra)); intact but missing: \(describe(missing))")
        } else {
            for (d, e) in zip(delivered, expected) where d != e {
                Issue.record("frame \(d.sequence) delivered with different contents")
            }
        }
        let s = decoder.statistics
        #expect(s.frames + s.framesLost == UInt64(count), "every frame sent is delivered or counted lost")
        #expect(s.framesDropped >= UInt64(survives.filter { !$0 }.count) / 2)
    }

    func randomFrame(sequence: UInt16, _ rng: inout SplitMix64) -> Frame {
        let timestamp = UInt64.random(in: 0...(1 << 40), using: &rng)
        switch Int.random(in: 0..<10, using: &rng) {
        case 0:
            return Frame(sequence: sequence, timestamp: timestamp, payload: .vitals(Vitals([
                VitalReading(kind: .heartRate, unit: .perMinute, mantissa: Int32.random(in: 30...200, using: &rng), quality: 90),
            ])))
        case 1:
            return Frame(sequence: sequence, timestamp: timestamp, payload: .status(DeviceStatus(
                leadOff: LeadOff(rawValue: UInt16.random(in: 0...31, using: &rng)), batteryPercent: 80, power: [],
                droppedSamples: 0, faults: [])))
        default:
            let format: SampleFormat = Bool.random(using: &rng) ? .int16 : .int32
            let n = Int.random(in: 1...WaveformBlock.maxSamples(format: format), using: &rng)
            let samples = (0..<n).map { _ in
                format == .int16 ? Int32(Int16.random(in: .min ... .max, using: &rng)) : Int32.random(in: -100...100, using: &rng)
            }
            return Frame(sequence: sequence, timestamp: timestamp, payload: .waveform(WaveformBlock(
                channel: 0, format: format, rate: SampleRate(hertz: 500), firstSampleIndex: UInt64(sequence), samples: samples)))
        }
    }
}
