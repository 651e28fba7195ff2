import Foundation

/// Where and how the uploader talks to the FHIR server. Secrets are named by file or environment
/// variable, never passed as values, so they stay out of command lines and logs.
public struct SyncConfiguration: Sendable, Hashable {
    /// FHIR base URL; transaction Bundles are POSTed to it (e.g. `https://fhir.example/fhir`).
    public var baseURL: URL
    /// File holding a bearer token (read before every batch, so rotation needs no restart).
    public var bearerTokenFile: String?
    /// Name of an environment variable holding a bearer token (used when no file is set).
    public var bearerTokenEnvironmentVariable: String?
    /// PEM client certificate (chain) for mutual TLS.
    public var clientCert: String?
    /// PEM private key for mutual TLS.
    public var clientKey: String?
    /// PEM CA bundle to trust instead of the system roots.
    public var caFile: String?
    /// Entries per transaction Bundle.
    public var batchSize: Int
    /// Time a whole request (send, server work, response) may take before it counts as a timeout.
    public var requestTimeout: TimeInterval
    /// First retry delay; doubles per consecutive failure.
    public var backoffBase: TimeInterval
    /// Longest retry delay.
    public var backoffMax: TimeInterval
    /// How often an idle uploader looks for new entries.
    public var pollInterval: TimeInterval

    /// A configuration.
    public init(baseURL: URL, bearerTokenFile: String? = nil, bearerTokenEnvironmentVariable: String? = nil,
                clientCert: String? = nil, clientKey: String? = nil, caFile: String? = nil,
                batchSize: Int = 50, requestTimeout: TimeInterval = 15, backoffBase: TimeInterval = 0.5,
                backoffMax: TimeInterval = 60, pollInterval: TimeInterval = 0.25) {
        self.baseURL = baseURL
        self.bearerTokenFile = bearerTokenFile
        self.bearerTokenEnvironmentVariable = bearerTokenEnvironmentVariable
        self.clientCert = clientCert
        self.clientKey = clientKey
        self.caFile = caFile
        self.batchSize = batchSize
        self.requestTimeout = requestTimeout
        self.backoffBase = backoffBase
        self.backoffMax = backoffMax
        self.pollInterval = pollInterval
    }

    func validate() throws(SyncError) {
        guard let scheme = baseURL.scheme?.lowercased(), scheme == "http" || scheme == "https" else {
            throw SyncError(.configuration, "baseURL \(baseURL): scheme must be http or https")
        }
        guard batchSize > 0 else { throw SyncError(.configuration, "batchSize must be positive, got \(batchSize)") }
        guard requestTimeout > 0, backoffBase > 0, backoffMax >= backoffBase, pollInterval > 0 else {
            throw SyncError(.configuration, "timeouts and backoff must be positive (backoffMax >= backoffBase)")
        }
        if (clientCert == nil) != (clientKey == nil) {
            throw SyncError(.configuration, "mutual TLS needs both clientCert and clientKey")
        }
        for file in [bearerTokenFile, clientCert, clientKey, caFile].compactMap({ $0 })
        where !FileManager.default.isReadableFile(atPath: file) {
            throw SyncError(.configuration, "\(file): not readable")
        }
    }

    /// The bearer token, if one is configured, trimmed of surrounding whitespace.
    func bearerToken() throws(SyncError) -> String? {
        if let file = bearerTokenFile {
            guard let data = FileManager.default.contents(atPath: file),
                  let text = String(data: data, encoding: .utf8) else {
                throw SyncError(.configuration, "\(file): cannot read bearer token")
            }
            let token = text.trimmingCharacters(in: .whitespacesAndNewlines)
            guard !token.isEmpty else { throw SyncError(.configuration, "\(file): bearer token file is empty") }
            return token
        }
        if let name = bearerTokenEnvironmentVariable {
            guard let token = ProcessInfo.processInfo.environment[name]?.trimmingCharacters(in: .whitespacesAndNewlines),
                  !token.isEmpty else {
                throw SyncError(.configuration, "environment variable \(name): bearer token not set")
            }
            return token
        }
        return nil
    }
}

/// Exponential backoff with jitter: attempt n waits a random time in [d/2, d] with
/// d = min(max, base * 2^(n-1)), so a fleet that lost the server together does not return in step.
public struct Backoff: Sendable, Hashable {
    /// First delay.
    public var base: TimeInterval
    /// Longest delay.
    public var max: TimeInterval

    /// A backoff.
    public init(base: TimeInterval, max: TimeInterval) {
        self.base = base
        self.max = max
    }

    /// Delay before retry number `attempt` (1-based).
    public func delay(attempt: Int, using rng: inout some RandomNumberGenerator) -> TimeInterval {
        let exponent = Double(Swift.min(Swift.max(attempt - 1, 0), 30))
        let d = Swift.min(self.max, base * pow(2, exponent))
        return Double.random(in: (d / 2)...d, using: &rng)
    }
}

/// Upload progress for the agent's status display.
public struct UploadProgress: Sendable, Hashable {
    /// Entries waiting.
    public var pendingCount: Int
    /// Their accounted bytes.
    public var pendingBytes: Int
    /// Alerts among them.
    public var pendingAlerts: Int
    /// Entries confirmed by the server.
    public var sent: Int
    /// Entries rejected by the server (in the dead-letter table).
    public var deadLettered: Int
    /// Cumulative losses (evicted, dropped, expired).
    public var losses: OutboxLossCounts
    /// Last confirmed batch.
    public var lastSuccess: Date?
    /// Last failure, if the most recent attempt failed.
    public var lastError: String?
    /// Failed attempts in a row.
    public var consecutiveFailures: Int
}
