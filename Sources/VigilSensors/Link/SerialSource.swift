import Foundation
import SensorLink
import Synchronization
#if canImport(Glibc)
import Glibc
#endif

/// Reads SensorLink frames from the sensor bridge: a serial port (termios raw mode at the
/// configured baud, 921600 by default) or a TCP connection (`sensor-sim --output tcp:PORT`),
/// decoded with SensorLink's streaming `FrameDecoder`.
///
/// It survives unplug and replug: on end of file or a read error (EIO, ENXIO, ENODEV) it closes
/// the port and reopens it with backoff, forever, until `stop()`. Each (re)open resets the decoder
/// to wait for a delimiter and to forget the expected sequence number, so bytes that were
/// mid-frame are not counted as damage and the outage is not counted as a gap.
///
/// ```swift
/// let source = SerialSource(path: "/dev/ttyACM0", baud: 921_600)
/// for await event in source.events() {
///     if case .frame(let frame) = event, case .waveform(let block) = frame.payload { … }
/// }
/// print(source.stats.crcErrors)
/// ```
public final class SerialSource: Sendable {
    /// Where the bytes come from.
    public enum Endpoint: Sendable, Equatable, CustomStringConvertible {
        /// A tty (USB CDC-ACM, FTDI, a pseudo-terminal) at a baud rate.
        case serial(path: String, baud: Int)
        /// A TCP server, e.g. `sensor-sim --output tcp:9000`.
        case tcp(host: String, port: UInt16)

        public var description: String {
            switch self {
            case .serial(let path, let baud): "\(path) at \(baud) baud"
            case .tcp(let host, let port): "tcp \(host):\(port)"
            }
        }
    }

    /// The endpoint.
    public let endpoint: Endpoint
    /// Reopen delays.
    public let backoff: ReopenBackoff
    /// Longest frame accepted (SensorLink's 1024 by default).
    public let maxFrameLength: Int

    private struct State {
        var stats = SensorLinkSourceStatistics()
        var stopped = false
        var running = false
    }
    private let state = Mutex(State())

    /// A source reading the tty at `path`.
    public init(path: String, baud: Int = 921_600, backoff: ReopenBackoff = ReopenBackoff(),
                maxFrameLength: Int = SensorLink.maxFrameLength) {
        endpoint = .serial(path: path, baud: baud)
        self.backoff = backoff
        self.maxFrameLength = maxFrameLength
    }

    /// A source reading a TCP connection to `host`:`port`.
    public init(tcpHost host: String, port: UInt16, backoff: ReopenBackoff = ReopenBackoff(),
                maxFrameLength: Int = SensorLink.maxFrameLength) {
        endpoint = .tcp(host: host, port: port)
        self.backoff = backoff
        self.maxFrameLength = maxFrameLength
    }

    /// Counters so far (a snapshot; safe from any thread).
    public var stats: SensorLinkSourceStatistics { state.withLock { $0.stats } }

    /// Stops `run` (within about 100 ms) and ends the `events()` stream.
    public func stop() {
        state.withLock { $0.stopped = true }
    }

    /// The events on a dedicated thread, as an async stream; cancelling the consumer or dropping
    /// the stream stops the source. One stream per source.
    public func events(bufferingPolicy: AsyncStream<SensorLinkEvent>.Continuation.BufferingPolicy = .unbounded)
        -> AsyncStream<SensorLinkEvent> {
        let (stream, continuation) = AsyncStream.makeStream(of: SensorLinkEvent.self, bufferingPolicy: bufferingPolicy)
        continuation.onTermination = { [self] _ in stop() }
        Thread.detachNewThread { [self] in
            do throws(SensorLinkSourceError) {
                try run { continuation.yield($0) }
            } catch {
                continuation.yield(.disconnected(error))
            }
            continuation.finish()
        }
        return stream
    }

    /// Reads, decodes and reports on the calling thread until `stop()`.
    /// - Throws: `.unsupportedBaud` or `.alreadyRunning` at once; never after the loop started
    ///   (port errors are reported as `.disconnected` events and retried).
    public func run(handler: (SensorLinkEvent) -> Void) throws(SensorLinkSourceError) {
        if case .serial(let path, let baud) = endpoint, Self.speed(baud) == nil {
            throw SensorLinkSourceError(.unsupportedBaud, "\(path): no termios speed for \(baud) baud")
        }
        let alreadyRunning = state.withLock { s in
            defer { s.running = true }
            return s.running
        }
        if alreadyRunning { throw SensorLinkSourceError(.alreadyRunning, "\(endpoint)") }
        defer { state.withLock { $0.running = false } }

        var decoder = FrameDecoder(maxFrameLength: maxFrameLength, awaitDelimiter: true)
        var buffer = [UInt8](repeating: 0, count: 4096)
        var delay = backoff.initial
        var reportedOpenFailure = false
        while !isStopped {
            let fd: Int32
            do {
                fd = try open()
            } catch {
                state.withLock { $0.stats.openFailures += 1 }
                // One event per outage, not one per retry.
                if !reportedOpenFailure { handler(.disconnected(error)) }
                reportedOpenFailure = true
                sleep(seconds: delay)
                delay = min(delay * 2, backoff.maximum)
                continue
            }
            delay = backoff.initial
            reportedOpenFailure = false
            decoder.reset(awaitDelimiter: true)
            state.withLock { s in
                s.stats.opens += 1
                if s.stats.opens > 1 { s.stats.reopenCount += 1 }
                s.stats.isConnected = true
            }
            handler(.connected(endpoint: endpoint.description))
            let reason = read(fd, &decoder, &buffer, handler)
            Glibc.close(fd)
            state.withLock { $0.stats.isConnected = false }
            if let reason {
                handler(.disconnected(reason))
                reportedOpenFailure = true  // the reopen attempts belong to this outage
                sleep(seconds: delay)
            }
        }
    }

    private var isStopped: Bool { state.withLock { $0.stopped } }

    /// Reads until the port fails (returns why) or the source is stopped (returns nil).
    private func read(_ fd: Int32, _ decoder: inout FrameDecoder, _ buffer: inout [UInt8],
                      _ handler: (SensorLinkEvent) -> Void) -> SensorLinkSourceError? {
        while !isStopped {
            var p = pollfd(fd: fd, events: Int16(POLLIN), revents: 0)
            let ready = poll(&p, 1, 100)
            if ready < 0 {
                if errno == EINTR { continue }
                return SensorLinkSourceError(.readFailed, "\(endpoint): poll: \(String(cString: strerror(errno)))", errno: errno)
            }
            if ready == 0 { continue }
            let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
            if n > 0 {
                decoder.feed(buffer[0..<n]) { handler(SensorLinkEvent($0)) }
                let link = decoder.statistics
                state.withLock { $0.stats.link = link }
            } else if n == 0 {
                return SensorLinkSourceError(.endOfFile, "\(endpoint): end of file")
            } else if errno != EINTR && errno != EAGAIN {
                return SensorLinkSourceError(.readFailed, "\(endpoint): read: \(String(cString: strerror(errno)))", errno: errno)
            }
        }
        return nil
    }

    private func open() throws(SensorLinkSourceError) -> Int32 {
        switch endpoint {
        case .serial(let path, let baud): try Self.openSerial(path, baud: baud)
        case .tcp(let host, let port): try Self.connect(host, port)
        }
    }

    /// Opens a tty in raw mode: 8N1, no flow control, no echo or line editing, CLOCAL so a missing
    /// carrier does not block, at `baud`. A path that is not a tty (a FIFO) is read as it is.
    static func openSerial(_ path: String, baud: Int) throws(SensorLinkSourceError) -> Int32 {
        let fd = Glibc.open(path, O_RDONLY | O_NOCTTY | O_NONBLOCK | O_CLOEXEC)
        guard fd >= 0 else {
            throw SensorLinkSourceError(.openFailed, "\(path): open: \(String(cString: strerror(errno)))", errno: errno)
        }
        guard isatty(fd) == 1 else { return fd }
        var t = termios()
        guard tcgetattr(fd, &t) == 0, let speed = speed(baud) else {
            Glibc.close(fd)
            throw SensorLinkSourceError(.configurationFailed, "\(path): tcgetattr: \(String(cString: strerror(errno)))", errno: errno)
        }
        cfmakeraw(&t)
        t.c_cflag |= tcflag_t(CLOCAL) | tcflag_t(CREAD)
        t.c_cflag &= ~(tcflag_t(CSTOPB) | tcflag_t(CRTSCTS))
        cfsetispeed(&t, speed)
        cfsetospeed(&t, speed)
        // TCSANOW, not TCSAFLUSH: bytes already queued are kept (the decoder skips to a delimiter).
        guard tcsetattr(fd, TCSANOW, &t) == 0 else {
            let e = errno
            Glibc.close(fd)
            throw SensorLinkSourceError(.configurationFailed, "\(path): tcsetattr at \(baud) baud: \(String(cString: strerror(e)))", errno: e)
        }
        return fd
    }

    static func connect(_ host: String, _ port: UInt16) throws(SensorLinkSourceError) -> Int32 {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        var list: UnsafeMutablePointer<addrinfo>?
        let rc = getaddrinfo(host, String(port), &hints, &list)
        guard rc == 0, let first = list else {
            throw SensorLinkSourceError(.openFailed, "tcp \(host):\(port): getaddrinfo: \(String(cString: gai_strerror(rc)))")
        }
        defer { freeaddrinfo(list) }
        var lastErrno: Int32 = 0
        var ai: UnsafeMutablePointer<addrinfo>? = first
        while let a = ai {
            let fd = socket(a.pointee.ai_family, a.pointee.ai_socktype | Int32(SOCK_CLOEXEC.rawValue), a.pointee.ai_protocol)
            if fd >= 0 {
                if Glibc.connect(fd, a.pointee.ai_addr, a.pointee.ai_addrlen) == 0 { return fd }
                lastErrno = errno
                Glibc.close(fd)
            } else {
                lastErrno = errno
            }
            ai = a.pointee.ai_next
        }
        throw SensorLinkSourceError(.openFailed, "tcp \(host):\(port): connect: \(String(cString: strerror(lastErrno)))", errno: lastErrno)
    }

    /// The termios constant for `baud`, if the platform has one.
    static func speed(_ baud: Int) -> speed_t? {
        switch baud {
        case 9_600: speed_t(B9600)
        case 19_200: speed_t(B19200)
        case 38_400: speed_t(B38400)
        case 57_600: speed_t(B57600)
        case 115_200: speed_t(B115200)
        case 230_400: speed_t(B230400)
        case 460_800: speed_t(B460800)
        case 921_600: speed_t(B921600)
        case 1_000_000: speed_t(B1000000)
        case 2_000_000: speed_t(B2000000)
        default: nil
        }
    }

    /// Sleeps in slices so that `stop()` is honoured promptly.
    private func sleep(seconds: Double) {
        var left = seconds
        while left > 0 && !isStopped {
            let slice = min(left, 0.05)
            usleep(UInt32(slice * 1_000_000))
            left -= slice
        }
    }
}
