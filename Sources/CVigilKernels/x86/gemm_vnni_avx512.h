// Internal to the AVX512-VNNI convolution GEMM: the per-row requantizing store shared by the
// full-panel kernel (gemm_vnni_avx512.c) and the narrow-panel kernel (gemm_vnni_avx512_narrow.c),
// and the narrow kernel's entry point.
#ifndef VIGIL_GEMM_VNNI_AVX512_H
#define VIGIL_GEMM_VNNI_AVX512_H
#include "vigil_kernels.h"
#include <immintrin.h>

#include "requant_avx512.h"

/// Partial panels of at most 48 positions, or of at most VIGIL_NARROW_MAX positions when
/// K4 <= VIGIL_NARROW_MAX_K4, go to the narrow kernel.
#define VIGIL_NARROW_MAX 52
#define VIGIL_NARROW_MAX_K4 1024

/// Columns [0, nc) of C (row stride ldc) from the panel u of the quad layout (row stride us bytes
/// per reduction quad), with A, K4 and q as in vigil_gemm_u8s8_k4.
void vigil_gemm_u8s8_k4_avx512vnni_narrow(const int32_t *A, const uint8_t *u, ptrdiff_t us, int rows, int nc, int K4,
                                          const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);

/// Row r's 64 results (four vectors of 16 positions) requantized and stored (the first `n` of them).
VIGIL_A512 static inline __attribute__((always_inline)) void row_store(__m512i a0, __m512i a1, __m512i a2, __m512i a3, const vigil_requant_rows *q,
                                        int r, int8_t *out, __mmask64 keep) {
    const int32_t n = q->shift[r], zp = q->zero_point, lo = q->lo, hi = q->hi;
    // Per 128-bit lane L the packs hold 4 results of each vector (positions 4L..4L+3 of it).
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    if (n >= 33 && n <= 54) {
        // The zero point joins the rounding term: (h + 2^(n-33) + zp * 2^(n-32)) >> (n - 32) is the
        // rounded value plus zp exactly (a multiple of 2^(n-32) passes through the floor), with
        // |h| <= 2^30 and |zp| * 2^22 <= 2^29 inside int32. The two saturating packs then clamp
        // to [-128, 127].
        const __m512i m = _mm512_set1_epi32(q->multiplier[r]);
        const __m512i round = _mm512_set1_epi32((1 << (n - 33)) + (int32_t)((uint32_t)zp << (n - 32)));
        const __m512i shift = _mm512_set1_epi32(n - 32);
        a0 = rq16(a0, m, round, shift); a1 = rq16(a1, m, round, shift);
        a2 = rq16(a2, m, round, shift); a3 = rq16(a3, m, round, shift);
        __m512i y = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(_mm512_packs_epi32(a0, a1), _mm512_packs_epi32(a2, a3)));
        if (lo > -128 || hi < 127)
            y = _mm512_min_epi8(_mm512_max_epi8(y, _mm512_set1_epi8((char)lo)), _mm512_set1_epi8((char)hi));
        _mm512_mask_storeu_epi8(out, keep, y);
        return;
    }
    if (n >= 33) {
        const __m512i m = _mm512_set1_epi32(q->multiplier[r]);  // VPMULDQ reads the low dword of each qword
        const __m512i round = _mm512_set1_epi32(1 << (n - 33));
        const __m512i shift = _mm512_set1_epi32(n - 32);
        a0 = rq16(a0, m, round, shift); a1 = rq16(a1, m, round, shift);
        a2 = rq16(a2, m, round, shift); a3 = rq16(a3, m, round, shift);
    } else {
        const __m512i m = _mm512_set1_epi32(q->multiplier[r]);
        const __m512i round = _mm512_set1_epi64((long long)1 << (n - 1)), sh = _mm512_set1_epi64(n);
        const __m512i lov = _mm512_set1_epi64((long long)lo - zp), hiv = _mm512_set1_epi64((long long)hi - zp);
        a0 = rq16_wide(a0, m, round, sh, lov, hiv); a1 = rq16_wide(a1, m, round, sh, lov, hiv);
        a2 = rq16_wide(a2, m, round, sh, lov, hiv); a3 = rq16_wide(a3, m, round, sh, lov, hiv);
    }
    const __m512i zpv = _mm512_set1_epi16((short)zp);
    const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a0, a1), zpv);
    const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(a2, a3), zpv);
    __m512i y = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(ab, cd));
    y = _mm512_min_epi8(_mm512_max_epi8(y, _mm512_set1_epi8((char)lo)), _mm512_set1_epi8((char)hi));
    _mm512_mask_storeu_epi8(out, keep, y);
}

#endif
