// Depthwise plane kernel for AArch64 NEON (see depthwise_planes.h): one channel, 16 output
// positions per step. Each tap widens 16 plane bytes (x + 128, exact in int16) and multiply-adds
// them with the tap's weight into four int32x4 accumulators (SMLAL/SMLAL2); stride 2 reads the
// even or odd bytes with LD2. Taps with weight 0 (past the kernel's width) are skipped.
// Requantization for n >= 32: SQDMULH gives floor(acc * m / 2^31) exactly (m >= 0, so it never
// saturates), and SRSHL by -(n - 31) adds 2^(n-32) and shifts in full precision, which is
// floor((acc * m + 2^(n-1)) / 2^n) — vigil_requantize without the int32 saturation, which cannot
// trigger for n >= 32. Other channels go lane by lane through vigil_requantize.
#if defined(__aarch64__)
#include "../depthwise_planes.h"
#include <arm_neon.h>
#include <string.h>

static inline int32x4_t rq4(int32x4_t acc, int32x4_t m, int32x4_t shift) {
    return vrshlq_s32(vqdmulhq_s32(acc, m), shift);
}

static inline int32x4_t rq4_lanes(int32x4_t acc, const vigil_dw_plane *p) {
    int32_t v[4];
    vst1q_s32(v, acc);
    for (int j = 0; j < 4; j++) v[j] = vigil_dw_requant_minus_zp(v[j], p);
    return vld1q_s32(v);
}

static inline int16x8_t widen(uint8x8_t b) { return vreinterpretq_s16_u16(vmovl_u8(b)); }

static inline void plane_neon(const vigil_dw_plane *p) {
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
        if (fast) {
            a0 = rq4(a0, m, shift); a1 = rq4(a1, m, shift); a2 = rq4(a2, m, shift); a3 = rq4(a3, m, shift);
        } else {
            a0 = rq4_lanes(a0, p); a1 = rq4_lanes(a1, p); a2 = rq4_lanes(a2, p); a3 = rq4_lanes(a3, p);
        }
        const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
        const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
        int8x16_t y = vcombine_s8(vqmovn_s16(l), vqmovn_s16(h));
        y = vminq_s8(vmaxq_s8(y, lo), hi);
        vst1q_s8(p->T + q0, y);
    }
}

/// Row copies with 16-byte vectors, then the shared scalar tail.
static inline void copy_neon(uint8_t *d, const int8_t *src, int n, int flip) {
    const uint8x16_t f = vdupq_n_u8(flip ? 0x80 : 0);
    int i = 0;
    for (; i + 16 <= n; i += 16) vst1q_u8(d + i, veorq_u8(vld1q_u8((const uint8_t *)src + i), f));
    vigil_dw_copy_tail(d, src, i, n, flip);
}

#define VIGIL_DWD_NAME vigil_depthwise_planes_neon
#define VIGIL_DWD_ATTR
#define VIGIL_DWD_PLANE(p) plane_neon(p)
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_neon(d, s, n, 1)
#define VIGIL_DWD_COPY(d, s, n) copy_neon((uint8_t *)(d), s, n, 0)
#include "../depthwise_driver.h"
#endif
