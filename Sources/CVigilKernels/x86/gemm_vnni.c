// AVX-VNNI convolution GEMM: VPDPBUSD multiplies 4 unsigned activations (x + 128) by 4 signed
// weights and adds the four products into an int32 lane, without intermediate saturation — exact,
// so bit-identical with the generic kernel (the caller folds -128 * sum(w) into the bias). One
// 32-byte load of U covers 8 output positions x 4 k; four output rows share two of them.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"
#include <string.h>

/// out[0..n) = row r's requantized bytes of 16 positions (two vectors of 8). For n >= 33:
/// (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) from the high halves of two VPMULDQ, then
/// saturating packs with the zero point added in int16 and the [lo, hi] clamp on bytes (as in
/// depthwise_avx512.c); other rows through vigil_requant8_avx2.
__attribute__((target("avx2"))) static inline void row16_store(__m256i a0, __m256i a1, const vigil_requant_rows *q, int r,
                                                               int8_t *out, int n) {
    const int32_t sh = q->shift[r];
    int8_t tmp[16];
    int8_t *dst = n == 16 ? out : tmp;
    if (sh >= 33) {
        const __m256i m = _mm256_set1_epi64x(q->multiplier[r]);
        const __m256i round = _mm256_set1_epi32(1 << (sh - 33));
        const __m128i shift = _mm_cvtsi32_si128(sh - 32);
        __m256i e = _mm256_mul_epi32(a0, m), o = _mm256_mul_epi32(_mm256_srli_epi64(a0, 32), m);
        a0 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), round), shift);
        e = _mm256_mul_epi32(a1, m); o = _mm256_mul_epi32(_mm256_srli_epi64(a1, 32), m);
        a1 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), round), shift);
        const __m256i w = _mm256_adds_epi16(_mm256_packs_epi32(a0, a1), _mm256_set1_epi16((short)q->zero_point));
        // Per 128-bit lane: 4 results of a0, then 4 of a1; dwords 0, 4, 1, 5 put them in position order.
        const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w, w), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        __m128i y = _mm256_castsi256_si128(b);
        y = _mm_min_epi8(_mm_max_epi8(y, _mm_set1_epi8((char)q->lo)), _mm_set1_epi8((char)q->hi));
        _mm_storeu_si128((__m128i *)dst, y);
    } else {
        // (the accumulators already hold the bias)
        vigil_requant8_avx2(a0, 0, q->multiplier[r], sh, q->zero_point, q->lo, q->hi, dst);
        vigil_requant8_avx2(a1, 0, q->multiplier[r], sh, q->zero_point, q->lo, q->hi, dst + 8);
    }
    if (dst == tmp) memcpy(out, tmp, (size_t)n);
}

/// 4 rows by 16 positions: per reduction quad two 32-byte loads of U and four broadcast weight
/// quads feed 8 VPDPBUSD; accumulators start at the bias. Positions past `n` are masked to 0.
__attribute__((target("avx2,avxvnni")))
static void tile4x16_vnni(const int32_t *A, int K4, int r, int nr, const uint8_t *u, ptrdiff_t stride, int n,
                          const vigil_requant_rows *q, int8_t *out, ptrdiff_t ldc) {
    const int32_t *w0 = A + (ptrdiff_t)r * K4, *w1 = A + (ptrdiff_t)(r + (nr > 1)) * K4;
    const int32_t *w2 = A + (ptrdiff_t)(r + (nr > 2 ? 2 : 0)) * K4, *w3 = A + (ptrdiff_t)(r + (nr > 3 ? 3 : 0)) * K4;
    __m256i s00 = _mm256_set1_epi32(q->bias[r]), s01 = s00;
    __m256i s10 = _mm256_set1_epi32(q->bias[r + (nr > 1)]), s11 = s10;
    __m256i s20 = _mm256_set1_epi32(q->bias[r + (nr > 2 ? 2 : 0)]), s21 = s20;
    __m256i s30 = _mm256_set1_epi32(q->bias[r + (nr > 3 ? 3 : 0)]), s31 = s30;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane), k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    for (int k = 0; k < K4; k++, u += stride) {
        __m256i v0, v1;
        if (n == 16) {
            v0 = _mm256_loadu_si256((const __m256i *)u);
            v1 = _mm256_loadu_si256((const __m256i *)(u + 32));
        } else {
            v0 = _mm256_maskload_epi32((const int *)u, k0);
            v1 = _mm256_maskload_epi32((const int *)(u + 32), k1);
        }
        __m256i w = _mm256_set1_epi32(w0[k]);
        s00 = _mm256_dpbusd_avx_epi32(s00, v0, w); s01 = _mm256_dpbusd_avx_epi32(s01, v1, w);
        w = _mm256_set1_epi32(w1[k]);
        s10 = _mm256_dpbusd_avx_epi32(s10, v0, w); s11 = _mm256_dpbusd_avx_epi32(s11, v1, w);
        w = _mm256_set1_epi32(w2[k]);
        s20 = _mm256_dpbusd_avx_epi32(s20, v0, w); s21 = _mm256_dpbusd_avx_epi32(s21, v1, w);
        w = _mm256_set1_epi32(w3[k]);
        s30 = _mm256_dpbusd_avx_epi32(s30, v0, w); s31 = _mm256_dpbusd_avx_epi32(s31, v1, w);
    }
    row16_store(s00, s01, q, r, out, n);
    if (nr > 1) row16_store(s10, s11, q, r + 1, out + ldc, n);
    if (nr > 2) row16_store(s20, s21, q, r + 2, out + 2 * ldc, n);
    if (nr > 3) row16_store(s30, s31, q, r + 3, out + 3 * ldc, n);
}

__attribute__((target("avx2,avxvnni")))
void vigil_gemm_u8s8_k4_avxvnni(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    for (int c0 = 0; c0 < cols; c0 += 16) {
        const int n = cols - c0 < 16 ? cols - c0 : 16;
        for (int r = 0; r < rows; r += 4)
            tile4x16_vnni(A, K4, r, rows - r < 4 ? rows - r : 4, U + (ptrdiff_t)c0 * 4, (ptrdiff_t)cols * 4, n, q,
                          C + (ptrdiff_t)r * ldc + c0, ldc);
    }
}

#endif
