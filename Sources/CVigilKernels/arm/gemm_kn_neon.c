// Convolution GEMM in the [K][positions] layout (vigil_gemm_s8_kn) for AArch64 NEON: B is read in
// place for 1x1 convolutions, so no im2col. A tile is 4 output rows by 16 positions: per k, the 16
// int8 activations are widened once and SMLAL/SMLAL2 multiply-add them with each row's weight
// (exact: int16 x int16 -> int32, any int8 values). The accumulators start at the bias.
// Requantization for n >= 32: SQDMULH gives floor(acc * m / 2^31) exactly (m >= 0) and SRSHL by
// -(n - 31) rounds it as vigil_requantize does (see arm/depthwise_neon.c); then saturating
// narrows with the zero point added in int16 and the [lo, hi] clamp on bytes. Other rows and the
// last positions (fewer than 16) go through the scalar rule.
#if defined(__aarch64__)
#include "vigil_kernels.h"
#include <arm_neon.h>
#include <string.h>
#include "requant_neon.h"
#include "interleave_neon.h"

void vigil_gemm_s8_kn_neon(const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int half = (K + 1) / 2, cols16 = cols & ~15;
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int nr = rows - r0 < 4 ? rows - r0 : 4;
        // Row i's weights as int16 (the pairs' low then high halves; rows past the last repeat r0).
        const int16_t *w[4];
        for (int i = 0; i < 4; i++) w[i] = (const int16_t *)(Apairs + (ptrdiff_t)(r0 + (i < nr ? i : 0)) * half);
        for (int c0 = 0; c0 < cols16; c0 += 16) {
            int32x4_t acc[4][4];
            for (int i = 0; i < 4; i++) {
                const int32x4_t b = vdupq_n_s32(q->bias[r0 + (i < nr ? i : 0)]);
                acc[i][0] = b; acc[i][1] = b; acc[i][2] = b; acc[i][3] = b;
            }
            const int8_t *bk = B + c0;
            for (int k = 0; k < K; k++, bk += ldb) {
                const int8x16_t x = vld1q_s8(bk);
                const int16x8_t l = vmovl_s8(vget_low_s8(x)), h = vmovl_high_s8(x);
                for (int i = 0; i < 4; i++) {
                    const int16_t wv = w[i][k];
                    acc[i][0] = vmlal_n_s16(acc[i][0], vget_low_s16(l), wv);
                    acc[i][1] = vmlal_high_n_s16(acc[i][1], l, wv);
                    acc[i][2] = vmlal_n_s16(acc[i][2], vget_low_s16(h), wv);
                    acc[i][3] = vmlal_high_n_s16(acc[i][3], h, wv);
                }
            }
            for (int i = 0; i < nr; i++)
                row16_store(acc[i][0], acc[i][1], acc[i][2], acc[i][3], q, r0 + i, C + (ptrdiff_t)(r0 + i) * ldc + c0);
        }
        for (int i = 0; i < nr; i++) {  // the last positions
            const int r = r0 + i;
            for (int c = cols16; c < cols; c++) {
                int32_t acc = 0;
                for (int k = 0; k < K; k++) acc += (int32_t)w[i][k] * (int32_t)B[k * ldb + c];
                acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
                C[r * ldc + c] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
            }
        }
    }
}
#endif

#if defined(__aarch64__)
/// The input of a 1x1 stride-1 convolution, X [channels][positions] (row stride `plane`), as signed
/// quads U [ceil(channels/4)][positions][4] for the SDOT GEMM (missing channels: 0).
void vigil_pack_quads_s8_neon(const int8_t *X, ptrdiff_t plane, int channels, int positions, int8_t *U) {
    for (int c0 = 0; c0 < channels; c0 += 4) {
        const int8_t *x[4];
        for (int j = 0; j < 4; j++) x[j] = c0 + j < channels ? X + (ptrdiff_t)(c0 + j) * plane : NULL;
        vigil_interleave4_s8_neon(x, positions, 0, U + (ptrdiff_t)(c0 / 4) * positions * 4);
    }
}
#endif

#if defined(__aarch64__)
/// 16 positions of one reduction term: bytes src[j * s] for j < 16 (s = 1...4 by LD1...LD4, else
/// lane by lane).
__attribute__((always_inline)) static inline int8x16_t taps16(const int8_t *src, int s) {
    switch (s) {
    case 1: return vld1q_s8(src);
    case 2: return vld2q_s8(src).val[0];
    case 3: return vld3q_s8(src).val[0];
    case 4: return vld4q_s8(src).val[0];
    default: {
        int8_t b[16];
        for (int j = 0; j < 16; j++) b[j] = src[j * s];
        return vld1q_s8(b);
    }
    }
}

/// The general store of a 4 x 16 tile (fewer rows or positions, or a slow row), out of line so
/// that the tile loop keeps its registers.
__attribute__((noinline)) static void neon_tile_store(const int32x4_t *a, const vigil_requant_rows *q, int r0, int nr,
                                                      int8_t *out, ptrdiff_t ldc, int n) {
    rows4_store(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], q,
                r0, nr, out, ldc, n, rows_fast(q, r0, nr), vdupq_n_s16((int16_t)q->zero_point),
                vdupq_n_s8((int8_t)q->lo), vdupq_n_s8((int8_t)q->hi));
}

/// One tile of vigil_conv_s8_direct_neon: rows r0..r0+3 (nr of them) by 16 positions from p0 (n
/// of them); `s` is a constant in each instantiation.
__attribute__((always_inline)) static inline void neon_direct_tile(
    const int16_t *w, int r0, int nr, const int8_t *base, int s, int p0, int n, const int32_t *offsets, int K,
    const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc, const vigil_rows4_consts *rc, int16x8_t zp, int8x16_t lo,
    int8x16_t hi, const ptrdiff_t kstride) {
    int32x4_t a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
    a00 = a01 = a02 = a03 = vdupq_n_s32(q->bias[r0]);
    a10 = a11 = a12 = a13 = vdupq_n_s32(q->bias[r0 + (nr > 1)]);
    a20 = a21 = a22 = a23 = vdupq_n_s32(q->bias[r0 + (nr > 2 ? 2 : 0)]);
    a30 = a31 = a32 = a33 = vdupq_n_s32(q->bias[r0 + (nr > 3 ? 3 : 0)]);
    const int8_t *src = base + (ptrdiff_t)p0 * s;
#define VIGIL_LANES_TERM(x, wv, L0, L1, L2, L3, MLAL, MLAL_HIGH)                                             \
    {                                                                                                        \
        const int16x8_t l = vmovl_s8(vget_low_s8(x)), h = vmovl_high_s8(x);                                 \
        a00 = MLAL(a00, vget_low_s16(l), wv, L0); a01 = MLAL_HIGH(a01, l, wv, L0);                           \
        a02 = MLAL(a02, vget_low_s16(h), wv, L0); a03 = MLAL_HIGH(a03, h, wv, L0);                           \
        a10 = MLAL(a10, vget_low_s16(l), wv, L1); a11 = MLAL_HIGH(a11, l, wv, L1);                           \
        a12 = MLAL(a12, vget_low_s16(h), wv, L1); a13 = MLAL_HIGH(a13, h, wv, L1);                           \
        a20 = MLAL(a20, vget_low_s16(l), wv, L2); a21 = MLAL_HIGH(a21, l, wv, L2);                           \
        a22 = MLAL(a22, vget_low_s16(h), wv, L2); a23 = MLAL_HIGH(a23, h, wv, L2);                           \
        a30 = MLAL(a30, vget_low_s16(l), wv, L3); a31 = MLAL_HIGH(a31, l, wv, L3);                           \
        a32 = MLAL(a32, vget_low_s16(h), wv, L3); a33 = MLAL_HIGH(a33, h, wv, L3);                           \
    }
    if (kstride) {
        // Terms kstride bytes apart (a 1x1 convolution's channel planes): two terms per step, one
        // 16-byte weight load, pointers bumped instead of an offset load per term.
        const int8_t *xp = src + offsets[0];
        const int16_t *wp = w;
        int k = 0;
        for (; k + 2 <= K; k += 2, xp += 2 * kstride, wp += 8) {
            const int8x16_t x0 = vld1q_s8(xp), x1 = vld1q_s8(xp + kstride);
            const int16x8_t wv = vld1q_s16(wp);
            VIGIL_LANES_TERM(x0, wv, 0, 1, 2, 3, vmlal_laneq_s16, vmlal_high_laneq_s16)
            VIGIL_LANES_TERM(x1, wv, 4, 5, 6, 7, vmlal_laneq_s16, vmlal_high_laneq_s16)
        }
        if (k < K) {
            const int8x16_t x = vld1q_s8(xp);
            const int16x4_t wv = vld1_s16(wp);
            VIGIL_LANES_TERM(x, wv, 0, 1, 2, 3, vmlal_lane_s16, vmlal_high_lane_s16)
        }
    } else {
        for (int k = 0; k < K; k++) {
            const int8x16_t x = taps16(src + offsets[k], s);
            const int16x4_t wv = vld1_s16(w + (ptrdiff_t)k * 4);
            VIGIL_LANES_TERM(x, wv, 0, 1, 2, 3, vmlal_lane_s16, vmlal_high_lane_s16)
        }
    }
#undef VIGIL_LANES_TERM
    int8_t *out = Y + (ptrdiff_t)r0 * ldc + p0;
    if (rc->whole && n == 16) {
        VIGIL_ROW16_LANE(a00, a01, a02, a03, rc->mv, 0, rc->s0, zp, lo, hi, out);
        VIGIL_ROW16_LANE(a10, a11, a12, a13, rc->mv, 1, rc->s1, zp, lo, hi, out + ldc);
        VIGIL_ROW16_LANE(a20, a21, a22, a23, rc->mv, 2, rc->s2, zp, lo, hi, out + 2 * ldc);
        VIGIL_ROW16_LANE(a30, a31, a32, a33, rc->mv, 3, rc->s3, zp, lo, hi, out + 3 * ldc);
    } else {
        const int32x4_t a[16] = {a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33};
        neon_tile_store(a, q, r0, nr, out, ldc, n);
    }
}

/// Direct convolution for NEON without the dot product (Cortex-A72), no im2col: Y[r * ldc + p] =
/// requant_r(bias[r] + sum_k W[r][k] * base[p * s + offsets[k]]) for r < rows, p < positions, over
/// a padded signed copy of the input (one byte per tap: reduction term k is one channel at one
/// tap; the caller folds -zx * sum(w) into bias). W is int16 [ceil(rows/4)][K][4]: the weights of
/// four rows per term (rows past `rows`: 0). A tile is 4 rows by 16 positions: per term one load
/// (LD1...LD4 by stride), two widenings, one 8-byte weight load and 16 SMLAL by lane. The last
/// tile reads up to 16 * s + 16 bytes past the last position (the caller's buffer has them).
void vigil_conv_s8_direct_neon(const int16_t *W, int rows, const int8_t *base, int s, int positions,
                               const int32_t *offsets, int K, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
    const int8x16_t lo = vdupq_n_s8((int8_t)q->lo), hi = vdupq_n_s8((int8_t)q->hi);
    // Offsets k * kstride (the 1x1 lanes path: channel planes one after another), stride 1: the
    // tile's pointer-bumping loop.
    ptrdiff_t kstride = 0;
    if (s == 1 && K >= 2) {
        kstride = (ptrdiff_t)offsets[1] - offsets[0];
        for (int k = 2; k < K && kstride; k++)
            if ((ptrdiff_t)offsets[k] - offsets[k - 1] != kstride) kstride = 0;
    }
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int nr = rows - r0 < 4 ? rows - r0 : 4;
        const int16_t *w = W + (ptrdiff_t)(r0 / 4) * K * 4;
        const vigil_rows4_consts rc = rows4_consts(q, r0, nr);
        for (int p0 = 0; p0 < positions; p0 += 16) {
            const int n = positions - p0 < 16 ? positions - p0 : 16;
            if (kstride) {
                neon_direct_tile(w, r0, nr, base, 1, p0, n, offsets, K, q, Y, ldc, &rc, zp, lo, hi, kstride);
                continue;
            }
            switch (s) {
            case 1: neon_direct_tile(w, r0, nr, base, 1, p0, n, offsets, K, q, Y, ldc, &rc, zp, lo, hi, 0); break;
            case 2: neon_direct_tile(w, r0, nr, base, 2, p0, n, offsets, K, q, Y, ldc, &rc, zp, lo, hi, 0); break;
            default: neon_direct_tile(w, r0, nr, base, s, p0, n, offsets, K, q, Y, ldc, &rc, zp, lo, hi, 0); break;
            }
        }
    }
}

/// One output row's 4 x 4 tile (rows r..r+3 by positions x0..x3) of vigil_conv_s8_nhwc_neon.
#define VIGIL_NHWC_STEP16(i, j, w, x) a##i##j = vpadalq_s16(a##i##j, vmlal_high_s8(vmull_s8(vget_low_s8(w), vget_low_s8(x)), w, x))
#define VIGIL_NHWC_STEP8(i, j, w, x) a##i##j = vpadalq_s16(a##i##j, vmull_s8(w, x))

/// Convolution for NEON without the dot product over channel-last runs (Cortex-A72): Y[r * ldc +
/// p] = requant_r(bias[r] + sum_t sum_c W[r][t][c] * base[p * ps + taps[t] + c]), c < C8 (the
/// channels padded to a multiple of 8 with zero weights). The input is a padded channel-last copy
/// (or the transposed input of a 1x1 convolution), so the channels of a tap are contiguous and
/// the products are formed as XNNPACK's "c8/c16" kernels do: SMULL, SMLAL2 of the next 8 and
/// SADALP into int32. Exact when no weight is -128: two products of int8 by a weight in
/// [-127, 127] sum to at most 2 * 128 * 127 = 32512 in int16 (the plan checks the weights). W is
/// [ceil(rows/4)][T][C8 / 16 chunks of 16 (then one of 8)][4 rows][chunk]: the four rows' weights
/// of one chunk are one load. A tile is 4 rows by 4 positions: per 16 channels of a tap, 5 loads
/// and 16 x 3 instructions for 256 products. With 4 positions or more the last tile overlaps the
/// one before; with fewer, the missing positions read position p0 again (not stored).
void vigil_conv_s8_nhwc_neon(const int8_t *W, int rows, const int8_t *base, ptrdiff_t ps, int positions,
                             const int32_t *taps, int T, int C8, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    const ptrdiff_t K = (ptrdiff_t)T * C8;
    const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
    const int8x8_t lo = vdup_n_s8((int8_t)q->lo), hi = vdup_n_s8((int8_t)q->hi);
    const int c16 = C8 / 16, tail8 = C8 % 16 != 0;
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int nr = rows - r0 < 4 ? rows - r0 : 4;
        const int8_t *const wb = W + (ptrdiff_t)r0 * K;
        // Whole row blocks whose rows all take the fast requantization: their bias, multipliers
        // and -(shift - 31) as vectors (lane = row).
        const int whole = nr == 4 && rows_fast(q, r0, 4);
        int32x4_t bv = vdupq_n_s32(0), mv = bv, sh = bv;
        if (whole) {
            bv = vld1q_s32(q->bias + r0);
            mv = vld1q_s32(q->multiplier + r0);
            sh = vsubq_s32(vdupq_n_s32(31), vld1q_s32(q->shift + r0));
        }
        for (int next = 0; next < positions; next += 4) {
            // The last tile of a run of 4 or more positions ends at the run's end, overlapping the
            // one before (the same bytes again), so every tile is whole.
            const int p0 = next + 4 <= positions || positions < 4 ? next : positions - 4;
            const int n = positions - p0 < 4 ? positions - p0 : 4;
            // Position j at x0 + dj: one pointer for the four (register offsets), so a step bumps
            // one pointer, not four.
            const int8_t *x0 = base + (ptrdiff_t)p0 * ps;
            const ptrdiff_t d1 = n > 1 ? ps : 0, d2 = n > 2 ? 2 * ps : 0, d3 = n > 3 ? 3 * ps : 0;
            int32x4_t a00 = vdupq_n_s32(0), a01 = a00, a02 = a00, a03 = a00, a10 = a00, a11 = a00, a12 = a00, a13 = a00;
            int32x4_t a20 = a00, a21 = a00, a22 = a00, a23 = a00, a30 = a00, a31 = a00, a32 = a00, a33 = a00;
            const int8_t *w = wb;
            for (int t = 0; t < T; t++) {
                const ptrdiff_t o = taps[t];
                const int8_t *yp = x0 + o;
                for (int c = 0; c < c16; c++, w += 64, yp += 16) {
                    const int8x16_t y0 = vld1q_s8(yp), y1 = vld1q_s8(yp + d1), y2 = vld1q_s8(yp + d2), y3 = vld1q_s8(yp + d3);
                    const int8x16x4_t v = vld1q_s8_x4(w);
                    const int8x16_t v0 = v.val[0], v1 = v.val[1], v2 = v.val[2], v3 = v.val[3];
                    VIGIL_NHWC_STEP16(0, 0, v0, y0); VIGIL_NHWC_STEP16(0, 1, v0, y1); VIGIL_NHWC_STEP16(0, 2, v0, y2); VIGIL_NHWC_STEP16(0, 3, v0, y3);
                    VIGIL_NHWC_STEP16(1, 0, v1, y0); VIGIL_NHWC_STEP16(1, 1, v1, y1); VIGIL_NHWC_STEP16(1, 2, v1, y2); VIGIL_NHWC_STEP16(1, 3, v1, y3);
                    VIGIL_NHWC_STEP16(2, 0, v2, y0); VIGIL_NHWC_STEP16(2, 1, v2, y1); VIGIL_NHWC_STEP16(2, 2, v2, y2); VIGIL_NHWC_STEP16(2, 3, v2, y3);
                    VIGIL_NHWC_STEP16(3, 0, v3, y0); VIGIL_NHWC_STEP16(3, 1, v3, y1); VIGIL_NHWC_STEP16(3, 2, v3, y2); VIGIL_NHWC_STEP16(3, 3, v3, y3);
                }
                if (tail8) {  // 8 channels left
                    const int8x8_t y0 = vld1_s8(yp), y1 = vld1_s8(yp + d1), y2 = vld1_s8(yp + d2), y3 = vld1_s8(yp + d3);
                    const int8x8x4_t v = vld1_s8_x4(w);
                    const int8x8_t v0 = v.val[0], v1 = v.val[1], v2 = v.val[2], v3 = v.val[3];
                    VIGIL_NHWC_STEP8(0, 0, v0, y0); VIGIL_NHWC_STEP8(0, 1, v0, y1); VIGIL_NHWC_STEP8(0, 2, v0, y2); VIGIL_NHWC_STEP8(0, 3, v0, y3);
                    VIGIL_NHWC_STEP8(1, 0, v1, y0); VIGIL_NHWC_STEP8(1, 1, v1, y1); VIGIL_NHWC_STEP8(1, 2, v1, y2); VIGIL_NHWC_STEP8(1, 3, v1, y3);
                    VIGIL_NHWC_STEP8(2, 0, v2, y0); VIGIL_NHWC_STEP8(2, 1, v2, y1); VIGIL_NHWC_STEP8(2, 2, v2, y2); VIGIL_NHWC_STEP8(2, 3, v2, y3);
                    VIGIL_NHWC_STEP8(3, 0, v3, y0); VIGIL_NHWC_STEP8(3, 1, v3, y1); VIGIL_NHWC_STEP8(3, 2, v3, y2); VIGIL_NHWC_STEP8(3, 3, v3, y3);
                    w += 32;
                }
            }
            // Row i's four sums (positions in lanes), plus its bias.
            int32x4_t s0 = vpaddq_s32(vpaddq_s32(a00, a01), vpaddq_s32(a02, a03));
            int32x4_t s1 = vpaddq_s32(vpaddq_s32(a10, a11), vpaddq_s32(a12, a13));
            int32x4_t s2 = vpaddq_s32(vpaddq_s32(a20, a21), vpaddq_s32(a22, a23));
            int32x4_t s3 = vpaddq_s32(vpaddq_s32(a30, a31), vpaddq_s32(a32, a33));
            if (whole && n == 4) {  // four fast rows of four positions: one vector of 16 results
                s0 = vrshlq_s32(vqdmulhq_laneq_s32(vaddq_s32(s0, vdupq_laneq_s32(bv, 0)), mv, 0), vdupq_laneq_s32(sh, 0));
                s1 = vrshlq_s32(vqdmulhq_laneq_s32(vaddq_s32(s1, vdupq_laneq_s32(bv, 1)), mv, 1), vdupq_laneq_s32(sh, 1));
                s2 = vrshlq_s32(vqdmulhq_laneq_s32(vaddq_s32(s2, vdupq_laneq_s32(bv, 2)), mv, 2), vdupq_laneq_s32(sh, 2));
                s3 = vrshlq_s32(vqdmulhq_laneq_s32(vaddq_s32(s3, vdupq_laneq_s32(bv, 3)), mv, 3), vdupq_laneq_s32(sh, 3));
                const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(s0), vqmovn_s32(s1)), zp);
                const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(s2), vqmovn_s32(s3)), zp);
                const int32x4_t y = vreinterpretq_s32_s8(
                    vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), vcombine_s8(lo, lo)), vcombine_s8(hi, hi)));
                int8_t *out = Y + (ptrdiff_t)r0 * ldc + p0;
                int32_t b0 = vgetq_lane_s32(y, 0), b1 = vgetq_lane_s32(y, 1), b2 = vgetq_lane_s32(y, 2), b3 = vgetq_lane_s32(y, 3);
                memcpy(out, &b0, 4); memcpy(out + ldc, &b1, 4); memcpy(out + 2 * ldc, &b2, 4); memcpy(out + 3 * ldc, &b3, 4);
                continue;
            }
            const int32x4_t sv[4] = {s0, s1, s2, s3};
            for (int i = 0; i < nr; i++) {
                const int r = r0 + i;
                const int32x4_t acc = vaddq_s32(sv[i], vdupq_n_s32(q->bias[r]));
                int8_t *out = Y + (ptrdiff_t)r * ldc + p0;
                int8_t b[8];
                if (q->shift[r] >= 32) {
                    const int32x4_t v = vrshlq_s32(vqdmulhq_s32(acc, vdupq_n_s32(q->multiplier[r])), vdupq_n_s32(31 - q->shift[r]));
                    const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(v), vqmovn_s32(v)), zp);
                    vst1_s8(b, vmin_s8(vmax_s8(vqmovn_s16(h), lo), hi));
                } else {
                    int32_t v[4];
                    vst1q_s32(v, acc);
                    for (int j = 0; j < 4; j++)
                        b[j] = (int8_t)vigil_requantize(v[j], q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
                }
                if (n == 4) memcpy(out, b, 4);
                else memcpy(out, b, (size_t)n);
            }
        }
    }
}
#undef VIGIL_NHWC_STEP16
#undef VIGIL_NHWC_STEP8
#endif
