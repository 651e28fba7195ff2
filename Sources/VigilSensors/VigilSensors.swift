// VigilSensors: waveform sources (files, replay), streaming DSP (filters, resampling, windows),
// vitals (R-peaks and heart rate, pulse rate, SpO2, respiration rate) and the signal-quality index
// that gates them. Data flows Files/ → DSP/ → Vitals/, with Quality/ deciding what may be reported.

/// A file or input the sensors layer refused. New codes can be added without breaking callers that
/// switch on `code` with a default.
public struct SensorsError: Error, Sendable, Hashable, CustomStringConvertible {
    /// What kind of refusal.
    public enum Code: String, Sendable, Hashable {
        /// The file could not be opened or read.
        case unreadable = "unreadable"
        /// The file's structure is wrong (header field, byte layout, truncated data).
        case malformed = "malformed"
        /// The file is valid but uses a feature this reader does not implement (e.g. a WFDB format).
        case unsupported = "unsupported"
        /// A value is out of range (sample rate, column, channel index, parameter).
        case invalidValue = "invalid_value"
    }

    /// The kind of refusal.
    public var code: Code
    /// A human explanation naming the offending file and line, byte or field.
    public var detail: String

    /// An error.
    public init(_ code: Code, _ detail: String) {
        self.code = code
        self.detail = detail
    }

    public var description: String { "\(code.rawValue): \(detail)" }
}
