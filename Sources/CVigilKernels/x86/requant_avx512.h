// Shared by the AVX512-VNNI kernels: the requantization of 16 int32 lanes for shifts n >= 33,
// floor((acc * m + 2^(n-1)) / 2^n) = (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) exactly, from the
// high halves of two VPMULDQ (`round` = 2^(n-33), `shift` = n - 32).
#ifndef VIGIL_REQUANT_AVX512_H
#define VIGIL_REQUANT_AVX512_H
#include <immintrin.h>

#define VIGIL_A512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

VIGIL_A512 static inline __m512i rq16(__m512i acc, __m512i m, __m512i round, __m128i shift) {
    const __m512i e = _mm512_mul_epi32(acc, m);
    const __m512i o = _mm512_mul_epi32(_mm512_srli_epi64(acc, 32), m);
    const __m512i h = _mm512_mask_blend_epi32(0xAAAA, _mm512_srli_epi64(e, 32), o);
    return _mm512_sra_epi32(_mm512_add_epi32(h, round), shift);
}

#endif
