// A watched folder: every complete file that lands in it is read as DICOM and handed to a handler,
// then moved to done/ or, with the reason written beside it, to failed/.
#if canImport(Glibc)
import Glibc

/// Watches a folder with inotify. A file counts as complete when the writer closes it
/// (IN_CLOSE_WRITE) or renames it in (IN_MOVED_TO); files already there are processed first (the
/// rescan on start). Names starting with "." or ending in ".part" or ".tmp" are left alone, so a
/// writer can use them for files still being written.
///
/// After the handler returns the file moves to `done/NAME`; if reading fails or the handler throws,
/// it moves to `failed/NAME` with the reason in `failed/NAME.reason.txt`. A name already taken in
/// done/ or failed/ gets a numeric suffix, so nothing is overwritten.
public final class HotFolder: Sendable {
    /// What the handler gets: the file's path (still in the watched folder) and the parsed image.
    public typealias Handler = @Sendable (_ path: String, _ image: DicomImage) throws -> Void

    /// The watched folder.
    public let path: String
    let handler: Handler
    // Both ends of a pipe: cancel() writes one byte, which wakes run()'s poll.
    let cancelRead: Int32
    let cancelWrite: Int32

    /// Prepares to watch `path` (created with done/ and failed/ if missing).
    public init(path: String, handler: @escaping Handler) throws(ImagingError) {
        self.path = path
        self.handler = handler
        for dir in [path, path + "/done", path + "/failed"] {
            if mkdir(dir, 0o700) != 0 && errno != EEXIST {
                throw ImagingError(.io, "\(dir): cannot create (\(String(cString: strerror(errno))))")
            }
        }
        var fds: [Int32] = [0, 0]
        guard pipe(&fds) == 0 else {
            throw ImagingError(.io, "pipe failed (\(String(cString: strerror(errno))))")
        }
        for fd in fds {
            _ = fcntl(fd, F_SETFD, FD_CLOEXEC)
            _ = fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK)
        }
        cancelRead = fds[0]
        cancelWrite = fds[1]
    }

    deinit {
        close(cancelRead)
        close(cancelWrite)
    }

    /// Makes `run()` return soon; safe from any thread, including the handler.
    public func cancel() {
        var b: UInt8 = 1
        _ = write(cancelWrite, &b, 1)
    }

    /// Processes the files already present, then every new complete file, until `cancel()`.
    /// Blocks the calling thread.
    public func run() throws(ImagingError) {
        let fd = inotify_init1(Int32(IN_CLOEXEC | IN_NONBLOCK))
        guard fd >= 0 else { throw ImagingError(.io, "inotify_init1 failed (\(String(cString: strerror(errno))))") }
        defer { close(fd) }
        // Watch before the rescan, so a file arriving during it is not missed (at worst it is seen twice,
        // and the second time it is gone and skipped).
        guard inotify_add_watch(fd, path, UInt32(IN_CLOSE_WRITE | IN_MOVED_TO)) >= 0 else {
            throw ImagingError(.io, "\(path): inotify_add_watch failed (\(String(cString: strerror(errno))))")
        }
        for name in try listFiles() { if cancelled() { return }; process(name) }
        var buffer = [UInt8](repeating: 0, count: 64 * 1024)
        while true {
            var fds = [pollfd(fd: fd, events: Int16(POLLIN), revents: 0),
                       pollfd(fd: cancelRead, events: Int16(POLLIN), revents: 0)]
            let rc = poll(&fds, 2, -1)
            if rc < 0 {
                if errno == EINTR { continue }
                throw ImagingError(.io, "poll failed (\(String(cString: strerror(errno))))")
            }
            if fds[1].revents != 0 { return }
            let n = buffer.withUnsafeMutableBytes { read(fd, $0.baseAddress, $0.count) }
            if n <= 0 { continue }
            var names: [String] = []
            buffer.withUnsafeBytes { raw in
                var off = 0
                let header = MemoryLayout<inotify_event>.size
                while off + header <= n {
                    let len = Int(raw.loadUnaligned(fromByteOffset: off + 12, as: UInt32.self))
                    let mask = raw.loadUnaligned(fromByteOffset: off + 4, as: UInt32.self)
                    if len > 0 && off + header + len <= n && mask & UInt32(IN_ISDIR) == 0 {
                        let bytes = UnsafeRawBufferPointer(rebasing: raw[(off + header)..<(off + header + len)])
                        names.append(String(decoding: bytes.prefix { $0 != 0 }, as: UTF8.self))
                    }
                    off += header + len
                }
            }
            for name in names where eligible(name) { process(name) }
        }
    }

    /// Regular files in the folder now, eligible ones only, sorted by name.
    func listFiles() throws(ImagingError) -> [String] {
        guard let dir = opendir(path) else {
            throw ImagingError(.io, "\(path): cannot list (\(String(cString: strerror(errno))))")
        }
        defer { closedir(dir) }
        var names: [String] = []
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if eligible(name) && isRegularFile(path + "/" + name) { names.append(name) }
        }
        return names.sorted()
    }

    func eligible(_ name: String) -> Bool {
        !name.hasPrefix(".") && !name.hasSuffix(".part") && !name.hasSuffix(".tmp")
    }

    func isRegularFile(_ p: String) -> Bool {
        var st = stat()
        return stat(p, &st) == 0 && (st.st_mode & S_IFMT) == S_IFREG
    }

    func cancelled() -> Bool {
        var fds = [pollfd(fd: cancelRead, events: Int16(POLLIN), revents: 0)]
        return poll(&fds, 1, 0) > 0
    }

    /// Reads, hands over and files away one file.
    func process(_ name: String) {
        let file = path + "/" + name
        guard isRegularFile(file) else { return }
        var reason: String?
        do {
            let image = try DicomFile.read(path: file)
            try handler(file, image)
        } catch {
            reason = "\(error)"
        }
        let dest = uniqueName(in: path + (reason == nil ? "/done" : "/failed"), name)
        if rename(file, dest) != 0 {
            // Could not move it away: remove nothing; it will be seen again on the next rescan.
            return
        }
        if let reason {
            let text = reason + "\n"
            if let f = fopen(dest + ".reason.txt", "w") {
                _ = text.withCString { fputs($0, f) }
                fclose(f)
            }
        }
    }

    func uniqueName(in dir: String, _ name: String) -> String {
        var candidate = dir + "/" + name
        var i = 1
        while access(candidate, F_OK) == 0 {
            candidate = dir + "/" + name + "." + String(i)
            i += 1
        }
        return candidate
    }
}
#endif
