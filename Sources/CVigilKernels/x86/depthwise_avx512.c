// Depthwise plane kernel for AVX512-VNNI (see depthwise_planes.h): one channel, 64 output positions
// per step. Stride 1: four loads at q0, q0+1, q0+2, q0+3 (plus the quad's offset) put in lane j
// the four taps of positions q0 + 4j + phase, and VPDPBUSD multiplies them with the broadcast
// weight quad; stride 2: two phases of two 32-position halves. The accumulators start at bias'.
// Requantization: for n >= 33 (every layer whose real multiplier is below 1/4, the common case)
// floor((acc * m + 2^(n-1)) / 2^n) = (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) exactly, which
// needs only the high halves of two VPMULDQ and a 32-bit shift; other channels take the rule in
// 64-bit lanes (rq16_wide in requant_avx512.h). Packing with signed saturation to int16, adding the zero point with
// saturation, packing to int8 and clamping to [lo, hi] gives vigil_requantize's bytes (a value
// beyond int16 stays beyond int8 after adding a zero point in [-128, 127]).
#if defined(__x86_64__)
#include "../depthwise_planes.h"
#include <immintrin.h>

#include "requant_avx512.h"

VIGIL_A512 static inline void plane_avx512vnni(const vigil_dw_plane *p) {
    const int fast = p->n >= 33;
    const __m512i m = _mm512_set1_epi64(p->m);
    const __m512i round = _mm512_set1_epi32(fast ? 1 << (p->n - 33) : 0);
    const __m512i shift = _mm512_set1_epi32(fast ? p->n - 32 : 0);
    // Channels with n <= 32: the 64-bit rule (rq16_wide).
    const __m512i wround = _mm512_set1_epi64((long long)1 << (p->n - 1)), wshift = _mm512_set1_epi64(p->n);
    const __m512i wlo = _mm512_set1_epi64((long long)p->lo - p->zp), whi = _mm512_set1_epi64((long long)p->hi - p->zp);
    const __m512i zp = _mm512_set1_epi16((short)p->zp), lo = _mm512_set1_epi8((char)p->lo), hi = _mm512_set1_epi8((char)p->hi);
    const __m512i bias = _mm512_set1_epi32(p->bias);
    // Per 128-bit lane after the packs: 4 results of each of the 4 vectors; put them in position order.
    const __m512i transpose = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i pairs = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
    const __m512i halves = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    const int s = p->s;
    // Phase loads: stride 1 at +0..3; stride 2 at +0, +2 (first 32 positions) and +64, +66 (next 32).
    const int d1 = s == 1 ? 1 : 2, d2 = s == 1 ? 2 : 64, d3 = s == 1 ? 3 : 66;
    for (int q0 = 0; q0 < p->nq; q0 += 64) {
        __m512i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const uint8_t *base = p->P + (ptrdiff_t)s * q0;
        for (int k = 0; k < p->nk; k++) {
            const __m512i w = _mm512_set1_epi32(p->wq[k]);
            const uint8_t *b = base + p->off[k];
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(b), w);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(b + d1), w);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(b + d2), w);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(b + d3), w);
        }
        if (fast) {
            a0 = rq16(a0, m, round, shift); a1 = rq16(a1, m, round, shift);
            a2 = rq16(a2, m, round, shift); a3 = rq16(a3, m, round, shift);
        } else {
            a0 = rq16_wide(a0, m, wround, wshift, wlo, whi); a1 = rq16_wide(a1, m, wround, wshift, wlo, whi);
            a2 = rq16_wide(a2, m, wround, wshift, wlo, whi); a3 = rq16_wide(a3, m, wround, wshift, wlo, whi);
        }
        const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a0, a1), zp);
        const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(a2, a3), zp);
        __m512i y = _mm512_packs_epi16(ab, cd);
        if (s == 1) y = _mm512_shuffle_epi8(y, transpose);
        else y = _mm512_permutexvar_epi64(halves, _mm512_shuffle_epi8(y, pairs));
        y = _mm512_min_epi8(_mm512_max_epi8(y, lo), hi);
        _mm512_storeu_si512(p->T + q0, y);
    }
}

/// Row copies with 64-byte vectors and a masked tail.
VIGIL_A512 static inline void copy_avx512(uint8_t *d, const int8_t *src, int n, int flip) {
    const __m512i f = _mm512_set1_epi8(flip ? (char)0x80 : 0);
    int i = 0;
    for (; i + 64 <= n; i += 64) _mm512_storeu_si512(d + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), f));
    if (i < n) {
        const __mmask64 k = ((__mmask64)1 << (n - i)) - 1;
        _mm512_mask_storeu_epi8(d + i, k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, src + i), f));
    }
}

/// The output rows of a plane, out[oy * ow + ox] = T[oy * wq + ox]. Rows of at most 16 or 32 bytes
/// (planes of 14 x 14 and smaller, where this copy is a good part of a channel's time) move as one
/// unmasked vector each, in order, so that a row's overhang lands on the rows after it and is
/// overwritten by them; rows whose vector would reach past the plane are stored masked. Unmasked
/// loads also take their bytes straight from the plane kernel's store of T, which masked loads
/// cannot.
VIGIL_A512 static inline void copy_rows_avx512(int8_t *out, const int8_t *T, int oh, int ow, int wq) {
    const ptrdiff_t end = (ptrdiff_t)oh * ow;
    int oy = 0;
    if (ow <= 16) {
        for (; oy < oh && (ptrdiff_t)oy * ow + 16 <= end; oy++)
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)oy * ow), _mm_loadu_si128((const __m128i *)(T + (ptrdiff_t)oy * wq)));
        for (; oy < oh; oy++)
            _mm_mask_storeu_epi8(out + (ptrdiff_t)oy * ow, (__mmask16)((1u << ow) - 1),
                                 _mm_loadu_si128((const __m128i *)(T + (ptrdiff_t)oy * wq)));
    } else if (ow <= 32) {
        for (; oy < oh && (ptrdiff_t)oy * ow + 32 <= end; oy++)
            _mm256_storeu_si256((__m256i *)(out + (ptrdiff_t)oy * ow), _mm256_loadu_si256((const __m256i *)(T + (ptrdiff_t)oy * wq)));
        for (; oy < oh; oy++)
            _mm256_mask_storeu_epi8(out + (ptrdiff_t)oy * ow, (__mmask32)(ow == 32 ? 0xFFFFFFFFu : (1u << ow) - 1),
                                    _mm256_loadu_si256((const __m256i *)(T + (ptrdiff_t)oy * wq)));
    } else {
        for (; oy < oh; oy++) copy_avx512((uint8_t *)out + (ptrdiff_t)oy * ow, T + (ptrdiff_t)oy * wq, ow, 0);
    }
}

#define VIGIL_DWD_NAME vigil_depthwise_planes_avx512vnni
#define VIGIL_DWD_ATTR VIGIL_A512
#define VIGIL_DWD_PLANE(p) plane_avx512vnni(p)
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_avx512(d, s, n, 1)
#define VIGIL_DWD_COPY(d, s, n) copy_avx512((uint8_t *)(d), s, n, 0)
#define VIGIL_DWD_COPY_ROWS(out, T, oh, ow, wq) copy_rows_avx512(out, T, oh, ow, wq)
#include "../depthwise_driver.h"
#endif
