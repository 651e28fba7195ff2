// Depthwise plane kernels (see depthwise_planes.h) for AVX-VNNI (256-bit VPDPBUSD, 32 positions per
// step, the AVX-512 kernel's scheme on half the lanes) and for AVX2 without VNNI (VPMADDWD on
// zero-extended bytes: the plane's x + 128 values and the weights are both exact in int16, so each
// int32 lane sums two exact products). Requantization and packing as in depthwise_avx512.c.
#if defined(__x86_64__)
#include "../depthwise_planes.h"
#include <immintrin.h>
#include <string.h>

#define VIGIL_AVX2 __attribute__((target("avx2")))

VIGIL_AVX2 static inline __m256i rq8(__m256i acc, __m256i m, __m256i round, __m128i shift) {
    const __m256i e = _mm256_mul_epi32(acc, m);
    const __m256i o = _mm256_mul_epi32(_mm256_srli_epi64(acc, 32), m);
    const __m256i h = _mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA);
    return _mm256_sra_epi32(_mm256_add_epi32(h, round), shift);
}

VIGIL_AVX2 static inline __m256i rq8_lanes(__m256i acc, const vigil_dw_plane *p) {
    int32_t v[8];
    _mm256_storeu_si256((__m256i *)v, acc);
    for (int j = 0; j < 8; j++) v[j] = vigil_dw_requant_minus_zp(v[j], p);
    return _mm256_loadu_si256((const __m256i *)v);
}

typedef struct {
    int fast;
    __m256i m, round, zp, lo, hi;
    __m128i shift;
} rq_consts;

VIGIL_AVX2 static inline rq_consts rq_setup(const vigil_dw_plane *p) {
    rq_consts c;
    c.fast = p->n >= 33;
    c.m = _mm256_set1_epi64x(p->m);
    c.round = _mm256_set1_epi32(c.fast ? 1 << (p->n - 33) : 0);
    c.shift = _mm_cvtsi32_si128(c.fast ? p->n - 32 : 0);
    c.zp = _mm256_set1_epi16((short)p->zp);
    c.lo = _mm256_set1_epi8((char)p->lo);
    c.hi = _mm256_set1_epi8((char)p->hi);
    return c;
}

/// Requantizes four vectors of 8 accumulators and packs them: per 128-bit lane, 4 results of
/// each vector in turn (the caller reorders them).
VIGIL_AVX2 __attribute__((always_inline)) static inline __m256i rq_pack_as(__m256i a0, __m256i a1, __m256i a2, __m256i a3,
                                                                          const rq_consts *c, const vigil_dw_plane *p,
                                                                          const int fast) {
    if (fast) {
        a0 = rq8(a0, c->m, c->round, c->shift); a1 = rq8(a1, c->m, c->round, c->shift);
        a2 = rq8(a2, c->m, c->round, c->shift); a3 = rq8(a3, c->m, c->round, c->shift);
    } else {
        a0 = rq8_lanes(a0, p); a1 = rq8_lanes(a1, p); a2 = rq8_lanes(a2, p); a3 = rq8_lanes(a3, p);
    }
    const __m256i ab = _mm256_adds_epi16(_mm256_packs_epi32(a0, a1), c->zp);
    const __m256i cd = _mm256_adds_epi16(_mm256_packs_epi32(a2, a3), c->zp);
    return _mm256_packs_epi16(ab, cd);
}

VIGIL_AVX2 __attribute__((always_inline)) static inline __m256i rq_pack(__m256i a0, __m256i a1, __m256i a2, __m256i a3, const rq_consts *c,
                                                                       const vigil_dw_plane *p) {
    return rq_pack_as(a0, a1, a2, a3, c, p, c->fast);
}

VIGIL_AVX2 static inline void clamp_store(__m256i y, const rq_consts *c, int8_t *T) {
    _mm256_storeu_si256((__m256i *)T, _mm256_min_epi8(_mm256_max_epi8(y, c->lo), c->hi));
}

__attribute__((target("avx2,avxvnni"))) static inline void plane_avxvnni(const vigil_dw_plane *p) {
    const rq_consts c = rq_setup(p);
    const __m256i bias = _mm256_set1_epi32(p->bias);
    const __m256i transpose = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m256i pairs = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
    const int s = p->s;
    // Phase loads: stride 1 at +0..3 (8 positions 4 apart each); stride 2 at +0, +2 (16 positions)
    // and +32, +34 (the next 16).
    const int d1 = s == 1 ? 1 : 2, d2 = s == 1 ? 2 : 32, d3 = s == 1 ? 3 : 34;
    for (int q0 = 0; q0 < p->nq; q0 += 32) {
        __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const uint8_t *base = p->P + (ptrdiff_t)s * q0;
        for (int k = 0; k < p->nk; k++) {
            const __m256i w = _mm256_set1_epi32(p->wq[k]);
            const uint8_t *b = base + p->off[k];
            a0 = _mm256_dpbusd_avx_epi32(a0, _mm256_loadu_si256((const __m256i *)b), w);
            a1 = _mm256_dpbusd_avx_epi32(a1, _mm256_loadu_si256((const __m256i *)(b + d1)), w);
            a2 = _mm256_dpbusd_avx_epi32(a2, _mm256_loadu_si256((const __m256i *)(b + d2)), w);
            a3 = _mm256_dpbusd_avx_epi32(a3, _mm256_loadu_si256((const __m256i *)(b + d3)), w);
        }
        __m256i y = rq_pack(a0, a1, a2, a3, &c, p);
        if (s == 1) y = _mm256_shuffle_epi8(y, transpose);
        else y = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(y, pairs), 0xD8);
        clamp_store(y, &c, p->T + q0);
    }
}

/// The AVX2 plane kernel for `nk` quads and the requantization's `fast` case (rq_setup), both
/// constants where the call is specialized (3x3 kernels, shift >= 33: MobileNetV2's layers), so
/// that the loop over quads unrolls, the six int16 weight pairs, broadcast once per plane, stay in
/// registers, and the loop has no branch on the requantization.
VIGIL_AVX2 __attribute__((always_inline)) static inline void plane_avx2_quads(const vigil_dw_plane *p, const int nk,
                                                                              const int fast) {
    const rq_consts c = rq_setup(p);
    const __m256i bias = _mm256_set1_epi32(p->bias);
    const __m256i pairs = _mm256_broadcastsi128_si256(_mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
    const __m256i order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
    // Each weight quad as two int16 pairs, u: taps 0,1 and v: taps 2,3.
    __m256i u[VIGIL_DW_MAX_QUADS], v[VIGIL_DW_MAX_QUADS];
    const uint8_t *x[VIGIL_DW_MAX_QUADS];
    for (int k = 0; k < nk; k++) {
        const int8_t *w = (const int8_t *)&p->wq[k];
        u[k] = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)w[1] << 16) | (uint16_t)(int16_t)w[0]));
        v[k] = _mm256_set1_epi32((int32_t)(((uint32_t)(uint16_t)(int16_t)w[3] << 16) | (uint16_t)(int16_t)w[2]));
        x[k] = p->P + p->off[k];
    }
#define VIGIL_MADD(ptr, w) _mm256_madd_epi16(_mm256_cvtepu8_epi16(_mm_loadu_si128((const __m128i *)(ptr))), w)
#define VIGIL_PAIR(acc, ptr, k) acc = _mm256_add_epi32(acc, _mm256_add_epi32(VIGIL_MADD(ptr, u[k]), VIGIL_MADD((ptr) + 2, v[k])))
    if (p->s == 1) {
        // Lane j of a load at q0 + phase holds positions q0 + phase + 2j (taps 0,1; at +2 taps 2,3);
        // two 16-position halves per step.
        for (int q0 = 0; q0 < p->nq; q0 += 32) {
            __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
#pragma GCC unroll 4
            for (int k = 0; k < nk; k++) {
                const uint8_t *b = x[k] + q0;
                VIGIL_PAIR(a0, b, k);
                VIGIL_PAIR(a1, b + 1, k);
                VIGIL_PAIR(a2, b + 16, k);
                VIGIL_PAIR(a3, b + 17, k);
            }
            const __m256i y = _mm256_permute4x64_epi64(_mm256_shuffle_epi8(rq_pack_as(a0, a1, a2, a3, &c, p, fast), pairs), 0xD8);
            clamp_store(y, &c, p->T + q0);
        }
    } else {
        // Lane j of a load at 2 * q0 holds position q0 + j; four runs of 8 positions per step.
        for (int q0 = 0; q0 < p->nq; q0 += 32) {
            __m256i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
#pragma GCC unroll 4
            for (int k = 0; k < nk; k++) {
                const uint8_t *b = x[k] + 2 * (ptrdiff_t)q0;
                VIGIL_PAIR(a0, b, k);
                VIGIL_PAIR(a1, b + 16, k);
                VIGIL_PAIR(a2, b + 32, k);
                VIGIL_PAIR(a3, b + 48, k);
            }
            const __m256i y = _mm256_permutevar8x32_epi32(rq_pack_as(a0, a1, a2, a3, &c, p, fast), order);
            clamp_store(y, &c, p->T + q0);
        }
    }
#undef VIGIL_PAIR
#undef VIGIL_MADD
}

VIGIL_AVX2 static inline void plane_avx2(const vigil_dw_plane *p) {
    if (p->n < 33) plane_avx2_quads(p, p->nk, 0);
    else if (p->nk == 3) plane_avx2_quads(p, 3, 1);
    else plane_avx2_quads(p, p->nk, 1);
}

/// Row copies (d[i] = src[i], XOR 0x80 when `flip`: int8 -> x + 128) with 32-byte vectors and one
/// last vector that overlaps the previous one, so that no byte is copied one by one; shorter rows
/// (MobileNetV2's 7-, 14- and 28-wide planes) as two overlapping 16-, 8- or 4-byte moves. Nothing
/// outside d[0, n) is written: the padded plane's borders and the next output row stay as they are.
VIGIL_AVX2 static inline void copy_avx2(uint8_t *d, const int8_t *src, int n, int flip) {
    if (n >= 32) {
        const __m256i f = _mm256_set1_epi8(flip ? (char)0x80 : 0);
        for (int i = 0; i + 32 < n; i += 32)
            _mm256_storeu_si256((__m256i *)(d + i), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + i)), f));
        _mm256_storeu_si256((__m256i *)(d + n - 32), _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(src + n - 32)), f));
    } else if (n >= 16) {
        const __m128i f = _mm_set1_epi8(flip ? (char)0x80 : 0);
        const __m128i a = _mm_xor_si128(_mm_loadu_si128((const __m128i *)src), f);
        const __m128i b = _mm_xor_si128(_mm_loadu_si128((const __m128i *)(src + n - 16)), f);
        _mm_storeu_si128((__m128i *)d, a);
        _mm_storeu_si128((__m128i *)(d + n - 16), b);
    } else if (n >= 8) {
        const uint64_t f = flip ? 0x8080808080808080ull : 0;
        uint64_t a, b;
        memcpy(&a, src, 8);
        memcpy(&b, src + n - 8, 8);
        a ^= f; b ^= f;
        memcpy(d, &a, 8);
        memcpy(d + n - 8, &b, 8);
    } else if (n >= 4) {
        const uint32_t f = flip ? 0x80808080u : 0;
        uint32_t a, b;
        memcpy(&a, src, 4);
        memcpy(&b, src + n - 4, 4);
        a ^= f; b ^= f;
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        vigil_dw_copy_tail(d, src, 0, n, flip);
    }
}

#define VIGIL_DWD_ATTR VIGIL_AVX2
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_avx2(d, s, n, 1)
#define VIGIL_DWD_COPY(d, s, n) copy_avx2((uint8_t *)(d), s, n, 0)
#define VIGIL_DWD_NAME vigil_depthwise_planes_avx2
#define VIGIL_DWD_PLANE(p) plane_avx2(p)
#include "../depthwise_driver.h"
#undef VIGIL_DWD_NAME
#undef VIGIL_DWD_PLANE
#undef VIGIL_DWD_ATTR
#define VIGIL_DWD_ATTR __attribute__((target("avx2,avxvnni")))
#define VIGIL_DWD_NAME vigil_depthwise_planes_avxvnni
#define VIGIL_DWD_PLANE(p) plane_avxvnni(p)
#include "../depthwise_driver.h"
#endif
