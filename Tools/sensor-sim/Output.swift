#if canImport(Glibc)
import Glibc
#endif

/// Where the wire bytes go: stdout, a pseudo-terminal this process creates, a path (a serial
/// device, a FIFO, a pty slave someone else made), or one TCP client.
final class WireOutput {
    private(set) var fd: Int32 = -1
    private var listener: Int32 = -1
    let description: String

    /// `spec`: `stdout`, `pty`, `tcp:PORT` or a path.
    init(_ spec: String, baud: Int) throws(SimError) {
        signal(SIGPIPE, SIG_IGN)
        switch spec {
        case "stdout", "-":
            fd = 1
            description = "stdout"
        case "pty":
            let master = posix_openpt(O_RDWR | O_NOCTTY)
            guard master >= 0, grantpt(master) == 0, unlockpt(master) == 0 else { throw SimError.errno("pty", "posix_openpt") }
            var name = [CChar](repeating: 0, count: 128)
            guard ptsname_r(master, &name, name.count) == 0 else { throw SimError.errno("pty", "ptsname_r") }
            // Raw mode for the pair (on Linux, termios set through the master apply to the slave):
            // no echo back into our side, no line editing, 0x00 and 0x0A pass untouched.
            Self.makeRaw(master, baud: baud)
            fd = master
            let path = String(decoding: name.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
            description = "pty \(path)"
            // The one line on stdout: a driver script or test reads the slave path from it.
            print("sensor-sim: pty \(path)")
            fflush(nil)
        default:
            if spec.hasPrefix("tcp:"), let port = UInt16(spec.dropFirst(4)) {
                let listener = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
                self.listener = listener
                guard listener >= 0 else { throw SimError.errno("tcp", "socket") }
                var one: Int32 = 1
                setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, socklen_t(MemoryLayout<Int32>.size))
                var addr = sockaddr_in()
                addr.sin_family = sa_family_t(AF_INET)
                addr.sin_port = port.bigEndian
                addr.sin_addr.s_addr = INADDR_ANY
                let bound = withUnsafePointer(to: &addr) {
                    $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(listener, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
                }
                guard bound == 0, listen(listener, 1) == 0 else { throw SimError.errno("tcp", "bind/listen on port \(port)") }
                print("sensor-sim: listening on tcp port \(port)")
                fflush(nil)
                let client = accept(listener, nil, nil)
                guard client >= 0 else { throw SimError.errno("tcp", "accept") }
                fd = client
                description = "tcp client on port \(port)"
            } else {
                let f = open(spec, O_WRONLY | O_NOCTTY)
                guard f >= 0 else { throw SimError.errno("output", "open \(spec)") }
                if isatty(f) == 1 { Self.makeRaw(f, baud: baud) }
                fd = f
                description = spec
            }
        }
    }

    static func makeRaw(_ fd: Int32, baud: Int) {
        var t = termios()
        guard tcgetattr(fd, &t) == 0 else { return }
        cfmakeraw(&t)
        if let speed = baudConstant(baud) {
            cfsetispeed(&t, speed)
            cfsetospeed(&t, speed)
        }
        tcsetattr(fd, TCSANOW, &t)
    }

    static func baudConstant(_ baud: Int) -> speed_t? {
        switch baud {
        case 115_200: speed_t(B115200)
        case 230_400: speed_t(B230400)
        case 460_800: speed_t(B460800)
        case 921_600: speed_t(B921600)
        default: nil
        }
    }

    /// Writes everything (retrying short writes); false when the reader is gone.
    func write(_ bytes: [UInt8]) -> Bool {
        var done = 0
        while done < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + done, bytes.count - done) }
            if n < 0 {
                if errno == EINTR || errno == EAGAIN { usleep(1000); continue }
                return false
            }
            done += n
        }
        return true
    }

    func close() {
        if fd > 2 { _ = Glibc.close(fd) }
        if listener >= 0 { _ = Glibc.close(listener) }
        fd = -1
    }
}

/// An error with a stable code and a detail naming what went wrong.
struct SimError: Error, CustomStringConvertible {
    let code: String
    let detail: String
    init(_ code: String, _ detail: String) {
        self.code = code
        self.detail = detail
    }
    static func errno(_ code: String, _ what: String) -> SimError {
        SimError(code, "\(what): \(String(cString: strerror(Glibc.errno)))")
    }
    var description: String { "\(code): \(detail)" }
}

extension String {
    var trimmed: String {
        var s = Substring(self)
        while s.first?.isWhitespace == true { s = s.dropFirst() }
        while s.last?.isWhitespace == true { s = s.dropLast() }
        return String(s)
    }
}

// Glibc declares these only under _XOPEN_SOURCE, which the Swift module does not set; they are
// plain C functions of the C library.
@_silgen_name("posix_openpt") func posix_openpt(_ flags: Int32) -> Int32
@_silgen_name("grantpt") func grantpt(_ fd: Int32) -> Int32
@_silgen_name("unlockpt") func unlockpt(_ fd: Int32) -> Int32
@_silgen_name("ptsname_r") func ptsname_r(_ fd: Int32, _ buf: UnsafeMutablePointer<CChar>, _ len: Int) -> Int32
