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
    // When every channel's shift is >= 33: the 32-bit form of row16_store (gemm_vnni.c), per lane:
    // (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32), exact because 2^(n-1) is a multiple of 2^32,
    // and within int32 (|acc * m| < 2^62), so it needs neither the 64-bit shift nor saturation.
    int fast;
    __m256i fast_round, fast_shift, lo32, hi32;
} lanes_requant;

__attribute__((target("avx2"))) static lanes_requant lanes_setup(const vigil_requant_rows *q, int r0, int rows) {
    int32_t b[8], m[8], fr[8], fs[8];
    int64_t se[4], so[4], re[4], ro[4], oe[4], oo[4];
    int fast = 1;
    for (int j = 0; j < 8; j++) {
        const int r = r0 + j, valid = r < rows;
        // Lanes past the last channel requantize 0 with multiplier 0 and are never stored.
        const int32_t n = valid ? q->shift[r] : 33;
        if (n < 33) fast = 0;
        fr[j] = n >= 33 ? 1 << (n - 33) : 0;
        fs[j] = n >= 33 ? n - 32 : 0;
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
    l.fast = fast;
    l.fast_round = _mm256_loadu_si256((const __m256i *)fr);
    l.fast_shift = _mm256_loadu_si256((const __m256i *)fs);
    l.lo32 = _mm256_set1_epi32(q->lo);
    l.hi32 = _mm256_set1_epi32(q->hi);
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
    if (l->fast) {
        const __m256i e = _mm256_mul_epi32(acc, l->mult);
        const __m256i o = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), _mm256_srli_epi64(l->mult, 32));
        const __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA);
        const __m256i v = _mm256_add_epi32(_mm256_srav_epi32(_mm256_add_epi32(h, l->fast_round), l->fast_shift), l->zp);
        return _mm256_min_epi32(_mm256_max_epi32(v, l->lo32), l->hi32);
    }
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

/// The four output positions of the tile at p0 (np of them real): missing positions of the last
/// tile re-read the last real one; their results are dropped.
static inline int tile_positions(const uint8_t *base, ptrdiff_t pos_stride, int p0, int positions, const uint8_t *a[4]) {
    const int np = positions - p0 < 4 ? positions - p0 : 4;
    a[0] = base + (ptrdiff_t)p0 * pos_stride;
    a[1] = a[0] + (np > 1 ? pos_stride : 0);
    a[2] = a[0] + (np > 2 ? 2 : np - 1) * pos_stride;
    a[3] = a[0] + (np > 3 ? 3 : np - 1) * pos_stride;
    return np;
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
#define VIGIL_Q_NAME(x) x##_avx2_unsplit
#include "conv_direct_body.h"

// AVX2 with the weights split ahead (as the quad GEMM in gemm_vnni.c): each block of 16 channels
// has its weight quads split once per call into S[K4][4][8] int32 (even-byte pairs of channels
// 0-7, odd-byte pairs of 0-7, then the same of 8-15), which VPMADDWD reads straight from memory.
// Per reduction quad of a 16-channel x 4-position tile: 4 broadcasts and 8 splits of activation
// quads, 16 VPMADDWD, 16 VPADDD; a last tile of one or two positions computes two. Longer
// reductions than the buffer holds take the tiles that split as they go.
enum { DIRECT_SPLIT_K4_MAX = 256 };  // 256 x 4 x 32 bytes = 32 KiB of stack

__attribute__((target("avx2")))
void vigil_conv_u8s8_direct_avx2(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride, int positions,
                                 const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    if (K4 > DIRECT_SPLIT_K4_MAX) {
        vigil_conv_u8s8_direct_avx2_unsplit(W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
        return;
    }
    __m256i S[DIRECT_SPLIT_K4_MAX * 4];
    const __m256i low = _mm256_set1_epi16(0x00FF);
    for (int r0 = 0; r0 < rows; r0 += 16) {
        const int32_t *wb = W + (ptrdiff_t)(r0 / 16) * K4 * 16;
        for (int k = 0; k < K4; k++) {
            const __m256i w0 = _mm256_loadu_si256((const __m256i *)(wb + 16 * k));
            const __m256i w1 = _mm256_loadu_si256((const __m256i *)(wb + 16 * k + 8));
            S[4 * k] = _mm256_srai_epi16(_mm256_slli_epi16(w0, 8), 8);
            S[4 * k + 1] = _mm256_srai_epi16(w0, 8);
            S[4 * k + 2] = _mm256_srai_epi16(_mm256_slli_epi16(w1, 8), 8);
            S[4 * k + 3] = _mm256_srai_epi16(w1, 8);
        }
        const lanes_requant l0 = lanes_setup(q, r0, rows), l1 = lanes_setup(q, r0 + 8, rows);
        const int v0 = rows - r0 < 8 ? rows - r0 : 8, v1 = rows - r0 - 8 < 0 ? 0 : (rows - r0 - 8 < 8 ? rows - r0 - 8 : 8);
        for (int p0 = 0; p0 < positions; p0 += 4) {
            const uint8_t *a[4];
            const int np = tile_positions(base, pos_stride, p0, positions, a);
            const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            const __m256i *w = S;
#define VIGIL_DIRECT_POS(a, x0, x1)                                                                       \
                memcpy(&u, (a) + o, 4);                                                                  \
                {                                                                                        \
                    const __m256i b = _mm256_set1_epi32(u);                                              \
                    const __m256i e = _mm256_and_si256(b, low), d = _mm256_srli_epi16(b, 8);             \
                    x0 = _mm256_add_epi32(x0, _mm256_add_epi32(_mm256_madd_epi16(e, w[0]), _mm256_madd_epi16(d, w[1]))); \
                    x1 = _mm256_add_epi32(x1, _mm256_add_epi32(_mm256_madd_epi16(e, w[2]), _mm256_madd_epi16(d, w[3]))); \
                }
            if (np > 2) {
                for (int k = 0; k < K4; k++, w += 4) {
                    const ptrdiff_t o = offsets[k];
                    int32_t u;
                    VIGIL_DIRECT_POS(a0, s00, s01)
                    VIGIL_DIRECT_POS(a1, s10, s11)
                    VIGIL_DIRECT_POS(a2, s20, s21)
                    VIGIL_DIRECT_POS(a3, s30, s31)
                }
            } else {  // a last tile of one or two positions (45 = 11 x 4 + 1) computes only those
                for (int k = 0; k < K4; k++, w += 4) {
                    const ptrdiff_t o = offsets[k];
                    int32_t u;
                    VIGIL_DIRECT_POS(a0, s00, s01)
                    VIGIL_DIRECT_POS(a1, s10, s11)
                }
            }
#undef VIGIL_DIRECT_POS
            int8_t *y = Y + (ptrdiff_t)r0 * ldc + p0;
            const __m256i zero = _mm256_setzero_si256();
            store_lanes(lanes_requantize(s00, &l0), lanes_requantize(s10, &l0), np > 2 ? lanes_requantize(s20, &l0) : zero,
                        np > 2 ? lanes_requantize(s30, &l0) : zero, np, v0, y, ldc);
            if (v1 > 0)
                store_lanes(lanes_requantize(s01, &l1), lanes_requantize(s11, &l1), np > 2 ? lanes_requantize(s21, &l1) : zero,
                            np > 2 ? lanes_requantize(s31, &l1) : zero, np, v1, y + 8 * ldc, ldc);
        }
    }
}
#endif
