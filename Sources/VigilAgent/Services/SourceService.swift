import Foundation
import Logging
import ServiceLifecycle

/// Runs one signal source and hands every event to the pipelines reading it, in order, on one task
/// (so a pipeline never sees two events at once and needs no lock).
final class SourceService: Service, @unchecked Sendable {  // pipelines are touched only from run()'s task
    let source: AgentConfiguration.Source
    let pipelines: [any SignalPipeline]
    let logger: Logger
    let makeStream: @Sendable () throws(AgentError) -> AnySignalSource

    init(source: AgentConfiguration.Source, pipelines: [any SignalPipeline], logger: Logger,
         makeStream: @escaping @Sendable () throws(AgentError) -> AnySignalSource) {
        self.source = source
        self.pipelines = pipelines
        self.logger = logger
        self.makeStream = makeStream
    }

    func run() async throws {
        let stream = try makeStream()
        logger.info("source started", metadata: ["source": "\(source.name)", "kind": "\(source.kind.rawValue)", "path": "\(source.path)"])
        let pipelines = self.pipelines
        let failure = FailureBox()
        await cancelWhenGracefulShutdownIgnoringResult {
            await stream.run { event in
                guard failure.error == nil else { return }
                for p in pipelines {
                    do { try await p.handle(event) } catch {
                        failure.error = (error as? AgentError) ?? AgentError(.source, "\(error)")
                        return
                    }
                }
            }
        }
        if let error = failure.error { throw error }
        logger.info("source ended", metadata: ["source": "\(source.name)"])
    }
}

/// Runs `body` until it ends or the group shuts down gracefully (then the body is cancelled).
func cancelWhenGracefulShutdownIgnoringResult(_ body: @escaping @Sendable () async -> Void) async {
    _ = try? await cancelWhenGracefulShutdown { await body(); return 0 }
}

/// A source of `SourceEvent`s: a recording replay, a serial line or a TCP link.
struct AnySignalSource: Sendable {
    let body: @Sendable (_ deliver: (SourceEvent) async -> Void) async -> Void
    func run(_ deliver: (SourceEvent) async -> Void) async { await body(deliver) }
}

/// The first pipeline failure of a source, set and read under a lock.
final class FailureBox: @unchecked Sendable {  // `stored` is only touched under `lock`
    private let lock = NSLock()
    private var stored: AgentError?
    var error: AgentError? {
        get { lock.withLock { stored } }
        set { lock.withLock { if stored == nil { stored = newValue } } }
    }
}

/// A pipeline fed by a source: one event at a time, on the source's task.
protocol SignalPipeline: AnyObject, Sendable {
    func handle(_ event: SourceEvent) async throws(AgentError)
}
