/// Constants of the `.vigil` container, version 1.0. docs/FORMAT.md is the normative description;
/// every number here appears there.
public enum VigilFormat {
    /// 0x89 'V' 'I' 'G' 'L' '\r' '\n' 0x1A: a high byte and CR/LF catch 7-bit and newline mangling.
    public static let magic: [UInt8] = [0x89, 0x56, 0x49, 0x47, 0x4C, 0x0D, 0x0A, 0x1A]
    public static let majorVersion: UInt16 = 1
    public static let minorVersion: UInt16 = 0
    public static let headerSize = 64
    public static let sectionEntrySize = 32
    public static let tensorRecordSize = 64
    public static let alignment = 64
    public static let maxRank = 6
    public static let maxSections = 32
    /// Upper bounds that keep every size computation far from overflow on 32-bit targets too.
    public static let maxTensors = 1 << 20
    public static let maxOps = 1 << 20
    public static let maxElements = 1 << 31 - 1
}

/// Section kinds: four ASCII characters read as a little-endian UInt32.
public struct SectionKind: Equatable, Sendable {
    public let rawValue: UInt32
    public init(rawValue: UInt32) { self.rawValue = rawValue }
    init(_ s: StaticString) {
        let p = s.utf8Start
        rawValue = UInt32(p[0]) | UInt32(p[1]) << 8 | UInt32(p[2]) << 16 | UInt32(p[3]) << 24
    }
    public static let metadata = SectionKind("META")
    public static let strings = SectionKind("STRS")
    public static let tensors = SectionKind("TENS")
    public static let graph = SectionKind("GRPH")
    public static let weights = SectionKind("WGHT")
    public static let plan = SectionKind("PLAN")
    public static let signature = SectionKind("SIGN")

    /// The four characters, for messages.
    public var text: String {
        var bytes: [UInt8] = []
        for i in 0..<4 {
            let b = UInt8(truncatingIfNeeded: rawValue >> (8 * UInt32(i)))
            bytes.append((b >= 0x20 && b < 0x7F) ? b : 0x3F)
        }
        return String(decoding: bytes, as: UTF8.self)
    }
}

/// Element types. Raw values are the on-disk codes.
public enum DType: UInt8, Sendable {
    case float32 = 1
    case int8 = 2
    case int32 = 3
    case uint8 = 4

    public var byteSize: Int {
        switch self {
        case .float32, .int32: 4
        case .int8, .uint8: 1
        }
    }
    public var name: String {
        switch self {
        case .float32: "float32"
        case .int8: "int8"
        case .int32: "int32"
        case .uint8: "uint8"
        }
    }
}

/// Operators. Raw values are the on-disk codes; docs/FORMAT.md lists operands and attributes.
public enum OpCode: UInt16, Sendable, CaseIterable {
    case conv = 1
    case depthwiseConv = 2
    case fullyConnected = 3
    case add = 4
    case mul = 5
    case concat = 6
    case maxPool = 7
    case averagePool = 8
    case globalAveragePool = 9
    case clip = 10
    case leakyRelu = 11
    case sigmoid = 12
    case tanh = 13
    case hardSwish = 14
    case softmax = 15
    case reshape = 16
    case transpose = 17
    case pad = 18
    case quantize = 19
    case dequantize = 20
    case lstm = 21
    case gru = 22
    case slice = 23
    case hardSigmoid = 24
    case matMul = 25
    case layerNormalization = 26
    case erf = 27
    case gelu = 28
    case reduce = 33
    case unaryFunction = 34
    case sub = 35
    case div = 36
    case max = 37
    case min = 38
    case expand = 39
    case resize = 40
    case zeroInsert = 41

    public var name: String {
        switch self {
        case .conv: "Conv"
        case .depthwiseConv: "DepthwiseConv"
        case .fullyConnected: "FullyConnected"
        case .add: "Add"
        case .mul: "Mul"
        case .concat: "Concat"
        case .maxPool: "MaxPool"
        case .averagePool: "AveragePool"
        case .globalAveragePool: "GlobalAveragePool"
        case .clip: "Clip"
        case .leakyRelu: "LeakyRelu"
        case .sigmoid: "Sigmoid"
        case .tanh: "Tanh"
        case .hardSwish: "HardSwish"
        case .softmax: "Softmax"
        case .reshape: "Reshape"
        case .transpose: "Transpose"
        case .pad: "Pad"
        case .quantize: "Quantize"
        case .dequantize: "Dequantize"
        case .lstm: "LSTM"
        case .gru: "GRU"
        case .slice: "Slice"
        case .hardSigmoid: "HardSigmoid"
        case .matMul: "MatMul"
        case .layerNormalization: "LayerNormalization"
        case .erf: "Erf"
        case .gelu: "Gelu"
        case .reduce: "Reduce"
        case .unaryFunction: "UnaryFunction"
        case .sub: "Sub"
        case .div: "Div"
        case .max: "Max"
        case .min: "Min"
        case .expand: "Expand"
        case .resize: "Resize"
        case .zeroInsert: "ZeroInsert"
        }
    }
}

/// Attribute keys. Values are lists of 32-bit words: int32, or float32 bit patterns.
public enum AttributeKey: UInt16, Sendable, CaseIterable {
    case strides = 1          // int32[spatial rank]
    case pads = 2             // int32[2 * spatial rank]: all begins, then all ends
    case dilations = 3        // int32[spatial rank]
    case group = 4            // int32[1]
    case axis = 5             // int32[1]
    case perm = 6             // int32[rank]
    case kernelShape = 7      // int32[spatial rank]
    case activation = 8       // int32[1]: FusedActivation raw value
    case clipMin = 9          // float32[1]
    case clipMax = 10         // float32[1]
    case alpha = 11           // float32[1]
    case countIncludePad = 12 // int32[1]: 0 or 1
    case padMode = 13         // int32[1]: PadMode raw value
    case padValue = 14        // float32[1]
    case direction = 15       // int32[1]: RecurrentDirection raw value
    case layout = 16          // int32[1]: 0 = [seq, batch, ...], 1 = [batch, seq, ...] (ONNX layout)
    case linearBeforeReset = 17 // int32[1]: 0 or 1 (GRU)
    case cellClip = 18        // float32[1]: |gate pre-activation| bound (ONNX clip); absent = none
    case starts = 19          // int32[rank]: first input index per axis (Slice)
    case steps = 20           // int32[rank]: input step per axis, may be negative (Slice)
    case beta = 21            // float32[1]: HardSigmoid offset
    case epsilon = 22         // float32[1]: LayerNormalization's variance offset
    case approximate = 23     // int32[1]: Gelu form, 0 exact (erf), 1 tanh
    case function = 28        // int32[1]: ReduceFunction (Reduce) or UnaryFunction (UnaryFunction) raw value
    case axes = 29            // int32[k]: reduced axes, ascending, 0 <= axis < rank (Reduce)
    case resizeMode = 32      // int32[1]: ResizeMode raw value (Resize)
    case coordinateMode = 33  // int32[1]: ResizeCoordinates raw value (Resize)
    case nearestMode = 34     // int32[1]: NearestRounding raw value (Resize)
    case scales = 35          // float32[spatial rank]: Resize scale per spatial axis; absent = out / in

    public var isFloat: Bool {
        switch self {
        case .clipMin, .clipMax, .alpha, .padValue, .cellClip, .beta, .epsilon, .scales: true
        default: false
        }
    }
    public var name: String {
        switch self {
        case .strides: "strides"
        case .pads: "pads"
        case .dilations: "dilations"
        case .group: "group"
        case .axis: "axis"
        case .perm: "perm"
        case .kernelShape: "kernel_shape"
        case .activation: "activation"
        case .clipMin: "clip_min"
        case .clipMax: "clip_max"
        case .alpha: "alpha"
        case .countIncludePad: "count_include_pad"
        case .padMode: "pad_mode"
        case .padValue: "pad_value"
        case .direction: "direction"
        case .layout: "layout"
        case .linearBeforeReset: "linear_before_reset"
        case .cellClip: "cell_clip"
        case .starts: "starts"
        case .steps: "steps"
        case .beta: "beta"
        case .epsilon: "epsilon"
        case .approximate: "approximate"
        case .function: "function"
        case .axes: "axes"
        case .resizeMode: "resize_mode"
        case .coordinateMode: "coordinate_mode"
        case .nearestMode: "nearest_mode"
        case .scales: "scales"
        }
    }
}

/// Activation fused into Conv, DepthwiseConv, FullyConnected, Add and Mul.
public enum FusedActivation: Int32, Sendable {
    case none = 0
    case relu = 1
    case relu6 = 2
    /// Clamp to [clip_min, clip_max] (float attributes of the op).
    case clip = 3
}

public enum PadMode: Int32, Sendable {
    case constant = 0
    case edge = 1
    case reflect = 2
}

/// What a Reduce operator computes over its axes.
public enum ReduceFunction: Int32, Sendable {
    case mean = 1
    case sum = 2
    case max = 3
    case min = 4

    public var name: String {
        switch self {
        case .mean: "mean"
        case .sum: "sum"
        case .max: "max"
        case .min: "min"
        }
    }
}

/// The function of a UnaryFunction operator (ONNX Exp, Log, Sqrt, Neg, Abs, Reciprocal, and Pow with
/// a constant exponent, which the `alpha` attribute holds).
public enum UnaryFunction: Int32, Sendable {
    case exp = 1
    case log = 2
    case sqrt = 3
    case neg = 4
    case abs = 5
    case reciprocal = 6
    case pow = 7

    public var name: String {
        switch self {
        case .exp: "exp"
        case .log: "log"
        case .sqrt: "sqrt"
        case .neg: "neg"
        case .abs: "abs"
        case .reciprocal: "reciprocal"
        case .pow: "pow"
        }
    }
}

/// Direction of LSTM and GRU: forward, reverse, or both (outputs of the two stacked on the
/// direction axis, forward first).
public enum RecurrentDirection: Int32, Sendable {
    case forward = 0
    case reverse = 1
    case bidirectional = 2
}

/// Interpolation of Resize.
public enum ResizeMode: Int32, Sendable {
    case nearest = 0
    case linear = 1
}

/// How Resize maps an output coordinate to an input coordinate (ONNX coordinate_transformation_mode).
public enum ResizeCoordinates: Int32, Sendable {
    case halfPixel = 0
    case pytorchHalfPixel = 1
    case alignCorners = 2
    case asymmetric = 3
    case tfHalfPixelForNN = 4
    case halfPixelSymmetric = 5
}

/// How nearest-mode Resize rounds an input coordinate to an index (ONNX nearest_mode).
public enum NearestRounding: Int32, Sendable {
    case roundPreferFloor = 0
    case roundPreferCeil = 1
    case floor = 2
    case ceil = 3
}
