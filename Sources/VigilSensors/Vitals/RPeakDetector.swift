/// A streaming QRS detector of the Pan–Tompkins family (Pan & Tompkins, IEEE TBME 32(3), 1985),
/// rebuilt from the paper's description for any sample rate:
///
/// 1. band-pass 5–15 Hz (biquads), five-point derivative, squaring, 150 ms moving-window integral;
/// 2. candidates are local maxima of the integral, merged within 200 ms (the larger wins);
/// 3. adaptive thresholds: signal and noise peak levels (SPKI, NPKI) updated with weights 1/8,
///    threshold = NPKI + ¼ (SPKI − NPKI); a candidate above it is a QRS;
/// 4. refractory 200 ms; between 200 and 360 ms after a QRS a candidate whose steepest slope is
///    under half the previous QRS's is taken for a T wave;
/// 5. search-back: when no QRS has come for 1.66 × the mean of the last eight RR intervals, the
///    largest candidate above half the threshold since the last QRS is taken;
/// 6. a two-second learning phase sets the levels at the start, and again after 3 s without a QRS
///    (so the levels recover after signal loss); candidates from the learning phase are then
///    classified, so no beat is lost to learning;
/// 7. the reported index is refined to the most positive sample of the 0.5–40 Hz filtered ECG in
///    the 250 ms before the integral's peak (the R peak, as annotators and most toolkits mark it).
///
/// Beats are reported about 0.2–0.3 s after the R peak. Memory is fixed at construction (rings of
/// about three seconds); a sample never allocates.
public struct RPeakDetector: Sendable {
    /// Samples per second.
    public let sampleRate: Double
    private var bandPass: [Biquad]
    private var display: [Biquad]
    private var history = (0.0, 0.0, 0.0, 0.0)
    private var integral: [Double]
    private var integralHead = 0
    private var integralSum = 0.0
    private var slopes: SampleRing
    private var refined: SampleRing
    private var m1 = 0.0, m2 = 0.0
    private var n = 0

    private let refractory: Int
    private let tWaveWindow: Int
    private let mergeWindow: Int
    private let searchWindow: Int
    private let learnLength: Int
    private let relearnAfter: Int

    private struct Candidate: Sendable { var index: Int; var value: Double; var slope: Double }
    private var pending: Candidate? = nil
    private var learning = true
    private var learnStart = 0
    private var learnEnd = 0
    private var learnMax = 0.0
    private var learnSum = 0.0
    private var learnCount = 0
    private var learned: [Candidate] = []
    private var spki = 0.0, npki = 0.0
    private var lastQRS: Candidate? = nil
    private var lastR: Int? = nil
    private var searchBack: Candidate? = nil
    private var rr: [Int]
    private var rrCount = 0
    private var out: [Beat] = []

    /// A detector for an ECG sampled at `sampleRate` Hz (at least 100 Hz).
    public init(sampleRate fs: Double) throws(SensorsError) {
        guard fs >= 100, fs.isFinite else { throw SensorsError(.invalidValue, "R-peak detector: sample rate \(fs) Hz must be at least 100 Hz") }
        sampleRate = fs
        bandPass = [try .highPass(cutoff: 5, sampleRate: fs), try .lowPass(cutoff: 15, sampleRate: fs)]
        display = [try .highPass(cutoff: 0.5, sampleRate: fs), try .lowPass(cutoff: min(40, 0.4 * fs), sampleRate: fs)]
        let w = max(2, Int((0.15 * fs).rounded()))
        integral = [Double](repeating: 0, count: w)
        slopes = SampleRing(capacity: w + 2)
        refined = SampleRing(capacity: Int(3.5 * fs))
        refractory = Int(0.2 * fs)
        tWaveWindow = Int(0.36 * fs)
        mergeWindow = Int(0.2 * fs)
        searchWindow = Int(0.25 * fs)
        learnLength = Int(2 * fs)
        relearnAfter = Int(3 * fs)
        rr = [Int](repeating: 0, count: 8)
        learned.reserveCapacity(learnLength / 2 + 1)
        out.reserveCapacity(8)
    }

    /// Samples taken so far.
    public var sampleCount: Int { n }

    /// Takes one ECG sample (any unit; NaN is read as 0) and calls `emit` for each beat it confirms.
    public mutating func process(_ sample: Float, _ emit: (Beat) -> Void) {
        let x = sample.isNaN ? 0 : Double(sample)
        if n == 0 {
            // Start from the first sample's level so a DC offset does not ring into the learning phase.
            bandPass.settle(at: x)
            display.settle(at: x)
        }
        var b = x
        for i in bandPass.indices { b = bandPass[i].process(b) }
        var d = x
        for i in display.indices { d = display[i].process(d) }
        refined.append(Float(d))
        // Five-point derivative (the paper's, scaled by fs so levels do not depend on the rate).
        let der = (2 * b + history.0 - history.2 - 2 * history.3) * sampleRate / 8
        history = (b, history.0, history.1, history.2)
        slopes.append(Float(abs(der)))
        let sq = der * der
        integralSum += sq - integral[integralHead]
        integral[integralHead] = sq
        integralHead += 1
        if integralHead == integral.count {
            // Re-add from scratch once per window so rounding in the running sum cannot drift.
            integralHead = 0
            integralSum = integral.reduce(0, +)
        }
        let m = integralSum / Double(integral.count)

        if m1 > m2 && m1 >= m {
            // Local maximum of the integral at n − 1; its slope is the steepest in its window.
            var slope = 0.0
            for i in max(0, n - integral.count)..<n where slopes.holds(i) { slope = max(slope, Double(slopes[i])) }
            candidate(Candidate(index: n - 1, value: m1, slope: slope), emit)
        }
        m2 = m1; m1 = m
        if learning {
            learnMax = max(learnMax, m)
            learnSum += m
            learnCount += 1
            if n - learnStart + 1 >= learnLength { finishLearning(emit) }
        } else {
            tick(emit)
        }
        n += 1
    }

    /// Processes a block, returning the beats it confirms.
    public mutating func process(_ samples: some Sequence<Float>) -> [Beat] {
        var beats: [Beat] = []
        for x in samples { process(x) { beats.append($0) } }
        return beats
    }

    private mutating func candidate(_ c: Candidate, _ emit: (Beat) -> Void) {
        if learning {
            if learned.count < learned.capacity { learned.append(c) }
            return
        }
        merge(c, emit)
    }

    private mutating func merge(_ c: Candidate, _ emit: (Beat) -> Void) {
        if let p = pending {
            if c.index - p.index < mergeWindow {
                if c.value > p.value { pending = c }
                return
            }
            classify(p, emit)
        }
        pending = c
    }

    private mutating func tick(_ emit: (Beat) -> Void) {
        if let p = pending, n - p.index >= mergeWindow {
            pending = nil
            classify(p, emit)
        }
        if n - (lastQRS?.index ?? learnEnd) > relearnAfter, pending == nil {
            startLearning()
            return
        }
        guard let last = lastQRS else { return }
        if rrCount > 0, let sb = searchBack {
            let mean = Double(rr.prefix(min(rrCount, 8)).reduce(0, +)) / Double(min(rrCount, 8))
            if Double(n - last.index) > 1.66 * mean {
                searchBack = nil
                spki = 0.25 * sb.value + 0.75 * spki
                accept(sb, emit)
            }
        }
    }

    private mutating func startLearning() {
        learning = true
        learnStart = n
        learnMax = 0; learnSum = 0; learnCount = 0
        learned.removeAll(keepingCapacity: true)
        lastQRS = nil
        searchBack = nil
    }

    private mutating func finishLearning(_ emit: (Beat) -> Void) {
        learning = false
        learnEnd = n
        spki = 0.5 * learnMax
        npki = 0.5 * learnSum / Double(max(1, learnCount))
        let replay = learned
        learned.removeAll(keepingCapacity: true)
        for c in replay { merge(c, emit) }
    }

    private var threshold: Double { npki + 0.25 * (spki - npki) }

    private mutating func classify(_ c: Candidate, _ emit: (Beat) -> Void) {
        if let last = lastQRS {
            let gap = c.index - last.index
            if gap < refractory { return }
            if gap < tWaveWindow, c.slope < 0.5 * last.slope {
                npki = 0.125 * c.value + 0.875 * npki
                return
            }
        }
        if c.value > threshold {
            spki = 0.125 * c.value + 0.875 * spki
            accept(c, emit)
        } else {
            npki = 0.125 * c.value + 0.875 * npki
            if c.value > 0.5 * threshold, c.value > (searchBack?.value ?? 0) { searchBack = c }
        }
    }

    private mutating func accept(_ c: Candidate, _ emit: (Beat) -> Void) {
        if let last = lastQRS {
            rr[rrCount % 8] = c.index - last.index
            rrCount += 1
        }
        lastQRS = c
        searchBack = nil
        // The R peak: the most positive filtered sample in the search window, after the previous R.
        let lo = max(c.index - searchWindow, (lastR ?? -1) + refractory / 2)
        let r = refined.argmax(lo, c.index) ?? c.index
        guard r > (lastR ?? -1) else { return }
        let beat = Beat(index: r, rr: lastR.map { Double(r - $0) / sampleRate }, amplitude: refined.holds(r) ? refined[r] : 0)
        lastR = r
        emit(beat)
    }

    /// Forgets everything (e.g. after the lead was reconnected); the next sample is index 0 again
    /// only if `restartIndex` is true.
    public mutating func reset(restartIndex: Bool = false) {
        for i in bandPass.indices { bandPass[i].reset() }
        for i in display.indices { display[i].reset() }
        pending = nil
        lastR = nil
        rrCount = 0
        if restartIndex { n = 0; refined = SampleRing(capacity: refined.capacity); slopes = SampleRing(capacity: slopes.capacity) }
        startLearning()
    }
}
