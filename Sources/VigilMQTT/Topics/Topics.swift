/// One topic under a device's namespace, as a path below `vigil/v1/<site>/<device>/`.
public struct Topic: Sendable, Hashable, CustomStringConvertible {
    /// The full topic name (`vigil/v1/ward-3/bed-12/vitals/hr`).
    public let name: String

    init(unchecked name: String) { self.name = name }

    public var description: String { name }
}

/// The topic namespace of one device: `vigil/v1/<site>/<device>/...` (DESIGN.md, MQTT).
///
/// Site, device and every variable level (vital kind, model id, channel) are validated as single
/// topic levels: not empty, no `/`, no wildcards `+` `#`, no NUL, at most 64 bytes, and not starting
/// with `$` (reserved for broker topics). Topic names carry site and device ids only, never patient
/// identity.
public struct Topics: Sendable, Hashable {
    /// The protocol root; the `v1` is the payload contract version.
    public static let prefix = "vigil/v1"

    /// The site id.
    public let site: String
    /// The device id.
    public let device: String

    /// The namespace for one device; throws `invalidTopic` for an unusable site or device id.
    public init(site: String, device: String) throws(MQTTError) {
        try Self.validateLevel(site, what: "site id")
        try Self.validateLevel(device, what: "device id")
        self.site = site
        self.device = device
    }

    /// `vigil/v1/<site>/<device>`.
    public var root: String { "\(Self.prefix)/\(site)/\(device)" }

    /// `status`: retained birth / offline message; also the last will.
    public var status: Topic { Topic(unchecked: "\(root)/status") }
    /// `vitals/<kind>`: latest value of one vital, retained with an expiry.
    public func vitals(_ kind: String) throws(MQTTError) -> Topic {
        try Self.validateLevel(kind, what: "vital kind")
        return Topic(unchecked: "\(root)/vitals/\(kind)")
    }
    /// `predictions/<model>`: each inference result of one model.
    public func predictions(_ model: String) throws(MQTTError) -> Topic {
        try Self.validateLevel(model, what: "model id")
        return Topic(unchecked: "\(root)/predictions/\(model)")
    }
    /// `alerts`: alarm events, QoS 1.
    public var alerts: Topic { Topic(unchecked: "\(root)/alerts") }
    /// `alerts/active`: retained snapshot of the open alarms.
    public var activeAlerts: Topic { Topic(unchecked: "\(root)/alerts/active") }
    /// `waveforms/<channel>`: batched samples for live display, QoS 0.
    public func waveforms(_ channel: String) throws(MQTTError) -> Topic {
        try Self.validateLevel(channel, what: "waveform channel")
        return Topic(unchecked: "\(root)/waveforms/\(channel)")
    }
    /// `cmd/<name>`: one inbound command topic.
    public func command(_ name: String) throws(MQTTError) -> Topic {
        try Self.validateLevel(name, what: "command name")
        return Topic(unchecked: "\(root)/cmd/\(name)")
    }
    /// `cmd/+`: the subscription for every inbound command.
    public var commandFilter: String { "\(root)/cmd/+" }
    /// `cmd/reply`: our answers to commands (accepted or rejected, with the reason).
    public var commandReply: Topic { Topic(unchecked: "\(root)/cmd/reply") }

    /// If `topic` is an inbound command topic of this device, its command name.
    public func commandName(of topic: String) -> String? {
        let head = "\(root)/cmd/"
        guard topic.hasPrefix(head) else { return nil }
        let name = topic.dropFirst(head.count)
        return name.isEmpty || name.contains("/") ? nil : String(name)
    }

    /// Checks that `level` can be one topic level.
    public static func validateLevel(_ level: String, what: String) throws(MQTTError) {
        if level.isEmpty { throw MQTTError(.invalidTopic, "\(what) is empty") }
        if level.utf8.count > 64 { throw MQTTError(.invalidTopic, "\(what) '\(level.prefix(64))...' is longer than 64 bytes") }
        if level.hasPrefix("$") { throw MQTTError(.invalidTopic, "\(what) '\(level)' starts with '$' (reserved for the broker)") }
        for scalar in level.unicodeScalars {
            switch scalar {
            case "/": throw MQTTError(.invalidTopic, "\(what) '\(level)' contains '/' (a topic level separator)")
            case "+", "#": throw MQTTError(.invalidTopic, "\(what) '\(level)' contains the wildcard '\(scalar)'")
            case "\u{0}": throw MQTTError(.invalidTopic, "\(what) contains a NUL character")
            default:
                if scalar.properties.generalCategory == .control {
                    throw MQTTError(.invalidTopic, "\(what) '\(level)' contains a control character")
                }
            }
        }
    }
}
