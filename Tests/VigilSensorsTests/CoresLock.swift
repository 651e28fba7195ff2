import Foundation
#if canImport(Glibc)
import Glibc
#endif

/// A lock, through a file, for the tests that must not overlap: SerialEndToEndTests (a real-time
/// stream through a pseudo-terminal) and the tests that keep every core busy (ThreadsTests'
/// spinning pools, the threaded valgrind probe). swift-testing runs the suites of all test targets
/// in parallel in one process, and on a 2-core CI machine a spinning pool starved the serial
/// reader until frames were lost (2026-11-23). The same file in VigilRuntimeTests and
/// VigilSensorsTests (one module cannot see the other). A waiting test polls with `Task.sleep`, so it
/// never blocks a cooperative thread the holder needs.
func withCoresLock<T>(_ body: () async throws -> T) async throws -> T {
    let fd = open(NSTemporaryDirectory() + "vigil-tests-cores.lock", O_CREAT | O_RDWR | O_CLOEXEC, 0o666)
    guard fd >= 0 else { throw CocoaError(.fileWriteUnknown, userInfo: [NSLocalizedDescriptionKey: "cannot open the tests' cores lock (errno \(errno))"]) }
    defer { close(fd) }  // closing the descriptor releases the lock
    while flock(fd, LOCK_EX | LOCK_NB) != 0 { try await Task.sleep(for: .milliseconds(20)) }
    return try await body()
}
