// Direct convolution with AVX-VNNI, and with AVX2 through the exact two-VPMADDWD form of the
// VPDPBUSD step (dpbusd_avx2.h): a tile of 16 output channels (two registers of 8 int32 lanes)
// by 4 output positions. Per reduction quad, the 4 activation bytes of each position are
// broadcast and VPDPBUSD multiplies them with the 16 channels' weight quads — no im2col buffer,
// and the weights are read once per tile. Exact integer arithmetic, so bit-identical with
// vigil_conv_u8s8_direct_generic; requantization is per lane (each lane is another channel).
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include <string.h>
#include "dpbusd_avx2.h"

/// Requantization constants of 8 consecutive channels, one per lane.
typedef struct {
    __m256i bias, mult, shift_even, shift_odd, round_even, round_odd, off_even, off_odd, lo, hi, zp;
} lanes_requant;

__attribute__((target("avx2"))) static lanes_requant lanes_setup(const vigil_requant_rows *q, int r0, int rows) {
    int32_t b[8], m[8];
    int64_t se[4], so[4], re[4], ro[4], oe[4], oo[4];
    for (int j = 0; j < 8; j++) {
        const int r = r0 + j, valid = r < rows;
        // Lanes past the last channel requantize 0 with multiplier 0 and are never stored.
        const int32_t n = valid ? q->shift[r] : 1;
        b[j] = valid ? q->bias[r] : 0;
        m[j] = valid ? q->multiplier[r] : 0;
        int64_t *s = j & 1 ? so : se, *rr = j & 1 ? ro : re, *o = j & 1 ? oo : oe;
        s[j / 2] = n;
        rr[j / 2] = (int64_t)1 << (n - 1);
        o[j / 2] = (int64_t)(1ull << (63 - n));
    }
    lanes_requant l;
    l.bias = _mm256_loadu_si256((const __m256i *)b);
    l.mult = _mm256_loadu_si256((const __m256i *)m);
    l.shift_even = _mm256_loadu_si256((const __m256i *)se);
    l.shift_odd = _mm256_loadu_si256((const __m256i *)so);
    l.round_even = _mm256_loadu_si256((const __m256i *)re);
    l.round_odd = _mm256_loadu_si256((const __m256i *)ro);
    l.off_even = _mm256_loadu_si256((const __m256i *)oe);
    l.off_odd = _mm256_loadu_si256((const __m256i *)oo);
    l.lo = _mm256_set1_epi64x((long long)q->lo - q->zero_point);
    l.hi = _mm256_set1_epi64x((long long)q->hi - q->zero_point);
    l.zp = _mm256_set1_epi32(q->zero_point);
    return l;
}

// (p + 2^63) >> n logically = floor(p / 2^n) + 2^(63 - n): the arithmetic shift of
// vigil_requantize with a per-lane count (AVX2 has no 64-bit arithmetic shift). The clamp to
// [lo - zp, hi - zp] in 64 bits equals saturating to int32, adding zp and clamping to [lo, hi].
__attribute__((target("avx2"))) static inline __m256i shift_clamp(__m256i p, __m256i n, __m256i off, __m256i lo, __m256i hi) {
    const __m256i sign = _mm256_set1_epi64x((long long)0x8000000000000000ull);
    __m256i v = _mm256_sub_epi64(_mm256_srlv_epi64(_mm256_xor_si256(p, sign), n), off);
    v = _mm256_blendv_epi8(v, lo, _mm256_cmpgt_epi64(lo, v));
    return _mm256_blendv_epi8(v, hi, _mm256_cmpgt_epi64(v, hi));
}

/// 8 int32 results in [lo, hi], lane j = channel r0 + j.
__attribute__((target("avx2"))) static inline __m256i lanes_requantize(__m256i acc, const lanes_requant *l) {
    acc = _mm256_add_epi32(acc, l->bias);
    __m256i even = _mm256_add_epi64(_mm256_mul_epi32(acc, l->mult), l->round_even);
    __m256i odd = _mm256_add_epi64(_mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(l->mult, 32)), l->round_odd);
    even = shift_clamp(even, l->shift_even, l->off_even, l->lo, l->hi);
    odd = shift_clamp(odd, l->shift_odd, l->off_odd, l->lo, l->hi);
    return _mm256_add_epi32(_mm256_blend_epi32(even, _mm256_slli_epi64(odd, 32), 0xAA), l->zp);
}

/// Stores positions p0..p0+np-1 of 8 channels: lane j of the packed vector holds the 4 output
/// bytes (one per position) of channel r0 + j, which are adjacent in the NCHW output row.
__attribute__((target("avx2"))) static inline void store_lanes(__m256i y0, __m256i y1, __m256i y2, __m256i y3, int np,
                                                               int valid, int8_t *Y, ptrdiff_t ldc) {
    const __m256i low = _mm256_set1_epi32(0xFF);
    __m256i v = _mm256_or_si256(_mm256_and_si256(y0, low), _mm256_slli_epi32(_mm256_and_si256(y1, low), 8));
    v = _mm256_or_si256(v, _mm256_slli_epi32(_mm256_and_si256(y2, low), 16));
    v = _mm256_or_si256(v, _mm256_slli_epi32(y3, 24));
    int32_t out[8];
    _mm256_storeu_si256((__m256i *)out, v);
    if (np == 4)
        for (int j = 0; j < valid; j++) memcpy(Y + j * ldc, &out[j], 4);
    else
        for (int j = 0; j < valid; j++) memcpy(Y + j * ldc, &out[j], (size_t)np);
}

#define VIGIL_Q_ATTR __attribute__((target("avx2,avxvnni")))
#define VIGIL_Q_DOT(acc, u, w) _mm256_dpbusd_avx_epi32(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avxvnni
#include "conv_direct_body.h"
#undef VIGIL_Q_ATTR
#undef VIGIL_Q_DOT
#undef VIGIL_Q_NAME

#define VIGIL_Q_ATTR __attribute__((target("avx2")))
#define VIGIL_Q_DOT(acc, u, w) vigil_dpbusd_avx2(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avx2
#include "conv_direct_body.h"
#endif
