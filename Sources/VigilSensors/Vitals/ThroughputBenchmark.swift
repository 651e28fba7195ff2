/// The vitals pipeline's throughput: `channels` ECG channels at `sampleRate` Hz, each through the
/// display filter chain (0.5 Hz high-pass, 50 Hz notch, 40 Hz low-pass) and an `ECGMonitor`
/// (R-peak detector and signal-quality index), fed in 100 ms blocks channel by channel on the
/// calling thread, as the agent receives them. Used by `vigil vitals --bench` and
/// `Tools/vitals/bench.sh`.
public enum ThroughputBenchmark {
    /// What one run measured.
    public struct Result: Sendable {
        /// Channels processed.
        public var channels: Int
        /// Their sample rate.
        public var sampleRate: Double
        /// Seconds of signal per channel.
        public var signalSeconds: Double
        /// Wall-clock seconds spent.
        public var elapsedSeconds: Double
        /// Beats detected over all channels (a check that the work was done).
        public var beats: Int
        /// Signal time over wall time.
        public var realTimeFactor: Double { signalSeconds / elapsedSeconds }
        /// Wall time per sample per channel, in nanoseconds.
        public var nanosecondsPerSample: Double { elapsedSeconds / (signalSeconds * sampleRate * Double(channels)) * 1e9 }

        /// One line of JSON.
        public var json: String {
            func f(_ v: Double, _ digits: Int) -> String {
                var p = 1.0
                for _ in 0..<digits { p *= 10 }
                return "\((v * p).rounded() / p)"
            }
            return "{\"channels\": \(channels), \"sample_rate_hz\": \(sampleRate), \"signal_seconds\": \(signalSeconds), "
                + "\"elapsed_seconds\": \(f(elapsedSeconds, 4)), \"x_realtime\": \(f(realTimeFactor, 1)), "
                + "\"ns_per_sample\": \(f(nanosecondsPerSample, 1)), \"beats\": \(beats)}"
        }
    }

    /// Resamples `ecg` (at `rate` Hz) to `sampleRate`, repeats it to `seconds`, and times the
    /// pipeline on `channels` copies.
    public static func run(ecg: [Float], rate: Double, channels: Int = 8, sampleRate: Double = 500, seconds: Double = 600) throws(SensorsError) -> Result {
        guard !ecg.isEmpty, channels >= 1, seconds > 0 else { throw SensorsError(.invalidValue, "benchmark: empty input, no channels or no time") }
        var resampler = try Resampler(from: rate, to: sampleRate)
        let base = resampler.process(ecg)
        let total = Int(seconds * sampleRate)
        var input = [Float](repeating: 0, count: total)
        for i in 0..<total { input[i] = base[i % base.count] }
        var monitors: [ECGMonitor] = []
        var chains: [FilterChain] = []
        for _ in 0..<channels {
            monitors.append(try ECGMonitor(sampleRate: sampleRate))
            chains.append(try FilterChain(.ecg(mains: 50), sampleRate: sampleRate))
        }
        var beats = 0
        var sink = 0.0
        let block = max(1, Int(sampleRate / 10))
        let clock = ContinuousClock()
        let start = clock.now
        var s = 0
        while s < total {
            let e = min(s + block, total)
            for c in 0..<channels {
                for i in s..<e {
                    sink += chains[c].process(Double(input[i]))
                    monitors[c].process(input[i], onBeat: { _ in beats += 1 })
                }
            }
            s = e
        }
        let d = clock.now - start
        // Keeps the filtered output observable so the optimizer cannot drop the filter chain.
        if sink.isNaN { beats = -1 }
        let elapsed = Double(d.components.seconds) + Double(d.components.attoseconds) * 1e-18
        return Result(channels: channels, sampleRate: sampleRate, signalSeconds: Double(total) / sampleRate, elapsedSeconds: elapsed, beats: beats)
    }
}
