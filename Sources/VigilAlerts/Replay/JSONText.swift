/// A JSON value with ordered object keys, written deterministically: the same value always gives
/// the same bytes (no dictionary ordering, no locale, numbers in shortest round-trip form).
enum JSONText: Sendable {
    case null
    case bool(Bool)
    case int(Int64)
    case number(Double)
    /// A number already written as exact JSON decimal text (times: `12.5`).
    case decimal(String)
    case string(String)
    case array([JSONText])
    case object([(String, JSONText)])

    /// A number: whole values as integers (`135`, not `135.0`); non-finite values as `null`.
    static func numeric(_ x: Double?) -> JSONText {
        guard let x, x.isFinite else { return .null }
        if x == x.rounded(), abs(x) < 1e15 { return .int(Int64(x)) }
        return .number(x)
    }

    static func optional(_ s: String?) -> JSONText { s.map { .string($0) } ?? .null }

    /// Seconds on the session timeline as an exact decimal (`12.5`).
    static func time(_ t: Timestamp) -> JSONText { .decimal(t.description) }

    /// The text: compact when `indent` is `nil`, else pretty with that many spaces per level.
    func render(indent: Int?) -> String {
        var out = ""
        write(into: &out, indent: indent, level: 0)
        return out
    }

    private func write(into out: inout String, indent: Int?, level: Int) {
        func newline(_ l: Int) {
            if let indent { out += "\n" + String(repeating: " ", count: indent * l) }
        }
        switch self {
        case .null: out += "null"
        case .bool(let b): out += b ? "true" : "false"
        case .int(let i): out += String(i)
        case .number(let x): out += x.isFinite ? "\(x)" : "null"
        case .decimal(let text): out += text
        case .string(let s): JSONText.escape(s, into: &out)
        case .array(let items):
            if items.isEmpty { out += "[]"; return }
            // Arrays of scalars stay on one line: event id lists, unscored parameter codes.
            let flat = items.allSatisfy(\.isScalar)
            out += "["
            for (k, item) in items.enumerated() {
                if k > 0 { out += flat && indent != nil ? ", " : "," }
                if !flat { newline(level + 1) }
                item.write(into: &out, indent: indent, level: level + 1)
            }
            if !flat { newline(level) }
            out += "]"
        case .object(let members):
            if members.isEmpty { out += "{}"; return }
            // Small objects of scalars stay on one line: a row's vitals and scores.
            if indent != nil, members.count <= 8, members.allSatisfy({ $0.1.isScalar }) {
                out += "{"
                for (k, (key, value)) in members.enumerated() {
                    if k > 0 { out += ", " }
                    JSONText.escape(key, into: &out)
                    out += ": "
                    value.write(into: &out, indent: nil, level: 0)
                }
                out += "}"
                return
            }
            out += "{"
            for (k, (key, value)) in members.enumerated() {
                if k > 0 { out += "," }
                newline(level + 1)
                JSONText.escape(key, into: &out)
                out += indent == nil ? ":" : ": "
                value.write(into: &out, indent: indent, level: level + 1)
            }
            newline(level)
            out += "}"
        }
    }

    var isScalar: Bool {
        switch self {
        case .array, .object: false
        default: true
        }
    }

    /// RFC 8259 string escaping; non-ASCII characters are written as UTF-8.
    static func escape(_ s: String, into out: inout String) {
        out += "\""
        for u in s.unicodeScalars {
            switch u {
            case "\"": out += "\\\""
            case "\\": out += "\\\\"
            case "\n": out += "\\n"
            case "\r": out += "\\r"
            case "\t": out += "\\t"
            case _ where u.value < 0x20:
                let hex = String(u.value, radix: 16)
                out += "\\u" + String(repeating: "0", count: 4 - hex.count) + hex
            default: out.unicodeScalars.append(u)
            }
        }
        out += "\""
    }
}
