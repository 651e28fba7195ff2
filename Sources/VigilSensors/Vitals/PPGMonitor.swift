/// Pulse detection and pulse rate from a photoplethysmogram (any unit; larger = more blood, as
/// transmitted-light sensors report after inversion): 0.5–8 Hz band-pass, then the pulse-wave
/// peak picker (rise from trough ≥ 50 % of the average rise, at most one pulse per 0.3 s, i.e.
/// 200 /min; within 0.6 × the recent median interval only a full-size rise counts, which keeps
/// the diastolic wave out). The reported index is the systolic peak of the filtered wave. Pulse rate is the
/// median of the last eight pulse intervals and is `nil` when the signal-quality index rejects the
/// latest window or no pulse came in the last 5 s.
public struct PPGMonitor: Sendable {
    /// Samples per second.
    public let sampleRate: Double
    private var filter: [Biquad]
    private var picker: PulsePeakPicker
    private var assessor: SignalQualityAssessor
    private var lastIndex: Int? = nil
    private var intervals: [Int]
    private var intervalCount = 0
    private var n = 0

    /// A monitor for a PPG sampled at `sampleRate` Hz (at least 20 Hz).
    public init(sampleRate fs: Double) throws(SensorsError) {
        guard fs >= 20, fs.isFinite else { throw SensorsError(.invalidValue, "PPG: sample rate \(fs) Hz must be at least 20 Hz") }
        sampleRate = fs
        filter = [try .highPass(cutoff: 0.5, sampleRate: fs), try .lowPass(cutoff: min(8, 0.4 * fs), sampleRate: fs)]
        picker = PulsePeakPicker(sampleRate: fs, minInterval: 0.3, relativeThreshold: 0.5, learn: 3, relearnAfter: 4)
        assessor = try SignalQualityAssessor(kind: .ppg, sampleRate: fs)
        intervals = [Int](repeating: 0, count: 8)
    }

    /// The latest signal-quality verdict.
    public var quality: SignalQuality { assessor.latest }
    /// Probe-off as reported by the device; gates the pulse rate while set.
    public var probeOff: Bool {
        get { assessor.leadOff }
        set { assessor.leadOff = newValue }
    }

    /// Pulse rate in /min, or `nil` when unavailable (poor quality, no recent pulse, too few pulses).
    public var pulseRate: Double? {
        guard quality.isAcceptable, intervalCount >= 2, let last = lastIndex, Double(n - last) < 5 * sampleRate else { return nil }
        return 60 * sampleRate / median(intervals, intervalCount)
    }

    /// Takes one sample: `onPulse` receives each detected pulse, `onQuality` each quality verdict
    /// with the index one past its window's last sample. Pulses are reported whatever the quality;
    /// `process(_:)` is the gated form.
    public mutating func process(_ x: Float, onPulse: (Beat) -> Void, onQuality: (SignalQuality, Int) -> Void = { _, _ in }) {
        if let q = assessor.process(x) { onQuality(q, n + 1) }
        var y = x.isNaN ? 0 : Double(x)
        if n == 0 { filter.settle(at: y) }
        for i in filter.indices { y = filter[i].process(y) }
        let fs = sampleRate
        var found: [PulsePeakPicker.Peak] = []
        picker.process(y) { found.append($0) }
        for p in found {
            let rr = lastIndex.map { Double(p.index - $0) / fs }
            if let last = lastIndex {
                intervals[intervalCount % 8] = p.index - last
                intervalCount += 1
            }
            lastIndex = p.index
            onPulse(Beat(index: p.index, rr: rr, amplitude: Float(p.rise)))
        }
        n += 1
    }

    /// Processes a block; returns the pulses confirmed while the quality was acceptable.
    public mutating func process(_ samples: some Sequence<Float>) -> [Beat] {
        var out: [Beat] = []
        var batch: [Beat] = []
        for x in samples {
            process(x, onPulse: { batch.append($0) })
            if !batch.isEmpty {
                if quality.isAcceptable { out += batch }
                batch.removeAll(keepingCapacity: true)
            }
        }
        return out
    }
}

/// The median of the first `count` (at most `values.count`) elements, for small fixed buffers.
func median(_ values: [Int], _ count: Int) -> Double {
    let k = min(count, values.count)
    guard k > 0 else { return .nan }
    // Eight elements at most: an insertion sort into a stack tuple avoids allocating.
    var s = (0, 0, 0, 0, 0, 0, 0, 0)
    return withUnsafeMutableBytes(of: &s) { raw -> Double in
        let b = raw.bindMemory(to: Int.self)
        let m = min(k, b.count)
        for i in 0..<m {
            var j = i
            let v = values[i]
            while j > 0 && b[j - 1] > v { b[j] = b[j - 1]; j -= 1 }
            b[j] = v
        }
        return m % 2 == 1 ? Double(b[m / 2]) : Double(b[m / 2 - 1] + b[m / 2]) / 2
    }
}
