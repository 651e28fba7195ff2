// Helpers shared by the AArch64 depthwise plane kernels (depthwise_neon.c: SMLAL on x + 128;
// gemm_dotprod.c: SDOT on x).
#ifndef VIGIL_DW_NEON_H
#define VIGIL_DW_NEON_H
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

/// The 16 results of a plane step: requantized (by rq4 when the channel's shift is >= 32, else lane
/// by lane), the zero point added in int16, narrowed and clamped, stored to `out`.
__attribute__((always_inline)) static inline void dw_store16(int32x4_t a0, int32x4_t a1, int32x4_t a2, int32x4_t a3, int fast, int32x4_t m,
                              int32x4_t shift, const vigil_dw_plane *p, int16x8_t zp, int8x16_t lo, int8x16_t hi,
                              int8_t *out) {
    if (fast) {
        a0 = rq4(a0, m, shift); a1 = rq4(a1, m, shift); a2 = rq4(a2, m, shift); a3 = rq4(a3, m, shift);
    } else {
        a0 = rq4_lanes(a0, p); a1 = rq4_lanes(a1, p); a2 = rq4_lanes(a2, p); a3 = rq4_lanes(a3, p);
    }
    const int16x8_t l = vqaddq_s16(vcombine_s16(vqmovn_s32(a0), vqmovn_s32(a1)), zp);
    const int16x8_t h = vqaddq_s16(vcombine_s16(vqmovn_s32(a2), vqmovn_s32(a3)), zp);
    vst1q_s8(out, vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(l), vqmovn_s16(h)), lo), hi));
}

/// Row copies with 16-byte vectors; the last part of a row of 4 bytes or more is one vector (of 16
/// or 8 bytes) or word ending at the row's end, overlapping what is already copied (the same bytes
/// again), so only rows shorter than 4 bytes take the shared scalar tail. Nothing outside the row
/// is written.
static inline void copy_neon(uint8_t *d, const int8_t *src, int n, int flip) {
    const uint8x16_t f = vdupq_n_u8(flip ? 0x80 : 0);
    const uint8_t *s8 = (const uint8_t *)src;
    int i = 0;
    for (; i + 16 <= n; i += 16) vst1q_u8(d + i, veorq_u8(vld1q_u8(s8 + i), f));
    if (i == n) return;
    if (n >= 16) {
        vst1q_u8(d + n - 16, veorq_u8(vld1q_u8(s8 + n - 16), f));
    } else if (n >= 8) {
        vst1_u8(d, veor_u8(vld1_u8(s8), vget_low_u8(f)));
        vst1_u8(d + n - 8, veor_u8(vld1_u8(s8 + n - 8), vget_low_u8(f)));
    } else if (n >= 4) {
        const uint32_t x = flip ? 0x80808080u : 0;
        uint32_t a, b;
        memcpy(&a, s8, 4);
        memcpy(&b, s8 + n - 4, 4);
        a ^= x;
        b ^= x;
        memcpy(d, &a, 4);
        memcpy(d + n - 4, &b, 4);
    } else {
        vigil_dw_copy_tail(d, src, i, n, flip);
    }
}

/// The copy-in chunks of one channel (depthwise_planes.h): TBX of the window into the plane's
/// bytes, the window XOR 0x80 first when `flip` (the SMLAL kernel's x + 128 plane).
__attribute__((always_inline)) static inline void dw_chunks_in(uint8_t *P, const int8_t *x, const vigil_dw_chunk *ch,
                                                               int n, const int flip) {
    const uint8_t *src = (const uint8_t *)x;
    for (int i = 0; i < n; i++) {
        uint8x16_t w = vld1q_u8(src + ch[i].src);
        if (flip) w = veorq_u8(w, vdupq_n_u8(0x80));
        uint8_t *d = P + ch[i].dst;
        vst1q_u8(d, vqtbx1q_u8(vld1q_u8(d), w, vld1q_u8(ch[i].idx)));
    }
}

/// The copy-out chunks of one output plane: TBL of 32 bytes of T.
__attribute__((always_inline)) static inline void dw_chunks_out(int8_t *out, const int8_t *T, const vigil_dw_chunk *ch,
                                                                int n) {
    for (int i = 0; i < n; i++)
        vst1q_s8(out + ch[i].dst, vqtbl2q_s8(vld1q_s8_x2(T + ch[i].src), vld1q_u8(ch[i].idx)));
}

#endif
