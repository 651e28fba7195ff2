// Shared by the AVX512-VNNI kernels: the requantization of 16 int32 lanes for shifts n >= 33,
// floor((acc * m + 2^(n-1)) / 2^n) = (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) exactly, from the
// high halves of two VPMULDQ (`round` = 2^(n-33), `shift` = n - 32 in every lane).
#ifndef VIGIL_REQUANT_AVX512_H
#define VIGIL_REQUANT_AVX512_H
#include <immintrin.h>

#define VIGIL_A512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

VIGIL_A512 static inline __m512i rq16(__m512i acc, __m512i m, __m512i round, __m512i shift) {
    // Even lanes' products from acc itself, odd lanes' from acc with each odd dword copied down
    // (VPSHUFD, not a shift: it leaves the multiply port free). The high halves sit in the odd
    // dwords of both products; a merge-masked VPSHUFD moves e's down into the even lanes of o.
    const __m512i e = _mm512_mul_epi32(acc, m);
    const __m512i o = _mm512_mul_epi32(_mm512_shuffle_epi32(acc, _MM_PERM_DDBB), m);
    const __m512i h = _mm512_mask_shuffle_epi32(o, 0x5555, e, _MM_PERM_DDBB);
    // A per-lane count (one uop) rather than a count in an xmm register (two).
    return _mm512_srav_epi32(_mm512_add_epi32(h, round), shift);
}

/// Any shift n in [1, 62] (the rows and channels rq16 cannot take): the rule step for step in 64-bit
/// lanes, (acc * m + 2^(n-1)) >> n clamped to [lo - zp, hi - zp] — which equals saturating to int32,
/// adding zp and clamping to [lo, hi], both bounds lying inside int32. Returns that value minus zp,
/// ready for the same saturating packs and zero-point add as rq16's. `round` = 2^(n-1) and `n` in
/// every 64-bit lane, `lo`/`hi` = lo - zp, hi - zp as 64-bit lanes; `m` in the low dword of every
/// 64-bit lane (VPMULDQ reads only that).
VIGIL_A512 static inline __m512i rq16_wide(__m512i acc, __m512i m, __m512i round, __m512i n, __m512i lo, __m512i hi) {
    __m512i e = _mm512_add_epi64(_mm512_mul_epi32(acc, m), round);
    __m512i o = _mm512_add_epi64(_mm512_mul_epi32(_mm512_shuffle_epi32(acc, _MM_PERM_DDBB), m), round);
    e = _mm512_min_epi64(_mm512_max_epi64(_mm512_srav_epi64(e, n), lo), hi);
    o = _mm512_min_epi64(_mm512_max_epi64(_mm512_srav_epi64(o, n), lo), hi);
    return _mm512_mask_blend_epi32(0xAAAA, e, _mm512_slli_epi64(o, 32));
}

#endif
