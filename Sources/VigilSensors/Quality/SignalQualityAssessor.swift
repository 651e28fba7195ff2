/// A streaming signal-quality index for ECG, PPG or respiration. Every `hop` seconds it judges the
/// last `window` seconds of raw samples:
///
/// - **flat line**: the peak-to-peak of the signal's detection band (ECG 5–15 Hz, the QRS band;
///   PPG 0.5–8 Hz; respiration 0.1–1 Hz) is below `minAmplitude` (ECG: 0.1 mV), or below
///   `minRelativeAmplitude` × the typical amplitude of the acceptable windows seen so far (a slow
///   average; ECG 0.2, PPG 0.1). The relative floor catches the slow exponential recovery of a
///   saturated amplifier, whose QRS band still wiggles a little. With 2-second windows an ECG
///   pause of 2 s or more reads as "no signal";
/// - **clipping**: at least `maxClippedFraction` of the window sits in runs of identical samples at
///   the window's extreme values, or at the ADC rails when `rails` is set;
/// - **noise**: the RMS of the content above the band (ECG above 45 Hz, PPG above 12 Hz) exceeds
///   `maxNoiseRatio` × the band's peak-to-peak;
/// - **missing**: a NaN sample; **lead off**: set from the device with `leadOff`.
///
/// Storage is allocated once; each sample costs a few filter updates and stores into rings.
public struct SignalQualityAssessor: Sendable {
    /// Which signal is judged.
    public enum Kind: String, Sendable { case ecg, ppg, respiration }

    /// Thresholds and timing.
    public struct Settings: Sendable, Equatable {
        /// Seconds per judged window.
        public var window: Double = 2
        /// Seconds between verdicts.
        public var hop: Double = 0.5
        /// Absolute floor of the band's peak-to-peak (ECG in mV; 0 disables).
        public var minAmplitude: Double = 0
        /// Relative floor: fraction of the typical acceptable amplitude (0 disables).
        public var minRelativeAmplitude: Double = 0.1
        /// Fraction of clipped samples that makes a window unacceptable.
        public var maxClippedFraction: Double = 0.1
        /// Shortest run of identical samples counted as clipped, in seconds.
        public var clipRun: Double = 0.03
        /// Out-of-band RMS over in-band peak-to-peak that counts as noise.
        public var maxNoiseRatio: Double = 0.2
        /// The ADC rails in physical units, when known.
        public var rails: ClosedRange<Double>? = nil

        /// Defaults for `kind`: ECG in millivolts has an absolute 0.1 mV floor on its QRS band.
        public init(for kind: Kind) {
            if kind == .ecg { minAmplitude = 0.1; minRelativeAmplitude = 0.2 }
            if kind == .respiration { window = 10; hop = 1; maxNoiseRatio = 0.5 }
        }
    }

    /// The settings in force.
    public let settings: Settings
    private let windowLength: Int
    private let hopLength: Int
    private var bandFilters: [Biquad]
    private var noiseFilter: Biquad
    private var raw: [Double]
    private var band: [Double]
    private var noise: [Double]
    private var head = 0
    private var count = 0
    private var sinceVerdict = 0
    private var typicalAmplitude: Double? = nil
    /// Samples taken so far.
    public private(set) var sampleIndex = 0
    /// Lead/probe-off as reported by the device; applies to verdicts until cleared.
    public var leadOff = false
    /// The latest verdict (good until the first window is complete).
    public private(set) var latest = SignalQuality.good

    /// An assessor for `kind` at `sampleRate` Hz.
    public init(kind: Kind, sampleRate fs: Double, settings: Settings? = nil) throws(SensorsError) {
        let s = settings ?? Settings(for: kind)
        guard fs > 0, fs.isFinite else { throw SensorsError(.invalidValue, "signal quality: sample rate \(fs) Hz is not positive") }
        guard s.window > 0, s.hop > 0, s.hop <= s.window else {
            throw SensorsError(.invalidValue, "signal quality: window \(s.window) s and hop \(s.hop) s must be positive, hop ≤ window")
        }
        self.settings = s
        windowLength = max(2, Int((s.window * fs).rounded()))
        hopLength = max(1, Int((s.hop * fs).rounded()))
        let (lo, hi, hf): (Double, Double, Double) = switch kind {
        case .ecg: (5, 15, 45)
        case .ppg: (0.5, 8, 12)
        case .respiration: (0.1, 1, 2)
        }
        let nyq = fs / 2
        bandFilters = [try .highPass(cutoff: min(lo, 0.4 * nyq), sampleRate: fs), try .lowPass(cutoff: min(hi, 0.8 * nyq), sampleRate: fs)]
        noiseFilter = try .highPass(cutoff: min(hf, 0.9 * nyq), sampleRate: fs)
        raw = [Double](repeating: 0, count: windowLength)
        band = raw
        noise = raw
    }

    /// Takes one raw sample; returns a verdict for the window ending at this sample when one is
    /// due (every `hop`), else `nil`.
    public mutating func process(_ x: Float) -> SignalQuality? {
        let v = Double(x)
        var b = v.isNaN ? 0 : v
        if sampleIndex == 0 {
            // Start from the first sample's level: a DC step from zero would ring through the band
            // filters and set the typical amplitude far too high.
            bandFilters.settle(at: b)
            noiseFilter.settle(at: b)
        }
        let nz = noiseFilter.process(b)
        for i in bandFilters.indices { b = bandFilters[i].process(b) }
        raw[head] = v
        band[head] = b
        noise[head] = nz
        head = head + 1 == windowLength ? 0 : head + 1
        count = min(count + 1, windowLength)
        sampleIndex += 1
        sinceVerdict += 1
        guard count == windowLength, sinceVerdict >= hopLength else { return nil }
        sinceVerdict = 0
        latest = judge()
        return latest
    }

    private mutating func judge() -> SignalQuality {
        var flags: SignalQuality.Flags = leadOff ? [.leadOff] : []
        var bmin = Double.infinity, bmax = -Double.infinity
        var rmin = Double.infinity, rmax = -Double.infinity
        var nss = 0.0, nans = 0
        for i in 0..<windowLength {
            let r = raw[i]
            if r.isNaN { nans += 1; continue }
            rmin = min(rmin, r); rmax = max(rmax, r)
            bmin = min(bmin, band[i]); bmax = max(bmax, band[i])
            nss += noise[i] * noise[i]
        }
        if nans > 0 { flags.insert(.missing) }
        let ptp = bmax > bmin ? bmax - bmin : 0
        if nans == windowLength || ptp <= settings.minAmplitude || rmax == rmin {
            flags.insert(.flatLine)
        } else if let typical = typicalAmplitude, ptp < settings.minRelativeAmplitude * typical {
            flags.insert(.flatLine)
        }
        // A constant signal is a flat line, not clipping, unless it sits on a known rail; a clipped
        // signal can also be flat in its band (the QRS cut off), so both are reported then.
        if nans < windowLength, rmax > rmin || settings.rails != nil {
            // Runs of identical samples at the extremes (in time order, starting at the oldest).
            let runMin = max(3, Int(settings.clipRun * Double(windowLength) / settings.window))
            var clipped = 0, run = 1
            var prev = raw[head]
            for k in 1...windowLength {
                let r = k < windowLength ? raw[(head + k) % windowLength] : .nan
                if r == prev { run += 1; continue }
                let atRail = settings.rails.map { prev <= $0.lowerBound || prev >= $0.upperBound } ?? false
                if atRail || ((prev == rmax || prev == rmin) && run >= runMin) { clipped += run }
                run = 1
                prev = r
            }
            if Double(clipped) >= settings.maxClippedFraction * Double(windowLength) { flags.insert(.clipping) }
        }
        if !flags.contains(.flatLine) {
            let noiseRMS = (nss / Double(windowLength - nans)).squareRoot()
            if noiseRMS > settings.maxNoiseRatio * ptp { flags.insert(.noise) }
        }
        if flags.isEmpty {
            // Slow average of acceptable amplitudes: the yardstick for the relative floor.
            typicalAmplitude = typicalAmplitude.map { 0.95 * $0 + 0.05 * ptp } ?? ptp
        }
        return SignalQuality(flags: flags)
    }
}

/// Collects verdicts of overlapping windows into a timeline of non-overlapping segments: a stretch
/// is as bad as the worst window that covers it (its flags are the union of theirs).
public struct QualityTimeline: Sendable {
    private let hop: Int
    private let window: Int
    private var flagsPerHop: [SignalQuality.Flags] = []

    /// A timeline for windows of `window` samples judged every `hop` samples.
    public init(window: Int, hop: Int) {
        self.window = window
        self.hop = max(1, hop)
    }

    /// Records the verdict of the window ending at sample index `end` (exclusive).
    public mutating func record(_ q: SignalQuality, windowEnd end: Int) {
        let firstHop = max(0, (end - window) / hop), lastHop = (end - 1) / hop
        while flagsPerHop.count <= lastHop { flagsPerHop.append([]) }
        for h in firstHop...lastHop { flagsPerHop[h].formUnion(q.flags) }
    }

    /// The segments covering `[0, total)`, consecutive equal verdicts merged.
    public func segments(total: Int) -> [QualitySegment] {
        var out: [QualitySegment] = []
        var h = 0
        while h * hop < total {
            let f = h < flagsPerHop.count ? flagsPerHop[h] : []
            let end = min(total, (h + 1) * hop)
            if let last = out.last, last.quality.flags == f { out[out.count - 1].end = end }
            else { out.append(QualitySegment(start: h * hop, end: end, quality: SignalQuality(flags: f))) }
            h += 1
        }
        return out
    }
}
