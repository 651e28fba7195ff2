import Foundation

/// The JSON of a model's META section (docs/FORMAT.md, "Metadata"), snake_case keys. Every field
/// is optional so older and newer writers interoperate; unknown keys are ignored.
public struct ModelMetadata: Codable, Sendable, Equatable {
    public struct TensorSpec: Codable, Sendable, Equatable {
        public var name: String
        public var shape: [Int]
        public var dtype: String
        public var scale: Float?
        public var zeroPoint: Int?
        public init(name: String, shape: [Int], dtype: String, scale: Float? = nil, zeroPoint: Int? = nil) {
            (self.name, self.shape, self.dtype, self.scale, self.zeroPoint) = (name, shape, dtype, scale, zeroPoint)
        }
    }
    /// How raw input becomes the model's input tensor: x' = (x * scale + offset - mean) / std.
    public struct Preprocessing: Codable, Sendable, Equatable {
        public var kind: String?            // "waveform", "image", "features"
        public var sampleRateHz: Double?
        public var windowSamples: Int?
        public var scale: Double?
        public var offset: Double?
        public var mean: [Double]?
        public var std: [Double]?
        public init() {}
    }
    public struct Provenance: Codable, Sendable, Equatable {
        public var sourceSha256: String?
        public var converter: String?
        public var converterVersion: String?
        public var calibrationSha256: String?
        public var calibrationSamples: Int?
        public var fidelity: [String: Double]?
        public var createdBy: String?
        public init() {}
    }

    /// An operator that runs in float32 inside an int8 model, and why (e.g. "no int8 kernel").
    public struct FloatOperator: Codable, Sendable, Equatable {
        public var name: String
        public var op: String
        public var reason: String
        public init(name: String, op: String, reason: String) { (self.name, self.op, self.reason) = (name, op, reason) }
    }

    public var name: String?
    public var version: String?
    public var description: String?
    public var intendedUse: String?
    public var labels: [String]?
    public var inputs: [TensorSpec]?
    public var outputs: [TensorSpec]?
    public var preprocessing: Preprocessing?
    public var provenance: Provenance?
    /// int8 models: the operators kept in float32 (mixed precision); absent when none are.
    public var floatOperators: [FloatOperator]?

    public init() {}

    public static func decode(_ bytes: Data) throws -> ModelMetadata {
        let d = JSONDecoder()
        d.keyDecodingStrategy = .convertFromSnakeCase
        return try d.decode(ModelMetadata.self, from: bytes)
    }

    /// Canonical JSON bytes (sorted keys) for the META section.
    public func encoded() throws -> [UInt8] {
        let e = JSONEncoder()
        e.outputFormatting = [.sortedKeys]
        e.keyEncodingStrategy = .convertToSnakeCase
        return Array(try e.encode(self))
    }
}
