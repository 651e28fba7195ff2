// Requantization of 16 accumulators of one output row (positions in order) for the AArch64 GEMMs.
// For n >= 32: SQDMULH gives floor(acc * m / 2^31) exactly (m >= 0) and SRSHL by -(n - 31) rounds
// it as vigil_requantize does (see arm/depthwise_neon.c); then saturating narrows with the zero
// point added in int16 and the [lo, hi] clamp on bytes. Other rows go through the scalar rule.
#ifndef VIGIL_REQUANT_NEON_H
#define VIGIL_REQUANT_NEON_H
#include "vigil_kernels.h"
#include <arm_neon.h>

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
#endif
