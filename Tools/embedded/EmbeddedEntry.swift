// C entry point of the Embedded Swift build of the int8 core (VigilModel + VigilRuntime), used by
// driver.c under qemu-aarch64 and linkable into microcontroller firmware. Bytes in, bytes out: the
// caller owns every buffer; nothing here touches files, Foundation or the OS.
import VigilModel
import VigilRuntime

/// Runs the model on `input_floats / input-size` samples back to back and writes, per sample, every
/// output in order as float32 (int8 outputs dequantized). Returns 0, or -1 with a message in `err`.
@_cdecl("vigil_embedded_run")
public func vigilEmbeddedRun(
    _ model: UnsafePointer<UInt8>, _ modelLength: Int,
    _ input: UnsafePointer<Float>, _ inputFloats: Int,
    _ output: UnsafeMutablePointer<Float>, _ outputCapacity: Int, _ outputFloats: UnsafeMutablePointer<Int>,
    _ err: UnsafeMutablePointer<UInt8>, _ errCapacity: Int
) -> Int32 {
    func report(_ message: String) -> Int32 {
        var n = 0
        for b in message.utf8 where n < errCapacity - 1 {
            err[n] = b
            n += 1
        }
        if errCapacity > 0 { err[n] = 0 }
        return -1
    }
    do throws(VigilError) {
        let m = try ModelReader.read(UnsafeRawBufferPointer(start: model, count: modelLength))
        let interp = try Interpreter(model: m)
        guard interp.inputCount == 1 else { return report("the driver runs models with one input") }
        let inView = interp.input(0)
        guard inView.info.dtype == .float32 else { return report("the driver feeds float32 inputs") }
        var perOutput = 0
        for o in 0..<interp.outputCount { perOutput += interp.output(o).info.elementCount }
        let perSample = inView.info.elementCount
        guard perSample > 0, inputFloats % perSample == 0 else {
            return report("input of \(inputFloats) floats is not a whole number of \(perSample)-float samples")
        }
        let samples = inputFloats / perSample
        guard samples * perOutput <= outputCapacity else { return report("output buffer too small") }
        for s in 0..<samples {
            inView.bytes.copyMemory(from: UnsafeRawBufferPointer(start: input + s * perSample, count: perSample * 4))
            interp.invoke()
            var dst = output + s * perOutput
            for o in 0..<interp.outputCount {
                let outView = interp.output(o), count = outView.info.elementCount
                switch outView.info.dtype {
                case .float32:
                    UnsafeMutableRawPointer(dst).copyMemory(from: outView.bytes.baseAddress!, byteCount: count * 4)
                case .int8:
                    guard let q = outView.info.quantization, q.isPerTensor else { return report("int8 output without per-tensor quantization") }
                    for i in 0..<count {
                        dst[i] = Float(Int32(outView.bytes.load(fromByteOffset: i, as: Int8.self)) - q.zeroPoint) * q.scale
                    }
                default:
                    return report("output dtype \(outView.info.dtype.name) is not supported by the driver")
                }
                dst += count
            }
        }
        outputFloats.pointee = samples * perOutput
        return 0
    } catch {
        return report(error.description)
    }
}

// MARK: - Repeated runs (driver.c --bench)

/// A loaded model and its interpreter behind the opaque handle of `vigil_embedded_open`.
final class EmbeddedSession {
    let interpreter: Interpreter
    init(_ interpreter: Interpreter) { self.interpreter = interpreter }
}

/// Loads a model with one float32 input for repeated runs: returns an opaque handle (free it with
/// `vigil_embedded_close`), or nil with a message in `err`. `model` must outlive the handle: weights
/// are used in place. The element count of the input goes to `inputFloats`.
@_cdecl("vigil_embedded_open")
public func vigilEmbeddedOpen(
    _ model: UnsafePointer<UInt8>, _ modelLength: Int, _ inputFloats: UnsafeMutablePointer<Int>,
    _ err: UnsafeMutablePointer<UInt8>, _ errCapacity: Int
) -> UnsafeMutableRawPointer? {
    do throws(VigilError) {
        let m = try ModelReader.read(UnsafeRawBufferPointer(start: model, count: modelLength))
        let interp = try Interpreter(model: m)
        guard interp.inputCount == 1, interp.input(0).info.dtype == .float32 else {
            _ = writeMessage("the driver runs models with one float32 input", err, errCapacity)
            return nil
        }
        inputFloats.pointee = interp.input(0).info.elementCount
        return Unmanaged.passRetained(EmbeddedSession(interp)).toOpaque()
    } catch {
        _ = writeMessage(error.description, err, errCapacity)
        return nil
    }
}

/// The input tensor's float32 elements in the arena. The arena planner may reuse them as scratch once
/// the input is consumed, so store the input again before every `vigil_embedded_invoke`.
@_cdecl("vigil_embedded_input")
public func vigilEmbeddedInput(_ handle: UnsafeMutableRawPointer) -> UnsafeMutablePointer<Float> {
    session(handle).interpreter.input(0).bytes.baseAddress!.assumingMemoryBound(to: Float.self)
}

/// Runs the model once on the current input (`Interpreter.invoke`: no allocation, no checks).
@_cdecl("vigil_embedded_invoke")
public func vigilEmbeddedInvoke(_ handle: UnsafeMutableRawPointer) {
    session(handle).interpreter.invoke()
}

/// Writes what the operators run: "conv=neon/direct,... depthwise=..." from `Interpreter.kernelPaths`
/// with the C kernels, "reference" for a build without them.
@_cdecl("vigil_embedded_kernels")
public func vigilEmbeddedKernels(_ handle: UnsafeMutableRawPointer, _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) {
    #if canImport(CVigilKernels)
    var text = ""
    for f in session(handle).interpreter.kernelPaths {
        if !text.isEmpty { text += " " }
        text += f.family + "="
        for (i, p) in f.paths.enumerated() { text += (i > 0 ? "," : "") + p }
    }
    _ = writeMessage(text.isEmpty ? "none" : text, out, capacity)
    #else
    _ = writeMessage("reference", out, capacity)
    #endif
}

@_cdecl("vigil_embedded_close")
public func vigilEmbeddedClose(_ handle: UnsafeMutableRawPointer) {
    Unmanaged<EmbeddedSession>.fromOpaque(handle).release()
}

private func session(_ handle: UnsafeMutableRawPointer) -> EmbeddedSession {
    Unmanaged<EmbeddedSession>.fromOpaque(handle).takeUnretainedValue()
}

/// Copies `message` into a C buffer of `capacity` bytes, NUL-terminated and cut to fit; returns -1.
private func writeMessage(_ message: String, _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> Int32 {
    guard capacity > 0 else { return -1 }
    var n = 0
    for b in message.utf8 where n < capacity - 1 {
        out[n] = b
        n += 1
    }
    out[n] = 0
    return -1
}

// MARK: - Per-operator counts (driver.c --ops)

/// Runs the model once on the current input like `vigil_embedded_invoke`, through
/// `Interpreter.invoke(perOp:clock:)`: `clock` is read before the first operator and after each
/// one (ops + 1 reads, nothing else), and each operator's clock difference is added to `perOp[k]`.
/// With a clock that makes a clock_gettime syscall, insncount's clock=1 deltas are then the
/// operators' instruction counts. `perOp` needs `vigil_embedded_op_count` elements; returns -1
/// (running nothing) if it has fewer.
@_cdecl("vigil_embedded_invoke_ops")
public func vigilEmbeddedInvokeOps(
    _ handle: UnsafeMutableRawPointer, _ perOp: UnsafeMutablePointer<UInt64>, _ count: Int,
    _ clock: @convention(c) () -> UInt64
) -> Int32 {
    let interp = session(handle).interpreter
    guard count >= interp.model.ops.count else { return -1 }
    interp.invoke(perOp: UnsafeMutableBufferPointer(start: perOp, count: count), clock: { clock() })
    return 0
}

@_cdecl("vigil_embedded_op_count")
public func vigilEmbeddedOpCount(_ handle: UnsafeMutableRawPointer) -> Int {
    session(handle).interpreter.model.ops.count
}

/// Writes a JSON array with one object per operator, in run order: {"op": k, "code": "Conv",
/// "name": "...", "in": [shape of the first input], "w": [shape of the second input, if constant],
/// "out": [shape], "strides": [...] (if set), "path": "neon/direct"}. The path (conv, depthwise and
/// fully connected operators with a C kernel plan) is what `Interpreter.kernelPaths` says for a
/// one-operator model made of that operator alone: the plan depends only on the operator and the
/// kernel variant, so it is the plan the full interpreter made. Returns the bytes needed (without
/// the NUL), which may exceed `capacity` (then the text is cut).
@_cdecl("vigil_embedded_describe_ops")
public func vigilEmbeddedDescribeOps(_ handle: UnsafeMutableRawPointer, _ out: UnsafeMutablePointer<UInt8>, _ capacity: Int) -> Int {
    let m = session(handle).interpreter.model
    func shape(_ t: Int) -> String {
        var s = "["
        for (i, d) in m.tensors[t].shape.enumerated() { s += (i > 0 ? ", " : "") + "\(d)" }
        return s + "]"
    }
    func quoted(_ text: String) -> String {
        var s = "\""
        for c in text.unicodeScalars {
            switch c {
            case "\"": s += "\\\""
            case "\\": s += "\\\\"
            default: if c.value < 0x20 { s += " " } else { s.unicodeScalars.append(c) }
            }
        }
        return s + "\""
    }
    var text = "["
    for (k, op) in m.ops.enumerated() {
        text += (k > 0 ? ",\n " : "") + "{\"op\": \(k), \"code\": " + quoted(op.code.name) + ", \"name\": " + quoted(op.name)
        if let t = op.inputs.first, t >= 0 { text += ", \"in\": " + shape(t) }
        if op.inputs.count > 1, op.inputs[1] >= 0, m.tensors[op.inputs[1]].isConstant { text += ", \"w\": " + shape(op.inputs[1]) }
        if let t = op.outputs.first { text += ", \"out\": " + shape(t) }
        if let st = op.ints(.strides) {
            text += ", \"strides\": ["
            for (i, d) in st.enumerated() { text += (i > 0 ? ", " : "") + "\(d)" }
            text += "]"
        }
        #if canImport(CVigilKernels)
        var sub = m
        sub.ops = [op]
        sub.inputs = op.inputs.filter { $0 >= 0 && !m.tensors[$0].isConstant }
        sub.outputs = op.outputs
        do throws(VigilError) {
            let one = try Interpreter(model: sub)
            if let f = one.kernelPaths.first, let p = f.paths.first { text += ", \"path\": " + quoted(p) }
        } catch {
            text += ", \"path_error\": " + quoted(error.description)
        }
        #endif
        text += "}"
    }
    text += "]"
    var n = 0
    for b in text.utf8 where n < capacity - 1 {
        out[n] = b
        n += 1
    }
    if capacity > 0 { out[n] = 0 }
    return text.utf8.count
}
