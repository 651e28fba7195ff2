import Foundation

/// Everything the publisher needs to reach one broker for one device.
///
/// Secrets never travel in this value as literal text unless the caller put them there: the
/// password is named by a file or an environment variable and read at connect time, and it is
/// never logged or shown in `description`.
public struct MQTTConfiguration: Sendable, CustomStringConvertible {
    /// Where a secret comes from.
    public enum Secret: Sendable, CustomStringConvertible {
        /// A file whose content (trailing newlines removed) is the secret. Keep it 0600.
        case file(String)
        /// An environment variable holding the secret.
        case environment(String)
        /// The secret itself (tests; prefer a file or the environment in deployments).
        case literal(String)

        /// Reads the secret.
        func read() throws(MQTTError) -> String {
            switch self {
            case .literal(let value):
                return value
            case .environment(let name):
                guard let value = ProcessInfo.processInfo.environment[name], !value.isEmpty else {
                    throw MQTTError(.invalidConfiguration, "environment variable \(name) (MQTT password) is not set")
                }
                return value
            case .file(let path):
                guard let data = FileManager.default.contents(atPath: path),
                      let text = String(data: data, encoding: .utf8) else {
                    throw MQTTError(.invalidConfiguration, "cannot read the MQTT password file \(path)")
                }
                var value = Substring(text)
                while let last = value.last, last == "\n" || last == "\r" { value = value.dropLast() }
                guard !value.isEmpty else {
                    throw MQTTError(.invalidConfiguration, "the MQTT password file \(path) is empty")
                }
                return String(value)
            }
        }

        public var description: String {
            switch self {
            case .file(let path): "file \(path)"
            case .environment(let name): "environment \(name)"
            case .literal: "<literal, redacted>"
            }
        }
    }

    /// Certificate and key files for TLS (PEM).
    public struct TLSFiles: Sendable, Hashable {
        /// The CA certificate(s) the broker's certificate must chain to; `nil` uses the system's.
        public var caFile: String?
        /// The client certificate, for brokers that require one (mutual TLS).
        public var certificateFile: String?
        /// The client certificate's private key (unencrypted PEM).
        public var keyFile: String?

        /// TLS files. Certificate and key go together.
        public init(caFile: String?, certificateFile: String? = nil, keyFile: String? = nil) {
            self.caFile = caFile
            self.certificateFile = certificateFile
            self.keyFile = keyFile
        }
    }

    /// Which MQTT protocol version to speak.
    public enum ProtocolChoice: String, Sendable {
        /// MQTT 5; if the broker refuses it, reconnect speaking 3.1.1 (retained vitals then have
        /// no message expiry).
        case v5WithFallback = "5-or-3.1.1"
        /// MQTT 5 only.
        case v5 = "5"
        /// MQTT 3.1.1 only.
        case v311 = "3.1.1"
    }

    /// Broker host name or address.
    public var host: String
    /// Broker port.
    public var port: Int
    /// Whether the link uses TLS (`mqtts://`).
    public var usesTLS: Bool
    /// The topic namespace (site and device) this publisher writes under.
    public var topics: Topics
    /// MQTT client id; unique per broker. Defaults to `vigil-<site>-<device>`.
    public var clientID: String
    /// User name, if the broker wants one.
    public var username: String?
    /// Where the password comes from, if the broker wants one.
    public var password: Secret?
    /// TLS files; used when `usesTLS`.
    public var tls: TLSFiles?
    /// MQTT keep-alive in seconds (the broker publishes the will after 1.5 x this without traffic).
    public var keepAlive: Int
    /// How many messages may wait in the publisher's own queue (not yet handed to the broker).
    /// Beyond it the oldest QoS 0 message is dropped; if there is none, the new message is refused.
    public var queueLimit: Int
    /// How many messages may be handed to libmosquitto and not yet sent (QoS 0) or acknowledged
    /// (QoS 1). Also sent to the broker as MQTT 5 receive-maximum for our publishes.
    public var maxInFlight: Int
    /// Protocol version policy.
    public var protocolChoice: ProtocolChoice
    /// How long `connect()` may take in total (TCP, TLS, CONNACK) before it fails with `timeout`.
    public var connectTimeout: Duration
    /// Reconnect backoff after a lost connection: first delay and ceiling, in whole seconds
    /// (libmosquitto doubles the delay up to the ceiling).
    public var reconnectDelay: (initial: Int, maximum: Int)
    /// The software version reported in the status messages.
    public var softwareVersion: String
    /// Longest silence a `cmd/silence` may ask for, in seconds.
    public var maxSilenceSeconds: Int

    /// A configuration from a broker URL, `mqtt://host[:port]` (default port 1883) or
    /// `mqtts://host[:port]` (default 8883).
    public init(brokerURL: String, site: String, device: String, clientID: String? = nil,
                username: String? = nil, password: Secret? = nil, tls: TLSFiles? = nil,
                keepAlive: Int = 30, queueLimit: Int = 1000, maxInFlight: Int = 100,
                protocolChoice: ProtocolChoice = .v5WithFallback,
                connectTimeout: Duration = .seconds(5), reconnectDelay: (initial: Int, maximum: Int) = (1, 30),
                softwareVersion: String = "0.0.0", maxSilenceSeconds: Int = 120) throws(MQTTError) {
        let parsed = try Self.parse(brokerURL)
        self.host = parsed.host
        self.port = parsed.port
        self.usesTLS = parsed.tls
        self.topics = try Topics(site: site, device: device)
        self.clientID = clientID ?? "vigil-\(site)-\(device)"
        self.username = username
        self.password = password
        self.tls = tls
        guard keepAlive >= 5, keepAlive <= 65535 else {
            throw MQTTError(.invalidConfiguration, "keep-alive \(keepAlive) s is outside 5...65535")
        }
        guard queueLimit >= 1 else { throw MQTTError(.invalidConfiguration, "queue limit \(queueLimit) must be at least 1") }
        guard maxInFlight >= 1, maxInFlight <= 65535 else {
            throw MQTTError(.invalidConfiguration, "max in-flight \(maxInFlight) is outside 1...65535")
        }
        guard reconnectDelay.initial >= 1, reconnectDelay.maximum >= reconnectDelay.initial else {
            throw MQTTError(.invalidConfiguration, "reconnect delay \(reconnectDelay) must be >= 1 s and initial <= maximum")
        }
        guard maxSilenceSeconds >= 1 else {
            throw MQTTError(.invalidConfiguration, "max silence \(maxSilenceSeconds) s must be at least 1")
        }
        guard !self.clientID.isEmpty, self.clientID.utf8.count <= 128 else {
            throw MQTTError(.invalidConfiguration, "client id '\(self.clientID)' must be 1...128 bytes")
        }
        self.keepAlive = keepAlive
        self.queueLimit = queueLimit
        self.maxInFlight = maxInFlight
        self.protocolChoice = protocolChoice
        self.connectTimeout = connectTimeout
        self.reconnectDelay = reconnectDelay
        self.softwareVersion = softwareVersion
        self.maxSilenceSeconds = maxSilenceSeconds
    }

    /// Broker as `host:port`, for messages.
    public var brokerDescription: String { "\(usesTLS ? "mqtts" : "mqtt")://\(host):\(port)" }

    public var description: String {
        "MQTT \(brokerDescription) as \(clientID) under \(topics.root)"
            + (username.map { " user \($0)" } ?? "") + (password.map { " password from \($0)" } ?? "")
    }

    static func parse(_ url: String) throws(MQTTError) -> (host: String, port: Int, tls: Bool) {
        let tls: Bool
        let rest: Substring
        if url.hasPrefix("mqtt://") {
            tls = false; rest = url.dropFirst("mqtt://".count)
        } else if url.hasPrefix("mqtts://") {
            tls = true; rest = url.dropFirst("mqtts://".count)
        } else {
            throw MQTTError(.invalidConfiguration, "broker URL '\(url)' must start with mqtt:// or mqtts://")
        }
        var hostPort = rest
        if let slash = hostPort.firstIndex(of: "/") {
            guard hostPort[slash...].allSatisfy({ $0 == "/" }) else {
                throw MQTTError(.invalidConfiguration, "broker URL '\(url)' must not have a path")
            }
            hostPort = hostPort[..<slash]
        }
        var host = hostPort
        var port = tls ? 8883 : 1883
        if hostPort.hasPrefix("[") {  // IPv6 literal
            guard let close = hostPort.firstIndex(of: "]") else {
                throw MQTTError(.invalidConfiguration, "broker URL '\(url)' has an unclosed IPv6 address")
            }
            host = hostPort[hostPort.index(after: hostPort.startIndex)..<close]
            let after = hostPort[hostPort.index(after: close)...]
            if after.hasPrefix(":") {
                guard let p = Int(after.dropFirst()), (1...65535).contains(p) else {
                    throw MQTTError(.invalidConfiguration, "broker URL '\(url)' has an invalid port")
                }
                port = p
            }
        } else if let colon = hostPort.lastIndex(of: ":") {
            host = hostPort[..<colon]
            guard let p = Int(hostPort[hostPort.index(after: colon)...]), (1...65535).contains(p) else {
                throw MQTTError(.invalidConfiguration, "broker URL '\(url)' has an invalid port")
            }
            port = p
        }
        guard !host.isEmpty else { throw MQTTError(.invalidConfiguration, "broker URL '\(url)' has no host") }
        return (String(host), port, tls)
    }
}
