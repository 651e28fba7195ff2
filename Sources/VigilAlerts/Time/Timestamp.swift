/// A point on the monitoring session's monotonic timeline, in whole milliseconds.
///
/// The alerts engine never reads a clock: every input carries the `Timestamp` at which it happened
/// and every timer (condition delay, silence expiry, escalation, stale data) is computed from those
/// inputs alone. That is what makes a replay of a recorded session reproduce the same timeline bit
/// for bit. The agent feeds a monotonic clock (not wall time, which can jump); a replay feeds the
/// `time` column of the table. The epoch is arbitrary (session start, device boot).
///
/// Milliseconds are integers so that delays add up exactly: `0.1 s + 0.2 s` is `300 ms`, never
/// `0.30000000000000004 s`.
public struct Timestamp: Comparable, Hashable, Sendable, CustomStringConvertible {
    /// Milliseconds since the session epoch.
    public var milliseconds: Int64

    /// A timestamp `milliseconds` after the session epoch.
    public init(milliseconds: Int64) { self.milliseconds = milliseconds }

    /// A timestamp a whole number of seconds after the session epoch.
    public static func seconds(_ s: Int64) -> Timestamp { Timestamp(milliseconds: s * 1000) }

    /// The session epoch.
    public static let zero = Timestamp(milliseconds: 0)

    public static func < (a: Timestamp, b: Timestamp) -> Bool { a.milliseconds < b.milliseconds }

    /// `self` moved by `d`, saturating at the ends of the timeline (a timer set absurdly far ahead
    /// never fires rather than wrapping into the past).
    public static func + (t: Timestamp, d: Duration) -> Timestamp {
        let (sum, overflow) = t.milliseconds.addingReportingOverflow(d.wholeMilliseconds)
        guard overflow else { return Timestamp(milliseconds: sum) }
        return Timestamp(milliseconds: d > .zero ? .max : .min)
    }

    /// The time from `b` to `a` (saturating).
    public static func - (a: Timestamp, b: Timestamp) -> Duration {
        let (d, overflow) = a.milliseconds.subtractingReportingOverflow(b.milliseconds)
        return .milliseconds(overflow ? (a > b ? .max : .min) : d)
    }

    /// Seconds since the epoch as exact decimal text: `12.5`, `0.001`, `60`.
    public var description: String { formatMilliseconds(milliseconds) }
}

extension Duration {
    /// The duration in whole milliseconds (sub-millisecond parts rounded to nearest), saturating
    /// at the ends of `Int64`.
    var wholeMilliseconds: Int64 {
        let c = components
        let (ms, overflow) = c.seconds.multipliedReportingOverflow(by: 1000)
        guard !overflow else { return c.seconds > 0 ? .max : .min }
        let (sum, o2) = ms.addingReportingOverflow((c.attoseconds + 500_000_000_000_000) / 1_000_000_000_000_000)
        return o2 ? (ms > 0 ? .max : .min) : sum
    }

    /// Seconds as exact decimal text (for messages and JSON).
    var secondsText: String { formatMilliseconds(wholeMilliseconds) }
}

/// `12500` -> `"12.5"`, `-250` -> `"-0.25"`, `60000` -> `"60"`.
func formatMilliseconds(_ ms: Int64) -> String {
    let sign = ms < 0 ? "-" : ""
    let m = ms.magnitude
    let whole = m / 1000, frac = m % 1000
    if frac == 0 { return "\(sign)\(whole)" }
    var f = String(frac)
    while f.count < 3 { f = "0" + f }
    while f.hasSuffix("0") { f.removeLast() }
    return "\(sign)\(whole).\(f)"
}
