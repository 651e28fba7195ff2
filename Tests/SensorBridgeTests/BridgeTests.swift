import SensorBridgeCore
import SensorLink
import Testing

/// Known, distinct signals with negative values, so any lost, repeated or mis-signed sample shows.
func ecgTest(_ i: UInt64) -> (respiration: Int32, ecg: Int32)? {
    (Int32(truncatingIfNeeded: i &* 7919 % 400_000) - 200_000, Int32(truncatingIfNeeded: i &* 104_729 % 8_000_000) - 4_000_000)
}
func ppgTest(_ i: UInt64) -> (red: UInt32, infrared: UInt32)? {
    (UInt32(i * 613 % 262_144), UInt32(262_143 - i * 331 % 262_144))
}

@Suite struct SensorBridgeTests {
    @Test func framesDecodeToTheInputSamples() {
        var h = Harness(board: SimulatedBoard(ecgSignal: ecgTest, ppgSignal: ppgTest))
        h.boot()
        h.run(seconds: 3)
        h.finish()
        let (frames, events, stats) = h.decode()
        #expect(stats.framesDropped == 0 && stats.framesLost == 0)
        #expect(events.first == .deviceRestarted(sequence: 0))
        guard case .hello(let hello)? = frames.first?.payload else {
            Issue.record("first frame is not a hello")
            return
        }
        #expect(hello.boot)
        #expect(hello.channels.map(\.id) == [0, 1, 2, 3])
        #expect(hello.channels.map(\.kind) == [.ecg, .respiration, .ppgRed, .ppgInfrared])
        let n = Int(h.board.ecgSamplesProduced)
        let m = Int(h.board.ppgSamplesProduced)
        #expect(n >= 1500 && n <= 1510 && m >= 299)
        let ecg = frames.samples(BridgeChannel.ecg), resp = frames.samples(BridgeChannel.respiration)
        let red = frames.samples(BridgeChannel.red), ir = frames.samples(BridgeChannel.infrared)
        #expect(ecg.contiguous && resp.contiguous && red.contiguous && ir.contiguous)
        #expect(ecg.samples == (0..<UInt64(n)).map { ecgTest($0)!.ecg })
        #expect(resp.samples == (0..<UInt64(n)).map { ecgTest($0)!.respiration })
        #expect(red.samples == (0..<UInt64(m)).map { Int32(ppgTest($0)!.red) })
        #expect(ir.samples == (0..<UInt64(m)).map { Int32(ppgTest($0)!.infrared) })
        // Blocks of 25 and 10 samples; the rate in every block is the announced one.
        #expect(frames.blocks(BridgeChannel.ecg).dropLast().allSatisfy { $0.block.samples.count == 25 && $0.block.rate == SampleRate(hertz: 500) })
        #expect(frames.blocks(BridgeChannel.red).dropLast().allSatisfy { $0.block.samples.count == 10 && $0.block.rate == SampleRate(hertz: 100) })
        #expect(h.bridge.droppedSamples == 0)
        // Sequence numbers: every frame built, in order, from 0.
        #expect(frames.map(\.sequence) == (0..<UInt16(frames.count)).map { $0 })
    }

    @Test func timestampsAreTheDeviceTimeOfTheFirstSample() {
        var h = Harness(board: SimulatedBoard(ecgSignal: ecgTest, ppgSignal: ppgTest))
        h.boot()
        let start = h.board.now  // START was sent at the end of boot's ADS start-up
        h.run(seconds: 2)
        let frames = h.decode().frames
        let ecg = frames.blocks(BridgeChannel.ecg)
        #expect(ecg.count >= 39)
        // The simulated DRDY comes every 2000 µs from START; the bridge dates each sample when it
        // sees DRDY, and the loop wakes at every sample, so the stamps are exact.
        var adsStart: UInt64?
        for (frame, block) in ecg {
            let t0 = frame.timestamp - block.firstSampleIndex * 2000
            if adsStart == nil { adsStart = t0 }
            #expect(t0 == adsStart)
        }
        #expect(adsStart.map { $0 - 2000 <= start } == true)  // sample 0 is one period after START
        // PPG: the PPG_RDY interrupt makes the loop drain each sample as it arrives and date it
        // then; the simulated loop wakes at every sample, so the stamps are exact too.
        let red = frames.blocks(BridgeChannel.red)
        #expect(red.count >= 19)
        let ppgStart = red[0].frame.timestamp
        for (frame, block) in red {
            let truth = ppgStart + block.firstSampleIndex * 10_000
            #expect(frame.timestamp == truth, "block at \(block.firstSampleIndex)")
        }
        // Status every second, hello every 5 s: timestamps non-decreasing per channel.
        #expect(zip(ecg, ecg.dropFirst()).allSatisfy { $0.frame.timestamp < $1.frame.timestamp })
    }

    @Test func ringOverflowIsCountedAndReported() {
        let board = SimulatedBoard(ecgSignal: ecgTest, ppgSignal: ppgTest)
        var h = Harness(board: board)
        h.boot()
        h.run(seconds: 0.5)
        board.uartBytesPerSecond = 0  // the UART stalls (e.g. the host stopped reading)
        h.run(seconds: 1.5)
        board.uartBytesPerSecond = 92_160
        h.run(seconds: 2)
        h.finish()
        let (frames, _, stats) = h.decode()
        #expect(stats.framesDropped == 0 && stats.framesLost == 0)
        let dropped = h.bridge.droppedSamples
        #expect(dropped > 0)
        // The last status carries the device's count; the host sees where samples are missing
        // through the first-sample indexes.
        #expect(frames.statuses.last?.status.droppedSamples == dropped)
        let ecg = frames.blocks(BridgeChannel.ecg)
        var missing: UInt64 = 0, next: UInt64 = 0
        for (_, b) in ecg {
            #expect(b.firstSampleIndex >= next)
            missing += b.firstSampleIndex - next
            for (k, s) in b.samples.enumerated() { #expect(s == ecgTest(b.firstSampleIndex + UInt64(k))!.ecg) }
            next = b.firstSampleIndex + UInt64(b.samples.count)
        }
        #expect(missing > 0)
        #expect(next == h.board.ecgSamplesProduced)
    }

    @Test func leadOffAndFaultsReachTheStatus() {
        let board = SimulatedBoard(ecgSignal: ecgTest, ppgSignal: { _ in (1_000, 900) })  // no finger: IR far below threshold
        var h = Harness(board: board)
        h.boot()
        h.run(seconds: 0.3)
        board.leadOff = 0x0C
        h.run(seconds: 0.02)
        let frames = h.decode().frames
        // The lead-off change goes out at once, not at the next 1 s status.
        let withLeadOff = frames.statuses.first { $0.status.leadOff.rawValue == 0x0C }
        #expect(withLeadOff != nil)
        #expect(withLeadOff.map { $0.frame.timestamp < h.bootTime + 350_000 } == true)
        #expect(frames.statuses.last?.status.faults.contains(SensorFault(sensor: .pulseOximeter, code: .noContact)) == true)

        let dead = SimulatedBoard()
        dead.ecgPresent = false
        dead.oximeterPresent = false
        var h2 = Harness(board: dead)
        h2.boot()
        h2.run(seconds: 0.1)
        let faults = h2.decode().frames.statuses.first?.status.faults ?? []
        #expect(faults == [SensorFault(sensor: .ecgFrontEnd, code: .notResponding), SensorFault(sensor: .pulseOximeter, code: .notResponding)])
    }

    /// The UART budget at 921600 baud, 8N1 (92160 bytes/s): what the board's default stream costs,
    /// measured on the bytes the firmware logic actually emits.
    @Test func streamFitsTheBaudBudget() {
        var h = Harness(board: SimulatedBoard(ecgSignal: { i in (Int32(i % 1000) * 8000, -Int32(i % 997) * 8000) }))
        h.boot()
        let start = h.wire.count
        h.run(seconds: 10)
        let bytesPerSecond = Double(h.wire.count - start) / 10
        // Analytic: ECG and respiration, 20 blocks/s of 25 int32 samples = 130-byte frames,
        // 132 on the wire; red and IR, 10 blocks/s of 10 = 70 → 72; status 23 → 25 bytes/s;
        // hello 83 → 85 bytes every 5 s.
        let waveforms: Double = 2 * 20 * 132 + 2 * 10 * 72
        let analytic: Double = waveforms + 25 + 17
        #expect(abs(bytesPerSecond - analytic) < 0.01 * analytic, "measured \(bytesPerSecond) B/s, analytic \(analytic)")
        #expect(bytesPerSecond < 0.10 * 92_160)
        #expect(h.bridge.droppedSamples == 0)
    }
}
