#if canImport(Glibc)
import Glibc
#endif
import SensorLink

/// What `--inject` asks for: `lead-off@10s[-20s]`, `noise:SIGMA` (ECG counts, Gaussian),
/// `drop-bytes:P` (each byte lost with probability P), `corrupt:P` (each frame gets one byte
/// changed with probability P), comma-separated.
struct InjectionPlan {
    var leadOffWindows: [(start: Double, end: Double)] = []
    var noiseSigma = 0.0
    var dropByteProbability = 0.0
    var corruptProbability = 0.0

    init() {}

    init(parsing spec: String) throws(SimError) {
        for item in spec.split(separator: ",").map({ String($0).trimmed }) where !item.isEmpty {
            if item.hasPrefix("lead-off@") {
                let window = item.dropFirst("lead-off@".count).split(separator: "-", maxSplits: 1).map(String.init)
                guard let start = Self.seconds(window[0]) else { throw SimError("bad-inject", "\(item): expected lead-off@10s or lead-off@10s-20s") }
                var end = Double.infinity
                if window.count == 2 {
                    guard let e = Self.seconds(window[1]), e > start else { throw SimError("bad-inject", "\(item): the end must be a time after the start") }
                    end = e
                }
                leadOffWindows.append((start, end))
            } else if let (key, value) = Self.keyValue(item) {
                switch key {
                case "noise": guard value >= 0 else { throw SimError("bad-inject", "\(item): sigma must be >= 0") }; noiseSigma = value
                case "drop-bytes", "drop": guard (0...1).contains(value) else { throw SimError("bad-inject", "\(item): probability must be in 0...1") }; dropByteProbability = value
                case "corrupt": guard (0...1).contains(value) else { throw SimError("bad-inject", "\(item): probability must be in 0...1") }; corruptProbability = value
                default: throw SimError("bad-inject", "\(item): unknown injection '\(key)' (lead-off@T, noise:S, drop-bytes:P, corrupt:P)")
                }
            } else {
                throw SimError("bad-inject", "\(item): unknown injection (lead-off@T, noise:S, drop-bytes:P, corrupt:P)")
            }
        }
    }

    func leadOff(at t: Double) -> Bool { leadOffWindows.contains { t >= $0.start && t < $0.end } }

    private static func seconds(_ s: String) -> Double? {
        Double(s.hasSuffix("s") ? String(s.dropLast()) : s).flatMap { $0 >= 0 ? $0 : nil }
    }

    private static func keyValue(_ item: String) -> (String, Double)? {
        let parts = item.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2, let v = Double(parts[1]) else { return nil }
        return (parts[0], v)
    }
}

/// SplitMix64: small, fast, and the same sequence on every machine for a given `--seed`.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) / Double(1 << 53) }
    /// Standard normal (Box-Muller).
    mutating func gaussian() -> Double {
        let u1 = max(unit(), 1e-300), u2 = unit()
        return (-2 * log(u1)).squareRoot() * cos(2 * Double.pi * u2)
    }
}

/// Damages the wire stream frame by frame and keeps an exact account of the frames it cost, so
/// the receiver's counts can be checked against it. The boot `0x00` and the first frame (the boot
/// hello) pass untouched, and so does everything after `enabled` is cleared (the end-of-run
/// flush): a receiver can only count a lost frame by the sequence number of a later intact one.
struct Injector {
    var plan: InjectionPlan
    var rng: SeededGenerator
    var enabled = true

    private(set) var framesSeen = 0
    private(set) var framesCorrupted = 0
    private(set) var framesWithDroppedBytes = 0
    /// Frames the receiver cannot get: corrupted, missing bytes, or merged into the previous
    /// frame because that one's delimiter was dropped.
    private(set) var framesLost = 0
    private(set) var bytesDropped = 0
    /// Samples per channel id in the lost frames (decoded from the clean bytes).
    private(set) var samplesLost: [UInt8: Int] = [:]
    private var pending: [UInt8] = []
    private var previousDelimiterDropped = false

    init(plan: InjectionPlan, seed: UInt64) {
        self.plan = plan
        rng = SeededGenerator(seed: seed)
    }

    /// Takes firmware output; returns the bytes to put on the wire.
    mutating func process(_ bytes: [UInt8]) -> [UInt8] {
        var out: [UInt8] = []
        out.reserveCapacity(bytes.count)
        for b in bytes {
            pending.append(b)
            if b == 0 {
                out.append(contentsOf: damage(pending))
                pending.removeAll(keepingCapacity: true)
            }
        }
        return out
    }

    private mutating func damage(_ frame: [UInt8]) -> [UInt8] {
        if frame.count == 1 { return frame }  // a lone delimiter: padding, not a frame
        framesSeen += 1
        var bytes = frame
        var lost = previousDelimiterDropped
        previousDelimiterDropped = false
        if enabled && framesSeen > 1 {
            if plan.corruptProbability > 0 && rng.unit() < plan.corruptProbability,
               var raw = try? COBS.decode(bytes.dropLast()) {
                // One byte of the unstuffed frame changes: CRC-16 catches every such error.
                let i = Int(rng.next() % UInt64(raw.count))
                raw[i] ^= UInt8(1 + rng.next() % 255)
                bytes = COBS.encode(raw) + [0]
                framesCorrupted += 1
                lost = true
            }
            if plan.dropByteProbability > 0 {
                var kept: [UInt8] = []
                kept.reserveCapacity(bytes.count)
                var dropped = 0
                for (i, b) in bytes.enumerated() {
                    if rng.unit() < plan.dropByteProbability {
                        dropped += 1
                        if i == bytes.count - 1 { previousDelimiterDropped = true }
                    } else {
                        kept.append(b)
                    }
                }
                if dropped > 0 {
                    bytesDropped += dropped
                    framesWithDroppedBytes += 1
                    lost = true
                    bytes = kept
                }
            }
        }
        if lost {
            framesLost += 1
            if case .waveform(let block)? = (try? Frame.decode(wire: frame))?.payload {
                samplesLost[block.channel, default: 0] += block.samples.count
            }
        }
        return bytes
    }
}
