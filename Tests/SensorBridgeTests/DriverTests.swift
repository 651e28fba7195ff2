import SensorBridgeCore
import SensorLink
import Testing

@Suite struct ADS1292RTests {
    @Test func signExtendsTwentyFourBits() {
        #expect(ADS1292R.signExtend24(0x7F, 0xFF, 0xFF) == 8_388_607)
        #expect(ADS1292R.signExtend24(0x80, 0x00, 0x00) == -8_388_608)
        #expect(ADS1292R.signExtend24(0xFF, 0xFF, 0xFF) == -1)
        #expect(ADS1292R.signExtend24(0x00, 0x00, 0x01) == 1)
        #expect(ADS1292R.signExtend24(0xFE, 0xDC, 0xBA) == Int32(0xFEDCBA) - 0x1000000)
    }

    @Test func parsesStatusAndLeadOffBits() {
        // 1100, LOFF_STAT = RLD | IN1N (0b10010), GPIO = 0b11, then the 13 zero bits.
        let status: UInt32 = 0xC0_0000 | 0b10010 << 15 | 0b11 << 13
        let bytes: [UInt8] = [UInt8(status >> 16), UInt8((status >> 8) & 0xFF), UInt8(status & 0xFF),
                              0x00, 0x01, 0x00, 0xFF, 0xFF, 0xFE]
        let sample = bytes.withUnsafeBufferPointer { ADS1292R.parse($0) }
        #expect(sample?.leadOff == 0x12)
        #expect(sample?.status == status)
        #expect(sample?.channel1 == 256)
        #expect(sample?.channel2 == -2)
        // A floating MISO (no chip) reads all ones: not a `1100` header.
        let floating = [UInt8](repeating: 0xFF, count: 9)
        #expect(floating.withUnsafeBufferPointer { ADS1292R.parse($0) } == nil)
        let short = [UInt8](repeating: 0xC0, count: 8)
        #expect(short.withUnsafeBufferPointer { ADS1292R.parse($0) } == nil)
    }

    @Test func startsAndReadsSamplesFromSimulatedSPI() {
        let board = SimulatedBoard(ecgSignal: { i in (Int32(i) * 1000 - 4000, -Int32(i) * 70_001) })
        var ads = ADS1292R()
        var b = board
        #expect(ads.start(&b, rate: .sps500) == nil)
        // The chip holds the configuration the driver wrote (CONFIG1 = 500 SPS).
        #expect(board.adsRegisters[1] == 0x02)
        #expect(board.adsRegisters[2] == 0xE0)
        #expect(board.adsRegisters[8] == 0)  // LOFF_STAT is read-only: nothing was written there
        var got: [ADS1292R.Sample] = []
        for k in 0..<10 {
            if k == 5 { board.leadOff = 0x0C }
            board.advance(to: board.nextSampleTime!)
            #expect(b.ecgDataReady())
            if let s = ads.readSample(&b) { got.append(s) }
            #expect(!b.ecgDataReady())
        }
        #expect(got.map(\.channel1) == (0..<10).map { Int32($0) * 1000 - 4000 })
        #expect(got.map(\.channel2) == (0..<10).map { -Int32($0) * 70_001 })
        #expect(got.map(\.leadOff) == [0, 0, 0, 0, 0, 12, 12, 12, 12, 12])
        // 500 SPS: 2000 µs apart.
        #expect(board.ecgSamplesOverwritten == 0)
    }

    @Test func missingChipIsAFault() {
        let board = SimulatedBoard()
        board.ecgPresent = false
        var b = board
        var ads = ADS1292R()
        #expect(ads.start(&b, rate: .sps500) == .notResponding)
    }
}

@Suite struct MAX30102Tests {
    @Test func fifoPointerArithmeticWrapsAtThirtyTwo() {
        #expect(MAX30102.available(writePointer: 5, readPointer: 5, overflow: 0) == 0)
        #expect(MAX30102.available(writePointer: 2, readPointer: 30, overflow: 0) == 4)
        #expect(MAX30102.available(writePointer: 31, readPointer: 0, overflow: 0) == 31)
        #expect(MAX30102.available(writePointer: 0, readPointer: 1, overflow: 0) == 31)
        // Equal pointers with a non-zero overflow counter: full, not empty.
        #expect(MAX30102.available(writePointer: 7, readPointer: 7, overflow: 3) == 32)
    }

    @Test func masksEighteenBits() {
        #expect(MAX30102.sample18(0xFF, 0xFF, 0xFF) == 0x3FFFF)
        #expect(MAX30102.sample18(0x03, 0x00, 0x01) == 0x30001)
        #expect(MAX30102.sample18(0xFC, 0x12, 0x34) == 0x1234)
    }

    @Test func drainsAcrossPointerWrapInOrder() {
        let board = SimulatedBoard(ppgSignal: { i in (UInt32(i) | 0xFC_0000, 0x3FFFF - UInt32(i)) })  // junk above bit 17
        var b = board
        var chip = MAX30102()
        #expect(chip.start(&b) == nil)
        var red: [UInt32] = [], ir: [UInt32] = []
        // 5 drains of 20 samples each: the 5-bit pointers wrap three times.
        for _ in 0..<5 {
            board.advance(to: board.now + 200_000)
            let d = chip.drain(&b) { r, i, _, _ in red.append(r); ir.append(i) }
            #expect(d.ok && d.lost == 0)
        }
        #expect(red == (0..<UInt32(red.count)).map { $0 })
        #expect(ir == (0..<UInt32(ir.count)).map { 0x3FFFF - $0 })
        #expect(red.count >= 99)
    }

    @Test func overflowIsCountedAndTheFullFifoRead() {
        let board = SimulatedBoard(ppgSignal: { i in (UInt32(i), UInt32(i)) })
        var b = board
        var chip = MAX30102()
        #expect(chip.start(&b) == nil)
        board.advance(to: board.now + 500_000)  // 50 samples into a 32-deep FIFO
        var red: [UInt32] = []
        let d = chip.drain(&b) { r, _, _, _ in red.append(r) }
        #expect(d.samples == 32)
        #expect(d.lost == Int(board.ppgSamplesLost))
        #expect(d.lost >= 18)
        #expect(red == (0..<32).map { UInt32($0) })  // rollover off: the oldest 32 are kept
        #expect(chip.lostSamples == UInt32(d.lost))
    }

    @Test func absentChipIsAFault() {
        let board = SimulatedBoard()
        board.oximeterPresent = false
        var b = board
        var chip = MAX30102()
        #expect(chip.start(&b) == .notResponding)
    }
}

@Suite struct SampleRingTests {
    @Test func overflowOverwritesOldestAndCounts() {
        var ring = SampleRing(capacity: 4)
        for i in 0..<10 { ring.push(Int32(i), time: UInt64(i) * 10) }
        #expect(ring.overflows == 6)
        #expect(ring.count == 4)
        #expect(ring.firstIndex == 6)
        #expect(Array(ring.oldest(4)) == [6, 7, 8, 9])
        #expect(ring.oldestTime(now: 95) == 60)
        ring.removeOldest(3)
        #expect(ring.firstIndex == 9)
        #expect(Array(ring.oldest(5)) == [9])
    }

    @Test func widensThirtyTwoBitTimesAcrossWrap() {
        var ring = SampleRing(capacity: 2)
        let t: UInt64 = (1 << 32) - 5  // just before the low word wraps
        ring.push(1, time: t)
        #expect(ring.oldestTime(now: t + 100) == t)
    }

    @Test func byteQueueRefusesWhatDoesNotFit() {
        var q = ByteQueue(capacity: 8)
        let a: [UInt8] = [1, 2, 3, 4, 5, 6]
        #expect(a.withUnsafeBufferPointer { q.append($0) })
        #expect(!a.withUnsafeBufferPointer { q.append($0) })
        var out: [UInt8] = []
        q.drain { out += $0.prefix(4); return 4 }  // the UART takes 4
        #expect(out == [1, 2, 3, 4] && q.count == 2)
        #expect(a.withUnsafeBufferPointer { q.append($0) })  // wraps around the end
        out = []
        q.drain { out += $0; return $0.count }
        #expect(out == [5, 6, 1, 2, 3, 4, 5, 6])
    }
}
