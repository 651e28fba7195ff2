public import VigilModel
#if canImport(CVigilKernels)
internal import CVigilKernels
#endif

/// A prepared operator: one case per operator, dispatched by `switch` (no existentials, so the
/// core compiles as Embedded Swift). Each payload is one reference to the operator's immutable state:
/// matching a case whose payload is the state struct itself copies it out of the enum (a retain and
/// a release for every array it holds, every operator, every invoke); a `let` behind a reference is
/// used in place.
enum PreparedOp {
    case conv(Prepared<ConvOp>)
    case depthwiseConv(Prepared<DepthwiseConvOp>)
    case fullyConnected(Prepared<FullyConnectedOp>)
    case add(Prepared<AddOp>)
    case mul(Prepared<MulOp>)
    case concat(Prepared<ConcatOp>)
    case maxPool(Prepared<MaxPoolOp>)
    case averagePool(Prepared<AveragePoolOp>)
    case unary(Prepared<UnaryOp>)
    case softmax(Prepared<SoftmaxOp>)
    case copy(Prepared<ReshapeOp>)
    case transpose(Prepared<TransposeOp>)
    case pad(Prepared<PadOp>)
    case quantize(Prepared<QuantizeOp>)
    case dequantize(Prepared<DequantizeOp>)
    case lstm(Prepared<LSTMOp>)
    case gru(Prepared<GRUOp>)
    case slice(Prepared<SliceOp>)
    case matMul(Prepared<MatMulOp>)
    case layerNormalization(Prepared<LayerNormalizationOp>)
    case reduce(Prepared<ReduceOp>)
    case div(Prepared<DivOp>)
    case maxMin(Prepared<MaxMinOp>)
    case expand(Prepared<ExpandOp>)
    case resize(Prepared<ResizeOp>)
    case zeroInsert(Prepared<ZeroInsertOp>)

    static func prepare(_ c: OpContext) throws(VigilError) -> PreparedOp {
        switch c.op.code {
        case .conv: .conv(Prepared(try ConvOp(c)))
        case .depthwiseConv: .depthwiseConv(Prepared(try DepthwiseConvOp(c)))
        case .fullyConnected: .fullyConnected(Prepared(try FullyConnectedOp(c)))
        case .add: .add(Prepared(try AddOp(c)))
        case .mul: .mul(Prepared(try MulOp(c)))
        case .concat: .concat(Prepared(try ConcatOp(c)))
        case .maxPool: .maxPool(Prepared(try MaxPoolOp(c)))
        case .averagePool: .averagePool(Prepared(try AveragePoolOp(c, global: false)))
        case .globalAveragePool: .averagePool(Prepared(try AveragePoolOp(c, global: true)))
        case .clip: .unary(Prepared(try UnaryOp(c, .clip)))
        case .leakyRelu: .unary(Prepared(try UnaryOp(c, .leakyRelu)))
        case .sigmoid: .unary(Prepared(try UnaryOp(c, .sigmoid)))
        case .tanh: .unary(Prepared(try UnaryOp(c, .tanh)))
        case .hardSwish: .unary(Prepared(try UnaryOp(c, .hardSwish)))
        case .hardSigmoid: .unary(Prepared(try UnaryOp(c, .hardSigmoid)))
        case .softmax: .softmax(Prepared(try SoftmaxOp(c)))
        case .reshape: .copy(Prepared(try ReshapeOp(c)))
        case .transpose: .transpose(Prepared(try TransposeOp(c)))
        case .pad: .pad(Prepared(try PadOp(c)))
        case .quantize: .quantize(Prepared(try QuantizeOp(c)))
        case .dequantize: .dequantize(Prepared(try DequantizeOp(c)))
        case .lstm: .lstm(Prepared(try LSTMOp(c)))
        case .gru: .gru(Prepared(try GRUOp(c)))
        case .slice: .slice(Prepared(try SliceOp(c)))
        case .matMul: .matMul(Prepared(try MatMulOp(c)))
        case .layerNormalization: .layerNormalization(Prepared(try LayerNormalizationOp(c)))
        case .erf: .unary(Prepared(try UnaryOp(c, .erf)))
        case .gelu: .unary(Prepared(try UnaryOp(c, .gelu)))
        case .reduce: .reduce(Prepared(try ReduceOp(c)))
        case .unaryFunction: .unary(Prepared(try UnaryOp(c, .function)))
        case .sub: .add(Prepared(try AddOp(c, subtract: true)))
        case .div: .div(Prepared(try DivOp(c)))
        case .max: .maxMin(Prepared(try MaxMinOp(c, max: true)))
        case .min: .maxMin(Prepared(try MaxMinOp(c, max: false)))
        case .expand: .expand(Prepared(try ExpandOp(c)))
        case .resize: .resize(Prepared(try ResizeOp(c)))
        case .zeroInsert: .zeroInsert(Prepared(try ZeroInsertOp(c)))
        }
    }

    /// Scratch bytes with `threads` intra-op threads (a plan knows which of its kernels work in
    /// per-thread copies).
    func scratchBytes(threads: Int) -> Int {
        switch self {
        case .conv(let p): p.op.scratchBytes(threads: threads)
        case .depthwiseConv(let p): p.op.scratchBytes(threads: threads)
        case .lstm(let p): p.op.scratchBytes
        case .gru(let p): p.op.scratchBytes
        default: 0
        }
    }

    /// `pool` is the interpreter's intra-op worker pool (nil: one thread); conv, depthwise and
    /// fully connected operators split their kernel calls across it.
    @inline(__always) func eval(_ t: SlotTable, _ pool: OpaquePointer?) {
        switch self {
        case .conv(let p): p.op.eval(t, pool)
        case .depthwiseConv(let p): p.op.eval(t, pool)
        case .fullyConnected(let p): p.op.eval(t, pool)
        case .add(let p): p.op.eval(t)
        case .mul(let p): p.op.eval(t)
        case .concat(let p): p.op.eval(t)
        case .maxPool(let p): p.op.eval(t)
        case .averagePool(let p): p.op.eval(t)
        case .unary(let p): p.op.eval(t)
        case .softmax(let p): p.op.eval(t)
        case .copy(let p): p.op.eval(t)
        case .transpose(let p): p.op.eval(t)
        case .pad(let p): p.op.eval(t)
        case .quantize(let p): p.op.eval(t)
        case .dequantize(let p): p.op.eval(t)
        case .lstm(let p): p.op.eval(t)
        case .gru(let p): p.op.eval(t)
        case .slice(let p): p.op.eval(t)
        case .matMul(let p): p.op.eval(t)
        case .layerNormalization(let p): p.op.eval(t)
        case .reduce(let p): p.op.eval(t)
        case .div(let p): p.op.eval(t)
        case .maxMin(let p): p.op.eval(t)
        case .expand(let p): p.op.eval(t)
        case .resize(let p): p.op.eval(t)
        case .zeroInsert(let p): p.op.eval(t)
        }
    }
}

/// Holds an operator's prepared state behind one reference (see `PreparedOp`).
final class Prepared<Op> {
    let op: Op
    init(_ op: Op) { self.op = op }
}

/// A tensor's description and its bytes in the arena.
public struct TensorView {
    public let index: Int
    public let info: TensorInfo
    public let bytes: UnsafeMutableRawBufferPointer

    /// The values as float32: `(q - zero point) * scale` per tensor or per axis for quantized
    /// tensors (the Dequantize rule of docs/FORMAT.md), unchanged for float32 ones.
    public func dequantized() -> [Float] {
        let n = info.elementCount
        if info.dtype == .float32 { return Array(UnsafeBufferPointer(start: bytes.baseAddress!.assumingMemoryBound(to: Float.self), count: n)) }
        let q = info.quantization ?? Quantization(scale: 1, zeroPoint: 0)
        let (outer, channels, inner) = axisSplit(info.shape, q.axis)
        var out = [Float](repeating: 0, count: n)
        var i = 0
        for _ in 0..<outer {
            for c in 0..<channels {
                let s = q.scales[q.isPerTensor ? 0 : c], z = q.zeroPoints[q.isPerTensor ? 0 : c]
                for _ in 0..<inner {
                    let raw: Int64
                    switch info.dtype {
                    case .int8: raw = Int64(bytes.load(fromByteOffset: i, as: Int8.self))
                    case .uint8: raw = Int64(bytes.load(fromByteOffset: i, as: UInt8.self))
                    default: raw = Int64(bytes.load(fromByteOffset: 4 * i, as: Int32.self))
                    }
                    out[i] = Float(raw - Int64(z)) * s
                    i += 1
                }
            }
        }
        return out
    }

    /// Stores float values into the tensor: copied for float32, quantized for int8/uint8 with the
    /// Quantize rule of docs/FORMAT.md (round half to even, saturate; NaN becomes the zero point).
    /// Returns false, writing nothing, when the count differs, the tensor is int32, or it is
    /// quantized per axis (model inputs are per tensor).
    @discardableResult
    public func store(_ values: [Float]) -> Bool {
        let n = info.elementCount
        guard values.count == n else { return false }
        switch info.dtype {
        case .float32:
            values.withUnsafeBytes { bytes.copyMemory(from: $0) }
            return true
        case .int8, .uint8:
            let q = info.quantization ?? Quantization(scale: 1, zeroPoint: 0)
            guard q.isPerTensor else { return false }
            let s = q.scales[0], z = Float(q.zeroPoints[0])
            let (lo, hi): (Float, Float) = info.dtype == .int8 ? (-128, 127) : (0, 255)
            for i in 0..<n {
                let r = (values[i] / s).rounded(.toNearestOrEven) + z
                let c = r.isNaN ? z : min(max(r, lo), hi)
                if info.dtype == .int8 { bytes.storeBytes(of: Int8(c), toByteOffset: i, as: Int8.self) } else { bytes.storeBytes(of: UInt8(c), toByteOffset: i, as: UInt8.self) }
            }
            return true
        default:
            return false
        }
    }
}

/// Where the planner put one buffer.
public struct ArenaPlacement: Sendable {
    /// Tensor index, or nil for an op's scratch buffer.
    public var tensor: Int?
    /// Op index for scratch buffers.
    public var op: Int?
    public var offset: Int
    public var size: Int
    public var firstOp: Int
    public var lastOp: Int
}

/// Runs a validated model. All memory is planned and allocated in `init`: one arena for
/// activations and scratch, prepared operator state, and the slot table. `invoke()` then runs
/// every operator in order with no allocation, no locks and no checks.
///
/// With `threads` > 1, convolution, depthwise and fully connected kernels are split across that many
/// threads (the caller plus workers started once here); outputs are bit-identical to one thread.
///
/// Not thread-safe: one interpreter per thread (they can share the model bytes).
public final class Interpreter {
    public let model: Model
    let ops: [PreparedOp]
    let arena: UnsafeMutableRawPointer
    let slots: UnsafeMutablePointer<UnsafeMutableRawPointer>
    let slotCount: Int
    /// Bytes of the planned arena.
    public let arenaBytes: Int
    /// What the activations and scratch would take if every buffer had its own memory.
    public let naiveBytes: Int
    public let placements: [ArenaPlacement]
    /// Intra-op threads actually in use (1 unless more were asked for and could be started).
    public let threads: Int
    /// The worker pool (vigil_pool), nil for one thread.
    let pool: OpaquePointer?

    /// Prepares `model`. An arena larger than `maxArenaBytes` (default 1 GiB) is refused with
    /// `out-of-memory` rather than attempted: a lying file must not take the device down.
    /// How operators with both forms run: the C kernels (the default), or the Swift reference twins
    /// (the oracle the kernels are tested against).
    public enum Kernels: Sendable { case optimized, reference }

    /// `threads` (default 1) sets the intra-op threads: the C kernels of conv, depthwise and fully
    /// connected operators run on that many threads, each on its own part of the output, so the
    /// results do not depend on it. Workers are started here and stopped when the interpreter goes;
    /// `invoke()` stays allocation-free. Ignored (one thread) for the reference kernels and where the
    /// platform has no threads.
    public init(model: Model, maxArenaBytes: Int = 1 << 30, kernels: Kernels = .optimized, threads: Int = 1) throws(VigilError) {
        self.model = model
        guard let base = model.bytes.baseAddress, Int(bitPattern: base) % 16 == 0 else {
            throw VigilError(.unsupported, "model bytes must start at a 16-byte aligned address")
        }
        guard threads >= 1 else { throw VigilError(.unsupported, "threads must be at least 1, not \(threads)") }
        let nt = model.tensors.count, no = model.ops.count
        var prepared: [PreparedOp] = []
        prepared.reserveCapacity(no)
        for k in 0..<no {
            prepared.append(try PreparedOp.prepare(OpContext(model: model, op: model.ops[k], index: k, optimized: kernels == .optimized)))
        }
        // Lifetimes: from producer (or 0 for graph inputs) to last consumer (or the end for outputs).
        var first = [Int](repeating: -1, count: nt), last = [Int](repeating: -1, count: nt)
        for t in model.inputs { first[t] = 0; last[t] = 0 }
        for (k, op) in model.ops.enumerated() {
            for t in op.inputs where t >= 0 && !model.tensors[t].isConstant { last[t] = max(last[t], k) }
            for t in op.outputs {
                first[t] = k
                last[t] = max(last[t], k)
            }
        }
        for t in model.outputs { last[t] = max(no - 1, 0) }
        var buffers: [GreedyArenaPlanner.Buffer] = []
        var owners: [(Int?, Int?)] = []
        var naive = 0
        for t in 0..<nt where !model.tensors[t].isConstant && first[t] >= 0 {
            buffers.append(.init(size: model.tensors[t].byteCount, first: first[t], last: last[t]))
            owners.append((t, nil))
            naive += GreedyArenaPlanner.align(model.tensors[t].byteCount)
        }
        // The pool first: the scratch of some operators depends on the threads that could be started.
        #if canImport(CVigilKernels)
        let pool = threads > 1 && kernels == .optimized ? vigil_pool_create(Int32(threads)) : nil
        let usable = Int(vigil_pool_threads(pool))
        #else
        let pool: OpaquePointer? = nil
        let usable = 1
        #endif
        for k in 0..<no where prepared[k].scratchBytes(threads: usable) > 0 {
            let bytes = prepared[k].scratchBytes(threads: usable)
            buffers.append(.init(size: bytes, first: k, last: k))
            owners.append((nil, k))
            naive += GreedyArenaPlanner.align(bytes)
        }
        let plan = GreedyArenaPlanner.plan(buffers)
        guard plan.size <= maxArenaBytes else {
            #if canImport(CVigilKernels)
            vigil_pool_destroy(pool)
            #endif
            throw VigilError(.outOfMemory, "the arena needs \(plan.size) bytes; the limit is \(maxArenaBytes)")
        }
        self.pool = pool
        self.threads = usable
        arenaBytes = plan.size
        naiveBytes = naive
        arena = UnsafeMutableRawPointer.allocate(byteCount: max(plan.size, 64), alignment: GreedyArenaPlanner.alignment)
        arena.initializeMemory(as: UInt8.self, repeating: 0, count: max(plan.size, 64))
        slotCount = nt + no
        slots = UnsafeMutablePointer<UnsafeMutableRawPointer>.allocate(capacity: max(slotCount, 1))
        slots.initialize(repeating: arena, count: max(slotCount, 1))
        var placements: [ArenaPlacement] = []
        for (i, b) in buffers.enumerated() {
            let (t, k) = owners[i]
            slots[t ?? (nt + k!)] = arena + plan.offsets[i]
            placements.append(ArenaPlacement(tensor: t, op: k, offset: plan.offsets[i], size: b.size, firstOp: b.first, lastOp: b.last))
        }
        for t in 0..<nt where model.tensors[t].isConstant {
            slots[t] = UnsafeMutableRawPointer(mutating: base + model.tensors[t].dataOffset)
        }
        self.placements = placements
        ops = prepared
    }

    deinit {
        #if canImport(CVigilKernels)
        vigil_pool_destroy(pool)
        #endif
        arena.deallocate()
        slots.deallocate()
    }

    public var inputCount: Int { model.inputs.count }
    public var outputCount: Int { model.outputs.count }

    #if canImport(CVigilKernels)
    /// What each planned operator family runs, as "variant/path" (e.g. "avx2/direct"; vigil_plan.h
    /// names the paths), distinct and sorted, for the families the model has: "conv", "depthwise",
    /// "fully_connected". Empty with the reference operators and for float layers.
    public var kernelPaths: [(family: String, paths: [String])] {
        var conv: [String] = [], depthwise: [String] = [], fc: [String] = []
        func name(_ v: vigil_kernel_variant, _ path: UnsafePointer<CChar>) -> String {
            String(cString: vigil_kernel_name(v)) + "/" + String(cString: path)
        }
        for op in ops {
            switch op {
            case .conv(let p): if let plan = p.op.plan { conv.append(name(vigil_conv_plan_variant(plan.raw), vigil_conv_plan_path(plan.raw))) }
            case .depthwiseConv(let p):
                if let plan = p.op.plan { depthwise.append(name(vigil_depthwise_plan_variant(plan.raw), vigil_depthwise_plan_path(plan.raw))) }
            case .fullyConnected(let p): if let plan = p.op.plan { fc.append(name(vigil_fc_plan_variant(plan.raw), vigil_fc_plan_path(plan.raw))) }
            default: break
            }
        }
        return [("conv", conv), ("depthwise", depthwise), ("fully_connected", fc)]
            .filter { !$0.1.isEmpty }.map { ($0.0, Array(Set($0.1)).sorted()) }
    }
    #endif

    public func input(_ i: Int) -> TensorView { view(model.inputs[i]) }
    public func output(_ i: Int) -> TensorView { view(model.outputs[i]) }

    func view(_ t: Int) -> TensorView {
        TensorView(index: t, info: model.tensors[t],
                   bytes: UnsafeMutableRawBufferPointer(start: slots[t], count: model.tensors[t].byteCount))
    }

    /// Runs the model once on the current input tensors.
    public func invoke() {
        let table = SlotTable(slots)
        ops.withUnsafeBufferPointer { ops in
            for op in ops { op.eval(table, pool) }
        }
    }

    /// Runs the model once like `invoke()`, adding each operator's time to `perOp[k]` (in the unit
    /// of `clock`, read before and after every operator). For profiling (`vigil bench --profile`);
    /// `perOp` needs one element per operator. Allocation-free like `invoke()`.
    public func invoke(perOp: UnsafeMutableBufferPointer<UInt64>, clock: () -> UInt64) {
        precondition(perOp.count >= ops.count, "perOp needs one element per operator")
        let table = SlotTable(slots)
        ops.withUnsafeBufferPointer { ops in
            var t = clock()
            for k in 0..<ops.count {
                ops[k].eval(table, pool)
                let u = clock()
                perOp[k] &+= u &- t
                t = u
            }
        }
    }
}

