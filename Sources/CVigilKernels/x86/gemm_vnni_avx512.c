// Convolution GEMM (vigil_gemm_u8s8_k4: 1x1 convolutions over the quad layout) for AVX512-VNNI.
// A tile is 4 output rows (channels) by 64 positions: per reduction quad, four 64-byte loads of U
// (16 positions x 4 channels each) and four broadcast weight quads feed 16 VPDPBUSD; the
// accumulators start at the bias. Lanes are positions, so one row's requantization constants are
// broadcasts and its 64 results are one contiguous store (no transposition). Requantization as in
// depthwise_avx512.c: for n >= 33, (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) from two
// VPMULDQ; other rows lane by lane through vigil_requantize; then saturating packs, the zero point
// added with saturation in int16, and the [lo, hi] clamp on bytes.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

#include "requant_avx512.h"

/// Row r's 64 results (four vectors of 16 positions) requantized and stored (the first `n` of them).
VIGIL_A512 static inline void row_store(__m512i a0, __m512i a1, __m512i a2, __m512i a3, const vigil_requant_rows *q,
                                        int r, int8_t *out, __mmask64 keep) {
    const int32_t n = q->shift[r];
    if (n >= 33) {
        const __m512i m = _mm512_set1_epi64(q->multiplier[r]);
        const __m512i round = _mm512_set1_epi32(1 << (n - 33));
        const __m128i shift = _mm_cvtsi32_si128(n - 32);
        a0 = rq16(a0, m, round, shift); a1 = rq16(a1, m, round, shift);
        a2 = rq16(a2, m, round, shift); a3 = rq16(a3, m, round, shift);
    } else {
        int32_t v[64];
        _mm512_storeu_si512(v, a0); _mm512_storeu_si512(v + 16, a1);
        _mm512_storeu_si512(v + 32, a2); _mm512_storeu_si512(v + 48, a3);
        for (int j = 0; j < 64; j++)
            v[j] = vigil_requantize(v[j], q->multiplier[r], n, q->zero_point, q->lo, q->hi) - q->zero_point;
        a0 = _mm512_loadu_si512(v); a1 = _mm512_loadu_si512(v + 16);
        a2 = _mm512_loadu_si512(v + 32); a3 = _mm512_loadu_si512(v + 48);
    }
    const __m512i zp = _mm512_set1_epi16((short)q->zero_point);
    const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a0, a1), zp);
    const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(a2, a3), zp);
    // Per 128-bit lane L the packs hold 4 results of each vector (positions 4L..4L+3 of it).
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i y = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(ab, cd));
    y = _mm512_min_epi8(_mm512_max_epi8(y, _mm512_set1_epi8((char)q->lo)), _mm512_set1_epi8((char)q->hi));
    _mm512_mask_storeu_epi8(out, keep, y);
}

/// Largest K4 whose 64-column panel is copied (32 KiB, on the stack).
#define VIGIL_PANEL_K4 128

VIGIL_A512
void vigil_gemm_u8s8_k4_avx512vnni(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                   const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const ptrdiff_t stride = (ptrdiff_t)cols * 4;
    _Alignas(64) uint8_t panel[VIGIL_PANEL_K4 * 256];
    for (int c0 = 0; c0 < cols; c0 += 64) {
        const int nc = cols - c0 < 64 ? cols - c0 : 64;
        // Positions past the last are not loaded (masked to 0) and not stored.
        __mmask16 m0 = 0xFFFF, m1 = 0xFFFF, m2 = 0xFFFF, m3 = 0xFFFF;
        if (nc < 64) {
            const int n0 = nc, n1 = nc - 16, n2 = nc - 32, n3 = nc - 48;
#define VIGIL_MASK(k) ((k) >= 16 ? (__mmask16)0xFFFF : (k) <= 0 ? (__mmask16)0 : (__mmask16)((1u << (k)) - 1))
            m0 = VIGIL_MASK(n0); m1 = VIGIL_MASK(n1); m2 = VIGIL_MASK(n2); m3 = VIGIL_MASK(n3);
#undef VIGIL_MASK
        }
        const __mmask64 keep = nc == 64 ? ~(__mmask64)0 : (((__mmask64)1 << nc) - 1);
        const uint8_t *u0 = U + (ptrdiff_t)c0 * 4;
        ptrdiff_t us = stride;
        // The 64-column panel is read once per 4-row tile. With a row stride that is a multiple of
        // 2 KiB (cols a multiple of 512) its K4 x 256 bytes fall into a few L1 sets and are fetched
        // from L2 again for every tile; a contiguous copy (when it fits in L1 and there are enough
        // tiles to pay for it) avoids that. Same products in the same order: same results.
        if (nc == 64 && rows >= 16 && K4 <= VIGIL_PANEL_K4 && (stride & 2047) == 0) {
            for (int k = 0; k < K4; k++)
                for (int j = 0; j < 4; j++)
                    _mm512_store_si512(panel + (ptrdiff_t)k * 256 + 64 * j, _mm512_loadu_si512(u0 + (ptrdiff_t)k * stride + 64 * j));
            u0 = panel;
            us = 256;
        }
        for (int r = 0; r < rows; r += 4) {
            const int nr = rows - r < 4 ? rows - r : 4;
            // Rows past the last repeat the first of the tile; their results are dropped.
            const int32_t *w0 = A + (ptrdiff_t)r * K4;
            const int32_t *w1 = A + (ptrdiff_t)(r + (nr > 1 ? 1 : 0)) * K4;
            const int32_t *w2 = A + (ptrdiff_t)(r + (nr > 2 ? 2 : 0)) * K4;
            const int32_t *w3 = A + (ptrdiff_t)(r + (nr > 3 ? 3 : 0)) * K4;
            const __m512i b0 = _mm512_set1_epi32(q->bias[r]), b1 = _mm512_set1_epi32(q->bias[r + (nr > 1 ? 1 : 0)]);
            const __m512i b2 = _mm512_set1_epi32(q->bias[r + (nr > 2 ? 2 : 0)]), b3 = _mm512_set1_epi32(q->bias[r + (nr > 3 ? 3 : 0)]);
            __m512i s00 = b0, s01 = b0, s02 = b0, s03 = b0, s10 = b1, s11 = b1, s12 = b1, s13 = b1;
            __m512i s20 = b2, s21 = b2, s22 = b2, s23 = b2, s30 = b3, s31 = b3, s32 = b3, s33 = b3;
            const uint8_t *u = u0;
            for (int k = 0; k < K4; k++, u += us) {
                const __m512i v0 = _mm512_maskz_loadu_epi32(m0, u), v1 = _mm512_maskz_loadu_epi32(m1, u + 64);
                const __m512i v2 = _mm512_maskz_loadu_epi32(m2, u + 128), v3 = _mm512_maskz_loadu_epi32(m3, u + 192);
                __m512i w = _mm512_set1_epi32(w0[k]);
                s00 = _mm512_dpbusd_epi32(s00, v0, w); s01 = _mm512_dpbusd_epi32(s01, v1, w);
                s02 = _mm512_dpbusd_epi32(s02, v2, w); s03 = _mm512_dpbusd_epi32(s03, v3, w);
                w = _mm512_set1_epi32(w1[k]);
                s10 = _mm512_dpbusd_epi32(s10, v0, w); s11 = _mm512_dpbusd_epi32(s11, v1, w);
                s12 = _mm512_dpbusd_epi32(s12, v2, w); s13 = _mm512_dpbusd_epi32(s13, v3, w);
                w = _mm512_set1_epi32(w2[k]);
                s20 = _mm512_dpbusd_epi32(s20, v0, w); s21 = _mm512_dpbusd_epi32(s21, v1, w);
                s22 = _mm512_dpbusd_epi32(s22, v2, w); s23 = _mm512_dpbusd_epi32(s23, v3, w);
                w = _mm512_set1_epi32(w3[k]);
                s30 = _mm512_dpbusd_epi32(s30, v0, w); s31 = _mm512_dpbusd_epi32(s31, v1, w);
                s32 = _mm512_dpbusd_epi32(s32, v2, w); s33 = _mm512_dpbusd_epi32(s33, v3, w);
            }
            int8_t *out = C + (ptrdiff_t)r * ldc + c0;
            row_store(s00, s01, s02, s03, q, r, out, keep);
            if (nr > 1) row_store(s10, s11, s12, s13, q, r + 1, out + ldc, keep);
            if (nr > 2) row_store(s20, s21, s22, s23, q, r + 2, out + 2 * ldc, keep);
            if (nr > 3) row_store(s30, s31, s32, s33, q, r + 3, out + 3 * ldc, keep);
        }
    }
}
#endif
