/// A fixed-capacity ring of one channel's samples with the low 32 bits of each sample's device
/// time. Storage is allocated once, at init; pushing never allocates. When full, the oldest sample
/// is overwritten and counted in `overflows`: the newest data matter most to a monitor, and the
/// channel's sample index still advances, so the host sees exactly which samples are missing.
public struct SampleRing {
    /// Samples the ring holds at most.
    public let capacity: Int
    /// Samples currently held.
    public private(set) var count = 0
    /// Channel sample index of the oldest held sample (the channel's counter since boot).
    public private(set) var firstIndex: UInt64 = 0
    /// Samples overwritten before they were sent, since boot.
    public private(set) var overflows: UInt32 = 0

    private var values: [Int32]
    private var times: [UInt32]
    private var head = 0

    /// A ring of `capacity` samples (at least 1).
    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        values = [Int32](repeating: 0, count: self.capacity)
        times = [UInt32](repeating: 0, count: self.capacity)
    }

    /// Index the next pushed sample gets.
    public var nextIndex: UInt64 { firstIndex + UInt64(count) }

    /// Appends a sample taken at device time `time` (µs; its low 32 bits are kept).
    public mutating func push(_ value: Int32, time: UInt64) {
        if count == capacity {
            head = head + 1 == capacity ? 0 : head + 1
            count -= 1
            firstIndex += 1
            overflows &+= 1
        }
        var slot = head + count
        if slot >= capacity { slot -= capacity }
        values[slot] = value
        times[slot] = UInt32(truncatingIfNeeded: time)
        count += 1
    }

    /// The oldest `n` samples (n ≤ count), oldest first, as a collection over the storage (no copy).
    public func oldest(_ n: Int) -> RingSlice {
        RingSlice(values: values, start: head, count: min(n, count), capacity: capacity)
    }

    /// Device time of the oldest sample, widened to 64 bits against `now` (the current time, which
    /// is less than 2^32 µs = 71 minutes later).
    public func oldestTime(now: UInt64) -> UInt64 {
        let low = times[head]
        return now &- UInt64(UInt32(truncatingIfNeeded: now) &- low)
    }

    /// Drops the oldest `n` samples (they were sent).
    public mutating func removeOldest(_ n: Int) {
        let n = min(n, count)
        head += n
        if head >= capacity { head -= capacity }
        count -= n
        firstIndex += UInt64(n)
    }
}

/// Consecutive samples of a `SampleRing`, oldest first; what the SensorLink encoder reads a
/// waveform block from.
public struct RingSlice: RandomAccessCollection {
    fileprivate let values: [Int32]
    fileprivate let start: Int
    public let count: Int
    fileprivate let capacity: Int

    public var startIndex: Int { 0 }
    public var endIndex: Int { count }

    public subscript(i: Int) -> Int32 {
        var slot = start + i
        if slot >= capacity { slot -= capacity }
        return values[slot]
    }
}
