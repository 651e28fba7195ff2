// Requantization of 16 accumulators of one output row (positions in order) for the AArch64 GEMMs.
// For n >= 32: SQDMULH gives floor(acc * m / 2^31) exactly (m >= 0) and SRSHL by -(n - 31) rounds
// it as vigil_requantize does (see arm/depthwise_neon.c); then saturating narrows with the zero
// point added in int16 and the [lo, hi] clamp on bytes. Other rows go through the scalar rule.
#ifndef VIGIL_REQUANT_NEON_H
#define VIGIL_REQUANT_NEON_H
#include "vigil_kernels.h"
#include <arm_neon.h>
#include <string.h>

static inline void row16_store(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3, const vigil_requant_rows *q,
                               int r, int8_t *out) {
    const int32_t n = q->shift[r];
    if (n >= 32) {
        const int32x4_t m = vdupq_n_s32(q->multiplier[r]), s = vdupq_n_s32(-(n - 31));
        a0 = vrshlq_s32(vqdmulhq_s32(a0, m), s); a1 = vrshlq_s32(vqdmulhq_s32(a1, m), s);
        a2 = vrshlq_s32(vqdmulhq_s32(a2, m), s); a3 = vrshlq_s32(vqdmulhq_s32(a3, m), s);
        const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
        const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
        const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
        int8x16_t y = vcombine_s8(vqmovn_s16(l), vqmovn_s16(h));
        y = vminq_s8(vmaxq_s8(y, vdupq_n_s8((int8_t)q->lo)), vdupq_n_s8((int8_t)q->hi));
        vst1q_s8(out, y);
        return;
    }
    int32_t v[16];
    vst1q_s32(v, a0); vst1q_s32(v + 4, a1); vst1q_s32(v + 8, a2); vst1q_s32(v + 12, a3);
    for (int j = 0; j < 16; j++) out[j] = (int8_t)vigil_requantize(v[j], q->multiplier[r], n, q->zero_point, q->lo, q->hi);
}

/// 16 requantized bytes of one row whose shift is >= 32, with the layer's constants already in
/// registers (zp: zero point in int16 lanes; lo, hi: the clamp) and the row's multiplier and
/// -(shift - 31) given: the fast path of row16_store without its per-call constant loads.
static inline int8x16_t row16_fast(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3, int32_t m, int32_t n,
                                   int16x8_t zp, int8x16_t lo, int8x16_t hi) {
    const int32x4_t mv = vdupq_n_s32(m), s = vdupq_n_s32(31 - n);
    a0 = vrshlq_s32(vqdmulhq_s32(a0, mv), s); a1 = vrshlq_s32(vqdmulhq_s32(a1, mv), s);
    a2 = vrshlq_s32(vqdmulhq_s32(a2, mv), s); a3 = vrshlq_s32(vqdmulhq_s32(a3, mv), s);
    const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
    const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
    return vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), lo), hi);
}

/// Stores the first n (<= 16) bytes of y.
static inline void store16_n(int8_t *out, int8x16_t y, int n) {
    if (n == 16) {
        vst1q_s8(out, y);
        return;
    }
    int8_t tmp[16];
    vst1q_s8(tmp, y);
    memcpy(out, tmp, (size_t)n);
}

/// Four rows r..r+3 of a 4 x 16 tile (nr of them valid, n positions): through row16_fast when
/// every valid row's shift is >= 32, else row by row through row16_store.
static inline void rows4_store(int32x4_t a00, int32x4_t a01, int32x4_t a02, int32x4_t a03, int32x4_t a10,
                               int32x4_t a11, int32x4_t a12, int32x4_t a13, int32x4_t a20, int32x4_t a21,
                               int32x4_t a22, int32x4_t a23, int32x4_t a30, int32x4_t a31, int32x4_t a32,
                               int32x4_t a33, const vigil_requant_rows *q, int r, int nr, int8_t *out, ptrdiff_t ldc,
                               int n, int fast, int16x8_t zp, int8x16_t lo, int8x16_t hi) {
    if (fast) {
        store16_n(out, row16_fast(a00, a01, a02, a03, q->multiplier[r], q->shift[r], zp, lo, hi), n);
        if (nr > 1) store16_n(out + ldc, row16_fast(a10, a11, a12, a13, q->multiplier[r + 1], q->shift[r + 1], zp, lo, hi), n);
        if (nr > 2) store16_n(out + 2 * ldc, row16_fast(a20, a21, a22, a23, q->multiplier[r + 2], q->shift[r + 2], zp, lo, hi), n);
        if (nr > 3) store16_n(out + 3 * ldc, row16_fast(a30, a31, a32, a33, q->multiplier[r + 3], q->shift[r + 3], zp, lo, hi), n);
        return;
    }
    int8_t tmp[16];
    row16_store(a00, a01, a02, a03, q, r, tmp);
    memcpy(out, tmp, (size_t)n);
    if (nr > 1) { row16_store(a10, a11, a12, a13, q, r + 1, tmp); memcpy(out + ldc, tmp, (size_t)n); }
    if (nr > 2) { row16_store(a20, a21, a22, a23, q, r + 2, tmp); memcpy(out + 2 * ldc, tmp, (size_t)n); }
    if (nr > 3) { row16_store(a30, a31, a32, a33, q, r + 3, tmp); memcpy(out + 3 * ldc, tmp, (size_t)n); }
}

/// Stores 16 requantized bytes of row lane L (a constant) of a four-row block whose rows all take
/// the fast requantization: SQDMULH by lane L of mv (the four rows' multipliers), SRSHL by sh (the
/// row's -(shift - 31) in every lane), then zero point (zp, int16 lanes) and clamp as row16_fast.
/// The block's constants stay in registers from tile to tile (a macro: the lane must be a literal).
#define VIGIL_ROW16_LANE(a0, a1, a2, a3, mv, L, sh, zp, lo, hi, dst)                                        \
    do {                                                                                                  \
        const int32x4_t r0_ = vrshlq_s32(vqdmulhq_laneq_s32(a0, mv, L), sh);                             \
        const int32x4_t r1_ = vrshlq_s32(vqdmulhq_laneq_s32(a1, mv, L), sh);                             \
        const int32x4_t r2_ = vrshlq_s32(vqdmulhq_laneq_s32(a2, mv, L), sh);                             \
        const int32x4_t r3_ = vrshlq_s32(vqdmulhq_laneq_s32(a3, mv, L), sh);                             \
        const int16x8_t l_ = vqaddq_s16(vcombine_s16(vqmovn_s32(r0_), vqmovn_s32(r1_)), zp);             \
        const int16x8_t h_ = vqaddq_s16(vcombine_s16(vqmovn_s32(r2_), vqmovn_s32(r3_)), zp);             \
        vst1q_s8(dst, vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l_), vqmovn_s16(h_)), lo), hi));         \
    } while (0)

/// 1 if rows r..r+nr-1 all take the fast requantization (shift >= 32).
static inline int rows_fast(const vigil_requant_rows *q, int r, int nr) {
    for (int i = 0; i < nr; i++)
        if (q->shift[r + i] < 32) return 0;
    return 1;
}
/// A four-row block's constants for VIGIL_ROW16_LANE: `whole` when it has four rows that all take
/// the fast requantization (then mv holds their multipliers, s0..s3 their -(shift - 31)).
typedef struct {
    int whole;
    int32x4_t mv, s0, s1, s2, s3;
} vigil_rows4_consts;

static inline vigil_rows4_consts rows4_consts(const vigil_requant_rows *q, int r0, int nr) {
    vigil_rows4_consts c;
    c.whole = nr == 4 && rows_fast(q, r0, 4);
    c.mv = c.s0 = c.s1 = c.s2 = c.s3 = vdupq_n_s32(0);
    if (c.whole) {
        c.mv = vld1q_s32(q->multiplier + r0);
        c.s0 = vdupq_n_s32(31 - q->shift[r0]); c.s1 = vdupq_n_s32(31 - q->shift[r0 + 1]);
        c.s2 = vdupq_n_s32(31 - q->shift[r0 + 2]); c.s3 = vdupq_n_s32(31 - q->shift[r0 + 3]);
    }
    return c;
}

#endif
