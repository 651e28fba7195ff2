/// Plays a recording back in blocks, as a live source would deliver it: paced to the wall clock
/// (`.realTime`, for demos and soak tests) or as fast as the consumer takes it (`.asFastAsPossible`,
/// for the agent's offline runs and tests).
public struct RecordingReplay: Sendable {
    /// How blocks are paced.
    public enum Pacing: Sendable, Equatable {
        /// Each block is delivered when its last sample would have been measured (`speed` 2 plays
        /// twice as fast as real time).
        case realTime(speed: Double = 1)
        /// Blocks are delivered back to back.
        case asFastAsPossible
    }

    /// One block of samples: `start` is the index of its first sample in the recording, `channels`
    /// has one slice per channel of the recording, all of the same length.
    public struct Block: Sendable {
        /// Index of the block's first sample.
        public var start: Int
        /// The block's samples, per channel.
        public var channels: [ArraySlice<Float>]
    }

    /// The recording being played.
    public var recording: Recording
    /// Samples per block (per channel).
    public var blockSize: Int
    /// Pacing.
    public var pacing: Pacing

    /// A replay of `recording` in blocks of `blockSize` samples (≥ 1).
    public init(_ recording: Recording, blockSize: Int, pacing: Pacing = .asFastAsPossible) throws(SensorsError) {
        guard blockSize >= 1 else { throw SensorsError(.invalidValue, "replay block size \(blockSize) must be at least 1") }
        if case .realTime(let speed) = pacing, !(speed > 0 && speed.isFinite) {
            throw SensorsError(.invalidValue, "replay speed \(speed) must be positive")
        }
        self.recording = recording
        self.blockSize = blockSize
        self.pacing = pacing
    }

    /// The blocks in order, without pacing (for synchronous consumers).
    public var blocks: [Block] {
        let n = recording.channels.map(\.samples.count).min() ?? 0
        return stride(from: 0, to: n, by: blockSize).map { s in
            Block(start: s, channels: recording.channels.map { $0.samples[s..<min(s + blockSize, n)] })
        }
    }

    /// Delivers every block to `body`, pacing as configured. Stops early, without error, when the
    /// task is cancelled. Channels shorter than the longest are played to the shortest's length.
    public func run(_ body: (Block) async throws -> Void) async throws {
        let clock = ContinuousClock()
        let startInstant = clock.now
        for block in blocks {
            if Task.isCancelled { return }
            if case .realTime(let speed) = pacing {
                let end = Double(block.start + block.channels[0].count) / recording.sampleRate / speed
                let due = startInstant.advanced(by: .nanoseconds(Int64(end * 1e9)))
                if due > clock.now { try await clock.sleep(until: due) }
            }
            try await body(block)
        }
    }
}
