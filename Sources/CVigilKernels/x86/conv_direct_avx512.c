// Direct convolution with AVX512-VNNI: one 512-bit register holds 16 output channels, a tile is
// 16 channels by 8 output positions (eight accumulators, one weight load and eight broadcasts
// per reduction quad). The same packed weights and offsets as the AVX-VNNI kernel. Requantization
// uses what AVX-512 adds over AVX2 — 64-bit arithmetic shifts by a per-lane count (VPSRAVQ) and
// 64-bit min/max — so it is the rule of vigil_requantize step for step; blocks whose 16 channels all
// have n >= 33 take the cheaper exact form of depthwise_avx512.c (high halves of VPMULDQ, a 32-bit
// rounding shift, saturating packs). The accumulators start at the bias.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include <string.h>

#define VIGIL_AVX512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

typedef struct {
    __m512i bias, mult, mult_odd, shift_even, shift_odd, round_even, round_odd, lo, hi, zp;
    // Every channel of the block has n >= 33: (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) per lane.
    // `folded`: also n <= 54, and round32 holds 2^(n-33) + zp * 2^(n-32), so the shift yields the
    // value plus the zero point (exact: a multiple of 2^(n-32) passes through the floor, and with
    // |floor(acc * m / 2^32)| <= 2^30 and |zp| * 2^22 <= 2^29 the sum stays inside int32).
    int fast, folded;
    __m512i round32, shift32, zp16, lo8, hi8;
} lanes16;

VIGIL_AVX512 static lanes16 lanes16_setup(const vigil_requant_rows *q, int r0, int rows) {
    int32_t b[16], m[16], r32[16], s32[16];
    int64_t se[8], so[8], re[8], ro[8];
    lanes16 l;
    l.fast = 1;
    l.folded = 1;
    for (int j = 0; j < 16; j++) {
        const int r = r0 + j, valid = r < rows;
        // Lanes past the last channel requantize with multiplier 0 and are never stored.
        const int32_t n = valid ? q->shift[r] : 33;
        b[j] = valid ? q->bias[r] : 0;
        m[j] = valid ? q->multiplier[r] : 0;
        (j & 1 ? so : se)[j / 2] = n;
        (j & 1 ? ro : re)[j / 2] = (int64_t)1 << (n - 1);
        if (n < 33) l.fast = 0;
        if (n < 33 || n > 54) l.folded = 0;
        r32[j] = n >= 33 ? 1 << (n - 33) : 0;
        s32[j] = n >= 33 ? n - 32 : 0;
    }
    if (l.folded)
        for (int j = 0; j < 16; j++) r32[j] += (int32_t)((uint32_t)q->zero_point << s32[j]);
    l.round32 = _mm512_loadu_si512(r32);
    l.shift32 = _mm512_loadu_si512(s32);
    l.zp16 = _mm512_set1_epi16((short)q->zero_point);
    l.lo8 = _mm512_set1_epi8((char)q->lo);
    l.hi8 = _mm512_set1_epi8((char)q->hi);
    l.bias = _mm512_loadu_si512(b);
    l.mult = _mm512_loadu_si512(m);
    l.mult_odd = _mm512_srli_epi64(l.mult, 32);
    l.shift_even = _mm512_loadu_si512(se);
    l.shift_odd = _mm512_loadu_si512(so);
    l.round_even = _mm512_loadu_si512(re);
    l.round_odd = _mm512_loadu_si512(ro);
    // Clamping to [lo - zp, hi - zp] in 64 bits equals saturating to int32, adding zp and
    // clamping to [lo, hi]: both bounds lie inside int32.
    l.lo = _mm512_set1_epi64((long long)q->lo - q->zero_point);
    l.hi = _mm512_set1_epi64((long long)q->hi - q->zero_point);
    l.zp = _mm512_set1_epi32(q->zero_point);
    return l;
}

/// 16 int32 results in [lo, hi], lane j = channel r0 + j (acc already includes the bias).
VIGIL_AVX512 static inline __m512i lanes16_requantize(__m512i acc, const lanes16 *l) {
    __m512i even = _mm512_add_epi64(_mm512_mul_epi32(acc, l->mult), l->round_even);
    __m512i odd = _mm512_add_epi64(_mm512_mul_epi32(_mm512_srli_epi64(acc, 32), l->mult_odd), l->round_odd);
    even = _mm512_min_epi64(_mm512_max_epi64(_mm512_srav_epi64(even, l->shift_even), l->lo), l->hi);
    odd = _mm512_min_epi64(_mm512_max_epi64(_mm512_srav_epi64(odd, l->shift_odd), l->lo), l->hi);
    return _mm512_add_epi32(_mm512_mask_blend_epi32(0xAAAA, even, _mm512_slli_epi64(odd, 32)), l->zp);
}

/// The fast path's value minus the zero point (exact in int32, possibly beyond int16).
VIGIL_AVX512 static inline __m512i lanes16_fast(__m512i acc, const lanes16 *l) {
    const __m512i e = _mm512_mul_epi32(acc, l->mult);
    // (shuffles rather than 64-bit shifts, as in requant_avx512.h)
    const __m512i o = _mm512_mul_epi32(_mm512_shuffle_epi32(acc, _MM_PERM_DDBB), l->mult_odd);
    const __m512i h = _mm512_mask_shuffle_epi32(o, 0x5555, e, _MM_PERM_DDBB);
    return _mm512_srav_epi32(_mm512_add_epi32(h, l->round32), l->shift32);
}

/// Lane j: the four output bytes (positions p..p+3) of channel j, in memory order.
VIGIL_AVX512 static inline __m512i bytes4(__m512i y0, __m512i y1, __m512i y2, __m512i y3) {
    const __m512i low = _mm512_set1_epi32(0xFF);
    __m512i v = _mm512_or_si512(_mm512_and_si512(y0, low), _mm512_slli_epi32(_mm512_and_si512(y1, low), 8));
    v = _mm512_or_si512(v, _mm512_slli_epi32(_mm512_and_si512(y2, low), 16));
    return _mm512_or_si512(v, _mm512_slli_epi32(y3, 24));
}

/// Lane j: the four output bytes (positions p..p+3) of channel j, in memory order, from four
/// accumulator vectors (positions p..p+3). Fast path: requantized, packed with saturation, the zero
/// point added with saturation in int16, the 4x4 bytes of each 128-bit lane transposed, clamped to
/// [lo, hi] — the same bytes as vigil_requantize, since a value beyond int16 stays beyond int8 after
/// adding a zero point in [-128, 127].
VIGIL_AVX512 static inline __m512i quad_bytes(__m512i y0, __m512i y1, __m512i y2, __m512i y3, const lanes16 *l) {
    if (!l->fast)
        return bytes4(lanes16_requantize(y0, l), lanes16_requantize(y1, l), lanes16_requantize(y2, l), lanes16_requantize(y3, l));
    y0 = lanes16_fast(y0, l); y1 = lanes16_fast(y1, l); y2 = lanes16_fast(y2, l); y3 = lanes16_fast(y3, l);
    const __m512i transpose = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    if (l->folded) {  // the zero point is in already; the saturating packs clamp to [-128, 127]
        const __m512i v = _mm512_shuffle_epi8(_mm512_packs_epi16(_mm512_packs_epi32(y0, y1), _mm512_packs_epi32(y2, y3)), transpose);
        return _mm512_min_epi8(_mm512_max_epi8(v, l->lo8), l->hi8);
    }
    const __m512i a = _mm512_adds_epi16(_mm512_packs_epi32(y0, y1), l->zp16);
    const __m512i b = _mm512_adds_epi16(_mm512_packs_epi32(y2, y3), l->zp16);
    const __m512i v = _mm512_shuffle_epi8(_mm512_packs_epi16(a, b), transpose);
    return _mm512_min_epi8(_mm512_max_epi8(v, l->lo8), l->hi8);
}

/// Requantizes and stores one tile: accumulators s[0..7] = positions p0..p0+7 of channels r0..r0+15.
/// Each channel's (up to) 8 bytes are gathered into one qword in channel order, then written with one
/// masked 8-byte store per channel (no byte-count-dependent copies for the last, partial tile).
VIGIL_AVX512 static inline __attribute__((always_inline)) void store_tile(const __m512i *s, const lanes16 *l, int8_t *y,
                                                                            ptrdiff_t ldc, int np, int valid) {
    const __m512i lo = quad_bytes(s[0], s[1], s[2], s[3], l);
    const __m512i hi = np > 4 ? quad_bytes(s[4], s[5], s[6], s[7], l) : _mm512_setzero_si512();
    // Per 128-bit lane L: unpacklo holds channels 4L, 4L+1 and unpackhi 4L+2, 4L+3 as (lo, hi) qwords.
    const __m512i a = _mm512_unpacklo_epi32(lo, hi), b = _mm512_unpackhi_epi32(lo, hi);
    _Alignas(64) uint64_t v[16];
    _mm512_store_si512(v, _mm512_permutex2var_epi64(a, _mm512_setr_epi64(0, 1, 8, 9, 2, 3, 10, 11), b));
    _mm512_store_si512(v + 8, _mm512_permutex2var_epi64(a, _mm512_setr_epi64(4, 5, 12, 13, 6, 7, 14, 15), b));
    if (np == 8) {
        // (kept scalar: clang would turn this loop into a VPSCATTERQQ, which is slower than 8-byte stores)
#pragma clang loop vectorize(disable)
        for (int j = 0; j < valid; j++) memcpy(y + j * ldc, &v[j], 8);
    } else {
        const __mmask16 keep = (__mmask16)((1u << np) - 1);
        for (int j = 0; j < valid; j++) _mm_mask_storeu_epi8(y + j * ldc, keep, _mm_loadl_epi64((const __m128i *)&v[j]));
    }
}

VIGIL_AVX512
void vigil_conv_u8s8_direct_avx512vnni(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride,
                                       int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                       int8_t *Y, ptrdiff_t ldc) {
    int r0 = 0;
    // Two channel blocks per tile (32 channels x 8 positions) while two remain: each broadcast
    // activation quad feeds two VPDPBUSD, so there are 10 loads per 16 multiply-adds instead of 9
    // per 8 (the one-block loop is bound by loads), and 16 independent accumulators hide the
    // instruction's latency. Same sums in the same order as the one-block loop.
    for (; r0 + 16 < rows; r0 += 32) {
        const int32_t *wb = W + (ptrdiff_t)(r0 / 16) * K4 * 16;
        const lanes16 l0 = lanes16_setup(q, r0, rows), l1 = lanes16_setup(q, r0 + 16, rows);
        const int valid1 = rows - r0 - 16 < 16 ? rows - r0 - 16 : 16;
        for (int p0 = 0; p0 < positions; p0 += 8) {
            const int np = positions - p0 < 8 ? positions - p0 : 8;
            const uint8_t *a[8];
            for (int i = 0; i < 8; i++) a[i] = base + (ptrdiff_t)(p0 + (i < np ? i : np - 1)) * pos_stride;
            __m512i s[8], t[8];
            for (int i = 0; i < 8; i++) { s[i] = l0.bias; t[i] = l1.bias; }
            const int32_t *w = wb, *w1 = wb + (ptrdiff_t)K4 * 16;
            for (int k = 0; k < K4; k++, w += 16, w1 += 16) {
                const __m512i wv = _mm512_loadu_si512(w), wv1 = _mm512_loadu_si512(w1);
                const ptrdiff_t o = offsets[k];
                int32_t u;
#define VIGIL_STEP2(i) memcpy(&u, a[i] + o, 4); { const __m512i x = _mm512_set1_epi32(u); \
                s[i] = _mm512_dpbusd_epi32(s[i], x, wv); t[i] = _mm512_dpbusd_epi32(t[i], x, wv1); }
                VIGIL_STEP2(0) VIGIL_STEP2(1) VIGIL_STEP2(2) VIGIL_STEP2(3)
                VIGIL_STEP2(4) VIGIL_STEP2(5) VIGIL_STEP2(6) VIGIL_STEP2(7)
#undef VIGIL_STEP2
            }
            store_tile(s, &l0, Y + (ptrdiff_t)r0 * ldc + p0, ldc, np, 16);
            store_tile(t, &l1, Y + (ptrdiff_t)(r0 + 16) * ldc + p0, ldc, np, valid1);
        }
    }
    for (; r0 < rows; r0 += 16) {
        const int32_t *wb = W + (ptrdiff_t)(r0 / 16) * K4 * 16;
        const lanes16 l = lanes16_setup(q, r0, rows);
        const int valid = rows - r0 < 16 ? rows - r0 : 16;
        for (int p0 = 0; p0 < positions; p0 += 8) {
            const int np = positions - p0 < 8 ? positions - p0 : 8;
            // Missing positions of the last tile re-read the last valid one; their results are dropped.
            const uint8_t *a[8];
            for (int i = 0; i < 8; i++) a[i] = base + (ptrdiff_t)(p0 + (i < np ? i : np - 1)) * pos_stride;
            __m512i s[8];
            for (int i = 0; i < 8; i++) s[i] = l.bias;
            const int32_t *w = wb;
            for (int k = 0; k < K4; k++, w += 16) {
                const __m512i wv = _mm512_loadu_si512(w);
                const ptrdiff_t o = offsets[k];
                int32_t u;
#define VIGIL_STEP(i) memcpy(&u, a[i] + o, 4); s[i] = _mm512_dpbusd_epi32(s[i], _mm512_set1_epi32(u), wv);
                VIGIL_STEP(0) VIGIL_STEP(1) VIGIL_STEP(2) VIGIL_STEP(3)
                VIGIL_STEP(4) VIGIL_STEP(5) VIGIL_STEP(6) VIGIL_STEP(7)
#undef VIGIL_STEP
            }
            store_tile(s, &l, Y + (ptrdiff_t)r0 * ldc + p0, ldc, np, valid);
        }
    }
}
#endif
