/// Respiration rate from a breathing waveform: thoracic impedance, a respiratory belt, or an
/// ECG-derived respiration series (`ECGDerivedRespiration`). The wave is band-passed 0.1–1 Hz
/// (6–60 breaths/min), breaths are the peaks picked with a rise of at least 30 % of the average
/// and at least 1.2 s apart (at most 50 /min), and the rate is 60 / the mean of the breath
/// intervals in the last `averaging` seconds. `nil` when the quality index (flat line, clipping,
/// missing samples over a 10 s window) rejects the latest window or fewer than two breaths are
/// in the averaging span.
public struct RespirationMonitor: Sendable {
    /// Samples per second.
    public let sampleRate: Double
    /// Seconds of breaths averaged for the rate.
    public let averaging: Double
    private var filter: [Biquad]
    private var picker: PulsePeakPicker
    private var assessor: SignalQualityAssessor
    private var breaths: [Int]
    private var breathCount = 0
    private var n = 0

    /// A monitor at `sampleRate` Hz (at least 4 Hz).
    public init(sampleRate fs: Double, averaging: Double = 30) throws(SensorsError) {
        guard fs >= 4, fs.isFinite else { throw SensorsError(.invalidValue, "respiration: sample rate \(fs) Hz must be at least 4 Hz") }
        sampleRate = fs
        self.averaging = averaging
        filter = [try .highPass(cutoff: 0.1, sampleRate: fs), try .lowPass(cutoff: min(1, 0.4 * fs), sampleRate: fs),
                  try .lowPass(cutoff: min(1, 0.4 * fs), sampleRate: fs)]
        picker = PulsePeakPicker(sampleRate: fs, minInterval: 1.2, relativeThreshold: 0.3, learn: 8, relearnAfter: 15)
        assessor = try SignalQualityAssessor(kind: .respiration, sampleRate: fs)
        breaths = [Int](repeating: 0, count: 64)
    }

    /// The latest quality verdict.
    public var quality: SignalQuality { assessor.latest }

    /// Breaths per minute, or `nil` when unavailable.
    public var respirationRate: Double? {
        guard quality.isAcceptable else { return nil }
        let span = Int(averaging * sampleRate)
        var first: Int? = nil, last: Int? = nil, k = 0
        for j in 0..<min(breathCount, breaths.count) {
            let idx = breaths[(breathCount - 1 - j) % breaths.count]
            if n - idx > span { break }
            if last == nil { last = idx }
            first = idx
            k += 1
        }
        guard k >= 2, let a = first, let b = last, b > a else { return nil }
        return 60 * sampleRate * Double(k - 1) / Double(b - a)
    }

    /// Takes one sample; `onBreath` receives the index of each breath peak, `onQuality` each verdict
    /// with the index one past its window.
    public mutating func process(_ x: Float, onBreath: (Int) -> Void = { _ in }, onQuality: (SignalQuality, Int) -> Void = { _, _ in }) {
        if let q = assessor.process(x) { onQuality(q, n + 1) }
        var y = x.isNaN ? 0 : Double(x)
        if n == 0 { filter.settle(at: y) }
        for i in filter.indices { y = filter[i].process(y) }
        var found: [PulsePeakPicker.Peak] = []
        picker.process(y) { found.append($0) }
        for p in found {
            breaths[breathCount % breaths.count] = p.index
            breathCount += 1
            onBreath(p.index)
        }
        n += 1
    }

    /// Processes a block.
    public mutating func process(_ samples: some Sequence<Float>) {
        for x in samples { process(x) }
    }
}

/// ECG-derived respiration from R-amplitude modulation: breathing moves the heart's electrical axis
/// and the chest's impedance, so R-peak amplitudes rise and fall with each breath. Beats (irregular
/// in time) are turned into an evenly sampled series at `outputRate` Hz by linear interpolation
/// between successive R amplitudes, which a `RespirationMonitor` at that rate then reads.
public struct ECGDerivedRespiration: Sendable {
    /// The ECG's sample rate (beat indexes are in its samples).
    public let ecgRate: Double
    /// The series' sample rate.
    public let outputRate: Double
    private var last: Beat? = nil
    private var nextTime = 0.0

    /// A converter for beats from an ECG at `ecgRate` Hz into a series at `outputRate` Hz.
    public init(ecgRate: Double, outputRate: Double = 4) throws(SensorsError) {
        guard ecgRate > 0, outputRate > 0, outputRate < ecgRate else {
            throw SensorsError(.invalidValue, "ECG-derived respiration: rates \(ecgRate) Hz → \(outputRate) Hz")
        }
        self.ecgRate = ecgRate
        self.outputRate = outputRate
    }

    /// Takes the next beat; `emit` receives the series samples up to it.
    public mutating func add(_ beat: Beat, _ emit: (Float) -> Void) {
        let t = Double(beat.index) / ecgRate
        guard let prev = last else {
            last = beat
            nextTime = (t * outputRate).rounded(.up) / outputRate
            return
        }
        let t0 = Double(prev.index) / ecgRate
        guard t > t0 else { return }
        while nextTime <= t {
            let f = (nextTime - t0) / (t - t0)
            emit(prev.amplitude + Float(f) * (beat.amplitude - prev.amplitude))
            nextTime += 1 / outputRate
        }
        last = beat
    }
}
