/// SpO2 from the red and infrared channels of a pulse oximeter by the ratio of ratios
/// R = (AC_red / DC_red) / (AC_ir / DC_ir), mapped through a calibration curve.
///
/// Over each window (`window` seconds, a new estimate every `hop`), DC is the mean of the raw
/// samples and AC the RMS of the 0.5–8 Hz pulsatile band. RMS rather than peak-to-peak: with the
/// same pulse shape on both wavelengths the ratio is the same, and RMS is far less sensitive to a
/// single noisy sample. The estimate is `nil` (unavailable) when a DC level is not positive, the
/// infrared perfusion index AC/DC is below `minPerfusionIndex`, R falls outside the calibrated
/// range, or the infrared PPG's signal-quality index rejects the window.
public struct SpO2Estimator: Sendable {
    /// SpO2 % = `intercept` − `slope` × R (clamped to 0…100).
    public struct Calibration: Sendable, Equatable {
        /// Value at R = 0.
        public var intercept: Double
        /// Percentage points per unit of R.
        public var slope: Double
        /// R values the curve is trusted for.
        public var validRatios: ClosedRange<Double>

        /// A linear calibration.
        public init(intercept: Double, slope: Double, validRatios: ClosedRange<Double> = 0.3...2.0) {
            self.intercept = intercept
            self.slope = slope
            self.validRatios = validRatios
        }

        /// SpO2 = 110 − 25 R: the common empirical linear approximation found in pulse-oximetry
        /// application notes and textbooks. It is not a device calibration: a real oximeter's curve
        /// comes from its maker's desaturation study and replaces this one.
        public static let empirical = Calibration(intercept: 110, slope: 25)

        /// SpO2 for ratio `r`.
        public func spo2(ratio r: Double) -> Double { min(100, max(0, intercept - slope * r)) }
    }

    /// Samples per second.
    public let sampleRate: Double
    /// The calibration in use.
    public let calibration: Calibration
    /// Lowest infrared AC/DC accepted (0.0005 = 0.05 %).
    public var minPerfusionIndex = 0.0005
    private var redBand: [Biquad]
    private var irBand: [Biquad]
    private var assessor: SignalQualityAssessor
    private let hopLength: Int
    private let blocks: Int
    // Per-hop sums: raw red, raw ir, squared band red, squared band ir.
    private var sums: [(Double, Double, Double, Double)]
    private var block = (0.0, 0.0, 0.0, 0.0)
    private var inBlock = 0
    private var filled = 0
    private var head = 0
    private var n = 0

    /// The latest ratio of ratios, if any.
    public private(set) var ratio: Double? = nil
    /// The latest infrared perfusion index (AC/DC), if any.
    public private(set) var perfusionIndex: Double? = nil
    /// The latest SpO2 in %, or `nil` when unavailable.
    public private(set) var spo2: Double? = nil

    /// An estimator at `sampleRate` Hz with windows of `window` s every `hop` s.
    public init(sampleRate fs: Double, window: Double = 4, hop: Double = 1, calibration: Calibration = .empirical) throws(SensorsError) {
        guard fs >= 20, fs.isFinite else { throw SensorsError(.invalidValue, "SpO2: sample rate \(fs) Hz must be at least 20 Hz") }
        guard hop > 0, window >= hop else { throw SensorsError(.invalidValue, "SpO2: window \(window) s must be at least the hop \(hop) s > 0") }
        sampleRate = fs
        self.calibration = calibration
        redBand = [try .highPass(cutoff: 0.5, sampleRate: fs), try .lowPass(cutoff: min(8, 0.4 * fs), sampleRate: fs)]
        irBand = redBand
        assessor = try SignalQualityAssessor(kind: .ppg, sampleRate: fs)
        hopLength = max(1, Int(hop * fs))
        blocks = max(1, Int((window / hop).rounded()))
        sums = Array(repeating: (0, 0, 0, 0), count: blocks)
    }

    /// The infrared channel's quality.
    public var quality: SignalQuality { assessor.latest }
    /// Probe-off as reported by the device; makes the estimate unavailable while set.
    public var probeOff: Bool {
        get { assessor.leadOff }
        set { assessor.leadOff = newValue }
    }

    /// Takes one sample pair; returns `true` when a new estimate (possibly `nil`) was made.
    @discardableResult
    public mutating func process(red: Float, ir: Float) -> Bool {
        _ = assessor.process(ir)
        let r = Double(red), i = Double(ir)
        if n == 0 {
            redBand.settle(at: r)
            irBand.settle(at: i)
        }
        var br = r, bi = i
        for k in redBand.indices { br = redBand[k].process(br); bi = irBand[k].process(bi) }
        n += 1
        // The filters' first second is start-up transient: leave it out of the sums.
        guard Double(n) > sampleRate else { return false }
        block.0 += r; block.1 += i; block.2 += br * br; block.3 += bi * bi
        inBlock += 1
        guard inBlock == hopLength else { return false }
        sums[head] = block
        head = (head + 1) % blocks
        filled = min(filled + 1, blocks)
        block = (0, 0, 0, 0); inBlock = 0
        guard filled == blocks else { return false }
        var t = (0.0, 0.0, 0.0, 0.0)
        for s in sums { t.0 += s.0; t.1 += s.1; t.2 += s.2; t.3 += s.3 }
        let count = Double(blocks * hopLength)
        let dcRed = t.0 / count, dcIR = t.1 / count
        let acRed = (t.2 / count).squareRoot(), acIR = (t.3 / count).squareRoot()
        guard dcRed > 0, dcIR > 0, acIR > 0, !dcRed.isNaN, !dcIR.isNaN else {
            ratio = nil; perfusionIndex = nil; spo2 = nil
            return true
        }
        let pi = acIR / dcIR
        let ratioOfRatios = (acRed / dcRed) / pi
        ratio = ratioOfRatios
        perfusionIndex = pi
        if pi >= minPerfusionIndex, calibration.validRatios.contains(ratioOfRatios), assessor.latest.isAcceptable {
            spo2 = calibration.spo2(ratio: ratioOfRatios)
        } else {
            spo2 = nil
        }
        return true
    }
}
