import Foundation

/// sd_notify(3) without libsystemd: one datagram to `$NOTIFY_SOCKET` per state change. Written here
/// rather than linking libsystemd because the protocol is a single sendto() and the board image
/// should not need libsystemd-dev to build; without the variable (not under systemd) it does nothing.
struct SystemdNotifier: Sendable {
    let socketPath: String?
    /// `WATCHDOG_USEC` / 2: how often to ping, when systemd watches us.
    let watchdogInterval: Duration?

    init(environment: [String: String] = ProcessInfo.processInfo.environment) {
        socketPath = environment["NOTIFY_SOCKET"].flatMap { $0.isEmpty ? nil : $0 }
        if let usec = environment["WATCHDOG_USEC"].flatMap(Int64.init), usec > 0 {
            watchdogInterval = .microseconds(usec / 2)
        } else {
            watchdogInterval = nil
        }
    }

    func ready(status: String) { send("READY=1\nSTATUS=\(status)") }
    func watchdog() { send("WATCHDOG=1") }
    func stopping() { send("STOPPING=1") }
    func reloading() { send("RELOADING=1") }

    private func send(_ message: String) {
        guard var path = socketPath else { return }
        // An abstract socket is written with a leading '@'.
        let abstract = path.hasPrefix("@")
        if abstract { path.removeFirst() }
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        guard fd >= 0 else { return }
        defer { close(fd) }
        var addr = sockaddr_un()
        addr.sun_family = sa_family_t(AF_UNIX)
        let bytes = Array(path.utf8)
        let capacity = MemoryLayout.size(ofValue: addr.sun_path)
        guard bytes.count + (abstract ? 1 : 0) < capacity else { return }
        withUnsafeMutableBytes(of: &addr.sun_path) { raw in
            let offset = abstract ? 1 : 0
            for (i, b) in bytes.enumerated() { raw[offset + i] = b }
        }
        let length = socklen_t(MemoryLayout<sa_family_t>.size + bytes.count + (abstract ? 1 : 0))
        _ = message.withCString { text in
            withUnsafePointer(to: &addr) {
                $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { sendto(fd, text, strlen(text), 0, $0, length) }
            }
        }
    }
}
