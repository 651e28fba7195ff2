// AArch64 int8 GEMM for NEON (Cortex-A72): SMULL/SMLAL2 widen int8 products to int16 pairs, SADALP
// accumulates them into int32 — exact: each int16 holds the sum of two products, |sum| <= 2^15.
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
                int16x8_t p = vmull_s8(vget_low_s8(va), vget_low_s8(vb));
                p = vmlal_high_s8(p, va, vb);
                s = vpadalq_s16(s, p);
            }
            int32_t acc = vaddvq_s32(s);
            for (int k = K16; k < K; k++) acc += a[k] * b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}
#endif
