// AArch64 int8 GEMM with the dot-product extension (Cortex-A76 and later): SDOT accumulates four
// int8 products per int32 lane; four output columns share each load of the A row. Built for
// armv8.2-a+dotprod whatever the baseline, and only called when HWCAP_ASIMDDP says the CPU has it.
#if defined(__aarch64__)
#if defined(__clang__)
#define VIGIL_DOTPROD __attribute__((target("dotprod")))
#else
// GCC: compile this file with -march=armv8.2-a+dotprod (Tools/kernels/test-arm.sh does).
#define VIGIL_DOTPROD
#endif
#include "vigil_kernels.h"
#include <arm_neon.h>
#include <string.h>
#include "requant_neon.h"

VIGIL_DOTPROD
void vigil_gemm_s8_dotprod(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const int K16 = K & ~15;
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        int c = 0;
        for (; c + 4 <= cols; c += 4) {
            const int8_t *b0 = B + (ptrdiff_t)c * K, *b1 = b0 + K, *b2 = b1 + K, *b3 = b2 + K;
            int32x4_t s0 = vdupq_n_s32(0), s1 = s0, s2 = s0, s3 = s0;
            for (int k = 0; k < K16; k += 16) {
                int8x16_t va = vld1q_s8(a + k);
                s0 = vdotq_s32(s0, va, vld1q_s8(b0 + k));
                s1 = vdotq_s32(s1, va, vld1q_s8(b1 + k));
                s2 = vdotq_s32(s2, va, vld1q_s8(b2 + k));
                s3 = vdotq_s32(s3, va, vld1q_s8(b3 + k));
            }
            int32_t acc[4] = {vaddvq_s32(s0), vaddvq_s32(s1), vaddvq_s32(s2), vaddvq_s32(s3)};
            for (int k = K16; k < K; k++) {
                acc[0] += a[k] * b0[k]; acc[1] += a[k] * b1[k]; acc[2] += a[k] * b2[k]; acc[3] += a[k] * b3[k];
            }
            for (int j = 0; j < 4; j++) {
                int32_t v = (int32_t)((uint32_t)acc[j] + (uint32_t)q->bias[r]);
                C[r * ldr + (c + j) * ldc] = (int8_t)vigil_requantize(v, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
            }
        }
        for (; c < cols; c++) {
            const int8_t *b = B + (ptrdiff_t)c * K;
            int32x4_t s = vdupq_n_s32(0);
            for (int k = 0; k < K16; k += 16) s = vdotq_s32(s, vld1q_s8(a + k), vld1q_s8(b + k));
            int32_t acc = vaddvq_s32(s);
            for (int k = K16; k < K; k++) acc += a[k] * b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}

/// The general store of a 4 x 16 tile (fewer rows or positions, or a row with a shift under 32),
/// out of line: the accumulators come through memory, so the main loop keeps its registers.
VIGIL_DOTPROD __attribute__((noinline)) static void k4_tile_store(const int32x4_t *a, const vigil_requant_rows *q,
                                                                  int r0, int nr, int8_t *out, ptrdiff_t ldc, int n,
                                                                  int fast) {
    const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
    const int8x16_t lo = vdupq_n_s8((int8_t)q->lo), hi = vdupq_n_s8((int8_t)q->hi);
    rows4_store(a[0], a[1], a[2], a[3], a[4], a[5], a[6], a[7], a[8], a[9], a[10], a[11], a[12], a[13], a[14], a[15], q,
                r0, nr, out, ldc, n, fast, zp, lo, hi);
}

/// A tile of 4 rows by 4 * nv positions (nv = 1...3, a constant after inlining) for the last panel
/// of vigil_gemm_s8_k4_dotprod: nv vectors of U per quad instead of four.
VIGIL_DOTPROD __attribute__((always_inline)) static inline void k4_narrow_tile(
    const int8_t *w, const int8_t *u, ptrdiff_t stride, int K4, const int nv, const int32_t *const *bp,
    const vigil_requant_rows *q, int r0, int nr, int8_t *out, ptrdiff_t ldc, int n, int fast) {
    int32x4_t a[16];
    for (int i = 0; i < 4; i++)
        for (int j = 0; j < 4; j++) a[4 * i + j] = vld1q_dup_s32(bp[i]);
    int32x4_t a00 = a[0], a01 = a[1], a02 = a[2], a10 = a[4], a11 = a[5], a12 = a[6];
    int32x4_t a20 = a[8], a21 = a[9], a22 = a[10], a30 = a[12], a31 = a[13], a32 = a[14];
    for (int k = 0; k < K4; k++, u += stride) {
        const int8x16_t wv = vld1q_s8(w + (ptrdiff_t)k * 16);
        const int8x16_t x0 = vld1q_s8(u);
        a00 = vdotq_laneq_s32(a00, x0, wv, 0); a10 = vdotq_laneq_s32(a10, x0, wv, 1);
        a20 = vdotq_laneq_s32(a20, x0, wv, 2); a30 = vdotq_laneq_s32(a30, x0, wv, 3);
        if (nv > 1) {
            const int8x16_t x1 = vld1q_s8(u + 16);
            a01 = vdotq_laneq_s32(a01, x1, wv, 0); a11 = vdotq_laneq_s32(a11, x1, wv, 1);
            a21 = vdotq_laneq_s32(a21, x1, wv, 2); a31 = vdotq_laneq_s32(a31, x1, wv, 3);
        }
        if (nv > 2) {
            const int8x16_t x2 = vld1q_s8(u + 32);
            a02 = vdotq_laneq_s32(a02, x2, wv, 0); a12 = vdotq_laneq_s32(a12, x2, wv, 1);
            a22 = vdotq_laneq_s32(a22, x2, wv, 2); a32 = vdotq_laneq_s32(a32, x2, wv, 3);
        }
    }
    a[0] = a00; a[1] = a01; a[2] = a02; a[4] = a10; a[5] = a11; a[6] = a12;
    a[8] = a20; a[9] = a21; a[10] = a22; a[12] = a30; a[13] = a31; a[14] = a32;
    k4_tile_store(a, q, r0, nr, out, ldc, n, fast);
}

/// Convolution GEMM on signed quads with SDOT (convolution plans on dotprod and i8mm CPUs):
/// C[r * ldc + c] = requant_r(bias[r] + sum_k W[r][k] * U[k][c]), U = [K4][cols][4] int8 (the
/// activations themselves; the caller folds -zx * sum(w) into bias) and W = [ceil(rows/4)][K4][4][4]
/// int8: the quads of four rows side by side (rows past `rows`: zero). A tile is 4 rows by 16
/// positions: per reduction quad one 64-byte load of U (four vectors of 4 positions), one 16-byte
/// load of W and 16 SDOT by lane (row i = lane i of the weights), 256 multiply-adds in 18
/// instructions. Whole tiles of four fast rows (shift >= 32) are stored with the rows' constants
/// held in registers across the row block (~80 instructions for 64 outputs); the rest through
/// k4_tile_store. The last panel (cols % 16) reads up to 64 bytes past U's end: the caller's buffer
/// has them (their results are not stored).
VIGIL_DOTPROD
void vigil_gemm_s8_k4_dotprod(const int8_t *W, const int8_t *U, int rows, int cols, int K4, const vigil_requant_rows *q,
                              int8_t *C, ptrdiff_t ldc) {
    const ptrdiff_t stride = (ptrdiff_t)cols * 4;
    const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
    const int8x16_t lo = vdupq_n_s8((int8_t)q->lo), hi = vdupq_n_s8((int8_t)q->hi);
    for (int r0 = 0; r0 < rows; r0 += 4) {
        const int nr = rows - r0 < 4 ? rows - r0 : 4;
        const int fast = rows_fast(q, r0, nr);
        const vigil_rows4_consts rc = rows4_consts(q, r0, nr);
        const int8_t *w = W + (ptrdiff_t)(r0 / 4) * K4 * 16;
        const int32_t *bias = q->bias + r0;
        const int b1 = nr > 1, b2 = nr > 2 ? 2 : 0, b3 = nr > 3 ? 3 : 0;
        for (int c0 = 0; c0 < cols; c0 += 16) {
            const int n = cols - c0 < 16 ? cols - c0 : 16;
            if (n <= 12) {  // the last panel: only the vectors of positions it has
                const int8_t *u = U + (ptrdiff_t)c0 * 4;
                int8_t *out = C + (ptrdiff_t)r0 * ldc + c0;
                const int32_t *bp[4] = {bias, bias + b1, bias + b2, bias + b3};
                if (n <= 4) k4_narrow_tile(w, u, stride, K4, 1, bp, q, r0, nr, out, ldc, n, fast);
                else if (n <= 8) k4_narrow_tile(w, u, stride, K4, 2, bp, q, r0, nr, out, ldc, n, fast);
                else k4_narrow_tile(w, u, stride, K4, 3, bp, q, r0, nr, out, ldc, n, fast);
                continue;
            }
            // Sixteen named accumulators (an array of them is kept in memory by GCC, with a store of
            // every one on every step).
            int32x4_t a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33;
            a00 = a01 = a02 = a03 = vld1q_dup_s32(bias);
            a10 = a11 = a12 = a13 = vld1q_dup_s32(bias + b1);
            a20 = a21 = a22 = a23 = vld1q_dup_s32(bias + b2);
            a30 = a31 = a32 = a33 = vld1q_dup_s32(bias + b3);
            const int8_t *u = U + (ptrdiff_t)c0 * 4;
#define VIGIL_K4_STEP(x, wv)                                                                                   \
            a00 = vdotq_laneq_s32(a00, x.val[0], wv, 0); a01 = vdotq_laneq_s32(a01, x.val[1], wv, 0);        \
            a02 = vdotq_laneq_s32(a02, x.val[2], wv, 0); a03 = vdotq_laneq_s32(a03, x.val[3], wv, 0);        \
            a10 = vdotq_laneq_s32(a10, x.val[0], wv, 1); a11 = vdotq_laneq_s32(a11, x.val[1], wv, 1);        \
            a12 = vdotq_laneq_s32(a12, x.val[2], wv, 1); a13 = vdotq_laneq_s32(a13, x.val[3], wv, 1);        \
            a20 = vdotq_laneq_s32(a20, x.val[0], wv, 2); a21 = vdotq_laneq_s32(a21, x.val[1], wv, 2);        \
            a22 = vdotq_laneq_s32(a22, x.val[2], wv, 2); a23 = vdotq_laneq_s32(a23, x.val[3], wv, 2);        \
            a30 = vdotq_laneq_s32(a30, x.val[0], wv, 3); a31 = vdotq_laneq_s32(a31, x.val[1], wv, 3);        \
            a32 = vdotq_laneq_s32(a32, x.val[2], wv, 3); a33 = vdotq_laneq_s32(a33, x.val[3], wv, 3);
            // Two quads per step: one loop test and one weight load (32 bytes) per 32 SDOT.
            const int8_t *wk = w;
            int k = 0;
            for (; k + 2 <= K4; k += 2, u += 2 * stride, wk += 32) {
                const int8x16x4_t x = vld1q_s8_x4(u), y = vld1q_s8_x4(u + stride);
                const int8x16x2_t wv = vld1q_s8_x2(wk);
                VIGIL_K4_STEP(x, wv.val[0])
                VIGIL_K4_STEP(y, wv.val[1])
            }
            if (k < K4) {
                const int8x16x4_t x = vld1q_s8_x4(u);
                const int8x16_t wv = vld1q_s8(wk);
                VIGIL_K4_STEP(x, wv)
            }
#undef VIGIL_K4_STEP
            int8_t *out = C + (ptrdiff_t)r0 * ldc + c0;
            if (rc.whole && n == 16) {
                VIGIL_ROW16_LANE(a00, a01, a02, a03, rc.mv, 0, rc.s0, zp, lo, hi, out);
                VIGIL_ROW16_LANE(a10, a11, a12, a13, rc.mv, 1, rc.s1, zp, lo, hi, out + ldc);
                VIGIL_ROW16_LANE(a20, a21, a22, a23, rc.mv, 2, rc.s2, zp, lo, hi, out + 2 * ldc);
                VIGIL_ROW16_LANE(a30, a31, a32, a33, rc.mv, 3, rc.s3, zp, lo, hi, out + 3 * ldc);
            } else {
                const int32x4_t a[16] = {a00, a01, a02, a03, a10, a11, a12, a13, a20, a21, a22, a23, a30, a31, a32, a33};
                k4_tile_store(a, q, r0, nr, out, ldc, n, fast);
            }
        }
    }
}

/// out[0..n) (n <= 8) = row r's requantized bytes of 8 positions (see requant_neon.h).
static inline void row8_store(int32x4_t a0, int32x4_t a1, const vigil_requant_rows *q, int r, int8_t *out, int n) {
    const int32_t sh = q->shift[r];
    int8_t tmp[8];
    int8_t *dst = n == 8 ? out : tmp;
    if (sh >= 32) {
        const int32x4_t m = vdupq_n_s32(q->multiplier[r]), s = vdupq_n_s32(-(sh - 31));
        a0 = vrshlq_s32(vqdmulhq_s32(a0, m), s);
        a1 = vrshlq_s32(vqdmulhq_s32(a1, m), s);
        const int16x8_t w = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), vdupq_n_s16((int16_t)q->zero_point));
        int8x8_t y = vqmovn_s16(w);
        y = vmin_s8(vmax_s8(y, vdup_n_s8((int8_t)q->lo)), vdup_n_s8((int8_t)q->hi));
        vst1_s8(dst, y);
    } else {
        int32_t v[8];
        vst1q_s32(v, a0);
        vst1q_s32(v + 4, a1);
        for (int j = 0; j < 8; j++) dst[j] = (int8_t)vigil_requantize(v[j], q->multiplier[r], sh, q->zero_point, q->lo, q->hi);
    }
    if (dst == tmp) memcpy(out, tmp, (size_t)n);
}

/// Four positions' quads (position j at src + j * ps) as one vector, lane j = position j.
enum { X_CONTIG, X_TBL1, X_TBL2, X_LANES };
VIGIL_DOTPROD __attribute__((always_inline)) static inline int8x16_t four_quads(const int8_t *src, ptrdiff_t ps, int mode,
                                                                                int8x16_t idx) {
    switch (mode) {
    case X_CONTIG: return vld1q_s8(src);
    case X_TBL1: return vqtbl1q_s8(vld1q_s8(src), vreinterpretq_u8_s8(idx));
    case X_TBL2: return vqtbl2q_s8(vld1q_s8_x2(src), vreinterpretq_u8_s8(idx));
    default: {
        int32x4_t v = vdupq_n_s32(0);
        int32_t t;
        memcpy(&t, src, 4); v = vsetq_lane_s32(t, v, 0);
        memcpy(&t, src + ps, 4); v = vsetq_lane_s32(t, v, 1);
        memcpy(&t, src + 2 * ps, 4); v = vsetq_lane_s32(t, v, 2);
        memcpy(&t, src + 3 * ps, 4); v = vsetq_lane_s32(t, v, 3);
        return vreinterpretq_s8_s32(v);
    }
    }
}

/// One tile of vigil_conv_s8_direct_dotprod: rows r0..r0+7 (nr of them) by positions p0..p0+7
/// (n of them); `mode` is a constant in each instantiation, so the reduction loop has no branch.
/// Rows r and r + 1 (8 positions each, both with shift >= 32) requantized into one vector: the
/// low half stored to `out`, the high half to `out + ldc`.
static inline void rows2x8_fast(int32x4_t a0, int32x4_t a1, int32x4_t b0, int32x4_t b1, const vigil_requant_rows *q,
                                int r, int8_t *out, ptrdiff_t ldc, int16x8_t zp, int8x16_t lo, int8x16_t hi) {
    const int32x4_t ma = vdupq_n_s32(q->multiplier[r]), sa = vdupq_n_s32(31 - q->shift[r]);
    const int32x4_t mb = vdupq_n_s32(q->multiplier[r + 1]), sb = vdupq_n_s32(31 - q->shift[r + 1]);
    a0 = vrshlq_s32(vqdmulhq_s32(a0, ma), sa); a1 = vrshlq_s32(vqdmulhq_s32(a1, ma), sa);
    b0 = vrshlq_s32(vqdmulhq_s32(b0, mb), sb); b1 = vrshlq_s32(vqdmulhq_s32(b1, mb), sb);
    const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
    const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(b0), vqmovn_s32(b1)), zp);
    const int8x16_t y = vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), lo), hi);
    vst1_s8(out, vget_low_s8(y));
    vst1_s8(out + ldc, vget_high_s8(y));
}

VIGIL_DOTPROD __attribute__((always_inline)) static inline void direct_tile(
    const int8_t *w, int r0, int nr, const int8_t *base, ptrdiff_t ps, int p0, int n, const int32_t *offsets, int K4,
    const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc, const int mode, int8x16_t idx, int fast, int16x8_t zp,
    int8x16_t lo, int8x16_t hi) {
    int32x4_t a00, a01, a10, a11, a20, a21, a30, a31, a40, a41, a50, a51, a60, a61, a70, a71;
    a00 = a01 = vdupq_n_s32(q->bias[r0]);
    a10 = a11 = vdupq_n_s32(q->bias[r0 + (nr > 1)]);
    a20 = a21 = vdupq_n_s32(q->bias[r0 + (nr > 2 ? 2 : 0)]);
    a30 = a31 = vdupq_n_s32(q->bias[r0 + (nr > 3 ? 3 : 0)]);
    a40 = a41 = vdupq_n_s32(q->bias[r0 + (nr > 4 ? 4 : 0)]);
    a50 = a51 = vdupq_n_s32(q->bias[r0 + (nr > 5 ? 5 : 0)]);
    a60 = a61 = vdupq_n_s32(q->bias[r0 + (nr > 6 ? 6 : 0)]);
    a70 = a71 = vdupq_n_s32(q->bias[r0 + (nr > 7 ? 7 : 0)]);
    const int8_t *src0 = base + p0 * ps, *src1 = src0 + 4 * ps;
    for (int k = 0; k < K4; k++) {
        const int8x16_t x0 = four_quads(src0 + offsets[k], ps, mode, idx);
        const int8x16_t x1 = four_quads(src1 + offsets[k], ps, mode, idx);
        const int8x16x2_t wv = vld1q_s8_x2(w + (ptrdiff_t)k * 32);
        a00 = vdotq_laneq_s32(a00, x0, wv.val[0], 0); a01 = vdotq_laneq_s32(a01, x1, wv.val[0], 0);
        a10 = vdotq_laneq_s32(a10, x0, wv.val[0], 1); a11 = vdotq_laneq_s32(a11, x1, wv.val[0], 1);
        a20 = vdotq_laneq_s32(a20, x0, wv.val[0], 2); a21 = vdotq_laneq_s32(a21, x1, wv.val[0], 2);
        a30 = vdotq_laneq_s32(a30, x0, wv.val[0], 3); a31 = vdotq_laneq_s32(a31, x1, wv.val[0], 3);
        a40 = vdotq_laneq_s32(a40, x0, wv.val[1], 0); a41 = vdotq_laneq_s32(a41, x1, wv.val[1], 0);
        a50 = vdotq_laneq_s32(a50, x0, wv.val[1], 1); a51 = vdotq_laneq_s32(a51, x1, wv.val[1], 1);
        a60 = vdotq_laneq_s32(a60, x0, wv.val[1], 2); a61 = vdotq_laneq_s32(a61, x1, wv.val[1], 2);
        a70 = vdotq_laneq_s32(a70, x0, wv.val[1], 3); a71 = vdotq_laneq_s32(a71, x1, wv.val[1], 3);
    }
    int8_t *out = Y + (ptrdiff_t)r0 * ldc + p0;
    if (fast && nr == 8 && n == 8) {  // pairs of rows through one 16-byte vector
        rows2x8_fast(a00, a01, a10, a11, q, r0, out, ldc, zp, lo, hi);
        rows2x8_fast(a20, a21, a30, a31, q, r0 + 2, out + 2 * ldc, ldc, zp, lo, hi);
        rows2x8_fast(a40, a41, a50, a51, q, r0 + 4, out + 4 * ldc, ldc, zp, lo, hi);
        rows2x8_fast(a60, a61, a70, a71, q, r0 + 6, out + 6 * ldc, ldc, zp, lo, hi);
        return;
    }
    const int32x4_t acc[8][2] = {{a00, a01}, {a10, a11}, {a20, a21}, {a30, a31},
                                 {a40, a41}, {a50, a51}, {a60, a61}, {a70, a71}};
    for (int i = 0; i < nr; i++) row8_store(acc[i][0], acc[i][1], q, r0 + i, out + (ptrdiff_t)i * ldc, n);
}

/// Direct convolution with SDOT on signed activations (convolution plans on dotprod and i8mm):
/// Y[r * ldc + p] = requant_r(bias[r] + sum_k W quad * activation quad), the four bytes of quad k of
/// position p at base + p * pos_stride + offsets[k] (a padded copy of the input, padding zx; the
/// caller folds -zx * sum(w) into bias). W is [ceil(rows/8)][K4][8][4] int8. A tile is 8 rows by 8
/// positions: per quad two vectors of four positions (one load when the quads are adjacent, else a
/// load and a TBL while four of them span 16 or 32 bytes), one 32-byte load of weights and 16 SDOT
/// by lane. Positions of the last tile past `positions` read up to 8 * pos_stride + 32 bytes past
/// the last position's quads (the caller's buffer has them; their results are not stored).
VIGIL_DOTPROD
void vigil_conv_s8_direct_dotprod(const int8_t *W, int rows, const int8_t *base, ptrdiff_t pos_stride, int positions,
                                  const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    const ptrdiff_t ps = pos_stride;
    const int mode = ps == 4 ? X_CONTIG : (3 * ps + 4 <= 16 ? X_TBL1 : (3 * ps + 4 <= 32 ? X_TBL2 : X_LANES));
    int8_t bytes[16];
    for (int j = 0; j < 4; j++)
        for (int t = 0; t < 4; t++) bytes[4 * j + t] = (int8_t)(j * ps + t);
    const int8x16_t idx = vld1q_s8(bytes);
    const int16x8_t zp = vdupq_n_s16((int16_t)q->zero_point);
    const int8x16_t lo = vdupq_n_s8((int8_t)q->lo), hi = vdupq_n_s8((int8_t)q->hi);
    for (int r0 = 0; r0 < rows; r0 += 8) {
        const int nr = rows - r0 < 8 ? rows - r0 : 8;
        const int fast = rows_fast(q, r0, nr);
        const int8_t *w = W + (ptrdiff_t)(r0 / 8) * K4 * 32;
        for (int p0 = 0; p0 < positions; p0 += 8) {
            const int n = positions - p0 < 8 ? positions - p0 : 8;
            switch (mode) {
            case X_CONTIG: direct_tile(w, r0, nr, base, ps, p0, n, offsets, K4, q, Y, ldc, X_CONTIG, idx, fast, zp, lo, hi); break;
            case X_TBL1: direct_tile(w, r0, nr, base, ps, p0, n, offsets, K4, q, Y, ldc, X_TBL1, idx, fast, zp, lo, hi); break;
            case X_TBL2: direct_tile(w, r0, nr, base, ps, p0, n, offsets, K4, q, Y, ldc, X_TBL2, idx, fast, zp, lo, hi); break;
            default: direct_tile(w, r0, nr, base, ps, p0, n, offsets, K4, q, Y, ldc, X_LANES, idx, fast, zp, lo, hi); break;
            }
        }
    }
}

// --- depthwise planes with SDOT --------------------------------------------------------------------
// The channel-plane driver (depthwise_driver.h) with a signed plane (x itself, padding zx): four
// positions' taps of one quad (bytes s * j + t of a 16-byte load, j = position, t = tap) come
// from one TBL, and one SDOT with the quad's weights in every lane adds four products per position.
// Per 16 positions and quad: 4 loads, 4 TBL, 4 SDOT (a 3x3 kernel: 36 instructions for 144
// products, against 63 with SMLAL).
#include "dw_neon.h"

VIGIL_DOTPROD __attribute__((always_inline)) static inline void plane_sdot_quads(const vigil_dw_plane *p, const int nk) {
    const int fast = p->n >= 32;
    const int32x4_t m = vdupq_n_s32(p->m), shift = vdupq_n_s32(fast ? -(p->n - 31) : 0);
    const int16x8_t zp = vdupq_n_s16((int16_t)p->zp);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->lo), hi = vdupq_n_s8((int8_t)p->hi);
    const int32x4_t bias = vdupq_n_s32(p->bias);
    const int s = p->s;
    int8_t ib[16];
    for (int j = 0; j < 4; j++)
        for (int t = 0; t < 4; t++) ib[4 * j + t] = (int8_t)(s * j + t);
    const uint8x16_t idx = vreinterpretq_u8_s8(vld1q_s8(ib));
    for (int q0 = 0; q0 < p->nq; q0 += 16) {
        int32x4_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const int8_t *base = (const int8_t *)p->P + (ptrdiff_t)s * q0;
        for (int k = 0; k < nk; k++) {
            const int8_t *b = base + p->off[k];
            const int8x16_t w = vreinterpretq_s8_s32(vdupq_n_s32(p->wq[k]));
            a0 = vdotq_s32(a0, vqtbl1q_s8(vld1q_s8(b), idx), w);
            a1 = vdotq_s32(a1, vqtbl1q_s8(vld1q_s8(b + 4 * s), idx), w);
            a2 = vdotq_s32(a2, vqtbl1q_s8(vld1q_s8(b + 8 * s), idx), w);
            a3 = vdotq_s32(a3, vqtbl1q_s8(vld1q_s8(b + 12 * s), idx), w);
        }
        dw_store16(a0, a1, a2, a3, fast, m, shift, p, zp, lo, hi, p->T + q0);
    }
}

/// 3-wide kernels of 3 quads (3x3) at stride s (1 or 2), requantized by rq4 (fast: the channel's
/// shift is >= 32): each quad's 16 positions come from one 32-byte window per 8 positions' reach
/// instead of four 16-byte loads. Stride 1: positions j = 0..15 need bytes j..j+3, all inside one
/// 32-byte load, four TBL of two registers; stride 2: bytes 2j..2j+3, positions 0..7 from bytes
/// 0..17 and 8..15 from 16..33 (the same indices on the window 16 bytes on). Per 16 positions:
/// 3 (stride 1) or 6 loads, 12 TBL and 12 SDOT, then 19 instructions of requantization.
VIGIL_DOTPROD __attribute__((always_inline)) static inline void plane_sdot3(const vigil_dw_plane *p, const int s) {
    const int32x4_t m = vdupq_n_s32(p->m), shift = vdupq_n_s32(-(p->n - 31));
    const int16x8_t zp = vdupq_n_s16((int16_t)p->zp);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->lo), hi = vdupq_n_s8((int8_t)p->hi);
    const int32x4_t bias = vdupq_n_s32(p->bias);
    const int8x16_t w0 = vreinterpretq_s8_s32(vdupq_n_s32(p->wq[0]));
    const int8x16_t w1 = vreinterpretq_s8_s32(vdupq_n_s32(p->wq[1]));
    const int8x16_t w2 = vreinterpretq_s8_s32(vdupq_n_s32(p->wq[2]));
    uint8_t ib[16];
    for (int j = 0; j < 4; j++)
        for (int t = 0; t < 4; t++) ib[4 * j + t] = (uint8_t)(s * j + t);
    uint8x16_t i0 = vld1q_u8(ib);
    __asm__("" : "+w"(i0));
    const uint8x16_t step = vdupq_n_u8((uint8_t)(4 * s));
    uint8x16_t i1 = vaddq_u8(i0, step), i2 = vaddq_u8(i1, step), i3 = vaddq_u8(i2, step);
    // Opaque to the compiler, so that clang keeps the indices in registers instead of loading
    // them from the constant pool again on every step.
    __asm__("" : "+w"(i1), "+w"(i2), "+w"(i3));
    const int8_t *b0 = (const int8_t *)p->P + p->off[0], *b1 = (const int8_t *)p->P + p->off[1];
    const int8_t *b2 = (const int8_t *)p->P + p->off[2];
    int8_t *out = p->T;
    for (int q0 = 0; q0 < p->nq; q0 += 16, b0 += 16 * s, b1 += 16 * s, b2 += 16 * s, out += 16) {
        int32x4_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
#define VIGIL_SDOT3_ROW(b, w)                                                                                   \
        if (s == 1) {                                                                                           \
            const int8x16x2_t x = vld1q_s8_x2(b);                                                               \
            a0 = vdotq_s32(a0, vqtbl2q_s8(x, i0), w); a1 = vdotq_s32(a1, vqtbl2q_s8(x, i1), w);                \
            a2 = vdotq_s32(a2, vqtbl2q_s8(x, i2), w); a3 = vdotq_s32(a3, vqtbl2q_s8(x, i3), w);                \
        } else {                                                                                                \
            const int8x16x2_t x = vld1q_s8_x2(b), y = vld1q_s8_x2(b + 16);                                      \
            a0 = vdotq_s32(a0, vqtbl2q_s8(x, i0), w); a1 = vdotq_s32(a1, vqtbl2q_s8(x, i1), w);                \
            a2 = vdotq_s32(a2, vqtbl2q_s8(y, i0), w); a3 = vdotq_s32(a3, vqtbl2q_s8(y, i1), w);                \
        }
        VIGIL_SDOT3_ROW(b0, w0)
        VIGIL_SDOT3_ROW(b1, w1)
        VIGIL_SDOT3_ROW(b2, w2)
#undef VIGIL_SDOT3_ROW
        a0 = rq4(a0, m, shift); a1 = rq4(a1, m, shift); a2 = rq4(a2, m, shift); a3 = rq4(a3, m, shift);
        const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
        const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
        vst1q_s8(out, vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), lo), hi));
    }
}

VIGIL_DOTPROD static inline void plane_sdot(const vigil_dw_plane *p) {
    if (p->nk == 3 && p->n >= 32) {
        if (p->s == 1) plane_sdot3(p, 1);
        else plane_sdot3(p, 2);
    } else if (p->nk == 3) {
        plane_sdot_quads(p, 3);  // 3 quads: the quad loop unrolled
    } else {
        plane_sdot_quads(p, p->nk);
    }
}

#define VIGIL_DWD_NAME vigil_depthwise_planes_dotprod
#define VIGIL_DWD_ATTR VIGIL_DOTPROD
#define VIGIL_DWD_SIGNED
#define VIGIL_DWD_PLANE(p) plane_sdot(p)
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_neon(d, s, n, 0)
#define VIGIL_DWD_COPY(d, s, n) copy_neon((uint8_t *)(d), s, n, 0)
#define VIGIL_DWD_TABLES
#define VIGIL_DWD_CHUNKS_IN(P, x, ch, n) dw_chunks_in(P, x, ch, n, 0)
#define VIGIL_DWD_CHUNKS_OUT(out, T, ch, n) dw_chunks_out(out, T, ch, n)
#include "../depthwise_driver.h"
#endif
