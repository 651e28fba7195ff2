#if canImport(CVigilKernels)
/// The memory of a prepared C kernel (vigil_plan.h): 64-byte aligned, owned by the operator that
/// made it and freed with it. The plan holds offsets, not pointers, so nothing in it refers to
/// Swift arrays.
final class KernelPlan {
    let raw: UnsafeMutableRawPointer
    let bytes: Int

    init(bytes: Int) {
        self.bytes = bytes
        raw = UnsafeMutableRawPointer.allocate(byteCount: max(bytes, 64), alignment: 64)
    }

    deinit { raw.deallocate() }
}
#endif
