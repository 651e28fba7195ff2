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
