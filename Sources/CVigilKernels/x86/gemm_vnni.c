// AVX-VNNI convolution GEMM: VPDPBUSD multiplies 4 unsigned activations (x + 128) by 4 signed
// weights and adds the four products into an int32 lane, without intermediate saturation — exact,
// so bit-identical with the generic kernel (the caller folds -128 * sum(w) into the bias). One
// 32-byte load of U covers 8 output positions x 4 k; four output rows share it.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"

__attribute__((target("avx2,avxvnni")))
static void tile4x8_vnni(const int32_t *const a[4], int nr, int r, const uint8_t *u, ptrdiff_t stride, int K4,
                         const vigil_requant_rows *q, int8_t *out, ptrdiff_t ldc) {
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    for (int k = 0; k < K4; k++, u += stride) {
        __m256i vu = _mm256_loadu_si256((const __m256i *)u);
        s0 = _mm256_dpbusd_avx_epi32(s0, vu, _mm256_set1_epi32(a[0][k]));
        s1 = _mm256_dpbusd_avx_epi32(s1, vu, _mm256_set1_epi32(a[1][k]));
        s2 = _mm256_dpbusd_avx_epi32(s2, vu, _mm256_set1_epi32(a[2][k]));
        s3 = _mm256_dpbusd_avx_epi32(s3, vu, _mm256_set1_epi32(a[3][k]));
    }
    const __m256i sums[4] = {s0, s1, s2, s3};
    for (int i = 0; i < nr; i++) {
        const int row = r + i;
        vigil_requant8_avx2(sums[i], q->bias[row], q->multiplier[row], q->shift[row], q->zero_point, q->lo, q->hi, out + i * ldc);
    }
}

__attribute__((target("avx2,avxvnni")))
void vigil_gemm_u8s8_k4_avxvnni(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int cols8 = cols & ~7, tail = cols - cols8;
    enum { TAIL_K4_MAX = 2048 };
    uint8_t tailU[TAIL_K4_MAX * 32];  // the last < 8 columns, padded to a full tile
    const int tailed = tail > 0 && K4 <= TAIL_K4_MAX;
    if (tailed)
        for (int k = 0; k < K4; k++)
            for (int j = 0; j < 32; j++) tailU[k * 32 + j] = j < 4 * tail ? U[((ptrdiff_t)k * cols + cols8) * 4 + j] : 0;
    for (int r = 0; r < rows; r += 4) {
        const int nr = rows - r < 4 ? rows - r : 4;
        const int32_t *a[4];
        for (int i = 0; i < 4; i++) a[i] = A + (ptrdiff_t)(r + (i < nr ? i : 0)) * K4;
        for (int c = 0; c < cols8; c += 8) tile4x8_vnni(a, nr, r, U + (ptrdiff_t)c * 4, (ptrdiff_t)cols * 4, K4, q, C + r * ldc + c, ldc);
        if (tailed) {
            int8_t out[4 * 8];
            tile4x8_vnni(a, nr, r, tailU, 32, K4, q, out, 8);
            for (int i = 0; i < nr; i++)
                for (int j = 0; j < tail; j++) C[(r + i) * ldc + cols8 + j] = out[i * 8 + j];
            continue;
        }
        for (int i = 0; i < nr; i++) {  // column tail (K too deep for the stack copy)
            const int row = r + i;
            const int8_t *w = (const int8_t *)a[i];
            for (int c = cols8; c < cols; c++) {
                int32_t acc = 0;
                for (int k = 0; k < K4; k++)
                    for (int j = 0; j < 4; j++) acc += (int32_t)w[4 * k + j] * (int32_t)U[((ptrdiff_t)k * cols + c) * 4 + j];
                acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[row]);
                C[row * ldc + c] = (int8_t)vigil_requantize(acc, q->multiplier[row], q->shift[row], q->zero_point, q->lo, q->hi);
            }
        }
    }
}
#endif
