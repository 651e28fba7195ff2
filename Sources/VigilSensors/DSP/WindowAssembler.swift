/// Cuts a sample stream into fixed windows for a model: a window of `length` samples every `hop`
/// samples (hop < length overlaps, hop > length skips), normalized as the model's preprocessing
/// recipe says. Storage is allocated once; appending a sample never allocates.
public struct WindowAssembler: Sendable {
    /// How a finished window is scaled before it is handed out.
    public enum Normalization: Sendable, Equatable {
        /// Samples as they are.
        case none
        /// Subtract the window's mean.
        case meanSubtraction
        /// Subtract the window's mean and divide by its standard deviation (+ `epsilon`, so a flat
        /// window gives zeros rather than NaN).
        case zScore(epsilon: Float = 1e-6)
        /// A fixed recipe: x' = (x · scale + offset − mean) / std (a `ModelMetadata` preprocessing
        /// recipe with one channel).
        case affine(scale: Float, offset: Float, mean: Float, std: Float)
    }

    /// Samples per window.
    public let length: Int
    /// Samples from one window's start to the next's.
    public let hop: Int
    /// Scaling of each window.
    public let normalization: Normalization
    private var buffer: [Float]
    private var output: [Float]
    private var filled = 0
    private var skip = 0
    /// Windows handed out so far.
    public private(set) var windowCount = 0

    /// An assembler; `length` and `hop` must be positive, and `.affine`'s std non-zero.
    public init(length: Int, hop: Int, normalization: Normalization = .none) throws(SensorsError) {
        guard length > 0, hop > 0 else { throw SensorsError(.invalidValue, "window length \(length) and hop \(hop) must be positive") }
        if case .affine(_, _, _, let std) = normalization, !(std != 0 && std.isFinite) {
            throw SensorsError(.invalidValue, "window normalization: std \(std) must be finite and non-zero")
        }
        self.length = length
        self.hop = hop
        self.normalization = normalization
        buffer = [Float](repeating: 0, count: length)
        output = [Float](repeating: 0, count: length)
    }

    /// Index (in the input stream) of the first sample of the next window to be handed out.
    public var nextWindowStart: Int { windowCount * hop }

    /// Appends one sample; when it completes a window, calls `emit` with the normalized window
    /// (valid only during the call).
    public mutating func append(_ x: Float, _ emit: (UnsafeBufferPointer<Float>) -> Void) {
        if skip > 0 { skip -= 1; return }
        buffer[filled] = x
        filled += 1
        guard filled == length else { return }
        normalize()
        output.withUnsafeBufferPointer { emit($0) }
        windowCount += 1
        if hop < length {
            // Keep the overlap: move the last length − hop samples to the front.
            buffer.withUnsafeMutableBufferPointer { b in
                for i in 0..<(length - hop) { b[i] = b[i + hop] }
            }
            filled = length - hop
        } else {
            filled = 0
            skip = hop - length
        }
    }

    /// Appends a block, calling `emit` for each window it completes.
    public mutating func append(contentsOf samples: some Sequence<Float>, _ emit: (UnsafeBufferPointer<Float>) -> Void) {
        for x in samples { append(x, emit) }
    }

    private mutating func normalize() {
        let n = Float(length)
        switch normalization {
        case .none:
            for i in 0..<length { output[i] = buffer[i] }
        case .meanSubtraction, .zScore:
            var sum = 0.0
            for v in buffer { sum += Double(v) }
            let mean = sum / Double(n)
            var scale: Float = 1
            if case .zScore(let eps) = normalization {
                var ss = 0.0
                for v in buffer { ss += (Double(v) - mean) * (Double(v) - mean) }
                scale = 1 / (Float((ss / Double(n)).squareRoot()) + eps)
            }
            for i in 0..<length { output[i] = (buffer[i] - Float(mean)) * scale }
        case .affine(let scale, let offset, let mean, let std):
            for i in 0..<length { output[i] = (buffer[i] * scale + offset - mean) / std }
        }
    }
}
