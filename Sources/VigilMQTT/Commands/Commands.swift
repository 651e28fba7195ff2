import Foundation

/// `cmd/ack`: acknowledge an alarm. JSON `{"request_id": "...", "alarm_id": 17, "operator": "..."}`.
public struct AcknowledgeCommand: Codable, Sendable, Hashable {
    /// The sender's id for this request, echoed in the reply (1...64 characters).
    public var requestID: String
    /// The alarm to acknowledge (`alarm_id` of the alert events).
    public var alarmID: UInt64
    /// A pseudonymous operator id for the audit trail, when the sender gives one.
    public var operatorID: String?

    /// A command.
    public init(requestID: String, alarmID: UInt64, operatorID: String? = nil) {
        self.requestID = requestID
        self.alarmID = alarmID
        self.operatorID = operatorID
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestID = "request_id", alarmID = "alarm_id", operatorID = "operator"
    }
}

/// `cmd/silence`: pause an alarm's audio. JSON `{"request_id", "alarm_id", "duration_s", "operator"?}`;
/// `duration_s` is a whole number of seconds in 1...the configured maximum (120 by default).
public struct SilenceCommand: Codable, Sendable, Hashable {
    /// The sender's id for this request, echoed in the reply.
    public var requestID: String
    /// The alarm to silence.
    public var alarmID: UInt64
    /// How long, in seconds.
    public var durationSeconds: Int
    /// A pseudonymous operator id, when given.
    public var operatorID: String?

    /// A command.
    public init(requestID: String, alarmID: UInt64, durationSeconds: Int, operatorID: String? = nil) {
        self.requestID = requestID
        self.alarmID = alarmID
        self.durationSeconds = durationSeconds
        self.operatorID = operatorID
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestID = "request_id", alarmID = "alarm_id", durationSeconds = "duration_s", operatorID = "operator"
    }
}

/// `cmd/reload`: reload a model file from disk. JSON `{"request_id", "model_id", "operator"?}`.
public struct ReloadCommand: Codable, Sendable, Hashable {
    /// The sender's id for this request, echoed in the reply.
    public var requestID: String
    /// The model to reload (its id, as in `predictions/<model>`).
    public var modelID: String
    /// A pseudonymous operator id, when given.
    public var operatorID: String?

    /// A command.
    public init(requestID: String, modelID: String, operatorID: String? = nil) {
        self.requestID = requestID
        self.modelID = modelID
        self.operatorID = operatorID
    }

    enum CodingKeys: String, CodingKey, CaseIterable {
        case requestID = "request_id", modelID = "model_id", operatorID = "operator"
    }
}

/// A validated inbound command.
public enum VigilCommand: Sendable, Hashable {
    /// `cmd/ack`.
    case acknowledge(AcknowledgeCommand)
    /// `cmd/silence`.
    case silence(SilenceCommand)
    /// `cmd/reload`.
    case reload(ReloadCommand)

    /// The topic level naming the command (`ack`, `silence`, `reload`).
    public var name: String {
        switch self {
        case .acknowledge: "ack"
        case .silence: "silence"
        case .reload: "reload"
        }
    }

    /// The request id to echo.
    public var requestID: String {
        switch self {
        case .acknowledge(let c): c.requestID
        case .silence(let c): c.requestID
        case .reload(let c): c.requestID
        }
    }
}

/// What the agent's command handler decided.
public enum CommandOutcome: Sendable, Hashable {
    /// Carried out.
    case accepted
    /// Valid, but refused or failed (unknown alarm, wrong state, model file missing): `code` is a
    /// machine name (e.g. an `AlertsError` code), `detail` names the offending thing.
    case failed(code: String, detail: String)
}

/// `vigil/v1/<site>/<device>/cmd/reply` (QoS 1): the answer to every inbound command, accepted or not.
public struct CommandReplyPayload: MQTTPayload, Hashable {
    /// The answer.
    public enum Status: String, Codable, Sendable, Hashable {
        /// Validated and carried out.
        case accepted
        /// Malformed: never given to the agent.
        case rejected
        /// Valid, but the agent refused or failed to carry it out.
        case failed
    }

    /// Why, for `rejected` and `failed`.
    public struct Problem: Codable, Sendable, Hashable {
        /// Machine name: `malformed_json`, `unknown_command`, `unknown_field`, `missing_field`,
        /// `wrong_type`, `out_of_range`, `too_large`, or the agent's code.
        public var code: String
        /// Names the offending field or thing.
        public var detail: String

        /// A problem.
        public init(code: String, detail: String) {
            self.code = code
            self.detail = detail
        }
    }

    /// The request's `request_id`, when it had a usable one.
    public var requestID: String?
    /// The command name from the topic (`ack`, `silence`, `reload`, or what was sent).
    public var command: String
    /// Accepted, rejected or failed.
    public var status: Status
    /// Why, when not accepted.
    public var error: Problem?
    /// When the reply was composed.
    public var time: Date

    /// A reply.
    public init(requestID: String?, command: String, status: Status, error: Problem?, time: Date) {
        self.requestID = requestID
        self.command = command
        self.status = status
        self.error = error
        self.time = time
    }

    enum CodingKeys: String, CodingKey {
        case command, status, error, time
        case requestID = "request_id"
    }
}

/// Why an inbound command was rejected before reaching the agent.
public struct CommandRejection: Error, Sendable, Hashable, CustomStringConvertible {
    /// Machine name (see `CommandReplyPayload.Problem.code`).
    public var code: String
    /// Names the offending field.
    public var detail: String

    /// A rejection.
    public init(_ code: String, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code): \(detail)" }
}

/// Strict validation of inbound command payloads: a JSON object with exactly the known fields,
/// each of the right type and range. Anything else is rejected, never acted on.
public struct CommandParser: Sendable {
    /// Largest accepted payload, in bytes.
    public static let maxPayloadBytes = 4096
    /// Longest silence accepted, in seconds.
    public var maxSilenceSeconds: Int

    /// A parser.
    public init(maxSilenceSeconds: Int) { self.maxSilenceSeconds = maxSilenceSeconds }

    /// Validates the payload of `cmd/<name>`.
    public func parse(name: String, payload: Data) throws(CommandRejection) -> VigilCommand {
        guard payload.count <= Self.maxPayloadBytes else {
            throw CommandRejection("too_large", "payload of \(payload.count) bytes exceeds \(Self.maxPayloadBytes)")
        }
        let object: [String: Any]
        do {
            guard let parsed = try JSONSerialization.jsonObject(with: payload) as? [String: Any] else {
                throw CommandRejection("malformed_json", "payload is not a JSON object")
            }
            object = parsed
        } catch let rejection as CommandRejection {
            throw rejection
        } catch {
            throw CommandRejection("malformed_json", "payload is not valid JSON")
        }
        switch name {
        case "ack":
            try checkFields(object, required: ["request_id", "alarm_id"], optional: ["operator"])
            return .acknowledge(AcknowledgeCommand(requestID: try requestID(object), alarmID: try alarmID(object),
                                                   operatorID: try optionalText(object, "operator")))
        case "silence":
            try checkFields(object, required: ["request_id", "alarm_id", "duration_s"], optional: ["operator"])
            let duration = try integer(object, "duration_s")
            guard duration >= 1, duration <= Int64(maxSilenceSeconds) else {
                throw CommandRejection("out_of_range", "duration_s \(duration) is outside 1...\(maxSilenceSeconds) seconds")
            }
            return .silence(SilenceCommand(requestID: try requestID(object), alarmID: try alarmID(object),
                                           durationSeconds: Int(duration), operatorID: try optionalText(object, "operator")))
        case "reload":
            try checkFields(object, required: ["request_id", "model_id"], optional: ["operator"])
            let model = try text(object, "model_id", maxLength: 64)
            do {
                try Topics.validateLevel(model, what: "model_id")
            } catch {
                throw CommandRejection("out_of_range", error.detail)
            }
            return .reload(ReloadCommand(requestID: try requestID(object), modelID: model,
                                         operatorID: try optionalText(object, "operator")))
        default:
            throw CommandRejection("unknown_command", "cmd/\(name) is not a command (ack, silence, reload)")
        }
    }

    /// The `request_id` of a payload if it has a usable one, for replying to a rejected command.
    public static func bestEffortRequestID(_ payload: Data) -> String? {
        guard payload.count <= maxPayloadBytes,
              let object = try? JSONSerialization.jsonObject(with: payload) as? [String: Any],
              let id = object["request_id"] as? String, (1...64).contains(id.count) else { return nil }
        return id
    }

    private func checkFields(_ object: [String: Any], required: Set<String>, optional: Set<String>) throws(CommandRejection) {
        for key in object.keys.sorted() where !required.contains(key) && !optional.contains(key) {
            throw CommandRejection("unknown_field", "unknown field '\(key)'")
        }
        for key in required.sorted() where object[key] == nil {
            throw CommandRejection("missing_field", "missing field '\(key)'")
        }
    }

    private func requestID(_ object: [String: Any]) throws(CommandRejection) -> String {
        try text(object, "request_id", maxLength: 64)
    }

    private func alarmID(_ object: [String: Any]) throws(CommandRejection) -> UInt64 {
        let value = try integer(object, "alarm_id")
        guard value >= 0 else { throw CommandRejection("out_of_range", "alarm_id \(value) is negative") }
        return UInt64(value)
    }

    private func optionalText(_ object: [String: Any], _ key: String) throws(CommandRejection) -> String? {
        guard object[key] != nil else { return nil }
        return try text(object, key, maxLength: 64)
    }

    private func text(_ object: [String: Any], _ key: String, maxLength: Int) throws(CommandRejection) -> String {
        guard let value = object[key] as? String, !Self.isNumberOrBool(object[key]) else {
            throw CommandRejection("wrong_type", "field '\(key)' must be a string")
        }
        guard (1...maxLength).contains(value.count) else {
            throw CommandRejection("out_of_range", "field '\(key)' must be 1...\(maxLength) characters")
        }
        return value
    }

    /// A JSON integer (no fraction, no exponent beyond integers, not a boolean, not a string).
    private func integer(_ object: [String: Any], _ key: String) throws(CommandRejection) -> Int64 {
        guard let number = object[key] as? NSNumber, Self.isNumberOrBool(object[key]), !Self.isBool(number) else {
            throw CommandRejection("wrong_type", "field '\(key)' must be an integer")
        }
        let double = number.doubleValue
        guard double.isFinite, double.rounded() == double, abs(double) < 9.0e15 else {
            throw CommandRejection("wrong_type", "field '\(key)' must be an integer, got \(number)")
        }
        return Int64(double)
    }

    private static func isNumberOrBool(_ value: Any?) -> Bool { value is NSNumber && !(value is String) }

    private static func isBool(_ number: NSNumber) -> Bool {
        // JSONSerialization gives booleans as NSNumber too; their Objective-C type is 'c' (char).
        String(cString: number.objCType) == "c" || type(of: number) == type(of: NSNumber(value: true))
    }
}
