// Convolution GEMM on the quad layout for AVX-VNNI and for AVX2: VPDPBUSD multiplies 4 unsigned
// activations (x + 128) by 4 signed weights and adds the four products into an int32 lane, without
// intermediate saturation — exact, so bit-identical with the generic kernel (the caller folds
// -128 * sum(w) into the bias). AVX2 without VNNI runs the same tiles with the exact two-VPMADDWD
// form of that step (dpbusd_avx2.h). One 32-byte load of U covers 8 output positions x 4 k; four
// output rows share two of them.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"
#include <string.h>
#include "dpbusd_avx2.h"

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

#define VIGIL_Q_ATTR __attribute__((target("avx2,avxvnni")))
#define VIGIL_Q_DOT(acc, u, w) _mm256_dpbusd_avx_epi32(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avxvnni
#include "gemm_quads_body.h"
#undef VIGIL_Q_ATTR
#undef VIGIL_Q_DOT
#undef VIGIL_Q_NAME

#define VIGIL_Q_ATTR __attribute__((target("avx2")))
#define VIGIL_Q_DOT(acc, u, w) vigil_dpbusd_avx2(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avx2
#include "gemm_quads_body.h"

#endif
