/// MQTT quality of service as Vigil uses it (no QoS 2: the outbox de-duplicates by id instead).
public enum QoS: Int32, Sendable, Hashable {
    /// Sent once, may be lost: waveforms.
    case atMostOnce = 0
    /// Acknowledged by the broker (PUBACK), may arrive twice: alerts, status, vitals, predictions.
    case atLeastOnce = 1
}

/// Proof of what happened to one message.
public struct PublishReceipt: Sendable, Hashable {
    /// The topic it went to.
    public var topic: String
    /// Its QoS.
    public var qos: QoS
    /// libmosquitto's message id (reused after 65535 messages).
    public var messageID: Int32
    /// `true` when the broker acknowledged it (QoS 1 PUBACK): only then may an outbox delete its
    /// copy. `false` for QoS 0, which is only known to have been written to the socket.
    public var acknowledged: Bool
}

/// Counters and gauges of one publisher; every dropped or refused message is counted here.
public struct MQTTStats: Sendable, Hashable {
    /// Whether the link is up now.
    public var connected = false
    /// The protocol version in use (`5` or `3.1.1`), once connected.
    public var protocolVersion: String?
    /// Whether the broker refused MQTT 5 and the link fell back to 3.1.1 (see docs/MQTT.md for
    /// what is lost: message expiry, PUBACK reasons, no-local, DISCONNECT reasons).
    public var protocolFallback = false
    /// Messages sent without their message expiry because the link speaks MQTT 3.1.1: retained
    /// values published so do not vanish when stale.
    public var expiryDropped: UInt64 = 0
    /// Successful connects (the first and every reconnect).
    public var connects: UInt64 = 0
    /// Connections lost (not counting our own disconnect).
    public var connectionLosses: UInt64 = 0
    /// Messages waiting in our queue now.
    public var queued = 0
    /// Messages handed to libmosquitto and not yet written (QoS 0) or acknowledged (QoS 1) now.
    public var inFlight = 0
    /// Messages handed to libmosquitto.
    public var handedToLibrary: UInt64 = 0
    /// QoS 1 messages the broker acknowledged.
    public var acknowledged: UInt64 = 0
    /// QoS 0 messages written to the socket.
    public var sentUnacknowledged: UInt64 = 0
    /// QoS 0 messages dropped from the queue to make room (oldest first).
    public var droppedQoS0Overflow: UInt64 = 0
    /// Messages refused because the queue held only QoS 1 messages.
    public var refusedQueueFull: UInt64 = 0
    /// QoS 0 messages libmosquitto had not written when the connection dropped.
    public var lostQoS0OnDisconnect: UInt64 = 0
    /// Messages the broker or libmosquitto refused (PUBACK reason >= 128, payload too large).
    public var failed: UInt64 = 0
    /// Inbound commands handed to the handler.
    public var commandsAccepted: UInt64 = 0
    /// Inbound commands rejected as malformed (never acted on).
    public var commandsRejected: UInt64 = 0
    /// Valid commands the handler refused or failed.
    public var commandsFailed: UInt64 = 0
    /// The last error seen on the link (connect failure, lost connection), if any.
    public var lastError: String?
}
