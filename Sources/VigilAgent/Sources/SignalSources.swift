import Logging

/// Builds the event stream of a configured source.
enum SignalSources {
    static func factory(for source: AgentConfiguration.Source, logger: Logger) throws(AgentError) -> @Sendable () throws(AgentError) -> AnySignalSource {
        switch source.kind {
        case .recording:
            let replay = try RecordingSource(config: source)
            return { AnySignalSource { deliver in await replay.run(deliver) } }
        case .serial, .tcp:
            let link = LinkSource(config: source, logger: logger)
            _ = try link.makeSerialSource()  // validate the endpoint now, not when the group starts
            return {
                AnySignalSource { deliver in
                    do { try await link.run(deliver) } catch { logger.error("source failed", metadata: ["source": "\(source.name)", "error": "\(error)"]) }
                }
            }
        }
    }
}
