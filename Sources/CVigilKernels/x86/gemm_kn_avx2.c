// AVX2 int8 GEMM vectorized across output positions, for convolutions in NCHW: for each pair of
// K rows, 8 int8 of B[k] and 8 of B[k+1] are widened to int16 and interleaved, then VPMADDWD with
// the broadcast weight pair (A[r][k], A[r][k+1]) adds both products into 8 int32 lanes. Four output
// rows share each B load. Exact int32 arithmetic: bit-identical with the generic kernel.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"
#include <string.h>

__attribute__((target("avx2"))) static inline __m256i pair8(const int8_t *b0, const int8_t *b1) {
    __m128i x0 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)b0));
    __m128i x1 = _mm_cvtepi8_epi16(_mm_loadl_epi64((const __m128i *)b1));
    return _mm256_set_m128i(_mm_unpackhi_epi16(x0, x1), _mm_unpacklo_epi16(x0, x1));
}


__attribute__((target("avx2")))
static void store_row(const int32_t *acc, int r, int c, int n, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    for (int j = 0; j < n; j++) {
        int32_t v = (int32_t)((uint32_t)acc[j] + (uint32_t)q->bias[r]);
        C[r * ldc + c + j] = (int8_t)vigil_requantize(v, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
    }
}

__attribute__((target("avx2")))
static void tile4x8(const int32_t *const a[4], int nr, int r, const int8_t *Bc, ptrdiff_t ldb, int K, int half,
                    const vigil_requant_rows *q, int8_t *out, ptrdiff_t ldc) {
    static const int8_t zeros[8] = {0};
    __m256i s0 = _mm256_setzero_si256(), s1 = s0, s2 = s0, s3 = s0;
    const int8_t *b = Bc;
    int i = 0;
    for (; 2 * i + 1 < K; i++, b += 2 * ldb) {
        __m256i bp = pair8(b, b + ldb);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[0][i])));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[1][i])));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[2][i])));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[3][i])));
    }
    if (i < half) {  // odd K: the last row pairs with zeros
        __m256i bp = pair8(b, zeros);
        s0 = _mm256_add_epi32(s0, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[0][i])));
        s1 = _mm256_add_epi32(s1, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[1][i])));
        s2 = _mm256_add_epi32(s2, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[2][i])));
        s3 = _mm256_add_epi32(s3, _mm256_madd_epi16(bp, _mm256_set1_epi32(a[3][i])));
    }
    const __m256i sums[4] = {s0, s1, s2, s3};
    for (int j = 0; j < nr; j++) {
        const int row = r + j;
        vigil_requant8_avx2(sums[j], q->bias[row], q->multiplier[row], q->shift[row], q->zero_point, q->lo, q->hi, out + j * ldc);
    }
}

__attribute__((target("avx2")))
void vigil_gemm_s8_kn_avx2(const int32_t *A, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int cols8 = cols & ~7, half = (K + 1) / 2, tail = cols - cols8;
    enum { TAIL_K_MAX = 8192 };
    int8_t tailB[TAIL_K_MAX * 8];  // the last < 8 columns, zero-padded to a full tile
    const int tailed = tail > 0 && K <= TAIL_K_MAX;
    if (tailed)
        for (int k = 0; k < K; k++)
            for (int j = 0; j < 8; j++) tailB[k * 8 + j] = j < tail ? B[k * ldb + cols8 + j] : 0;
    for (int r = 0; r < rows; r += 4) {
        const int nr = rows - r < 4 ? rows - r : 4;
        const int32_t *a[4];
        for (int i = 0; i < 4; i++) a[i] = A + (ptrdiff_t)(r + (i < nr ? i : 0)) * half;
        for (int c = 0; c < cols8; c += 8) tile4x8(a, nr, r, B + c, ldb, K, half, q, C + r * ldc + c, ldc);
        if (tailed) {
            int8_t out[4 * 8];
            tile4x8(a, nr, r, tailB, 8, K, half, q, out, 8);
            for (int i = 0; i < nr; i++)
                for (int j = 0; j < tail; j++) C[(r + i) * ldc + cols8 + j] = out[i * 8 + j];
        } else {
            for (int i = 0; i < nr; i++) {  // column tail (K too deep for the stack copy)
                for (int c = cols8; c < cols; c++) {
                    int32_t acc = 0;
                    for (int k = 0; k < K; k++) {
                        int32_t w = (int16_t)(k & 1 ? (uint32_t)a[i][k / 2] >> 16 : (uint32_t)a[i][k / 2] & 0xFFFF);
                        acc += w * (int32_t)B[k * ldb + c];
                    }
                    store_row(&acc, r + i, c, 1, q, C, ldc);
                }
            }
        }
    }
}
#endif
