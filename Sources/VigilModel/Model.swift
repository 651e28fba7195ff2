/// Quantization parameters of a tensor: `real = scale * (q - zeroPoint)`.
/// One scale per tensor (`axis == nil`) or one per slice along `axis`.
public struct Quantization: Equatable, Sendable {
    public var scales: [Float]
    public var zeroPoints: [Int32]
    public var axis: Int?

    public init(scale: Float, zeroPoint: Int32) {
        scales = [scale]
        zeroPoints = [zeroPoint]
        axis = nil
    }
    /// Per-axis parameters; a single scale is stored per tensor (the format's rule for one channel).
    public init(scales: [Float], zeroPoints: [Int32], axis: Int) {
        self.scales = scales
        self.zeroPoints = zeroPoints
        self.axis = scales.count == 1 ? nil : axis
    }
    public var isPerTensor: Bool { axis == nil }
    public var scale: Float { scales[0] }
    public var zeroPoint: Int32 { zeroPoints[0] }
}

/// One entry of the tensor table, validated.
public struct TensorInfo: Sendable {
    public var name: String
    public var dtype: DType
    public var shape: [Int]
    public var elementCount: Int
    public var isConstant: Bool
    /// Absolute byte offset of a constant's data in the file (0 for variable tensors).
    public var dataOffset: Int
    public var quantization: Quantization?

    public var byteCount: Int { elementCount * dtype.byteSize }
}

/// One attribute: a key and its 32-bit words.
public struct Attribute: Equatable, Sendable {
    public var key: AttributeKey
    public var words: [UInt32]

    public init(_ key: AttributeKey, words: [UInt32]) {
        self.key = key
        self.words = words
    }
    public init(_ key: AttributeKey, ints: [Int]) {
        self.key = key
        words = ints.map { UInt32(bitPattern: Int32(truncatingIfNeeded: $0)) }
    }
    public init(_ key: AttributeKey, int: Int) { self.init(key, ints: [int]) }
    public init(_ key: AttributeKey, float: Float) {
        self.key = key
        words = [float.bitPattern]
    }
    public var ints: [Int] { words.map { Int(Int32(bitPattern: $0)) } }
    public var floats: [Float] { words.map { Float(bitPattern: $0) } }
}

/// One operator of the graph, validated for structure (indices, order); operator-specific checks
/// (shapes, attribute values) happen when the runtime prepares it.
public struct OpInfo: Sendable {
    public var code: OpCode
    public var name: String
    /// Tensor indices; -1 marks an absent optional input (e.g. a Conv without bias).
    public var inputs: [Int]
    public var outputs: [Int]
    public var attributes: [Attribute]

    public func attribute(_ key: AttributeKey) -> Attribute? {
        for a in attributes where a.key == key { return a }
        return nil
    }
    public func ints(_ key: AttributeKey) -> [Int]? { attribute(key)?.ints }
    public func int(_ key: AttributeKey) -> Int? {
        guard let a = attribute(key), a.words.count == 1 else { return nil }
        return a.ints[0]
    }
    public func float(_ key: AttributeKey) -> Float? {
        guard let a = attribute(key), a.words.count == 1 else { return nil }
        return a.floats[0]
    }
    /// "node 3 (Conv 'conv1')", for error messages.
    public func label(_ index: Int) -> String {
        name.isEmpty ? "node \(index) (\(code.name))" : "node \(index) (\(code.name) '\(name)')"
    }
}

/// A section table entry.
public struct SectionEntry: Sendable {
    public var kind: SectionKind
    public var flags: UInt32
    public var offset: Int
    public var length: Int
    public var checksum: UInt32
}

/// A validated `.vigil` model over bytes the caller keeps alive (a memory map or an array) for as
/// long as the model and any interpreter built from it are in use.
public struct Model: @unchecked Sendable {  // the bytes are immutable for the model's life
    public let bytes: UnsafeRawBufferPointer
    public var majorVersion: UInt16
    public var minorVersion: UInt16
    public var sections: [SectionEntry]
    public var tensors: [TensorInfo]
    public var ops: [OpInfo]
    public var inputs: [Int]
    public var outputs: [Int]

    /// The raw bytes of a section, if present.
    public func section(_ kind: SectionKind) -> UnsafeRawBufferPointer? {
        for s in sections where s.kind == kind {
            return UnsafeRawBufferPointer(rebasing: bytes[s.offset..<(s.offset + s.length)])
        }
        return nil
    }
    /// The metadata section's bytes (UTF-8 JSON).
    public var metadata: UnsafeRawBufferPointer? { section(.metadata) }

    /// A constant tensor's data, in place.
    public func constantData(_ tensor: Int) -> UnsafeRawBufferPointer {
        let t = tensors[tensor]
        return UnsafeRawBufferPointer(rebasing: bytes[t.dataOffset..<(t.dataOffset + t.byteCount)])
    }
}
