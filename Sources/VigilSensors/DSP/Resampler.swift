/// Streaming sample-rate conversion to a model's rate by linear interpolation, with an
/// anti-aliasing low-pass when the rate goes down.
///
/// Why linear and not polyphase: the rates met here (ECG 250–1000 Hz, PPG 25–500 Hz, to models at
/// 100–500 Hz) are not small integer ratios (e.g. 360 → 250 Hz is 25/36, and CSV rates measured
/// from time columns are arbitrary reals), and waveform content of interest lies far below either
/// Nyquist frequency, where linear interpolation is accurate (its response is sinc², −0.6 dB at a
/// tenth of the output rate). Down-sampling first runs a 4th-order Butterworth low-pass (two biquads)
/// at 0.4 × the output rate, so content that would alias is attenuated before it can fold back.
/// Up-sampling needs no pre-filter; images are attenuated by the interpolation's sinc² response.
///
/// Output sample k is the input interpolated at time k / `to`: output and input start together.
/// One sample in, zero or more out; no allocation.
public struct Resampler: Sendable {
    /// Input rate in Hz.
    public let from: Double
    /// Output rate in Hz.
    public let to: Double
    private var antiAlias: [Biquad]
    private let step: Double
    private var inputIndex = 0
    private var outputIndex = 0
    private var previous = 0.0

    /// A resampler from `from` Hz to `to` Hz (both positive).
    public init(from: Double, to: Double) throws(SensorsError) {
        guard from > 0, from.isFinite, to > 0, to.isFinite else {
            throw SensorsError(.invalidValue, "resampler: rates \(from) Hz → \(to) Hz must be positive")
        }
        self.from = from
        self.to = to
        step = from / to
        if to < from {
            let cutoff = 0.4 * to
            // Butterworth 4th order as two sections with Q = 0.5412 and 1.3066.
            antiAlias = [try .lowPass(cutoff: cutoff, sampleRate: from, q: 0.541_196_1),
                         try .lowPass(cutoff: cutoff, sampleRate: from, q: 1.306_563)]
        } else {
            antiAlias = []
        }
    }

    /// Takes one input sample and calls `emit` for each output sample it completes.
    public mutating func process(_ sample: Float, _ emit: (Float) -> Void) {
        var x = Double(sample)
        if inputIndex == 0 { antiAlias.settle(at: x) }
        for i in antiAlias.indices { x = antiAlias[i].process(x) }
        let i = Double(inputIndex)
        // Position computed from the counter, not accumulated, so hours of input do not drift.
        var position = Double(outputIndex) * step
        while position <= i {
            let y = inputIndex == 0 ? x : previous + (x - previous) * (position - (i - 1))
            emit(Float(y))
            outputIndex += 1
            position = Double(outputIndex) * step
        }
        previous = x
        inputIndex += 1
    }

    /// Resamples a block, appending the output to `output`.
    public mutating func process(_ input: some Sequence<Float>, into output: inout [Float]) {
        for x in input { process(x) { output.append($0) } }
    }

    /// Resamples a block.
    public mutating func process(_ input: [Float]) -> [Float] {
        var out: [Float] = []
        out.reserveCapacity(Int(Double(input.count) / step) + 2)
        process(input, into: &out)
        return out
    }
}
