/// One detected heartbeat (an ECG R peak or a PPG pulse peak).
public struct Beat: Sendable, Hashable {
    /// Sample index of the peak in the input stream (0 = the first sample given to the detector).
    public var index: Int
    /// Seconds since the previous beat, `nil` for the first beat (or the first after a reset).
    public var rr: Double?
    /// Instantaneous rate 60 / `rr` in beats per minute, `nil` when `rr` is.
    public var rate: Double? { rr.map { 60 / $0 } }
    /// Peak amplitude on the detector's filtered signal (R amplitude for ECG-derived respiration).
    public var amplitude: Float

    /// A beat.
    public init(index: Int, rr: Double?, amplitude: Float) {
        self.index = index
        self.rr = rr
        self.amplitude = amplitude
    }
}

/// A fixed-capacity ring of recent samples, indexed by absolute sample index. Allocated once.
struct SampleRing: Sendable {
    private var storage: [Float]
    private(set) var written = 0

    init(capacity: Int) { storage = [Float](repeating: 0, count: max(1, capacity)) }

    var capacity: Int { storage.count }

    mutating func append(_ x: Float) {
        storage[written % storage.count] = x
        written += 1
    }

    /// The sample at absolute index `i`; the caller keeps `i` within the last `capacity` samples.
    subscript(i: Int) -> Float { storage[i % storage.count] }

    /// Whether absolute index `i` is still held.
    func holds(_ i: Int) -> Bool { i >= 0 && i < written && i >= written - storage.count }

    /// The index of the largest sample in `[lo, hi]` (clamped to what is held), or `nil`.
    func argmax(_ lo: Int, _ hi: Int) -> Int? {
        let a = max(lo, written - storage.count, 0), b = min(hi, written - 1)
        guard a <= b else { return nil }
        var best = a
        var bestValue = self[a]
        for i in a...b where self[i] > bestValue { best = i; bestValue = self[i] }
        return best
    }
}
