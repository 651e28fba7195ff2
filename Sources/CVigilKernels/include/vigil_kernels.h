// CVigilKernels: int8 micro-kernels and CPU feature detection.
// Every kernel here is bit-exact with the Swift reference operators in VigilRuntime and with the
// requantization rule of docs/FORMAT.md.
#ifndef VIGIL_KERNELS_H
#define VIGIL_KERNELS_H
#include <stdint.h>
#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/// Kernel variants, in order of preference on their architecture.
typedef enum {
    VIGIL_KERNEL_GENERIC = 0,
} vigil_kernel_variant;

/// The variant the process uses (honours VIGIL_KERNEL=generic|... in the environment).
vigil_kernel_variant vigil_kernel_selected(void);
/// A stable, human-readable name for a variant ("generic", ...).
const char *vigil_kernel_name(vigil_kernel_variant v);

/// Requantize one int32 accumulator: zp + ((acc * m + 2^(n-1)) >> n), clamped to [lo, hi].
/// m in [2^30, 2^31) (or 0), n in [1, 62]. The rule of docs/FORMAT.md, section "Requantization".
static inline int32_t vigil_requantize(int32_t acc, int32_t m, int32_t n, int32_t zp,
                                       int32_t lo, int32_t hi) {
    int64_t p = (int64_t)acc * (int64_t)m + ((int64_t)1 << (n - 1));
    int64_t v = p >> n;
    v = v < INT32_MIN ? INT32_MIN : (v > INT32_MAX ? INT32_MAX : v);
    v += zp;
    return (int32_t)(v < lo ? lo : (v > hi ? hi : v));
}

#ifdef __cplusplus
}
#endif
#endif
