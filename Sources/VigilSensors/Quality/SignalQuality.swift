/// The signal-quality verdict for a stretch of waveform. Vitals are reported only from stretches
/// whose quality `isAcceptable`; otherwise they are unavailable (`nil`), never a number.
public struct SignalQuality: Sendable, Hashable, CustomStringConvertible {
    /// Why a stretch is not acceptable. Several may hold at once.
    public struct Flags: OptionSet, Sendable, Hashable {
        public let rawValue: UInt8
        public init(rawValue: UInt8) { self.rawValue = rawValue }
        /// No activity in the signal's band (disconnected electrode, sensor off the skin, signal loss).
        public static let flatLine = Flags(rawValue: 1 << 0)
        /// Samples stuck at the extremes of the range (amplifier or ADC saturation).
        public static let clipping = Flags(rawValue: 1 << 1)
        /// Out-of-band noise (muscle, mains residue) large compared with the signal.
        public static let noise = Flags(rawValue: 1 << 2)
        /// The acquisition device reports the lead or probe off.
        public static let leadOff = Flags(rawValue: 1 << 3)
        /// Samples are missing (NaN in the input, e.g. WFDB invalid samples).
        public static let missing = Flags(rawValue: 1 << 4)

        /// The names of the set flags, in a fixed order (`flat_line`, `clipping`, `noise`,
        /// `lead_off`, `missing`).
        public var names: [String] {
            var n: [String] = []
            if contains(.flatLine) { n.append("flat_line") }
            if contains(.clipping) { n.append("clipping") }
            if contains(.noise) { n.append("noise") }
            if contains(.leadOff) { n.append("lead_off") }
            if contains(.missing) { n.append("missing") }
            return n
        }
    }

    /// The problems found; empty means acceptable.
    public var flags: Flags

    /// A verdict.
    public init(flags: Flags = []) { self.flags = flags }

    /// Nothing wrong was found.
    public static let good = SignalQuality()

    /// Whether vitals may be computed from this stretch.
    public var isAcceptable: Bool { flags.isEmpty }

    public var description: String { flags.isEmpty ? "good" : flags.names.joined(separator: "+") }
}

/// A stretch of samples `[start, end)` with one quality verdict.
public struct QualitySegment: Sendable, Hashable {
    /// Index of the first sample.
    public var start: Int
    /// Index one past the last sample.
    public var end: Int
    /// The verdict.
    public var quality: SignalQuality

    /// A segment.
    public init(start: Int, end: Int, quality: SignalQuality) {
        self.start = start
        self.end = end
        self.quality = quality
    }
}
