// Four int8 rows interleaved into quads (arm/gemm_kn_neon.c packs 1x1 inputs with it; plan.c the
// channel quads of the SDOT direct path).
#ifndef VIGIL_INTERLEAVE_NEON_H
#define VIGIL_INTERLEAVE_NEON_H
#include <arm_neon.h>
#include <stddef.h>
#include <stdint.h>

/// d[4 * i + j] = x[j][i] for i < n, j < 4, with `fill` where x[j] is NULL: four rows interleaved
/// into quads, 16 positions at a time by ST4.
__attribute__((always_inline)) static inline void vigil_interleave4_s8_neon(const int8_t *const x[4], int n, int8_t fill, int8_t *d) {
    const int8x16_t f = vdupq_n_s8(fill);
    int p = 0;
    if (x[0] && x[1] && x[2] && x[3]) {  // the common case, without a test per vector
        for (; p + 16 <= n; p += 16, d += 64) {
            const int8x16x4_t v = {{vld1q_s8(x[0] + p), vld1q_s8(x[1] + p), vld1q_s8(x[2] + p), vld1q_s8(x[3] + p)}};
            vst4q_s8(d, v);
        }
    }
    for (; p + 16 <= n; p += 16, d += 64) {
        int8x16x4_t v;
        v.val[0] = x[0] ? vld1q_s8(x[0] + p) : f;
        v.val[1] = x[1] ? vld1q_s8(x[1] + p) : f;
        v.val[2] = x[2] ? vld1q_s8(x[2] + p) : f;
        v.val[3] = x[3] ? vld1q_s8(x[3] + p) : f;
        vst4q_s8(d, v);
    }
    for (; p < n; p++, d += 4)
        for (int j = 0; j < 4; j++) d[j] = x[j] ? x[j][p] : fill;
}
#endif
