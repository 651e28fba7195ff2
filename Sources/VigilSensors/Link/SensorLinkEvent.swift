import SensorLink

/// What a `SerialSource` reports, in stream order: the decoder's events (frames, drops, sequence
/// discontinuities; see docs/SENSORLINK.md §6) and the link going up or down.
public enum SensorLinkEvent: Sendable, Equatable {
    /// The port (or TCP connection) opened; the decoder waits for the first 0x00 and has forgotten
    /// the expected sequence number, so the outage itself is not reported as a gap.
    case connected(endpoint: String)
    /// The port closed (unplugged, EOF, read error) or could not be opened; the source retries
    /// with backoff.
    case disconnected(SensorLinkSourceError)
    /// A frame that passed every check.
    case frame(Frame)
    /// Bytes up to a delimiter that did not make a usable frame, and why.
    case dropped(SensorLinkError)
    /// `lost` frames never arrived intact.
    case sequenceGap(expected: UInt16, received: UInt16, lost: Int)
    /// The sequence went backwards (repeated frame, or a restart whose boot hello was lost).
    case sequenceRewound(expected: UInt16, received: UInt16)
    /// A boot hello: the device restarted.
    case deviceRestarted(sequence: UInt16)

    init(_ event: DecoderEvent) {
        switch event {
        case .frame(let f): self = .frame(f)
        case .dropped(let e): self = .dropped(e)
        case .sequenceGap(let e, let r, let n): self = .sequenceGap(expected: e, received: r, lost: n)
        case .sequenceRewound(let e, let r): self = .sequenceRewound(expected: e, received: r)
        case .deviceRestarted(let s): self = .deviceRestarted(sequence: s)
        }
    }
}

/// Why a link source could not open or lost its port. `code` is stable; `detail` names the
/// endpoint and the system error.
public struct SensorLinkSourceError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Stable error codes.
    public enum Code: String, Sendable, Equatable {
        /// open(2)/connect(2) failed (no such device yet, permission, refused).
        case openFailed = "open-failed"
        /// termios refused the settings.
        case configurationFailed = "configuration-failed"
        /// The baud rate has no termios constant.
        case unsupportedBaud = "unsupported-baud"
        /// The other end closed (read returned 0): unplugged, pty master closed, TCP peer gone.
        case endOfFile = "end-of-file"
        /// read(2)/poll(2) failed (EIO, ENXIO, ENODEV after an unplug).
        case readFailed = "read-failed"
        /// `run` was called while the source was already running.
        case alreadyRunning = "already-running"
    }

    /// What failed.
    public var code: Code
    /// The endpoint and the system error.
    public var detail: String
    /// errno, when a system call failed.
    public var errno: Int32

    /// Creates an error.
    public init(_ code: Code, _ detail: String, errno: Int32 = 0) {
        self.code = code
        self.detail = detail
        self.errno = errno
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Counters of a `SerialSource`: the decoder's (cumulative across reopens) and the port's.
public struct SensorLinkSourceStatistics: Sendable, Equatable {
    /// Decoder counters: bytes, frames, CRC/COBS/oversize/short drops, sequence gaps and frames lost.
    public var link = LinkStatistics()
    /// Successful opens.
    public var opens = 0
    /// Opens after the first (each one follows an unplug, EOF or read error).
    public var reopenCount = 0
    /// Failed open attempts.
    public var openFailures = 0
    /// The port is open now.
    public var isConnected = false

    /// Frames delivered.
    public var frames: UInt64 { link.frames }
    /// Bytes read.
    public var bytes: UInt64 { link.bytes }
    /// Frames dropped for a CRC mismatch.
    public var crcErrors: UInt64 { link.crcErrors }
    /// Frames dropped for exceeding the maximum length.
    public var oversizeFrames: UInt64 { link.oversizeFrames }
    /// Sequence gaps seen.
    public var sequenceGaps: UInt64 { link.sequenceGaps }
    /// Frames missing by sequence number.
    public var framesLost: UInt64 { link.framesLost }

    /// All zero.
    public init() {}
}

/// Reopen delays: `initial` after a failure, doubling up to `maximum`, back to `initial` after a
/// successful open.
public struct ReopenBackoff: Sendable, Equatable {
    /// First delay, seconds.
    public var initial: Double
    /// Longest delay, seconds.
    public var maximum: Double

    /// Creates a backoff (defaults: 50 ms doubling to 2 s).
    public init(initial: Double = 0.05, maximum: Double = 2) {
        self.initial = max(initial, 0.001)
        self.maximum = max(maximum, self.initial)
    }
}
