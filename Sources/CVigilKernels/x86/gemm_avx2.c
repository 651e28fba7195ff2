// AVX2 int8 GEMM: sign-extend 16 int8 to int16 (VPMOVSXBW) and multiply-add pairs into int32
// (VPMADDWD); exact, so bit-identical with the generic kernel. Four output columns per pass share
// each load of the A row.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

__attribute__((target("avx2"))) static inline int32_t hsum(__m256i v) {
    __m128i s = _mm_add_epi32(_mm256_castsi256_si128(v), _mm256_extracti128_si256(v, 1));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0x4E));
    s = _mm_add_epi32(s, _mm_shuffle_epi32(s, 0xB1));
    return _mm_cvtsi128_si32(s);
}

__attribute__((target("avx2"))) static inline __m256i load16(const int8_t *p) {
    return _mm256_cvtepi8_epi16(_mm_loadu_si128((const __m128i *)p));
}

__attribute__((target("avx2")))
void vigil_gemm_s8_avx2(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const int K16 = K & ~15;
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            const int8_t *b0 = B + (ptrdiff_t)c * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
            __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < K16; k += 16) {
                __m256i va = load16(a + k);
                s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(va, load16(b0 + k)));
                s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(va, load16(b1 + k)));
                s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(va, load16(b2 + k)));
                s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(va, load16(b3 + k)));
            }
            int32_t acc[4] = {hsum(s0), hsum(s1), hsum(s2), hsum(s3)};
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
            __m256i s = _mm256_setzero_si256();
            for (int k = 0; k < K16; k += 16) s = _mm256_add_epi32(s, _mm256_madd_epi16(load16(a + k), load16(b + k)));
            int32_t acc = hsum(s);
            for (int k = K16; k < K; k++) acc += a[k] * b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}
#endif
