// libFuzzer target for the .vigil reader and the interpreter's prepare step (Tools/fuzz/run.sh
// builds it). Any input may be rejected with a VigilError; none may crash, trap, leak or touch
// memory it does not own.
//
// Every input is read twice when its checksums are wrong: as is (so the checksum checks
// themselves are fuzzed), then with the section and header CRCs recomputed, so that mutations
// reach the structural checks behind them instead of dying at `header-checksum`.
#if canImport(Glibc)
import Glibc
#endif
import VigilModel
import VigilRuntime

/// Models whose planned arena is below this are invoked once (besides being prepared).
let invokeArenaLimit = 1 << 20
let invokeOpLimit = 64
/// Rough multiply-accumulate budget for one invoke, so a tiny file cannot ask for minutes of work.
let invokeWorkLimit = 1 << 24
/// Arena limit handed to `Interpreter(model:maxArenaBytes:)`: larger plans must be refused with
/// `out-of-memory` (Tools/fuzz/regressions/huge-arena.vigil once asked for 16 GiB and trapped).
let prepareArenaLimit = 64 << 20

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    // The reader and interpreter expect the bytes of a mapped file: 16-byte aligned at least.
    let buf = UnsafeMutableRawBufferPointer.allocate(byteCount: max(size, 1), alignment: 64)
    defer { buf.deallocate() }
    if size > 0 { buf.baseAddress!.copyMemory(from: data, byteCount: size) }
    let bytes = UnsafeMutableRawBufferPointer(rebasing: buf[0..<size])

    do {
        try exercise(UnsafeRawBufferPointer(bytes))
        return 0
    } catch {
        guard error.code == .headerChecksum || error.code == .sectionChecksum else { return 0 }
    }
    repairChecksums(bytes)
    _ = try? exercise(UnsafeRawBufferPointer(bytes))
    return 0
}

func exercise(_ bytes: UnsafeRawBufferPointer) throws(VigilError) {
    let model = try ModelReader.read(bytes)
    // Touch everything the reader hands out, as a client would.
    var sink = 0
    for s in model.sections { sink &+= s.offset &+ s.length }
    if let m = model.metadata { sink &+= m.count }
    for (i, t) in model.tensors.enumerated() where t.isConstant {
        let d = model.constantData(i)
        if let first = d.first { sink &+= Int(first) }
        if let last = d.last { sink &+= Int(last) }
    }
    for op in model.ops { sink &+= op.name.utf8.count &+ op.attributes.count }
    blackHole(sink)

    let interp = try Interpreter(model: model, maxArenaBytes: prepareArenaLimit)
    guard interp.arenaBytes < invokeArenaLimit, model.ops.count <= invokeOpLimit,
          estimatedWork(model) <= invokeWorkLimit else { return }
    // Inputs: the file's own bytes, repeated (deterministic, and lets values reach the kernels).
    for i in 0..<interp.inputCount {
        let dst = interp.input(i).bytes
        for j in 0..<dst.count { dst[j] = bytes[j % bytes.count] }
    }
    interp.invoke()
    var h = 0
    for i in 0..<interp.outputCount {
        for b in interp.output(i).bytes { h = h &* 31 &+ Int(b) }
    }
    blackHole(h)
}

/// Multiply-accumulates an invoke costs, roughly, saturating at Int.max.
func estimatedWork(_ m: Model) -> Int {
    func elements(_ t: Int) -> Int { t >= 0 && t < m.tensors.count ? m.tensors[t].elementCount : 0 }
    var total = 0
    for op in m.ops {
        var out = 0, ins = 0
        for t in op.outputs { out += elements(t) }
        for t in op.inputs { ins += elements(t) }
        var per = 1
        switch op.code {
        case .conv, .depthwiseConv, .fullyConnected:
            if op.inputs.count > 1, op.inputs[1] >= 0, op.inputs[1] < m.tensors.count {
                let w = m.tensors[op.inputs[1]]
                per = w.elementCount / max(w.shape.first ?? 1, 1)
            }
        case .maxPool, .averagePool:
            for k in op.ints(.kernelShape) ?? [] { per = per.multipliedReportingOverflow(by: max(1, min(k, 1 << 16))).partialValue }
        default:
            break
        }
        let (w, o) = out.multipliedReportingOverflow(by: max(per, 1))
        if o { return .max }
        total = total.addingReportingOverflow(w &+ ins).overflow ? .max : total + w + ins
        if total > invokeWorkLimit { return total }
    }
    return total
}

/// Rewrites every in-range section CRC and the header CRC in place.
func repairChecksums(_ b: UnsafeMutableRawBufferPointer) {
    guard b.count >= 64 else { return }
    func u32(_ at: Int) -> UInt32 { b.loadUnaligned(fromByteOffset: at, as: UInt32.self).littleEndian }
    func u64(_ at: Int) -> UInt64 { b.loadUnaligned(fromByteOffset: at, as: UInt64.self).littleEndian }
    func put(_ v: UInt32, _ at: Int) { b.storeBytes(of: v.littleEndian, toByteOffset: at, as: UInt32.self) }
    let n = Int(min(u32(12), 32))
    let tableEnd = min(64 + 32 * n, b.count)
    var at = 64
    while at + 32 <= tableEnd {
        let off = u64(at + 8), len = u64(at + 16)
        if off <= UInt64(b.count), len <= UInt64(b.count) - off {
            put(CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[Int(off)..<Int(off + len)])), at + 24)
        }
        at += 32
    }
    put(0, 28)
    put(CRC32.checksum(UnsafeRawBufferPointer(rebasing: b[0..<tableEnd])), 28)
}

@inline(never) func blackHole(_ x: Int) {
    if x == 0x5EED_F00D_5EED { print("") }
}
