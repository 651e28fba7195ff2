// Depthwise plane kernel for AArch64 NEON (see depthwise_planes.h): one channel, 16 output
// positions per step, on a signed plane (x itself, padding zx). Each tap widens 16 plane bytes
// and multiply-adds them with the tap's weight into four int32x4 accumulators (SMLAL/SMLAL2);
// stride 2 reads the even or odd bytes with LD2. Taps with weight 0 (past the kernel's width) are
// skipped. 3x3 channels with no weight of -128 take pairs of taps in int16 instead (SMULL, SMLAL:
// |x * w| <= 128 * 127, two of them fit) widened once per pair (SADDW), 38 instructions per 16
// positions for the nine taps instead of 54.
// Requantization for n >= 32: SQDMULH gives floor(acc * m / 2^31) exactly (m >= 0, so it never
// saturates), and SRSHL by -(n - 31) adds 2^(n-32) and shifts in full precision, which is
// floor((acc * m + 2^(n-1)) / 2^n) — vigil_requantize without the int32 saturation, which cannot
// trigger for n >= 32. Other channels go lane by lane through vigil_requantize.
#if defined(__aarch64__)
#include "../depthwise_planes.h"
#include <arm_neon.h>
#include <string.h>
#include "dw_neon.h"

static inline int16x8_t widen(uint8x8_t b) { return vmovl_s8(vreinterpret_s8_u8(b)); }

/// The plane of a kernel with three quads (rows) of at most three taps each (3x3, the MobileNet
/// case): the nine weights stay in registers and every tap is unrolled, with no test per tap; with
/// stride 2 one LD2 serves taps 0 and 1 of a row.
static inline void plane_neon_3x3(const vigil_dw_plane *p) {
    const int fast = p->n >= 32;
    const int32x4_t m = vdupq_n_s32(p->m), shift = vdupq_n_s32(fast ? -(p->n - 31) : 0);
    const int16x8_t zp = vdupq_n_s16((int16_t)p->zp);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->lo), hi = vdupq_n_s8((int8_t)p->hi);
    const int32x4_t bias = vdupq_n_s32(p->bias);
    int16_t wt[12] = {0};
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 3; t++) wt[3 * k + t] = ((const int8_t *)&p->wq[k])[t];
    const int16x8_t w07 = vld1q_s16(wt);
    const int16x4_t w8 = vld1_s16(wt + 8);
    const uint8_t *r0 = p->P + p->off[0], *r1 = p->P + p->off[1], *r2 = p->P + p->off[2];
    const int s = p->s;
    for (int q0 = 0; q0 < p->nq; q0 += 16) {
        int32x4_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const ptrdiff_t at = (ptrdiff_t)s * q0;
        uint8x16_t u[9];
        if (s == 1) {
            u[0] = vld1q_u8(r0 + at); u[1] = vld1q_u8(r0 + at + 1); u[2] = vld1q_u8(r0 + at + 2);
            u[3] = vld1q_u8(r1 + at); u[4] = vld1q_u8(r1 + at + 1); u[5] = vld1q_u8(r1 + at + 2);
            u[6] = vld1q_u8(r2 + at); u[7] = vld1q_u8(r2 + at + 1); u[8] = vld1q_u8(r2 + at + 2);
        } else {
            uint8x16x2_t d = vld2q_u8(r0 + at);
            u[0] = d.val[0]; u[1] = d.val[1]; u[2] = vld2q_u8(r0 + at + 2).val[0];
            d = vld2q_u8(r1 + at);
            u[3] = d.val[0]; u[4] = d.val[1]; u[5] = vld2q_u8(r1 + at + 2).val[0];
            d = vld2q_u8(r2 + at);
            u[6] = d.val[0]; u[7] = d.val[1]; u[8] = vld2q_u8(r2 + at + 2).val[0];
        }
#define VIGIL_TAP_Q(i)                                                                      \
        {                                                                                   \
            const int16x8_t l = widen(vget_low_u8(u[i])), h = widen(vget_high_u8(u[i]));   \
            a0 = vmlal_laneq_s16(a0, vget_low_s16(l), w07, i);                              \
            a1 = vmlal_high_laneq_s16(a1, l, w07, i);                                       \
            a2 = vmlal_laneq_s16(a2, vget_low_s16(h), w07, i);                              \
            a3 = vmlal_high_laneq_s16(a3, h, w07, i);                                       \
        }
        VIGIL_TAP_Q(0) VIGIL_TAP_Q(1) VIGIL_TAP_Q(2) VIGIL_TAP_Q(3) VIGIL_TAP_Q(4) VIGIL_TAP_Q(5) VIGIL_TAP_Q(6) VIGIL_TAP_Q(7)
#undef VIGIL_TAP_Q
        {
            const int16x8_t l = widen(vget_low_u8(u[8])), h = widen(vget_high_u8(u[8]));
            a0 = vmlal_lane_s16(a0, vget_low_s16(l), w8, 0);
            a1 = vmlal_high_lane_s16(a1, l, w8, 0);
            a2 = vmlal_lane_s16(a2, vget_low_s16(h), w8, 0);
            a3 = vmlal_high_lane_s16(a3, h, w8, 0);
        }
        dw_store16(a0, a1, a2, a3, fast, m, shift, p, zp, lo, hi, p->T + q0);
    }
}

/// plane_neon_3x3 with the taps in pairs: products of two taps summed in int16 (exact with no
/// weight of -128, which the caller checks), then added to the int32 accumulators. `fast` only.
static inline void plane_neon_3x3_pairs(const vigil_dw_plane *p, const int s) {
    const int32x4_t m = vdupq_n_s32(p->m), shift = vdupq_n_s32(-(p->n - 31));
    const int16x8_t zp = vdupq_n_s16((int16_t)p->zp);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->lo), hi = vdupq_n_s8((int8_t)p->hi);
    const int32x4_t bias = vdupq_n_s32(p->bias);
    int8x16_t w[9];
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 3; t++) w[3 * k + t] = vdupq_n_s8(((const int8_t *)&p->wq[k])[t]);
    const int8_t *r0 = (const int8_t *)p->P + p->off[0], *r1 = (const int8_t *)p->P + p->off[1];
    const int8_t *r2 = (const int8_t *)p->P + p->off[2];
    for (int q0 = 0; q0 < p->nq; q0 += 16, r0 += 16 * s, r1 += 16 * s, r2 += 16 * s) {
        int32x4_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        int8x16_t u[9];
        if (s == 1) {
            u[0] = vld1q_s8(r0); u[1] = vld1q_s8(r0 + 1); u[2] = vld1q_s8(r0 + 2);
            u[3] = vld1q_s8(r1); u[4] = vld1q_s8(r1 + 1); u[5] = vld1q_s8(r1 + 2);
            u[6] = vld1q_s8(r2); u[7] = vld1q_s8(r2 + 1); u[8] = vld1q_s8(r2 + 2);
        } else {
            int8x16x2_t d = vld2q_s8(r0);
            u[0] = d.val[0]; u[1] = d.val[1]; u[2] = vld2q_s8(r0 + 2).val[0];
            d = vld2q_s8(r1);
            u[3] = d.val[0]; u[4] = d.val[1]; u[5] = vld2q_s8(r1 + 2).val[0];
            d = vld2q_s8(r2);
            u[6] = d.val[0]; u[7] = d.val[1]; u[8] = vld2q_s8(r2 + 2).val[0];
        }
#define VIGIL_TAP_PAIR(i, j)                                                                          \
        {                                                                                             \
            int16x8_t l = vmull_s8(vget_low_s8(u[i]), vget_low_s8(w[i]));                             \
            int16x8_t h = vmull_high_s8(u[i], w[i]);                                                  \
            l = vmlal_s8(l, vget_low_s8(u[j]), vget_low_s8(w[j]));                                    \
            h = vmlal_high_s8(h, u[j], w[j]);                                                         \
            a0 = vaddw_s16(a0, vget_low_s16(l)); a1 = vaddw_high_s16(a1, l);                          \
            a2 = vaddw_s16(a2, vget_low_s16(h)); a3 = vaddw_high_s16(a3, h);                          \
        }
        VIGIL_TAP_PAIR(0, 1) VIGIL_TAP_PAIR(2, 3) VIGIL_TAP_PAIR(4, 5) VIGIL_TAP_PAIR(6, 7)
#undef VIGIL_TAP_PAIR
        {
            const int16x8_t l = vmull_s8(vget_low_s8(u[8]), vget_low_s8(w[8])), h = vmull_high_s8(u[8], w[8]);
            a0 = vaddw_s16(a0, vget_low_s16(l)); a1 = vaddw_high_s16(a1, l);
            a2 = vaddw_s16(a2, vget_low_s16(h)); a3 = vaddw_high_s16(a3, h);
        }
        a0 = rq4(a0, m, shift); a1 = rq4(a1, m, shift); a2 = rq4(a2, m, shift); a3 = rq4(a3, m, shift);
        const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
        const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
        vst1q_s8(p->T + q0, vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), lo), hi));
    }
}

/// 1 if no weight of the channel's three quads is -128 (the int16 pairs stay exact).
static inline int no_min_quad(const vigil_dw_plane *p) {
    for (int k = 0; k < 3; k++)
        for (int t = 0; t < 4; t++)
            if (((const int8_t *)&p->wq[k])[t] == -128) return 0;
    return 1;
}

/// 1 if the plane's kernel is at most 3 x 3 in three quads (byte 3 of every weight quad is 0).
static inline int is_3x3(const vigil_dw_plane *p) {
    if (p->nk != 3) return 0;
    for (int k = 0; k < 3; k++)
        if (((const int8_t *)&p->wq[k])[3] != 0) return 0;
    return 1;
}

static inline void plane_neon(const vigil_dw_plane *p) {
    if (is_3x3(p)) {
        if (p->n >= 32 && no_min_quad(p)) {
            if (p->s == 1) plane_neon_3x3_pairs(p, 1);
            else plane_neon_3x3_pairs(p, 2);
        } else {
            plane_neon_3x3(p);
        }
        return;
    }
    const int fast = p->n >= 32;
    const int32x4_t m = vdupq_n_s32(p->m), shift = vdupq_n_s32(fast ? -(p->n - 31) : 0);
    const int16x8_t zp = vdupq_n_s16((int16_t)p->zp);
    const int8x16_t lo = vdupq_n_s8((int8_t)p->lo), hi = vdupq_n_s8((int8_t)p->hi);
    const int32x4_t bias = vdupq_n_s32(p->bias);
    for (int q0 = 0; q0 < p->nq; q0 += 16) {
        int32x4_t a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const uint8_t *base = p->P + (ptrdiff_t)p->s * q0;
        for (int k = 0; k < p->nk; k++) {
            const int8_t *wb = (const int8_t *)&p->wq[k];
            const uint8_t *b = base + p->off[k];
            for (int t = 0; t < 4; t++) {
                const int16_t w = wb[t];
                if (w == 0) continue;
                uint8x16_t u;
                if (p->s == 1) {
                    u = vld1q_u8(b + t);
                } else {
                    const uint8x16x2_t d = vld2q_u8(b + (t & ~1));
                    u = d.val[t & 1];
                }
                const int16x8_t l = widen(vget_low_u8(u)), h = widen(vget_high_u8(u));
                a0 = vmlal_n_s16(a0, vget_low_s16(l), w);
                a1 = vmlal_high_n_s16(a1, l, w);
                a2 = vmlal_n_s16(a2, vget_low_s16(h), w);
                a3 = vmlal_high_n_s16(a3, h, w);
            }
        }
        dw_store16(a0, a1, a2, a3, fast, m, shift, p, zp, lo, hi, p->T + q0);
    }
}

#define VIGIL_DWD_NAME vigil_depthwise_planes_neon
#define VIGIL_DWD_ATTR
#define VIGIL_DWD_PLANE(p) plane_neon(p)
#define VIGIL_DWD_SIGNED
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_neon(d, s, n, 0)
#define VIGIL_DWD_COPY(d, s, n) copy_neon((uint8_t *)(d), s, n, 0)
#define VIGIL_DWD_TABLES
#define VIGIL_DWD_CHUNKS_IN(P, x, ch, n) dw_chunks_in(P, x, ch, n, 0)
#define VIGIL_DWD_CHUNKS_OUT(out, T, ch, n) dw_chunks_out(out, T, ch, n)
#include "../depthwise_driver.h"
#endif
