/// The UART transmit queue: a fixed-capacity byte ring allocated at init. Frames go in whole (the
/// caller checks `free` first), the UART takes bytes out as fast as it can send them.
public struct ByteQueue {
    /// Bytes the queue holds at most.
    public let capacity: Int
    /// Bytes waiting.
    public private(set) var count = 0
    private var storage: [UInt8]
    private var head = 0

    /// A queue of `capacity` bytes.
    public init(capacity: Int) {
        self.capacity = max(capacity, 1)
        storage = [UInt8](repeating: 0, count: self.capacity)
    }

    /// Bytes that can still be appended.
    public var free: Int { capacity - count }

    /// Appends `bytes`; returns false (appending nothing) if they do not all fit.
    public mutating func append(_ bytes: UnsafeBufferPointer<UInt8>) -> Bool {
        guard bytes.count <= free else { return false }
        var tail = head + count
        for b in bytes {
            if tail >= capacity { tail -= capacity }
            storage[tail] = b
            tail += 1
        }
        count += bytes.count
        return true
    }

    /// Offers the waiting bytes to `write` in at most two contiguous runs, removing what it
    /// accepted; returns the bytes taken.
    @discardableResult
    public mutating func drain(_ write: (UnsafeBufferPointer<UInt8>) -> Int) -> Int {
        var taken = 0
        while count > 0 {
            let run = min(count, capacity - head)
            let accepted = storage.withUnsafeBufferPointer { write(UnsafeBufferPointer(rebasing: $0[head..<(head + run)])) }
            let n = min(max(accepted, 0), run)
            head += n
            if head == capacity { head = 0 }
            count -= n
            taken += n
            if n < run { break }
        }
        return taken
    }
}
