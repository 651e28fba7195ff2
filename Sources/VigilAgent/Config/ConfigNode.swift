import Yams

/// A position in a parsed YAML document: typed accessors that fail with a `ConfigError` naming the
/// file, line, key path, value and what was expected.
///
/// Codable decoding would lose line numbers and silently ignore misspelt keys; a bedside config with
/// `treshold:` must fail loudly, so configuration is read through this instead.
struct ConfigNode {
    let file: String
    let path: String
    let node: Node?

    init(file: String, path: String, node: Node?) {
        self.file = file
        self.path = path
        self.node = node
    }

    /// Parses YAML text. An empty document is an empty mapping.
    static func parse(_ text: String, file: String) throws(ConfigError) -> ConfigNode {
        do {
            let node = try Yams.compose(yaml: text)
            return ConfigNode(file: file, path: "", node: node ?? Node.mapping(Node.Mapping([])))
        } catch let error as YamlError {
            return try failParse(file: file, error: error)
        } catch {
            throw ConfigError(file: file, key: "", value: nil, expected: "valid YAML (\(error))")
        }
    }

    private static func failParse(file: String, error: YamlError) throws(ConfigError) -> ConfigNode {
        // YamlError's description carries the line and column of the syntax error.
        throw ConfigError(file: file, key: "", value: nil, expected: "valid YAML: \(error)")
    }

    var isPresent: Bool {
        guard let node else { return false }
        if case .scalar(let s) = node, s.tag == Tag(.null) || (s.string.isEmpty && s.style == .plain) { return false }
        return true
    }

    func error(_ expected: String) -> ConfigError {
        ConfigError(file: file, line: node?.mark?.line, column: node?.mark?.column, key: path,
                    value: isPresent ? rendered : nil, expected: expected)
    }

    private var rendered: String {
        guard let node else { return "" }
        switch node {
        case .scalar(let s): return s.string
        case .mapping: return "<mapping>"
        case .sequence: return "<list>"
        case .alias: return "<alias>"
        }
    }

    // MARK: navigation

    subscript(key: String) -> ConfigNode {
        let child: Node?
        if case .mapping(let m)? = node { child = m[key] } else { child = nil }
        return ConfigNode(file: file, path: path.isEmpty ? key : "\(path).\(key)", node: child)
    }

    /// The keys of a mapping; fails if this is not a mapping or holds a key outside `allowed`.
    @discardableResult
    func mapping(allowed: [String]) throws(ConfigError) -> [String] {
        guard case .mapping(let m)? = node else {
            throw error("a mapping with keys \(allowed.joined(separator: ", "))")
        }
        var keys: [String] = []
        for (k, _) in m {
            guard let name = k.string else { throw error("string keys") }
            guard allowed.contains(name) else {
                throw ConfigError(file: file, line: k.mark?.line, column: k.mark?.column,
                                  key: path.isEmpty ? name : "\(path).\(name)", value: name,
                                  expected: "one of the keys \(allowed.joined(separator: ", "))")
            }
            keys.append(name)
        }
        return keys
    }

    /// The elements of a list (a missing key is an empty list).
    func list() throws(ConfigError) -> [ConfigNode] {
        guard isPresent else { return [] }
        guard case .sequence(let s)? = node else { throw error("a list") }
        return s.enumerated().map { ConfigNode(file: file, path: "\(path)[\($0.offset)]", node: $0.element) }
    }

    // MARK: scalars

    func string(_ expected: String = "a string") throws(ConfigError) -> String {
        guard isPresent else { throw error(expected) }
        guard case .scalar(let s)? = node else { throw error(expected) }
        return s.string
    }

    func optionalString(_ expected: String = "a string") throws(ConfigError) -> String? {
        isPresent ? try string(expected) : nil
    }

    func int(in range: ClosedRange<Int>, _ what: String) throws(ConfigError) -> Int {
        let expected = "an integer in \(range.lowerBound)...\(range.upperBound) (\(what))"
        guard isPresent, case .scalar(let s)? = node, let v = Int(s.string), range.contains(v) else { throw error(expected) }
        return v
    }

    func optionalInt(in range: ClosedRange<Int>, _ what: String) throws(ConfigError) -> Int? {
        isPresent ? try int(in: range, what) : nil
    }

    func double(in range: ClosedRange<Double>, _ what: String) throws(ConfigError) -> Double {
        let expected = "a number in \(range.lowerBound)...\(range.upperBound) (\(what))"
        guard isPresent, case .scalar(let s)? = node, let v = Double(s.string), v.isFinite, range.contains(v) else {
            throw error(expected)
        }
        return v
    }

    func optionalDouble(in range: ClosedRange<Double>, _ what: String) throws(ConfigError) -> Double? {
        isPresent ? try double(in: range, what) : nil
    }

    func bool() throws(ConfigError) -> Bool {
        guard isPresent, case .scalar(let s)? = node else { throw error("true or false") }
        switch s.string.lowercased() {
        case "true", "yes", "on": return true
        case "false", "no", "off": return false
        default: throw error("true or false")
        }
    }

    func optionalBool() throws(ConfigError) -> Bool? { isPresent ? try bool() : nil }

    func choice<T: RawRepresentable & CaseIterable>(_: T.Type) throws(ConfigError) -> T where T.RawValue == String {
        let names = T.allCases.map(\.rawValue).joined(separator: " | ")
        guard let v = T(rawValue: try string(names)) else { throw error(names) }
        return v
    }

    func optionalChoice<T: RawRepresentable & CaseIterable>(_ t: T.Type) throws(ConfigError) -> T? where T.RawValue == String {
        isPresent ? try choice(t) : nil
    }

    /// A duration written as a number of seconds or with a unit: `500ms`, `10s`, `5m`, `2h`.
    func seconds(in range: ClosedRange<Double>, _ what: String) throws(ConfigError) -> Double {
        let expected = "a duration like 10s, 500ms or 5m, in \(range.lowerBound)...\(range.upperBound) s (\(what))"
        guard isPresent, case .scalar(let s)? = node else { throw error(expected) }
        let text = s.string.trimmingCharacters(in: .whitespaces)
        var v: Double?
        for (suffix, factor) in [("ms", 0.001), ("s", 1.0), ("m", 60.0), ("h", 3600.0)] where text.hasSuffix(suffix) {
            v = Double(text.dropLast(suffix.count)).map { $0 * factor }
            break
        }
        if v == nil { v = Double(text) }
        guard let v, v.isFinite, range.contains(v) else { throw error(expected) }
        return v
    }

    func optionalSeconds(in range: ClosedRange<Double>, _ what: String) throws(ConfigError) -> Double? {
        isPresent ? try seconds(in: range, what) : nil
    }
}

import Foundation
