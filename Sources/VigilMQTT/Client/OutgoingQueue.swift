import Foundation

/// One message on its way out, with whoever waits for its receipt.
struct PendingMessage: Sendable {
    var topic: String
    var payload: Data
    var qos: QoS
    var retain: Bool
    /// MQTT 5 message expiry interval in seconds (dropped when speaking 3.1.1).
    var expirySeconds: UInt32?
    var completion: (@Sendable (Result<PublishReceipt, MQTTError>) -> Void)?
}

/// The publisher's own FIFO in front of libmosquitto, bounded by `limit`.
///
/// libmosquitto queues without bound and a message handed to it cannot be taken back, so the bound
/// and the overflow policy live here: when full, the oldest QoS 0 message is dropped (and counted);
/// when there is no QoS 0 message to drop, the new message is refused so the caller (the outbox)
/// keeps it. A QoS 1 message is never dropped silently.
struct OutgoingQueue {
    /// What `enqueue` did.
    enum Admission {
        /// Queued; nothing dropped.
        case queued
        /// Queued after dropping this older QoS 0 message.
        case queuedDropping(PendingMessage)
        /// Refused: the queue is full of QoS 1 messages (or the new QoS 0 message had nowhere to go).
        case refused(PendingMessage)
    }

    let limit: Int
    private var items: [PendingMessage] = []
    private var head = 0

    init(limit: Int) { self.limit = limit }

    var count: Int { items.count - head }
    var isEmpty: Bool { count == 0 }

    mutating func enqueue(_ message: PendingMessage) -> Admission {
        guard count >= limit else {
            items.append(message)
            return .queued
        }
        guard let index = items[head...].firstIndex(where: { $0.qos == .atMostOnce }) else {
            return .refused(message)
        }
        let dropped = items.remove(at: index)
        items.append(message)
        return .queuedDropping(dropped)
    }

    /// Puts a message back at the front (it could not be handed over) or jumps the queue (the
    /// birth message), whatever the limit.
    mutating func pushFront(_ message: PendingMessage) {
        if head > 0 {
            head -= 1
            items[head] = message
        } else {
            items.insert(message, at: 0)
        }
    }

    mutating func popFirst() -> PendingMessage? {
        guard head < items.count else { return nil }
        let message = items[head]
        head += 1
        // Compact now and then so memory follows the live count.
        if head >= 1024 && head * 2 >= items.count {
            items.removeFirst(head)
            head = 0
        }
        return message
    }

    /// Empties the queue, returning what was in it (oldest first).
    mutating func removeAll() -> [PendingMessage] {
        let rest = Array(items[head...])
        items.removeAll()
        head = 0
        return rest
    }
}
