internal import VigilModel

/// Pointers to every tensor's data (arena or weights) and every op's scratch, indexed by slot:
/// tensor `t` is slot `t`; op `k`'s scratch is slot `tensorCount + k`.
typealias SlotTable = UnsafePointer<UnsafeMutableRawPointer>

/// What an operator sees while it prepares: its node, the tensor table, and error helpers that
/// name the node.
struct OpContext {
    let model: Model
    let op: OpInfo
    let index: Int
    /// Use the C kernels (CVigilKernels) where an operator has them; false runs the Swift reference.
    var optimized = true

    var label: String { op.label(index) }
    func tensor(_ t: Int) -> TensorInfo { model.tensors[t] }
    var scratchSlot: Int { model.tensors.count + index }

    func fail(_ detail: String) -> VigilError { VigilError(.badOperands, "\(label): \(detail)") }
    func badAttribute(_ detail: String) -> VigilError { VigilError(.badAttribute, "\(label): \(detail)") }
    func unsupported(_ detail: String) -> VigilError { VigilError(.unsupported, "\(label): \(detail)") }

    func expectOperands(inputs: ClosedRange<Int>, outputs: Int = 1) throws(VigilError) {
        guard inputs.contains(op.inputs.count), op.outputs.count == outputs else {
            throw fail("has \(op.inputs.count) inputs and \(op.outputs.count) outputs; expected \(inputs.lowerBound)...\(inputs.upperBound) inputs and \(outputs) output(s)")
        }
    }
    /// A required input's tensor index.
    func input(_ i: Int) throws(VigilError) -> Int {
        guard i < op.inputs.count, op.inputs[i] >= 0 else { throw fail("input \(i) is required") }
        return op.inputs[i]
    }
    func optionalInput(_ i: Int) -> Int? {
        i < op.inputs.count && op.inputs[i] >= 0 ? op.inputs[i] : nil
    }
    var output: Int { op.outputs[0] }

    func expect(_ t: Int, dtype: DType, _ role: String) throws(VigilError) {
        guard tensor(t).dtype == dtype else {
            throw fail("\(role) (tensor \(t)) is \(tensor(t).dtype.name), expected \(dtype.name)")
        }
    }
    func expectConstant(_ t: Int, _ role: String) throws(VigilError) {
        guard tensor(t).isConstant else { throw unsupported("\(role) (tensor \(t)) must be a constant") }
    }
    /// Per-tensor quantization of an int8 tensor, required.
    func perTensor(_ t: Int, _ role: String) throws(VigilError) -> (scale: Float, zeroPoint: Int32) {
        guard let q = tensor(t).quantization, q.isPerTensor else {
            throw VigilError(.badQuantization, "\(label): \(role) (tensor \(t)) needs per-tensor quantization")
        }
        return (q.scale, q.zeroPoint)
    }
    func expectShape(_ t: Int, _ shape: [Int], _ role: String) throws(VigilError) {
        guard tensor(t).shape == shape else {
            throw fail("\(role) (tensor \(t)) has shape \(tensor(t).shape), expected \(shape)")
        }
    }

    func ints(_ key: AttributeKey, count: Int, default value: [Int]) throws(VigilError) -> [Int] {
        guard let a = op.attribute(key) else { return value }
        guard a.words.count == count else {
            throw badAttribute("\(key.name) has \(a.words.count) values, expected \(count)")
        }
        return a.ints
    }
    func int(_ key: AttributeKey, default value: Int) throws(VigilError) -> Int {
        try ints(key, count: 1, default: [value])[0]
    }
    func float(_ key: AttributeKey, default value: Float) throws(VigilError) -> Float {
        guard let a = op.attribute(key) else { return value }
        guard a.words.count == 1, !a.floats[0].isNaN else { throw badAttribute("\(key.name) must be one number") }
        return a.floats[0]
    }
    func activation() throws(VigilError) -> (FusedActivation, Float, Float) {
        let raw = try int(.activation, default: 0)
        guard let act = FusedActivation(rawValue: Int32(truncatingIfNeeded: raw)), raw == Int(act.rawValue) else {
            throw badAttribute("unknown fused activation \(raw)")
        }
        let lo = try float(.clipMin, default: -.infinity), hi = try float(.clipMax, default: .infinity)
        guard lo <= hi else { throw badAttribute("clip_min \(lo) exceeds clip_max \(hi)") }
        return (act, lo, hi)
    }

    /// A constant's elements, in place in the model bytes.
    func constant<T>(_ t: Int, as: T.Type) -> UnsafeBufferPointer<T> {
        let raw = model.constantData(t)
        return UnsafeBufferPointer(start: raw.baseAddress!.assumingMemoryBound(to: T.self), count: raw.count / MemoryLayout<T>.stride)
    }
}

/// Row-major strides of a shape.
func contiguousStrides(_ shape: [Int]) -> [Int] {
    var s = [Int](repeating: 1, count: shape.count)
    var acc = 1
    for i in stride(from: shape.count - 1, through: 0, by: -1) {
        s[i] = acc
        acc *= shape[i]
    }
    return s
}
