import Foundation

/// A second-order IIR section (transposed direct form II), designed from the sample rate with the
/// bilinear-transform formulas of R. Bristow-Johnson's "Audio EQ Cookbook". Coefficients and state
/// are `Double`: a 0.5 Hz high-pass at 500 Hz has poles within 0.006 of the unit circle, where
/// `Float` state would add audible rounding noise and drift.
///
/// One sample in, one sample out; no allocation.
public struct Biquad: Sendable, Equatable {
    var b0, b1, b2, a1, a2: Double
    var z1 = 0.0, z2 = 0.0

    /// A section with normalised coefficients (a0 = 1).
    public init(b0: Double, b1: Double, b2: Double, a1: Double, a2: Double) {
        self.b0 = b0; self.b1 = b1; self.b2 = b2; self.a1 = a1; self.a2 = a2
    }

    /// Checks `cutoff` against the Nyquist frequency.
    static func check(_ what: String, _ f: Double, _ fs: Double) throws(SensorsError) {
        guard fs > 0, fs.isFinite else { throw SensorsError(.invalidValue, "\(what): sample rate \(fs) Hz is not positive") }
        guard f > 0, f < fs / 2 else { throw SensorsError(.invalidValue, "\(what): frequency \(f) Hz is not between 0 and the Nyquist frequency \(fs / 2) Hz") }
    }

    private static func normalised(_ b0: Double, _ b1: Double, _ b2: Double, _ a0: Double, _ a1: Double, _ a2: Double) -> Biquad {
        Biquad(b0: b0 / a0, b1: b1 / a0, b2: b2 / a0, a1: a1 / a0, a2: a2 / a0)
    }

    /// A high-pass at `cutoff` Hz (−3 dB for Q = 1/√2, Butterworth), e.g. baseline-wander removal.
    public static func highPass(cutoff: Double, sampleRate fs: Double, q: Double = 0.5.squareRoot()) throws(SensorsError) -> Biquad {
        try check("high-pass", cutoff, fs)
        let w = 2 * Double.pi * cutoff / fs, c = cos(w), alpha = sin(w) / (2 * q)
        return normalised((1 + c) / 2, -(1 + c), (1 + c) / 2, 1 + alpha, -2 * c, 1 - alpha)
    }

    /// A low-pass at `cutoff` Hz (Butterworth for Q = 1/√2).
    public static func lowPass(cutoff: Double, sampleRate fs: Double, q: Double = 0.5.squareRoot()) throws(SensorsError) -> Biquad {
        try check("low-pass", cutoff, fs)
        let w = 2 * Double.pi * cutoff / fs, c = cos(w), alpha = sin(w) / (2 * q)
        return normalised((1 - c) / 2, 1 - c, (1 - c) / 2, 1 + alpha, -2 * c, 1 - alpha)
    }

    /// A notch at `frequency` Hz (mains: 50 or 60) with quality factor `q` (bandwidth ≈ f / q).
    public static func notch(frequency: Double, sampleRate fs: Double, q: Double = 30) throws(SensorsError) -> Biquad {
        try check("notch", frequency, fs)
        let w = 2 * Double.pi * frequency / fs, c = cos(w), alpha = sin(w) / (2 * q)
        return normalised(1, -2 * c, 1, 1 + alpha, -2 * c, 1 - alpha)
    }

    /// Filters one sample.
    @inline(__always)
    public mutating func process(_ x: Double) -> Double {
        let y = b0 * x + z1
        z1 = b1 * x - a1 * y + z2
        z2 = b2 * x - a2 * y
        return y
    }

    /// Sets the state as if the input had been `x` forever (no start-up transient); returns the
    /// steady output, which is what the next section of a cascade must be settled at.
    @discardableResult
    public mutating func settle(at x: Double) -> Double {
        // Steady state: y = x·H(1) with H(1) = (b0 + b1 + b2) / (1 + a1 + a2).
        let den = 1 + a1 + a2
        let y = abs(den) > 1e-12 ? x * (b0 + b1 + b2) / den : 0
        z2 = b2 * x - a2 * y
        z1 = b1 * x - a1 * y + z2
        return y
    }

    /// Clears the state.
    public mutating func reset() { z1 = 0; z2 = 0 }

    /// The magnitude of the frequency response at `f` Hz for sample rate `fs`.
    public func gain(at f: Double, sampleRate fs: Double) -> Double {
        let w = 2 * Double.pi * f / fs
        // H(e^{jw}) = (b0 + b1 e^{-jw} + b2 e^{-2jw}) / (1 + a1 e^{-jw} + a2 e^{-2jw})
        let nr = b0 + b1 * cos(w) + b2 * cos(2 * w), ni = -(b1 * sin(w) + b2 * sin(2 * w))
        let dr = 1 + a1 * cos(w) + a2 * cos(2 * w), di = -(a1 * sin(w) + a2 * sin(2 * w))
        return ((nr * nr + ni * ni) / (dr * dr + di * di)).squareRoot()
    }
}

extension Array where Element == Biquad {
    /// Settles a cascade at input `x`: each section at the steady output of the one before.
    mutating func settle(at x: Double) {
        var y = x
        for i in indices { y = self[i].settle(at: y) }
    }
}
