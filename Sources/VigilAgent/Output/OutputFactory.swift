import Logging
import ServiceLifecycle
import VigilMQTT

/// The outputs a configuration asks for: their sinks (what the hub feeds), their services (what
/// runs and shuts down with the group), and the hook that lets inbound commands reach the hub.
struct Outputs {
    var sinks: [any AgentSink] = []
    var services: [any Service] = []
    var attachments: [@Sendable (AgentHub) -> Void] = []
    func attach(_ hub: AgentHub) { for a in attachments { a(hub) } }
}

enum OutputFactory {
    static func make(config: AgentConfiguration, logger: Logger, models: [ModelInfo],
                     reload: @escaping @Sendable (String) -> CommandOutcome) throws(AgentError) -> Outputs {
        var outputs = Outputs()
        if config.mqtt.broker != nil {
            let mqtt = try MQTTSink(config: config, logger: logger)
            outputs.sinks.append(mqtt)
            outputs.services.append(mqtt)
            outputs.attachments.append { hub in mqtt.attach(hub: hub, models: models, reload: reload) }
        }
        let outbox = try OutboxSink(config: config, logger: logger)
        outputs.sinks.append(outbox)
        outputs.services.append(outbox)
        return outputs
    }
}
