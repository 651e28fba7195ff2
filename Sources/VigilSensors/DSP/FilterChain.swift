/// The usual waveform clean-up as one streaming chain: baseline-wander high-pass, optional mains
/// notch, low-pass. Each stage is a biquad designed from the sample rate; stages that do not fit
/// below the Nyquist frequency (e.g. a 60 Hz notch at 100 Hz) are refused, not silently skipped.
public struct FilterChain: Sendable, Equatable {
    /// Settings of a chain; `nil` leaves a stage out.
    public struct Design: Sendable, Equatable {
        /// High-pass cutoff in Hz (baseline wander): 0.5 Hz for ECG monitoring.
        public var highPass: Double?
        /// Mains frequency to notch out (50 or 60 Hz).
        public var notch: Double?
        /// Low-pass cutoff in Hz.
        public var lowPass: Double?

        /// A design.
        public init(highPass: Double? = 0.5, notch: Double? = nil, lowPass: Double? = 40) {
            self.highPass = highPass
            self.notch = notch
            self.lowPass = lowPass
        }

        /// ECG monitoring bandwidth 0.5–40 Hz with a notch at `mains` Hz.
        public static func ecg(mains: Double? = 50) -> Design { Design(highPass: 0.5, notch: mains, lowPass: 40) }
        /// PPG: 0.5–8 Hz, enough for the pulse wave and its harmonics.
        public static let ppg = Design(highPass: 0.5, notch: nil, lowPass: 8)
    }

    var stages: [Biquad]

    /// A chain for `design` at `sampleRate`. Stages above the Nyquist frequency are an error, except
    /// a notch at or above it, which is left out because mains cannot alias into a band the
    /// low-pass keeps: only a notch strictly below Nyquist is built.
    public init(_ design: Design, sampleRate: Double) throws(SensorsError) {
        var s: [Biquad] = []
        if let f = design.highPass { s.append(try .highPass(cutoff: f, sampleRate: sampleRate)) }
        if let f = design.notch, f < sampleRate / 2 { s.append(try .notch(frequency: f, sampleRate: sampleRate)) }
        if let f = design.lowPass { s.append(try .lowPass(cutoff: min(f, 0.45 * sampleRate), sampleRate: sampleRate)) }
        stages = s
    }

    /// Filters one sample through every stage.
    public mutating func process(_ x: Double) -> Double {
        var y = x
        for i in stages.indices { y = stages[i].process(y) }
        return y
    }

    /// Filters `samples` in place.
    public mutating func process(_ samples: inout [Float]) {
        for i in samples.indices { samples[i] = Float(process(Double(samples[i]))) }
    }

    /// Clears every stage.
    public mutating func reset() { for i in stages.indices { stages[i].reset() } }
}
