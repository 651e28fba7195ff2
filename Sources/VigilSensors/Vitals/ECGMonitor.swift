/// Heart rate and beats from one ECG lead: the R-peak detector, the ECG signal-quality index, and
/// the gate between them. Heart rate is the median of the last eight RR intervals; it is `nil`
/// (unavailable) when the latest quality window is not acceptable, fewer than two RR intervals
/// are known, or no beat came in the last 5 s.
public struct ECGMonitor: Sendable {
    /// Samples per second.
    public let sampleRate: Double
    private var detector: RPeakDetector
    private var assessor: SignalQualityAssessor
    private var rr: [Int]
    private var rrCount = 0
    private var lastIndex: Int? = nil
    private var n = 0

    /// A monitor for an ECG in millivolts sampled at `sampleRate` Hz (at least 100 Hz).
    public init(sampleRate fs: Double, quality: SignalQualityAssessor.Settings? = nil) throws(SensorsError) {
        sampleRate = fs
        detector = try RPeakDetector(sampleRate: fs)
        assessor = try SignalQualityAssessor(kind: .ecg, sampleRate: fs, settings: quality)
        rr = [Int](repeating: 0, count: 8)
    }

    /// The latest signal-quality verdict.
    public var quality: SignalQuality { assessor.latest }
    /// Lead-off as reported by the acquisition device; gates heart rate while set.
    public var leadOff: Bool {
        get { assessor.leadOff }
        set { assessor.leadOff = newValue }
    }

    /// Heart rate in /min, or `nil` when unavailable.
    public var heartRate: Double? {
        guard quality.isAcceptable, rrCount >= 2, let last = lastIndex, Double(n - last) < 5 * sampleRate else { return nil }
        return 60 * sampleRate / median(rr, rrCount)
    }

    /// Takes one sample: `onBeat` receives each detected beat, `onQuality` each quality verdict with
    /// the index one past its window's last sample. Beats are reported whatever the quality;
    /// `process(_:)` is the gated form.
    public mutating func process(_ x: Float, onBeat: (Beat) -> Void, onQuality: (SignalQuality, Int) -> Void = { _, _ in }) {
        if let q = assessor.process(x) { onQuality(q, n + 1) }
        // Collected first (no allocation unless a beat is confirmed), then applied, so the
        // detector is not borrowed while the monitor's own state changes.
        var confirmed: [Beat] = []
        detector.process(x) { confirmed.append($0) }
        for b in confirmed {
            if let last = lastIndex {
                rr[rrCount % 8] = b.index - last
                rrCount += 1
            }
            lastIndex = b.index
            onBeat(b)
        }
        n += 1
    }

    /// Processes a block (an array, a slice, or an `UnsafeBufferPointer` from a ring or a SensorLink
    /// waveform block); returns the beats confirmed while the quality was acceptable.
    public mutating func process(_ samples: some Sequence<Float>) -> [Beat] {
        var out: [Beat] = []
        var batch: [Beat] = []
        for x in samples {
            process(x, onBeat: { batch.append($0) })
            if !batch.isEmpty {
                // The verdict in force when the beats were confirmed.
                if quality.isAcceptable { out += batch }
                batch.removeAll(keepingCapacity: true)
            }
        }
        return out
    }
}
