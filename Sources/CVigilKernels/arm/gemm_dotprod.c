// AArch64 int8 GEMM with the dot-product extension (Cortex-A76 and later): SDOT accumulates four
// int8 products per int32 lane; four output columns share each load of the A row. Built for
// armv8.2-a+dotprod whatever the baseline, and only called when HWCAP_ASIMDDP says the CPU has it.
#if defined(__aarch64__)
#if defined(__clang__)
#define VIGIL_DOTPROD __attribute__((target("dotprod")))
#else
// GCC: compile this file with -march=armv8.2-a+dotprod (Tools/kernels/test-arm.sh does).
#define VIGIL_DOTPROD
#endif
#include "vigil_kernels.h"
#include <arm_neon.h>

VIGIL_DOTPROD
void vigil_gemm_s8_dotprod(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const int K16 = K & ~15;
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            const int8_t *b0 = B + (ptrdiff_t)c * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
            int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < K16; k += 16) {
                int8x16_t va = vld1q_s8(a + k);
                s0 = vdotq_s32(s0, va, vld1q_s8(b0 + k));
                s1 = vdotq_s32(s1, va, vld1q_s8(b1 + k));
                s2 = vdotq_s32(s2, va, vld1q_s8(b2 + k));
                s3 = vdotq_s32(s3, va, vld1q_s8(b3 + k));
            }
            int32_t acc[4] = {vaddvq_s32(s0), vaddvq_s32(s1), vaddvq_s32(s2), vaddvq_s32(s3)};
            for (int k = K16; k < K; k++) {
                acc[0] += a[k] * b0[k]; acc[1] += a[k] * b1[k]; acc[2] += a[k] * b2[k]; acc[3] += a[k] * b3[k];
            }
            for (int j = 0; j < 4; j++) {
                int32_t v = (int32_t)((uint32_t)acc[j] + (uint32_t)q->bias[r]);
                C[r * ldr + (c + j) * ldc] = (int8_t)vigil_requantize(v, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
            }
        }
        for (; c < cols; c++) {
            const int8_t *b = B + (ptrdiff_t)c * K;
            int32x4_t s = vdupq_n_s32(0);
            for (int k = 0; k < K16; k += 16) s = vdotq_s32(s, vld1q_s8(a + k), vld1q_s8(b + k));
            int32_t acc = vaddvq_s32(s);
            for (int k = K16; k < K; k++) acc += a[k] * b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}
#endif
