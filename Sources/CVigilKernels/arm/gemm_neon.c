// AArch64 int8 GEMM for NEON (Cortex-A72): SMULL/SMULL2 widen int8 products to int16, SADALP
// accumulates pairs of them into int32 — exact for any int8 values: a product is at most 2^14 in
// magnitude. (Summing two products in int16 first, SMULL then SMLAL2, overflows for -128 * -128
// twice: the parity test has layers with -128 weights and inputs for that.)
#if defined(__aarch64__)
#include "vigil_kernels.h"
#include <arm_neon.h>

void vigil_gemm_s8_neon(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const int K16 = K & ~15;
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        for (int c = 0; c < cols; c++) {
            const int8_t *b = B + (ptrdiff_t)c * K;
            int32x4_t s = vdupq_n_s32(0);
            for (int k = 0; k < K16; k += 16) {
                int8x16_t va = vld1q_s8(a + k), vb = vld1q_s8(b + k);
                s = vpadalq_s16(s, vmull_s8(vget_low_s8(va), vget_low_s8(vb)));
                s = vpadalq_s16(s, vmull_high_s8(va, vb));
            }
            int32_t acc = vaddvq_s32(s);
            for (int k = K16; k < K; k++) acc += a[k] * b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}
#endif
