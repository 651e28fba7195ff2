// AVX-VNNI convolution GEMM: VPDPBUSD multiplies 4 unsigned activations (x + 128) by 4 signed
// weights and adds the four products into an int32 lane, without intermediate saturation — exact,
// so bit-identical with the generic kernel (the caller folds -128 * sum(w) into the bias). One
// 32-byte load of U covers 8 output positions x 4 k; four output rows share it.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"

__attribute__((target("avx2,avxvnni")))
void vigil_gemm_u8s8_k4_avxvnni(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int cols8 = cols & ~7;
    for (int r = 0; r < rows; r += 4) {
        const int nr = rows - r < 4 ? rows - r : 4;
        const int32_t *a[4];
        for (int i = 0; i < 4; i++) a[i] = A + (ptrdiff_t)(r + (i < nr ? i : 0)) * K4;
        for (int c = 0; c < cols8; c += 8) {
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            const uint8_t *u = U + (ptrdiff_t)c * 4;
            for (int k = 0; k < K4; k++, u += (ptrdiff_t)cols * 4) {
                __m256i vu = _mm256_loadu_si256((const __m256i *)u);
                s0 = _mm256_dpbusd_avx_epi32(s0, vu, _mm256_set1_epi32(a[0][k]));
                s1 = _mm256_dpbusd_avx_epi32(s1, vu, _mm256_set1_epi32(a[1][k]));
                s2 = _mm256_dpbusd_avx_epi32(s2, vu, _mm256_set1_epi32(a[2][k]));
                s3 = _mm256_dpbusd_avx_epi32(s3, vu, _mm256_set1_epi32(a[3][k]));
            }
            const __m256i sums[4] = {s0, s1, s2, s3};
            for (int i = 0; i < nr; i++) {
                const int row = r + i;
                vigil_requant8_avx2(sums[i], q->bias[row], q->multiplier[row], q->shift[row], q->zero_point, q->lo, q->hi,
                                    C + row * ldc + c);
            }
        }
        for (int i = 0; i < nr; i++) {  // column tail
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
