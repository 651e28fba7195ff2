import SensorBridgeCore
import SensorLink

/// Runs a bridge on a simulated board the way sensor-sim does: wake at every sample or every
/// millisecond, poll, collect the UART bytes.
struct Harness {
    let board: SimulatedBoard
    var bridge: SensorBridge<SimulatedBoard>
    var wire: [UInt8] = []
    var bootTime: UInt64 = 0

    init(board: SimulatedBoard = SimulatedBoard(), configuration: BridgeConfiguration = BridgeConfiguration()) {
        self.board = board
        bridge = SensorBridge(board: board, configuration: configuration)
    }

    mutating func boot() {
        bridge.boot()
        bootTime = board.now
        wire += board.takeOutput()
    }

    mutating func run(seconds: Double) {
        let end = board.now + UInt64(seconds * 1_000_000)
        while board.now < end {
            let next = min(board.nextSampleTime ?? end, board.now + 1_000, end)
            board.advance(to: max(next, board.now + 1))
            bridge.poll()
            wire += board.takeOutput()
        }
    }

    /// Stops the signals and sends everything buffered.
    mutating func finish() {
        board.ecgSignal = { _ in nil }
        board.ppgSignal = { _ in nil }
        var flushed = false
        var guardCount = 0
        while (!flushed || bridge.transmitPending > 0) && guardCount < 100_000 {
            board.advance(to: board.now + 1_000)
            flushed = flushed || bridge.flush()
            bridge.pumpTransmitter()
            wire += board.takeOutput()
            guardCount += 1
        }
    }

    /// Decodes everything sent so far.
    func decode() -> (frames: [Frame], events: [DecoderEvent], statistics: LinkStatistics) {
        var decoder = FrameDecoder()
        let events = decoder.feed(wire)
        let frames = events.compactMap { e -> Frame? in if case .frame(let f) = e { return f } else { return nil } }
        return (frames, events, decoder.statistics)
    }
}

extension [Frame] {
    /// The waveform blocks of channel `id`, in order.
    func blocks(_ id: UInt8) -> [(frame: Frame, block: WaveformBlock)] {
        compactMap { f in
            if case .waveform(let b) = f.payload, b.channel == id { return (f, b) }
            return nil
        }
    }

    /// Samples of channel `id` concatenated, after checking that the blocks are contiguous.
    func samples(_ id: UInt8) -> (samples: [Int32], contiguous: Bool) {
        var out: [Int32] = []
        var contiguous = true
        for (_, b) in blocks(id) {
            if b.firstSampleIndex != UInt64(out.count) { contiguous = false }
            out += b.samples
        }
        return (out, contiguous)
    }

    var statuses: [(frame: Frame, status: DeviceStatus)] {
        compactMap { f in
            if case .status(let s) = f.payload { return (f, s) }
            return nil
        }
    }
}
