// Requantization of 8 int32 accumulators of one output row with AVX2, bit-identical with
// vigil_requantize (docs/FORMAT.md): 64-bit products on even and odd lanes (VPMULDQ), rounding
// constant, arithmetic shift emulated with a logical one on the sign-flipped value
// ((p + 2^63) >> n = floor(p / 2^n) + 2^(63 - n), exact because 2^n divides 2^63), then the clamp
// to [lo - zp, hi - zp] in 64 bits (the same as saturating to int32, adding zp and clamping to
// [lo, hi], since both bounds lie inside int32).
#ifndef VIGIL_REQUANT_AVX2_H
#define VIGIL_REQUANT_AVX2_H
#include "vigil_kernels.h"
#include <immintrin.h>

__attribute__((target("avx2"))) static inline __m256i vigil_shift_round_clamp(__m256i p, int32_t n, __m256i lo, __m256i hi) {
    const __m256i sign = _mm256_set1_epi64x((long long)0x8000000000000000ull);
    __m256i u = _mm256_srl_epi64(_mm256_xor_si256(p, sign), _mm_cvtsi32_si128(n));
    __m256i v = _mm256_sub_epi64(u, _mm256_set1_epi64x((long long)(1ull << (63 - n))));
    v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
    v = _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
    return v;
}

/// out[j] = vigil_requantize(acc[j] + bias, m, n, zp, lo, hi) for j < 8 (acc wraps like the Swift &+).
__attribute__((target("avx2"))) static inline void vigil_requant8_avx2(__m256i acc, int32_t bias, int32_t m, int32_t n,
                                                                      int32_t zp, int32_t lo, int32_t hi, int8_t *out) {
    acc = _mm256_add_epi32(acc, _mm256_set1_epi32(bias));
    const __m256i mv = _mm256_set1_epi64x(m), round = _mm256_set1_epi64x((long long)1 << (n - 1));
    const __m256i vlo = _mm256_set1_epi64x((long long)lo - zp), vhi = _mm256_set1_epi64x((long long)hi - zp);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(acc, mv), round);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), mv), round);
    even = vigil_shift_round_clamp(even, n, vlo, vhi);
    odd = vigil_shift_round_clamp(odd, n, vlo, vhi);
    int64_t e[4], o[4];
    _mm256_storeu_si256((__m256i *)e, even);
    _mm256_storeu_si256((__m256i *)o, odd);
    for (int j = 0; j < 4; j++) {
        out[2 * j] = (int8_t)(e[j] + zp);
        out[2 * j + 1] = (int8_t)(o[j] + zp);
    }
}
#endif
