internal import CMosquitto
import Foundation

/// A failure of the MQTT link: a refused or unreachable broker, a TLS or credential problem, a
/// full queue, an invalid topic or payload. New codes can be added without breaking callers that
/// switch on `code` with a default.
public struct MQTTError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of failure.
    public enum Code: String, Sendable, Hashable {
        /// The configuration cannot work (bad broker URL, unreadable password or certificate file).
        case invalidConfiguration = "invalid_configuration"
        /// A site, device or topic level is empty or holds `+`, `#` or `/`.
        case invalidTopic = "invalid_topic"
        /// The broker could not be reached (connection refused, no route, name lookup failed).
        case unreachable
        /// The TLS handshake failed (unknown CA, bad client certificate, hostname mismatch).
        case tls
        /// The broker refused the credentials or the client id.
        case notAuthorized = "not_authorized"
        /// The broker refused the connection for another reason (CONNACK reason code in `detail`).
        case refused
        /// No answer within the configured time.
        case timeout
        /// The publisher is not connected (never connected, or closed).
        case notConnected = "not_connected"
        /// The link closed before the broker acknowledged the message.
        case disconnected
        /// The outgoing queue is full of messages that must not be dropped (QoS 1).
        case queueFull = "queue_full"
        /// A payload could not be encoded, or is larger than MQTT allows.
        case payload
        /// The broker or the library reported a protocol error.
        case `protocol`
        /// Any other libmosquitto error (its code and text are in `detail`).
        case library
    }

    /// The kind of failure.
    public var code: Code
    /// A human explanation naming the offending thing (broker URL, file, topic, mosquitto call).
    public var detail: String
    /// The libmosquitto `MOSQ_ERR_*` code, when the failure came from a libmosquitto call.
    public var mosquittoCode: Int32?
    /// Set when an MQTT 5 connect failed the way brokers that only speak 3.1.1 refuse it, so a
    /// 3.1.1 attempt is worth making.
    var suggestsProtocolDowngrade = false

    /// An error.
    public init(_ code: Code, _ detail: String, mosquittoCode: Int32? = nil) {
        self.code = code
        self.detail = detail
        self.mosquittoCode = mosquittoCode
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}

/// Turns a libmosquitto return code into a thrown `MQTTError`; `what` names the call and its
/// subject ("mosquitto_connect 127.0.0.1:1883"). The one place MOSQ_ERR_* codes are interpreted.
func check(_ rc: Int32, _ what: @autoclosure () -> String) throws(MQTTError) {
    if rc == MOSQ_ERR_SUCCESS.rawValue { return }
    throw mosquittoError(rc, what())
}

/// The `MQTTError` for a libmosquitto return code (also used for the `rc` of disconnect callbacks).
func mosquittoError(_ rc: Int32, _ what: String) -> MQTTError {
    // Read errno first: mosquitto_strerror may itself change it.
    let savedErrno = errno
    var text = String(cString: mosquitto_strerror(rc))
    if rc == MOSQ_ERR_ERRNO.rawValue {
        text = String(cString: strerror(savedErrno)) + " (errno \(savedErrno))"
    }
    let code: MQTTError.Code
    switch rc {
    case MOSQ_ERR_INVAL.rawValue, MOSQ_ERR_NOT_SUPPORTED.rawValue: code = .invalidConfiguration
    case MOSQ_ERR_NO_CONN.rawValue: code = .notConnected
    case MOSQ_ERR_CONN_LOST.rawValue, MOSQ_ERR_KEEPALIVE.rawValue: code = .disconnected
    case MOSQ_ERR_CONN_REFUSED.rawValue: code = .refused
    case MOSQ_ERR_TLS.rawValue, MOSQ_ERR_TLS_HANDSHAKE.rawValue, MOSQ_ERR_OCSP.rawValue: code = .tls
    case MOSQ_ERR_AUTH.rawValue, MOSQ_ERR_ACL_DENIED.rawValue: code = .notAuthorized
    case MOSQ_ERR_PAYLOAD_SIZE.rawValue, MOSQ_ERR_OVERSIZE_PACKET.rawValue, MOSQ_ERR_MALFORMED_UTF8.rawValue:
        code = .payload
    case MOSQ_ERR_PROTOCOL.rawValue, MOSQ_ERR_MALFORMED_PACKET.rawValue, MOSQ_ERR_DUPLICATE_PROPERTY.rawValue,
         MOSQ_ERR_QOS_NOT_SUPPORTED.rawValue, MOSQ_ERR_RETAIN_NOT_SUPPORTED.rawValue:
        code = .protocol
    case MOSQ_ERR_TIMEOUT.rawValue: code = .timeout
    case MOSQ_ERR_EAI.rawValue, MOSQ_ERR_LOOKUP.rawValue: code = .unreachable
    case MOSQ_ERR_ERRNO.rawValue:
        switch savedErrno {
        case ECONNREFUSED, EHOSTUNREACH, ENETUNREACH, ECONNRESET, EPIPE, EADDRNOTAVAIL: code = .unreachable
        case ETIMEDOUT: code = .timeout
        // A TLS handshake the peer aborts (e.g. our CA does not verify its certificate) can surface
        // as MOSQ_ERR_ERRNO with EPROTO rather than MOSQ_ERR_TLS.
        case EPROTO: code = .protocol
        default: code = .library
        }
    default: code = .library
    }
    return MQTTError(code, "\(what): \(text)", mosquittoCode: rc)
}

/// The `MQTTError` for a refused CONNACK. `reason` is an MQTT 5 reason code (>= 128) or an MQTT
/// 3.1.1 return code (1...5).
func connackError(_ reason: Int32, protocolV5: Bool, broker: String) -> MQTTError {
    let text = protocolV5 ? String(cString: mosquitto_reason_string(reason))
                          : String(cString: mosquitto_connack_string(reason))
    let authCodes: Set<Int32> = protocolV5 ? [134, 135, 138, 140] : [4, 5]
    let code: MQTTError.Code = authCodes.contains(reason) ? .notAuthorized : .refused
    return MQTTError(code, "broker \(broker) refused the connection: \(text) (reason code \(reason))")
}
