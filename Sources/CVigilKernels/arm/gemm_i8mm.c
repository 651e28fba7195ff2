// AArch64 int8 GEMM with the int8 matrix-multiply extension (FEAT_I8MM, e.g. Cortex-A710/X2,
// Neoverse V1/N2): SMMLA multiplies a 2x8 int8 block by an 8x2 one and adds the 2x2 int32 result
// to an accumulator, lanes [r0c0, r0c1, r1c0, r1c1]. No packing: A [rows][K] and B [cols][K] are
// the same operands as the dot-product kernel's. Per 16 k, the 16-byte loads of two rows are split
// by ZIP1/ZIP2 on 64-bit lanes into the k 0..7 and k 8..15 blocks SMMLA wants, and a 4x4 output
// tile takes four SMMLA per block. A K tail shorter than 8 is copied into zeroed 8-byte blocks
// (zeros add nothing). int32 sums wrap like the reference's, whatever their order, so the result is
// bit-exact with vigil_gemm_s8_generic; requantization is the scalar rule, as in the dotprod path.
// Built for armv8.2-a+i8mm whatever the baseline, and only called when HWCAP2_I8MM says the CPU
// has it.
#if defined(__aarch64__)
#if defined(__clang__)
#define VIGIL_I8MM __attribute__((target("i8mm")))
#else
#define VIGIL_I8MM __attribute__((target("arch=armv8.2-a+i8mm")))
#endif
#include "vigil_kernels.h"
#include <arm_neon.h>
#include <string.h>

/// Two operand rows p and q, k block [k, k + 8), as one SMMLA operand (p's 8 bytes, then q's).
VIGIL_I8MM static inline int8x16_t pair8(const int8_t *p, const int8_t *q, int k) {
    return vcombine_s8(vld1_s8(p + k), vld1_s8(q + k));
}

/// The same for the last `n` < 8 values of each row (from k), zero-padded.
VIGIL_I8MM static inline int8x16_t pair_tail(const int8_t *p, const int8_t *q, int k, int n) {
    int8_t t[16] = {0};
    memcpy(t, p + k, (size_t)n);
    memcpy(t + 8, q + k, (size_t)n);
    return vld1q_s8(t);
}

static inline void store(int32_t acc, const vigil_requant_rows *q, int r, int8_t *out) {
    acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);  // wraps like the Swift &+
    *out = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
}

VIGIL_I8MM
void vigil_gemm_s8_i8mm(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const int K16 = K & ~15, K8 = K & ~7, tail = K - K8;
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int nr = rows - r0 < 4 ? rows - r0 : 4;
        // Rows past the last repeat the last one; their results are not stored.
        const int8_t *a[4];
        for (int i = 0; i < 4; i++) a[i] = A + (ptrdiff_t)(r0 + (i < nr ? i : nr - 1)) * K;
        for (int c0 = 0; c0 < cols; c0 += 4) {
            const int nc = cols - c0 < 4 ? cols - c0 : 4;
            const int8_t *b[4];
            for (int j = 0; j < 4; j++) b[j] = B + (ptrdiff_t)(c0 + (j < nc ? j : nc - 1)) * K;
            // acc[i][j]: rows 2i, 2i+1 by columns 2j, 2j+1 of the tile.
            int32x4_t acc00 = vdupq_n_s32(0), acc01 = acc00, acc10 = acc00, acc11 = acc00;
            for (int k = 0; k < K16; k += 16) {
                const int64x2_t x0 = vreinterpretq_s64_s8(vld1q_s8(a[0] + k)), x1 = vreinterpretq_s64_s8(vld1q_s8(a[1] + k));
                const int64x2_t x2 = vreinterpretq_s64_s8(vld1q_s8(a[2] + k)), x3 = vreinterpretq_s64_s8(vld1q_s8(a[3] + k));
                const int64x2_t y0 = vreinterpretq_s64_s8(vld1q_s8(b[0] + k)), y1 = vreinterpretq_s64_s8(vld1q_s8(b[1] + k));
                const int64x2_t y2 = vreinterpretq_s64_s8(vld1q_s8(b[2] + k)), y3 = vreinterpretq_s64_s8(vld1q_s8(b[3] + k));
                const int8x16_t a01l = vreinterpretq_s8_s64(vzip1q_s64(x0, x1)), a01h = vreinterpretq_s8_s64(vzip2q_s64(x0, x1));
                const int8x16_t a23l = vreinterpretq_s8_s64(vzip1q_s64(x2, x3)), a23h = vreinterpretq_s8_s64(vzip2q_s64(x2, x3));
                const int8x16_t b01l = vreinterpretq_s8_s64(vzip1q_s64(y0, y1)), b01h = vreinterpretq_s8_s64(vzip2q_s64(y0, y1));
                const int8x16_t b23l = vreinterpretq_s8_s64(vzip1q_s64(y2, y3)), b23h = vreinterpretq_s8_s64(vzip2q_s64(y2, y3));
                acc00 = vmmlaq_s32(acc00, a01l, b01l); acc01 = vmmlaq_s32(acc01, a01l, b23l);
                acc10 = vmmlaq_s32(acc10, a23l, b01l); acc11 = vmmlaq_s32(acc11, a23l, b23l);
                acc00 = vmmlaq_s32(acc00, a01h, b01h); acc01 = vmmlaq_s32(acc01, a01h, b23h);
                acc10 = vmmlaq_s32(acc10, a23h, b01h); acc11 = vmmlaq_s32(acc11, a23h, b23h);
            }
            if (K8 > K16) {
                const int8x16_t a01 = pair8(a[0], a[1], K16), a23 = pair8(a[2], a[3], K16);
                const int8x16_t b01 = pair8(b[0], b[1], K16), b23 = pair8(b[2], b[3], K16);
                acc00 = vmmlaq_s32(acc00, a01, b01); acc01 = vmmlaq_s32(acc01, a01, b23);
                acc10 = vmmlaq_s32(acc10, a23, b01); acc11 = vmmlaq_s32(acc11, a23, b23);
            }
            if (tail) {
                const int8x16_t a01 = pair_tail(a[0], a[1], K8, tail), a23 = pair_tail(a[2], a[3], K8, tail);
                const int8x16_t b01 = pair_tail(b[0], b[1], K8, tail), b23 = pair_tail(b[2], b[3], K8, tail);
                acc00 = vmmlaq_s32(acc00, a01, b01); acc01 = vmmlaq_s32(acc01, a01, b23);
                acc10 = vmmlaq_s32(acc10, a23, b01); acc11 = vmmlaq_s32(acc11, a23, b23);
            }
            int32_t v[4][4];  // v[i][j]: tile row i, column j
            int32_t t[4];
            vst1q_s32(t, acc00); v[0][0] = t[0]; v[0][1] = t[1]; v[1][0] = t[2]; v[1][1] = t[3];
            vst1q_s32(t, acc01); v[0][2] = t[0]; v[0][3] = t[1]; v[1][2] = t[2]; v[1][3] = t[3];
            vst1q_s32(t, acc10); v[2][0] = t[0]; v[2][1] = t[1]; v[3][0] = t[2]; v[3][1] = t[3];
            vst1q_s32(t, acc11); v[2][2] = t[0]; v[2][3] = t[1]; v[3][2] = t[2]; v[3][3] = t[3];
            for (int i = 0; i < nr; i++)
                for (int j = 0; j < nc; j++) store(v[i][j], q, r0 + i, C + (ptrdiff_t)(r0 + i) * ldr + (ptrdiff_t)(c0 + j) * ldc);
        }
    }
}
#endif
