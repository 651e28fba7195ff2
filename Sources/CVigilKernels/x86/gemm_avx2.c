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

/// One column (a fully connected layer on a single input row): four rows share each load of the
/// column, their sums are reduced together, and the K % 16 tail is one more 16-byte load ending at K
/// with the lanes the main loop already counted zeroed in the column, so there is no scalar loop and
/// no read outside a row. Needs K >= 16.
__attribute__((target("avx2")))
static void gemv_s8_avx2(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q, int8_t *C,
                         ptrdiff_t ldr) {
    const int K16 = K & ~15, tail = K - K16, o = K - 16;
    __m256i bt = _mm256_setzero_si256();
    if (tail) {
        const __m128i lane = _mm_setr_epi8(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        const __m128i keep = _mm_cmpgt_epi8(lane, _mm_set1_epi8((char)(15 - tail)));  // lane >= 16 - tail
        bt = _mm256_cvtepi8_epi16(_mm_and_si128(_mm_loadu_si128((const __m128i *)(b + o)), keep));
    }
    int r = 0;
    for (; r + 4 <= rows; r += 4) {
        const int8_t *a0 = A + (ptrdiff_t)r * K, *a1 = a0 + K, *a2 = a1 + K, *a3 = a2 + K;
        __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
        for (int k = 0; k < K16; k += 16) {
            const __m256i vb = load16(b + k);
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(load16(a0 + k), vb));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(load16(a1 + k), vb));
            s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(load16(a2 + k), vb));
            s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(load16(a3 + k), vb));
        }
        if (tail) {
            s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(load16(a0 + o), bt));
            s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(load16(a1 + o), bt));
            s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(load16(a2 + o), bt));
            s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(load16(a3 + o), bt));
        }
        // Per 128-bit half: the partial sums of rows 0..3; the two halves added give the four sums.
        const __m256i h = _mm256_hadd_epi32(_mm256_hadd_epi32(s0, s1), _mm256_hadd_epi32(s2, s3));
        const __m128i acc = _mm_add_epi32(_mm_add_epi32(_mm256_castsi256_si128(h), _mm256_extracti128_si256(h, 1)),
                                          _mm_loadu_si128((const __m128i *)(q->bias + r)));  // wraps like the Swift &+
        int32_t v[4];
        _mm_storeu_si128((__m128i *)v, acc);
        for (int j = 0; j < 4; j++)
            C[(r + j) * ldr] = (int8_t)vigil_requantize(v[j], q->multiplier[r + j], q->shift[r + j], q->zero_point, q->lo, q->hi);
    }
    for (; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        __m256i s = _mm256_setzero_si256();
        for (int k = 0; k < K16; k += 16) s = _mm256_add_epi32(s, _mm256_madd_epi16(load16(a + k), load16(b + k)));
        if (tail) s = _mm256_add_epi32(s, _mm256_madd_epi16(load16(a + o), bt));
        const int32_t acc = (int32_t)((uint32_t)hsum(s) + (uint32_t)q->bias[r]);
        C[r * ldr] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
    }
}

__attribute__((target("avx2")))
void vigil_gemm_s8_avx2(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    if (cols == 1 && K >= 16) { gemv_s8_avx2(A, B, rows, K, q, C, ldr); return; }
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
