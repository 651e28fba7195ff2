// COBS on random payloads: the output never holds 0x00, stays within the documented bound, and
// decodes back. Lengths around the 254-byte block size and runs of zeros are where encoders break.
import SensorLink
import Testing

@Suite struct COBSTests {
    /// Payload shapes: all zeros, no zeros, sparse and dense zeros.
    enum Shape: CaseIterable { case zeros, nonZero, sparseZeros, denseZeros }

    static func payload(_ length: Int, _ shape: Shape, _ rng: inout SplitMix64) -> [UInt8] {
        (0..<length).map { _ in
            switch shape {
            case .zeros: 0
            case .nonZero: UInt8.random(in: 1...255, using: &rng)
            case .sparseZeros: Int.random(in: 0..<300, using: &rng) == 0 ? 0 : UInt8.random(in: 1...255, using: &rng)
            case .denseZeros: Bool.random(using: &rng) ? 0 : UInt8.random(in: 0...255, using: &rng)
            }
        }
    }

    static let lengths = Array(0...3) + [252, 253, 254, 255, 256, 507, 508, 509, 762, 1024, 1500]

    @Test(arguments: Shape.allCases)
    func roundTrip(_ shape: Shape) throws {
        var rng = SplitMix64(seed: 42)
        let random = (0..<200).map { _ in Int.random(in: 0...1100, using: &rng) }
        for length in Self.lengths + random {
            let data = Self.payload(length, shape, &rng)
            let encoded = COBS.encode(data)
            #expect(!encoded.contains(0), "length \(length)")
            #expect(encoded.count <= COBS.maxEncodedLength(length), "length \(length)")
            #expect(encoded.count >= length + 1)
            #expect(try COBS.decode(encoded) == data, "length \(length)")
        }
    }

    @Test func fullBlocksHaveNoTrailingCode() {
        // 254 non-zero bytes are one full block: 0xFF and the data, nothing after.
        let data = [UInt8](repeating: 7, count: 254)
        #expect(COBS.encode(data) == [0xFF] + data)
        // 254 zeros: 255 blocks of code 0x01.
        #expect(COBS.encode([UInt8](repeating: 0, count: 254)) == [UInt8](repeating: 1, count: 255))
        // 255 non-zero: a full block, then a block of one byte.
        #expect(COBS.encode([UInt8](repeating: 9, count: 255)) == [0xFF] + [UInt8](repeating: 9, count: 254) + [0x02, 9])
    }

    @Test func decoderAcceptsTheNonMinimalTrailingBlock() throws {
        // Some encoders close data that ends on a full block with an extra 0x01 block.
        let data = [UInt8](repeating: 5, count: 254)
        #expect(try COBS.decode([0xFF] + data + [0x01]) == data)
    }

    @Test func malformedInputThrows() {
        #expect(throws: SensorLinkError.self) { try COBS.decode([0x05, 0x11, 0x22]) }   // block runs past the end
        #expect(throws: SensorLinkError.self) { try COBS.decode([0x02, 0x00, 0x01]) }   // 0x00 inside
        do {
            _ = try COBS.decode([0x04, 0x11])
            Issue.record("truncated block accepted")
        } catch {
            #expect(error.code == .cobs)
            #expect(error.found == 2 && error.expected == 4)
        }
    }
}

@Suite struct CRCTests {
    @Test func checkValue() {
        #expect(CRC16.checksum(Array("123456789".utf8)) == 0x29B1)
        #expect(CRC16.checksum([UInt8]()) == 0xFFFF)
    }

    @Test func incrementalEqualsWhole() {
        var rng = SplitMix64(seed: 7)
        let data = (0..<1000).map { _ in UInt8.random(in: 0...255, using: &rng) }
        var crc = CRC16()
        crc.update(data[..<333])
        crc.update(data[333...])
        #expect(crc.value == CRC16.checksum(data))
    }

    /// Against a textbook table-driven CRC-16/CCITT-FALSE written differently from the bitwise one.
    @Test func matchesTableDrivenReference() {
        let table: [UInt16] = (0..<256).map { i in
            var c = UInt16(i) << 8
            for _ in 0..<8 { c = c & 0x8000 != 0 ? (c << 1) ^ 0x1021 : c << 1 }
            return c
        }
        var rng = SplitMix64(seed: 8)
        for length in [1, 2, 13, 255, 1024] {
            let data = (0..<length).map { _ in UInt8.random(in: 0...255, using: &rng) }
            var ref: UInt16 = 0xFFFF
            for b in data { ref = (ref << 8) ^ table[Int((ref >> 8) ^ UInt16(b))] }
            #expect(CRC16.checksum(data) == ref)
        }
    }
}
