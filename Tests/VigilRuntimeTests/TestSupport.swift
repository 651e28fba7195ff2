// Shared helpers for the operator tests: a seeded RNG, model building and running, quantization
// helpers written independently of the runtime, Double reference implementations used by more than
// one file, and tolerance checks.
import Testing
@testable import VigilRuntime
import VigilModel

// MARK: - Random numbers

/// SplitMix64 (Steele, Lea, Flood 2014): tiny, seedable, good enough for test data.
struct SplitMix64: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
    /// Uniform in [0, 1).
    mutating func unit() -> Double { Double(next() >> 11) * 0x1p-53 }
    mutating func uniform(_ lo: Double, _ hi: Double) -> Double { lo + (hi - lo) * unit() }
    mutating func int(_ range: ClosedRange<Int>) -> Int {
        range.lowerBound + Int(next() % UInt64(range.upperBound - range.lowerBound + 1))
    }
    mutating func int8s(_ n: Int, _ range: ClosedRange<Int> = -128...127) -> [Int8] {
        (0..<n).map { _ in Int8(int(range)) }
    }
    mutating func doubles(_ n: Int, _ lo: Double, _ hi: Double) -> [Double] {
        (0..<n).map { _ in uniform(lo, hi) }
    }
    mutating func floats(_ n: Int, _ lo: Double = -1, _ hi: Double = 1) -> [Float] {
        (0..<n).map { _ in Float(uniform(lo, hi)) }
    }
}

// MARK: - Tensor data

enum TensorData {
    case f32([Float])
    case i8([Int8])
    case u8([UInt8])
    case i32([Int32])

    var bytes: [UInt8] {
        switch self {
        case .f32(let v): v.withUnsafeBytes { Array($0) }
        case .i8(let v): v.map { UInt8(bitPattern: $0) }
        case .u8(let v): v
        case .i32(let v): v.withUnsafeBytes { Array($0) }
        }
    }
}

func decodeInt8(_ b: [UInt8]) -> [Int8] { b.map { Int8(bitPattern: $0) } }
func decodeUInt8(_ b: [UInt8]) -> [UInt8] { b }
func decodeFloat(_ b: [UInt8]) -> [Float] {
    precondition(b.count % 4 == 0)
    return (0..<(b.count / 4)).map { i in
        Float(bitPattern: UInt32(b[4 * i]) | UInt32(b[4 * i + 1]) << 8 | UInt32(b[4 * i + 2]) << 16 | UInt32(b[4 * i + 3]) << 24)
    }
}

func product(_ shape: [Int]) -> Int { shape.reduce(1, *) }

// MARK: - Running models

struct RunResult {
    var outputs: [[UInt8]]
    var arenaBytes: Int
    var naiveBytes: Int
    var placements: [ArenaPlacement]

    func int8(_ i: Int = 0) -> [Int8] { decodeInt8(outputs[i]) }
    func uint8(_ i: Int = 0) -> [UInt8] { outputs[i] }
    func float(_ i: Int = 0) -> [Float] { decodeFloat(outputs[i]) }
}

struct TestFailure: Error, CustomStringConvertible {
    var description: String
    init(_ d: String) { description = d }
}

/// Serializes `b`, reads it back, prepares an interpreter, copies `inputs` in, invokes once and
/// returns copies of every output.
func runModel(_ b: ModelBuilder, _ inputs: [TensorData]) throws -> RunResult {
    let file = b.serialize()
    return try file.withUnsafeBytes { raw throws -> RunResult in
        let model = try ModelReader.read(raw)
        let interp = try Interpreter(model: model)
        guard inputs.count == interp.inputCount else {
            throw TestFailure("model has \(interp.inputCount) inputs, test gave \(inputs.count)")
        }
        for (i, d) in inputs.enumerated() {
            let bytes = d.bytes
            let dst = interp.input(i).bytes
            guard bytes.count == dst.count else {
                throw TestFailure("input \(i) is \(dst.count) bytes, test gave \(bytes.count)")
            }
            bytes.withUnsafeBytes { dst.copyMemory(from: $0) }
        }
        interp.invoke()
        var outs: [[UInt8]] = []
        for i in 0..<interp.outputCount { outs.append(Array(interp.output(i).bytes)) }
        return RunResult(outputs: outs, arenaBytes: interp.arenaBytes, naiveBytes: interp.naiveBytes,
                         placements: interp.placements)
    }
}

/// The error that reading or preparing `b` throws, or nil if it prepares.
func prepareError(_ b: ModelBuilder) -> VigilError? {
    let file = b.serialize()
    return file.withUnsafeBytes { raw -> VigilError? in
        do {
            let model = try ModelReader.read(raw)
            _ = try Interpreter(model: model)
            return nil
        } catch let e as VigilError {
            return e
        } catch {
            Issue.record("unexpected error type \(error)")
            return nil
        }
    }
}

/// One-op model: every non-constant input becomes a graph input, the one output the graph output.
func singleOp(_ code: OpCode, _ b: inout ModelBuilder, inputs: [Int], output: Int, graphInputs: [Int]? = nil,
              attributes: [Attribute] = []) {
    b.addOp(code, code.name.lowercased(), inputs: inputs, outputs: [output], attributes: attributes)
    b.inputs = graphInputs ?? inputs.filter { $0 >= 0 && !b.tensor($0).isConstant }
    b.outputs = [output]
}

// MARK: - Quantization written for the tests (not the runtime's helpers)

func dq(_ q: Int8, _ s: Float, _ z: Int32) -> Double { Double(s) * Double(Int32(q) - z) }
func dq(_ q: [Int8], _ s: Float, _ z: Int32) -> [Double] { q.map { dq($0, s, z) } }

/// Symmetric per-output-channel int8 weights (axis 0), scale = max|w| / 127.
func quantizeWeights(_ w: [Double], channels: Int) -> (q: [Int8], scales: [Float], dequantized: [Double]) {
    let per = w.count / channels
    var q: [Int8] = [], scales: [Float] = [], d: [Double] = []
    for c in 0..<channels {
        let slice = w[(c * per)..<((c + 1) * per)]
        let m = slice.map { abs($0) }.max() ?? 0
        let s = Float(max(m, 1e-6) / 127)
        scales.append(s)
        for v in slice {
            let r = max(min((v / Double(s)).rounded(), 127), -127)
            q.append(Int8(r))
            d.append(Double(s) * r)
        }
    }
    return (q, scales, d)
}

/// int32 bias with scale s_x * s_w[c], zero point 0.
func quantizeBias(_ b: [Double], inputScale: Float, weightScales: [Float]) -> (q: [Int32], dequantized: [Double]) {
    var q: [Int32] = [], d: [Double] = []
    for (c, v) in b.enumerated() {
        let s = Double(inputScale) * Double(weightScales[c])
        let r = (v / s).rounded()
        q.append(Int32(r))
        d.append(r * s)
    }
    return (q, d)
}

/// An output quantization for reference values `ref`: the int8 range covers `fraction` of their
/// span (fraction < 1 forces saturation at both ends).
func outputQuantization(for ref: [Double], fraction: Double = 0.9) -> (scale: Float, zeroPoint: Int32) {
    let lo = ref.min() ?? 0, hi = ref.max() ?? 1
    let span = max(hi - lo, 1e-3)
    let s = span * fraction / 255
    let mid = (hi + lo) / 2
    let z = min(max((-mid / s).rounded(), -128), 127)
    return (Float(s), Int32(z))
}

// MARK: - Fused activations

enum Act: Sendable, CustomStringConvertible {
    case none, relu, relu6
    case clip(Float, Float)

    var attributes: [Attribute] {
        switch self {
        case .none: []
        case .relu: [Attribute(.activation, int: 1)]
        case .relu6: [Attribute(.activation, int: 2)]
        case .clip(let lo, let hi): [Attribute(.activation, int: 3), Attribute(.clipMin, float: lo), Attribute(.clipMax, float: hi)]
        }
    }
    func apply(_ v: Double) -> Double {
        switch self {
        case .none: v
        case .relu: max(v, 0)
        case .relu6: min(max(v, 0), 6)
        case .clip(let lo, let hi): min(max(v, Double(lo)), Double(hi))
        }
    }
    var description: String {
        switch self {
        case .none: "none"
        case .relu: "relu"
        case .relu6: "relu6"
        case .clip(let lo, let hi): "clip(\(lo), \(hi))"
        }
    }
}

// MARK: - Tolerance checks

/// Every int8 output, dequantized, is within `steps` output steps of the reference clamped to the
/// representable range; where the reference lies at least one step beyond that range the output
/// must be exactly -128 or 127 (saturation). Returns how many outputs saturated that way.
///
/// Also, unless `rounding` is nil: every output is within `rounding` steps (default half a step plus
/// 1% for the multiplier encoding). Every int8 operator rounds its exact integer result once, so
/// this catches a wrong rounding rule (truncation, floor) that the one-step bound lets through.
@discardableResult
func expectInt8Close(_ out: [Int8], scale: Float, zeroPoint: Int32, reference: [Double], steps: Double = 1,
                     rounding: Double? = 0.51,
                     _ what: String = "", sourceLocation: SourceLocation = #_sourceLocation) -> Int {
    guard out.count == reference.count else {
        Issue.record("\(what): \(out.count) outputs, \(reference.count) reference values", sourceLocation: sourceLocation)
        return 0
    }
    let s = Double(scale)
    let rmin = s * Double(-128 - zeroPoint), rmax = s * Double(127 - zeroPoint)
    var bad = 0, saturated = 0, first = "", coarse = 0, firstCoarse = ""
    for i in 0..<out.count {
        let r = reference[i]
        let got = dq(out[i], scale, zeroPoint)
        let err = abs(got - min(max(r, rmin), rmax))
        if let rounding, err > rounding * s {
            if coarse == 0 { firstCoarse = "index \(i): got q=\(out[i]) (\(got)), reference \(r), error \(err / s) steps" }
            coarse += 1
        }
        var ok = err <= steps * s * (1 + 1e-9)
        if r >= rmax + s { ok = ok && out[i] == 127; saturated += 1 }
        if r <= rmin - s { ok = ok && out[i] == -128; saturated += 1 }
        if !ok {
            if bad == 0 { first = "index \(i): got q=\(out[i]) (\(got)), reference \(r), scale \(scale), zero point \(zeroPoint)" }
            bad += 1
        }
    }
    #expect(bad == 0, "\(what): \(bad) of \(out.count) int8 outputs off by more than \(steps) step(s); first \(first)",
            sourceLocation: sourceLocation)
    if let rounding {
        #expect(coarse == 0, "\(what): \(coarse) of \(out.count) int8 outputs off by more than \(rounding) step (rounding); first \(firstCoarse)",
                sourceLocation: sourceLocation)
    }
    return saturated
}

/// |out - ref| <= tol * max(|ref|, 1) for every element.
func expectFloatClose(_ out: [Float], _ reference: [Double], tolerance: Double = 1e-5, _ what: String = "",
                      sourceLocation: SourceLocation = #_sourceLocation) {
    guard out.count == reference.count else {
        Issue.record("\(what): \(out.count) outputs, \(reference.count) reference values", sourceLocation: sourceLocation)
        return
    }
    var bad = 0, first = ""
    for i in 0..<out.count {
        let r = reference[i], got = Double(out[i])
        let ok = r.isNaN ? got.isNaN : (r.isInfinite ? got == r : abs(got - r) <= tolerance * max(abs(r), 1))
        if !ok {
            if bad == 0 { first = "index \(i): got \(got), reference \(r)" }
            bad += 1
        }
    }
    #expect(bad == 0, "\(what): \(bad) of \(out.count) float outputs outside tolerance \(tolerance); first \(first)",
            sourceLocation: sourceLocation)
}

/// Exact equality with a readable first mismatch.
func expectExact<T: Equatable>(_ out: [T], _ reference: [T], _ what: String = "",
                               sourceLocation: SourceLocation = #_sourceLocation) {
    guard out.count == reference.count else {
        Issue.record("\(what): \(out.count) outputs, \(reference.count) expected", sourceLocation: sourceLocation)
        return
    }
    var bad = 0, first = ""
    for i in 0..<out.count where out[i] != reference[i] {
        if bad == 0 { first = "index \(i): got \(out[i]), expected \(reference[i])" }
        bad += 1
    }
    #expect(bad == 0, "\(what): \(bad) of \(out.count) outputs differ; first \(first)", sourceLocation: sourceLocation)
}

/// Bitwise float equality (so -0 vs 0 and NaN payloads do not hide).
func expectBitExact(_ out: [Float], _ reference: [Float], _ what: String = "",
                    sourceLocation: SourceLocation = #_sourceLocation) {
    expectExact(out.map(\.bitPattern), reference.map(\.bitPattern), what, sourceLocation: sourceLocation)
}

// MARK: - Reference geometry (sliding windows), independent of ConvGeometry

/// Window geometry for 1 or 2 spatial dims; 1D is handled as height 1.
struct Window {
    var inH: Int, inW: Int, kH: Int, kW: Int
    var sH: Int, sW: Int, dH: Int, dW: Int
    var padTop: Int, padLeft: Int, padBottom: Int, padRight: Int
    var outH: Int { (inH + padTop + padBottom - ((kH - 1) * dH + 1)) / sH + 1 }
    var outW: Int { (inW + padLeft + padRight - ((kW - 1) * dW + 1)) / sW + 1 }

    /// spatial: [H, W] or [L]; strides/dilations per spatial dim; pads all begins then all ends.
    init(spatial: [Int], kernel: [Int], strides: [Int]?, pads: [Int]?, dilations: [Int]?) {
        let r = spatial.count
        let st = strides ?? [Int](repeating: 1, count: r)
        let di = dilations ?? [Int](repeating: 1, count: r)
        let pd = pads ?? [Int](repeating: 0, count: 2 * r)
        if r == 2 {
            (inH, inW, kH, kW) = (spatial[0], spatial[1], kernel[0], kernel[1])
            (sH, sW, dH, dW) = (st[0], st[1], di[0], di[1])
            (padTop, padLeft, padBottom, padRight) = (pd[0], pd[1], pd[2], pd[3])
        } else {
            (inH, inW, kH, kW) = (1, spatial[0], 1, kernel[0])
            (sH, sW, dH, dW) = (1, st[0], 1, di[0])
            (padTop, padLeft, padBottom, padRight) = (0, pd[0], 0, pd[1])
        }
    }
    func outSpatial(rank: Int) -> [Int] { rank == 2 ? [outH, outW] : [outW] }

    /// Input positions (iy, ix) of window (oy, ox), and whether each is inside the input.
    func taps(_ oy: Int, _ ox: Int) -> [(iy: Int, ix: Int, inside: Bool, ky: Int, kx: Int)] {
        var out: [(Int, Int, Bool, Int, Int)] = []
        for ky in 0..<kH {
            for kx in 0..<kW {
                let iy = oy * sH - padTop + ky * dH, ix = ox * sW - padLeft + kx * dW
                out.append((iy, ix, iy >= 0 && iy < inH && ix >= 0 && ix < inW, ky, kx))
            }
        }
        return out
    }
}

/// Reference grouped convolution in Double, NCHW (or NCL), weights [M, C/group, k...].
func referenceConv(x: [Double], batch: Int, inChannels: Int, window: Window, w: [Double], outChannels: Int,
                   bias: [Double]?, group: Int) -> [Double] {
    let icpg = inChannels / group, ocpg = outChannels / group
    let (H, W, kH, kW) = (window.inH, window.inW, window.kH, window.kW)
    var y: [Double] = []
    y.reserveCapacity(batch * outChannels * window.outH * window.outW)
    for n in 0..<batch {
        for oc in 0..<outChannels {
            let g = oc / ocpg
            for oy in 0..<window.outH {
                for ox in 0..<window.outW {
                    var acc = bias?[oc] ?? 0
                    for t in window.taps(oy, ox) where t.inside {
                        for icg in 0..<icpg {
                            let ic = g * icpg + icg
                            let xv = x[((n * inChannels + ic) * H + t.iy) * W + t.ix]
                            let wv = w[((oc * icpg + icg) * kH + t.ky) * kW + t.kx]
                            acc += xv * wv
                        }
                    }
                    y.append(acc)
                }
            }
        }
    }
    return y
}

/// Offset of a multi-index into a row-major tensor of `shape`.
func offset(_ index: [Int], _ shape: [Int]) -> Int {
    var o = 0
    for d in 0..<shape.count { o = o * shape[d] + index[d] }
    return o
}

/// All multi-indices of `shape` in C order.
func allIndices(_ shape: [Int]) -> [[Int]] {
    var out: [[Int]] = []
    let n = product(shape)
    out.reserveCapacity(n)
    var idx = [Int](repeating: 0, count: shape.count)
    for _ in 0..<n {
        out.append(idx)
        var d = shape.count - 1
        while d >= 0 {
            idx[d] += 1
            if idx[d] < shape[d] { break }
            idx[d] = 0
            d -= 1
        }
    }
    return out
}

/// NumPy broadcasting of input `shape` onto output index `outIndex` (right-aligned, size-1 dims pinned).
func broadcastOffset(_ outIndex: [Int], _ shape: [Int]) -> Int {
    let lead = outIndex.count - shape.count
    var o = 0
    for d in 0..<shape.count { o = o * shape[d] + (shape[d] == 1 ? 0 : outIndex[lead + d]) }
    return o
}
