import Foundation

/// A message body Vigil publishes. Each conforming type is the single source of its JSON shape;
/// `docs/schemas/<name>.schema.json` describes the same fields and the checks prove they agree.
public protocol MQTTPayload: Codable, Sendable {}

extension MQTTPayload {
    /// The JSON bytes as published (snake_case keys, RFC 3339 UTC times with milliseconds).
    public func jsonData() throws(MQTTError) -> Data { try PayloadCoding.encode(self) }
}

/// The one JSON encoding of every payload.
public enum PayloadCoding {
    /// Encodes a payload.
    public static func encode(_ value: some Encodable) throws(MQTTError) -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        encoder.dateEncodingStrategy = .custom { date, encoder in
            var container = encoder.singleValueContainer()
            try container.encode(rfc3339(date))
        }
        encoder.nonConformingFloatEncodingStrategy = .throw
        do {
            return try encoder.encode(value)
        } catch {
            throw MQTTError(.payload, "cannot encode \(type(of: value)) as JSON: \(error)")
        }
    }

    /// Decodes a payload (dashboards' view; the tests use it to round-trip).
    public static func decode<T: Decodable>(_ type: T.Type, from data: Data) throws(MQTTError) -> T {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .custom { decoder in
            let container = try decoder.singleValueContainer()
            let text = try container.decode(String.self)
            guard let date = parseRFC3339(text) else {
                throw DecodingError.dataCorruptedError(in: container, debugDescription: "'\(text)' is not an RFC 3339 time")
            }
            return date
        }
        do {
            return try decoder.decode(type, from: data)
        } catch {
            throw MQTTError(.payload, "cannot decode \(type) from JSON: \(error)")
        }
    }

    /// `2026-11-23T10:30:00.123Z`: UTC, millisecond precision, formatted by hand because it is on
    /// the waveform hot path and a formatter object is neither cheap nor Sendable.
    public static func rfc3339(_ date: Date) -> String {
        let millisTotal = (date.timeIntervalSince1970 * 1000).rounded(.down)
        var seconds = time_t(Int64((millisTotal / 1000).rounded(.down)))
        let millis = Int(millisTotal - Double(Int64(seconds)) * 1000)
        var parts = tm()
        gmtime_r(&seconds, &parts)
        func pad(_ v: Int32, _ width: Int) -> String {
            let s = String(v)
            return String(repeating: "0", count: max(0, width - s.count)) + s
        }
        return "\(pad(parts.tm_year + 1900, 4))-\(pad(parts.tm_mon + 1, 2))-\(pad(parts.tm_mday, 2))T"
            + "\(pad(parts.tm_hour, 2)):\(pad(parts.tm_min, 2)):\(pad(parts.tm_sec, 2)).\(pad(Int32(millis), 3))Z"
    }

    /// Parses an RFC 3339 time with or without fractional seconds.
    public static func parseRFC3339(_ text: String) -> Date? {
        let withFraction = ISO8601DateFormatter()
        withFraction.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        if let date = withFraction.date(from: text) { return date }
        let plain = ISO8601DateFormatter()
        plain.formatOptions = [.withInternetDateTime]
        return plain.date(from: text)
    }
}

/// The model a result came from, so every prediction and model alarm traces to the exact file.
public struct ModelInfo: Codable, Sendable, Hashable {
    /// The model's id (its metadata name).
    public var id: String
    /// The model's version.
    public var version: String
    /// The model file's digest (`sha256:<hex>`), when known.
    public var digest: String?

    /// A model identity.
    public init(id: String, version: String, digest: String? = nil) {
        self.id = id
        self.version = version
        self.digest = digest
    }
}
