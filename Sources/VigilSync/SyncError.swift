/// A failure of the outbox or the uploader. New codes can be added without breaking callers that
/// switch on `code` with a default.
public struct SyncError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The state directory or database could not be created, opened or secured.
        case storage
        /// A configuration value is unusable (bad URL, unreadable token or certificate file).
        case configuration
        /// An event cannot be represented (NaN value, empty identifier).
        case invalidEvent = "invalid_event"
        /// The server or network failed in a way worth retrying (5xx, timeout, refused connection).
        case transient
        /// The server's answer could not be understood.
        case badResponse = "bad_response"
    }

    /// The kind of failure.
    public var code: Code
    /// A human explanation that names the offending thing (file, key, entry id, HTTP status).
    public var detail: String

    /// A failure.
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
