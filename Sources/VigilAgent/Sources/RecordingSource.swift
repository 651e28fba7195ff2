import Foundation
import VigilIO

/// Replays a recorded waveform (NPY, 1-D, any numeric dtype, physical units) as a live source:
/// blocks of 100 ms paced against the monotonic clock (`realtime`) or as fast as the pipeline takes
/// them (`max`), optionally looping. Device time keeps increasing across loops.
struct RecordingSource: Sendable {
    let name: String
    let channel: String
    let samples: [Float]
    let rate: Double
    let speed: AgentConfiguration.Speed
    let loop: Bool

    init(config: AgentConfiguration.Source) throws(AgentError) {
        name = config.name
        channel = "ecg"
        let x: NPYArray
        do { x = try NPY.read(contentsOf: URL(fileURLWithPath: config.path)) } catch {
            throw AgentError(.source, "source \(config.name): \(config.path): \(error)")
        }
        guard x.shape.count == 1 || (x.shape.count == 2 && x.shape[1] == 1) else {
            throw AgentError(.source, "source \(config.name): \(config.path): shape \(x.shape); expected one channel [n] or [n, 1]")
        }
        samples = x.asFloat32()
        guard !samples.isEmpty else { throw AgentError(.source, "source \(config.name): \(config.path) holds no samples") }
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AgentError(.source, "source \(config.name): \(config.path): sample \(bad) is not a finite number")
        }
        rate = config.rate ?? 0
        speed = config.speed
        loop = config.loop
    }

    /// Delivers blocks to `deliver` until the recording ends (no loop) or the task is cancelled.
    func run(_ deliver: (SourceEvent) async -> Void) async {
        let block = max(1, Int((rate / 10).rounded()))
        let clock = ContinuousClock()
        let start = clock.now
        var index: Int64 = 0
        var position = 0
        await deliver(.link(up: true))
        while !Task.isCancelled {
            let end = min(position + block, samples.count)
            let chunk = Array(samples[position..<end])
            let micros = Int64((Double(index) / rate * 1e6).rounded())
            await deliver(.samples(SampleBlock(channel: channel, rate: rate, firstIndex: index, deviceMicros: micros, samples: chunk)))
            index += Int64(chunk.count)
            position = end
            if position == samples.count {
                guard loop else { return }
                position = 0
            }
            if speed == .realtime {
                let due = start + .microseconds(Int64((Double(index) / rate * 1e6).rounded()))
                try? await clock.sleep(until: due)
            } else {
                await Task.yield()
            }
        }
    }
}
