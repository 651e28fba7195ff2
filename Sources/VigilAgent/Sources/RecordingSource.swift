import Foundation
import VigilSensors

/// Replays a recorded waveform as a live source: any file `vigil vitals` reads (WFDB `.hea`/`.dat`,
/// EDF, CSV, NPY; docs/VITALS.md), its first signal, in physical units, in blocks of 100 ms paced
/// against the monotonic clock (`realtime`) or as fast as the pipeline takes them (`max`),
/// optionally looping. Device time keeps increasing across loops.
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
        let recording: Recording
        do { recording = try RecordingReader.read(config.path, options: .init(sampleRate: config.rate)) } catch {
            throw AgentError(.source, "source \(config.name): \(error)")
        }
        guard let first = recording.channels.first, !first.samples.isEmpty else {
            throw AgentError(.source, "source \(config.name): \(config.path) holds no samples")
        }
        samples = first.samples
        if let bad = samples.firstIndex(where: { !$0.isFinite }) {
            throw AgentError(.source, "source \(config.name): \(config.path): sample \(bad) is not a finite number")
        }
        rate = recording.sampleRate
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
