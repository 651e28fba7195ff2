/// Places buffers with known lifetimes in one arena: largest first, each at the lowest 64-byte
/// aligned offset that does not overlap a buffer already placed whose lifetime intersects its own
/// (the greedy-by-size scheme of TFLite's memory planner).
public struct GreedyArenaPlanner {
    public struct Buffer: Sendable {
        public var size: Int
        /// First and last op index (inclusive) during which the buffer must hold its contents.
        public var first: Int
        public var last: Int
        public init(size: Int, first: Int, last: Int) {
            self.size = size
            self.first = first
            self.last = last
        }
    }

    public static let alignment = 64

    /// Offsets parallel to `buffers`, and the arena size.
    public static func plan(_ buffers: [Buffer]) -> (offsets: [Int], size: Int) {
        var order = Array(buffers.indices)
        order.sort { a, b in
            buffers[a].size != buffers[b].size ? buffers[a].size > buffers[b].size : a < b
        }
        var offsets = [Int](repeating: -1, count: buffers.count)
        var placed: [Int] = []
        var total = 0
        for i in order {
            let b = buffers[i]
            let size = align(b.size)
            // Live neighbours sorted by offset; take the first gap that fits.
            var live: [(Int, Int)] = []
            for j in placed where buffers[j].first <= b.last && b.first <= buffers[j].last {
                live.append((offsets[j], offsets[j] + align(buffers[j].size)))
            }
            live.sort { $0.0 < $1.0 }
            var candidate = 0
            for (start, end) in live {
                if candidate + size <= start { break }
                candidate = max(candidate, end)
            }
            offsets[i] = candidate
            placed.append(i)
            total = max(total, candidate + size)
        }
        return (offsets, total)
    }

    @inline(__always) static func align(_ n: Int) -> Int { (n + alignment - 1) / alignment * alignment }
}
