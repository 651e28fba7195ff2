/// A configuration that cannot be used, with where and why.
///
/// The description reads like a compiler diagnostic so an engineer at a bedside terminal can fix
/// the file without reading code: `vigil.yaml:12:5: pipelines[0].window: got "abc"; expected a
/// positive integer (samples)`.
public struct ConfigError: Error, CustomStringConvertible, Sendable, Equatable {
    /// The file, or `<demo>` / `<flags>` for built-in and command-line values.
    public var file: String
    /// 1-based line and column of the offending node, when known.
    public var line: Int?
    public var column: Int?
    /// The key path, e.g. `pipelines[0].model`.
    public var key: String
    /// What was found, quoted as written (nil when the key is missing).
    public var value: String?
    /// What was expected.
    public var expected: String

    public init(file: String, line: Int? = nil, column: Int? = nil, key: String, value: String?, expected: String) {
        self.file = file
        self.line = line
        self.column = column
        self.key = key
        self.value = value
        self.expected = expected
    }

    public var description: String {
        var at = file
        if let line { at += ":\(line)" }
        if let column { at += ":\(column)" }
        let found = value.map { "got \"\($0)\"" } ?? "missing"
        return "\(at): \(key.isEmpty ? "<top level>" : key): \(found); expected \(expected)"
    }
}
