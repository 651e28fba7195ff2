/// The receiving side of a link: fed the byte stream in chunks of any size, it finds frames
/// between 0x00 delimiters, unstuffs them as the bytes arrive, checks them and reports, in stream
/// order, every frame, every drop and every sequence discontinuity. Nothing is merged silently:
/// each frame that does not arrive intact is counted (`statistics`) and announced (`DecoderEvent`).
///
/// Memory is one buffer of `maxFrameLength` bytes, allocated at init; decoding a payload allocates
/// its arrays (samples, channels).
public struct FrameDecoder: Sendable {
    /// The longest unstuffed frame accepted; longer ones are discarded up to the next delimiter
    /// and counted as oversize.
    public let maxFrameLength: Int
    /// What has been received so far.
    public private(set) var statistics = LinkStatistics()

    private var buffer: [UInt8]
    private var length = 0
    /// Raw (stuffed) bytes of the current frame so far, delimiter excluded.
    private var rawLength = 0
    private var unstuffer = COBSUnstuffer()
    private var state: State
    /// The sequence number the next intact frame should carry; nil until one has arrived.
    private var expectedSequence: UInt16?

    private enum State {
        /// Collecting a frame.
        case inFrame
        /// Discarding an oversize frame up to its delimiter.
        case discarding
        /// Discarding up to the first delimiter: attached to a stream mid-frame.
        case awaitingDelimiter
    }

    /// A decoder.
    /// - Parameters:
    ///   - maxFrameLength: longest frame accepted (header + payload + CRC, at least
    ///     `SensorLink.minFrameLength`); the protocol's `SensorLink.maxFrameLength` by default.
    ///   - awaitDelimiter: discard the bytes before the first 0x00 without counting them as
    ///     errors (only as `bytesBeforeSync`): for attaching to a stream that is already running,
    ///     such as a serial port just opened. A stream known to start at a frame boundary (a file,
    ///     a pipe from the start) leaves this false so its first frame is kept.
    public init(maxFrameLength: Int = SensorLink.maxFrameLength, awaitDelimiter: Bool = false) {
        self.maxFrameLength = max(maxFrameLength, SensorLink.minFrameLength)
        buffer = [UInt8](repeating: 0, count: self.maxFrameLength)
        state = awaitDelimiter ? .awaitingDelimiter : .inFrame
    }

    /// Forgets the partial frame and the expected sequence number (e.g. after reopening the
    /// port: what was lost while it was closed is not a gap this decoder saw). Statistics stay.
    public mutating func reset(awaitDelimiter: Bool = true) {
        length = 0
        rawLength = 0
        unstuffer.reset()
        state = awaitDelimiter ? .awaitingDelimiter : .inFrame
        expectedSequence = nil
    }

    /// Feeds a chunk of the stream; `handle` receives the events it completes, in order.
    public mutating func feed<Bytes: Sequence<UInt8>, E: Error>(
        _ bytes: Bytes, _ handle: (DecoderEvent) throws(E) -> Void
    ) throws(E) {
        for byte in bytes { try consume(byte, handle) }
    }

    /// Feeds a chunk and returns the events it completes.
    public mutating func feed<Bytes: Sequence<UInt8>>(_ bytes: Bytes) -> [DecoderEvent] {
        var events: [DecoderEvent] = []
        feed(bytes) { events.append($0) }
        return events
    }

    /// Feeds one byte; `handle` receives the events it completes (none, or those of one frame:
    /// a sequence event and then the frame or its drop).
    public mutating func consume<E: Error>(_ byte: UInt8, _ handle: (DecoderEvent) throws(E) -> Void) throws(E) {
        statistics.bytes &+= 1
        if byte == 0 {
            try endOfFrame(handle)
            return
        }
        switch state {
        case .awaitingDelimiter:
            statistics.bytesBeforeSync &+= 1
        case .discarding:
            rawLength += 1
        case .inFrame:
            rawLength += 1
            guard let decoded = unstuffer.push(byte) else { return }
            if length == maxFrameLength {
                state = .discarding
                return
            }
            buffer[length] = decoded
            length += 1
        }
    }

    private mutating func endOfFrame<E: Error>(_ handle: (DecoderEvent) throws(E) -> Void) throws(E) {
        let rawLength = rawLength
        let length = length
        let state = state
        let complete = unstuffer.isAtBlockBoundary
        let pending = unstuffer.remaining
        self.rawLength = 0
        self.length = 0
        self.state = .inFrame
        unstuffer.reset()

        switch state {
        case .awaitingDelimiter:
            return
        case .discarding:
            statistics.oversizeFrames &+= 1
            statistics.droppedBytes &+= UInt64(rawLength)
            try handle(.dropped(SensorLinkError(.oversize, found: maxFrameLength + 1, expected: maxFrameLength)))
            return
        case .inFrame:
            break
        }
        if rawLength == 0 { return }  // back-to-back delimiters: padding, not a frame
        guard complete else {
            statistics.cobsErrors &+= 1
            statistics.droppedBytes &+= UInt64(rawLength)
            try handle(.dropped(SensorLinkError(.cobs, found: rawLength, expected: rawLength + pending)))
            return
        }
        let header: FrameHeader
        do {
            header = try FrameHeader.check(buffer, count: length)
        } catch {
            if error.code == .tooShort { statistics.shortFrames &+= 1 } else { statistics.crcErrors &+= 1 }
            statistics.droppedBytes &+= UInt64(rawLength)
            try handle(.dropped(error))
            return
        }
        // The frame is intact: whatever its version, type or payload, it was sent with this
        // sequence number (the envelope is the same in every version), so it settles continuity.
        try trackSequence(header.sequence, boot: header.isBootHello(buffer), handle)
        let frame: Frame
        do {
            frame = try header.parsePayload(buffer)
        } catch {
            switch error.code {
            case .unsupportedVersion: statistics.unsupportedVersions &+= 1
            case .unknownType: statistics.unknownTypes &+= 1
            default: statistics.malformedPayloads &+= 1
            }
            statistics.droppedBytes &+= UInt64(rawLength)
            try handle(.dropped(error))
            return
        }
        statistics.frames &+= 1
        try handle(.frame(frame))
    }

    private mutating func trackSequence<E: Error>(_ sequence: UInt16, boot: Bool,
                                                  _ handle: (DecoderEvent) throws(E) -> Void) throws(E) {
        defer { expectedSequence = sequence &+ 1 }
        if boot {
            statistics.deviceRestarts &+= 1
            try handle(.deviceRestarted(sequence: sequence))
            return
        }
        guard let expected = expectedSequence, sequence != expected else { return }
        let ahead = sequence &- expected
        if ahead < 0x8000 {
            statistics.sequenceGaps &+= 1
            statistics.framesLost &+= UInt64(ahead)
            try handle(.sequenceGap(expected: expected, received: sequence, lost: Int(ahead)))
        } else {
            statistics.sequenceRewinds &+= 1
            try handle(.sequenceRewound(expected: expected, received: sequence))
        }
    }
}

/// What a `FrameDecoder` reports, in stream order. A sequence event comes right before the frame
/// (or the drop of the intact frame) that revealed it.
public enum DecoderEvent: Equatable, Sendable {
    /// A frame that passed every check.
    case frame(Frame)
    /// The bytes up to a delimiter did not make a usable frame; the error says why (`.cobs`,
    /// `.oversize`, `.tooShort`, `.crc`: damaged on the way; `.unsupportedVersion`,
    /// `.unknownType`, `.malformedPayload`, `.badSampleFormat`: intact but not understood).
    case dropped(SensorLinkError)
    /// `lost` frames, `expected` up to `received - 1` (mod 65536), never arrived intact.
    case sequenceGap(expected: UInt16, received: UInt16, lost: Int)
    /// The sequence went backwards (a repeated frame, or a device restart whose boot hello was
    /// lost); numbering continues from `received`. A jump of 32768 or more ahead also lands here:
    /// 16 bits cannot tell it from a step back.
    case sequenceRewound(expected: UInt16, received: UInt16)
    /// A boot hello: the device (re)started and its numbering starts again at `sequence`.
    case deviceRestarted(sequence: UInt16)
}

/// Counters of a `FrameDecoder`, cumulative (wrapping at 2^64).
///
/// When the first and the last frame a device sent arrive intact, every frame in between is in
/// exactly one of `frames`, `framesLost` (by sequence number), `unsupportedVersions`,
/// `unknownTypes` or `malformedPayloads`. The damage counters (`cobsErrors`, `crcErrors`,
/// `oversizeFrames`, `shortFrames`) say why frames were lost; garbage between frames counts there
/// too, so they need not add up to `framesLost`.
public struct LinkStatistics: Equatable, Sendable {
    /// Every byte fed, delimiters included.
    public var bytes: UInt64 = 0
    /// Bytes skipped before the first delimiter (decoder created or reset with `awaitDelimiter`).
    public var bytesBeforeSync: UInt64 = 0
    /// Stuffed bytes of every dropped frame.
    public var droppedBytes: UInt64 = 0
    /// Frames delivered.
    public var frames: UInt64 = 0
    /// Frames whose last COBS block ran past the delimiter.
    public var cobsErrors: UInt64 = 0
    /// Frames whose CRC did not match.
    public var crcErrors: UInt64 = 0
    /// Frames longer than the decoder's `maxFrameLength`.
    public var oversizeFrames: UInt64 = 0
    /// Frames shorter than a header and a CRC.
    public var shortFrames: UInt64 = 0
    /// Intact frames of a protocol version this decoder does not read.
    public var unsupportedVersions: UInt64 = 0
    /// Intact frames of an unknown type.
    public var unknownTypes: UInt64 = 0
    /// Intact frames whose payload did not parse.
    public var malformedPayloads: UInt64 = 0
    /// Sequence gaps seen (events).
    public var sequenceGaps: UInt64 = 0
    /// Frames missing by sequence number: the sum of all gap sizes.
    public var framesLost: UInt64 = 0
    /// Times the sequence went backwards.
    public var sequenceRewinds: UInt64 = 0
    /// Boot hellos received.
    public var deviceRestarts: UInt64 = 0

    /// All counters zero.
    public init() {}

    /// Drop events: frames that arrived damaged or unreadable, and runs of garbage between
    /// delimiters.
    public var framesDropped: UInt64 {
        cobsErrors &+ crcErrors &+ oversizeFrames &+ shortFrames &+ unsupportedVersions &+ unknownTypes &+ malformedPayloads
    }
}
