/// Finds the peaks of a smooth quasi-periodic wave (the PPG pulse wave, a respiration trace) that
/// was high-passed, so it swings around zero: a local maximum counts when its height exceeds
/// `relativeThreshold` × the average height of accepted peaks; peaks closer than `minInterval`
/// are merged (the higher wins). Height above the mean rather than rise from the preceding trough:
/// a PPG's diastolic (reflected) wave can rise half as much as the systolic wave from the deep
/// trough before it, but it peaks near or below the mean. A candidate closer to the previous peak
/// than `adaptiveRefractory` × the median of the last eight intervals must reach `strongRise` ×
/// the average height: a real beat after a sudden rate increase still passes, a secondary wave
/// does not. A learning phase of `learn` seconds sets the
/// first average (its candidates are then classified, so no peak is lost), and learning starts
/// again after `relearnAfter` seconds without a peak. Fixed memory; no allocation per sample.
struct PulsePeakPicker: Sendable {
    struct Peak: Sendable { var index: Int; var rise: Double; var value: Double }

    let minInterval: Int
    let relativeThreshold: Double
    let learnLength: Int
    let relearnAfter: Int
    let adaptiveRefractory: Double
    let strongRise: Double
    private var intervals = [Int](repeating: 0, count: 8)
    private var intervalCount = 0
    private var y1 = 0.0, y2 = 0.0
    private var trough = Double.infinity
    private var n = 0
    private var pending: Peak? = nil
    private var lastPeak: Int? = nil
    /// Average height of accepted peaks.
    private var averageRise = 0.0
    private var learning = true
    private var learnStart = 0
    private var learnEnd = 0
    private var learnMax = 0.0
    private var learned: [Peak] = []

    init(sampleRate fs: Double, minInterval: Double, relativeThreshold: Double, learn: Double, relearnAfter: Double,
         adaptiveRefractory: Double = 0.6, strongRise: Double = 0.8) {
        self.adaptiveRefractory = adaptiveRefractory
        self.strongRise = strongRise
        self.minInterval = max(1, Int(minInterval * fs))
        self.relativeThreshold = relativeThreshold
        learnLength = max(2, Int(learn * fs))
        self.relearnAfter = Int(relearnAfter * fs)
        learned.reserveCapacity(learnLength / 2 + 1)
    }

    /// Takes one filtered sample; `emit` receives each confirmed peak.
    mutating func process(_ y: Double, _ emit: (Peak) -> Void) {
        if n >= 2 {
            if y1 < y2 && y1 <= y { trough = min(trough, y1) }
            if y1 > y2 && y1 >= y && trough.isFinite {
                let p = Peak(index: n - 1, rise: y1 - trough, value: y1)
                trough = .infinity
                if learning {
                    learnMax = max(learnMax, p.value)
                    if learned.count < learned.capacity { learned.append(p) }
                } else {
                    merge(p, emit)
                }
            }
        }
        y2 = y1; y1 = y
        if learning {
            if n - learnStart + 1 >= learnLength {
                learning = false
                learnEnd = n
                averageRise = 0.7 * learnMax
                let replay = learned
                learned.removeAll(keepingCapacity: true)
                for p in replay { merge(p, emit) }
            }
        } else {
            if let p = pending, n - p.index >= minInterval { pending = nil; classify(p, emit) }
            if pending == nil, n - (lastPeak ?? learnEnd) > relearnAfter {
                learning = true
                learnStart = n
                learnMax = 0
                intervalCount = 0
                lastPeak = nil
                learned.removeAll(keepingCapacity: true)
            }
        }
        n += 1
    }

    private mutating func merge(_ p: Peak, _ emit: (Peak) -> Void) {
        if let q = pending {
            if p.index - q.index < minInterval {
                if p.value > q.value { pending = p }
                return
            }
            classify(q, emit)
        }
        pending = p
    }

    private mutating func classify(_ p: Peak, _ emit: (Peak) -> Void) {
        guard p.value > relativeThreshold * averageRise else { return }
        if let last = lastPeak {
            let gap = p.index - last
            if gap < minInterval { return }
            if intervalCount >= 3, Double(gap) < adaptiveRefractory * median(intervals, intervalCount), p.value < strongRise * averageRise { return }
            intervals[intervalCount % 8] = gap
            intervalCount += 1
        }
        averageRise = 0.75 * averageRise + 0.25 * p.value
        lastPeak = p.index
        emit(p)
    }
}
