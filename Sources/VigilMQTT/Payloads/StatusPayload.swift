import Foundation

/// `vigil/v1/<site>/<device>/status` (retained): the birth message on every connect, the offline
/// message on a graceful shutdown, and the last will the broker publishes when the link dies.
public struct StatusPayload: MQTTPayload, Hashable {
    /// Whether the agent is reachable.
    public enum State: String, Codable, Sendable, Hashable {
        /// Connected and publishing.
        case online
        /// Shut down, or the broker lost the connection (last will).
        case offline
    }

    /// Why this status was published.
    public enum Reason: String, Codable, Sendable, Hashable {
        /// First connect of this process.
        case startup
        /// Connected again after a lost connection.
        case reconnected
        /// Graceful shutdown.
        case shutdown
        /// The broker published our last will: the connection died without a goodbye.
        case connectionLost = "connection_lost"
        /// The agent's health changed while connected.
        case healthChanged = "health_changed"
    }

    /// A health level.
    public enum HealthLevel: String, Codable, Sendable, Hashable {
        /// Working as intended.
        case ok
        /// Working with reduced function (a sensor missing, a model withheld, a backlog).
        case degraded
        /// Not working.
        case failed
    }

    /// The health of one part of the agent.
    public struct Component: Codable, Sendable, Hashable {
        /// The part (`ecg-source`, `model:ecg-rhythm`, `outbox`, `cloud-sync`).
        public var name: String
        /// Its level.
        public var level: HealthLevel
        /// Why, when not ok.
        public var detail: String?

        /// A component health.
        public init(name: String, level: HealthLevel, detail: String? = nil) {
            self.name = name
            self.level = level
            self.detail = detail
        }
    }

    /// The agent's health.
    public struct Health: Codable, Sendable, Hashable {
        /// The worst level of its components (or the agent's own judgement).
        public var overall: HealthLevel
        /// Per-part levels.
        public var components: [Component]

        /// A health report.
        public init(overall: HealthLevel, components: [Component] = []) {
            self.overall = overall
            self.components = components
        }
    }

    /// Online or offline.
    public var state: State
    /// Why it was published.
    public var reason: Reason
    /// When it was composed. For the last will that is when the session began (the broker sends
    /// the will later, as it was registered).
    public var time: Date
    /// The agent's software version.
    public var softwareVersion: String
    /// Seconds since the agent started, when it was composed.
    public var uptimeSeconds: Double
    /// The loaded models.
    public var models: [ModelInfo]
    /// The agent's health, when known.
    public var health: Health?

    /// A status message.
    public init(state: State, reason: Reason, time: Date, softwareVersion: String, uptimeSeconds: Double,
                models: [ModelInfo] = [], health: Health? = nil) {
        self.state = state
        self.reason = reason
        self.time = time
        self.softwareVersion = softwareVersion
        self.uptimeSeconds = uptimeSeconds
        self.models = models
        self.health = health
    }

    enum CodingKeys: String, CodingKey {
        case state, reason, time, models, health
        case softwareVersion = "software_version"
        case uptimeSeconds = "uptime_s"
    }
}
