// Convolution GEMM on the quad layout for AVX-VNNI and for AVX2: VPDPBUSD multiplies 4 unsigned
// activations (x + 128) by 4 signed weights and adds the four products into an int32 lane, without
// intermediate saturation — exact, so bit-identical with the generic kernel (the caller folds
// -128 * sum(w) into the bias). AVX2 without VNNI runs the same tiles with the exact two-VPMADDWD
// form of that step (dpbusd_avx2.h). One 32-byte load of U covers 8 output positions x 4 k; four
// output rows share two of them.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include "requant_avx2.h"
#include <string.h>
#include "dpbusd_avx2.h"

/// out[0..n) = row r's requantized bytes of 16 positions (two vectors of 8). For n >= 33:
/// (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) from the high halves of two VPMULDQ, then
/// saturating packs with the zero point added in int16 and the [lo, hi] clamp on bytes (as in
/// depthwise_avx512.c); other rows through vigil_requant8_avx2.
__attribute__((target("avx2"), always_inline)) static inline void row16_store(__m256i a0, __m256i a1, const vigil_requant_rows *q, int r,
                                                               int8_t *out, int n) {
    const int32_t sh = q->shift[r];
    int8_t tmp[16];
    int8_t *dst = n == 16 ? out : tmp;
    if (sh >= 33) {
        const __m256i m = _mm256_set1_epi64x(q->multiplier[r]);
        const __m256i round = _mm256_set1_epi32(1 << (sh - 33));
        const __m128i shift = _mm_cvtsi32_si128(sh - 32);
        __m256i e = _mm256_mul_epi32(a0, m), o = _mm256_mul_epi32(_mm256_srli_epi64(a0, 32), m);
        a0 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), round), shift);
        e = _mm256_mul_epi32(a1, m); o = _mm256_mul_epi32(_mm256_srli_epi64(a1, 32), m);
        a1 = _mm256_sra_epi32(_mm256_add_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), round), shift);
        const __m256i w = _mm256_adds_epi16(_mm256_packs_epi32(a0, a1), _mm256_set1_epi16((short)q->zero_point));
        // Per 128-bit lane: 4 results of a0, then 4 of a1; dwords 0, 4, 1, 5 put them in position order.
        const __m256i b = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(w, w), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
        __m128i y = _mm256_castsi256_si128(b);
        y = _mm_min_epi8(_mm_max_epi8(y, _mm_set1_epi8((char)q->lo)), _mm_set1_epi8((char)q->hi));
        _mm_storeu_si128((__m128i *)dst, y);
    } else {
        // (the accumulators already hold the bias)
        vigil_requant8_avx2(a0, 0, q->multiplier[r], sh, q->zero_point, q->lo, q->hi, dst);
        vigil_requant8_avx2(a1, 0, q->multiplier[r], sh, q->zero_point, q->lo, q->hi, dst + 8);
    }
    if (dst == tmp) memcpy(out, tmp, (size_t)n);
}

#define VIGIL_Q_ATTR __attribute__((target("avx2,avxvnni")))
#define VIGIL_Q_DOT(acc, u, w) _mm256_dpbusd_avx_epi32(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avxvnni
#include "gemm_quads_body.h"
#undef VIGIL_Q_ATTR
#undef VIGIL_Q_DOT
#undef VIGIL_Q_NAME

#define VIGIL_Q_ATTR __attribute__((target("avx2")))
#define VIGIL_Q_DOT(acc, u, w) vigil_dpbusd_avx2(acc, u, w)
#define VIGIL_Q_NAME(x) x##_avx2_unsplit
#include "gemm_quads_body.h"

// AVX2 with the weights split ahead. vigil_dpbusd_avx2 splits every broadcast weight quad into its
// even and odd bytes (three shifts per row and reduction step, for every panel of positions). Here
// each block of up to 16 rows is split once per call into S[16][K4][2]: per row and quad the int32
// pairs of int16 (w0, w2) and (w1, w3), eight quads per vector step. The tiles then broadcast the
// pairs straight from memory: per reduction quad of a 4 x 16 tile, 2 loads and 4 splits of U, 8
// broadcasts, 16 VPMADDWD and 16 VPADDD. Longer reductions than the buffer holds take the tiles
// that split as they go.
enum { SPLIT_ROWS = 16, SPLIT_K4_MAX = 256 };  // 16 x 256 x 8 bytes = 32 KiB of stack

__attribute__((target("avx2"))) static void split_rows(const int32_t *A, int K4, int r0, int nb, int32_t *S) {
    for (int j = 0; j < SPLIT_ROWS; j++) {
        int32_t *d = S + (ptrdiff_t)j * K4 * 2;
        if (j >= nb) {  // rows past the last one: zero weights, never stored
            memset(d, 0, (size_t)K4 * 8);
            continue;
        }
        const int32_t *a = A + (ptrdiff_t)(r0 + j) * K4;
        int k = 0;
        for (; k + 8 <= K4; k += 8) {
            const __m256i x = _mm256_loadu_si256((const __m256i *)(a + k));
            const __m256i we = _mm256_srai_epi16(_mm256_slli_epi16(x, 8), 8), wo = _mm256_srai_epi16(x, 8);
            // Per 128-bit half: (we, wo) of quads 0, 1 | 2, 3 (low) and 4, 5 | 6, 7 (high).
            const __m256i lo = _mm256_unpacklo_epi32(we, wo), hi = _mm256_unpackhi_epi32(we, wo);
            _mm256_storeu_si256((__m256i *)(d + 2 * k), _mm256_permute2x128_si256(lo, hi, 0x20));
            _mm256_storeu_si256((__m256i *)(d + 2 * k + 8), _mm256_permute2x128_si256(lo, hi, 0x31));
        }
        for (; k < K4; k++) {
            int8_t w[4];
            memcpy(w, a + k, 4);
            d[2 * k] = (int32_t)(((uint32_t)(uint16_t)(int16_t)w[2] << 16) | (uint16_t)(int16_t)w[0]);
            d[2 * k + 1] = (int32_t)(((uint32_t)(uint16_t)(int16_t)w[3] << 16) | (uint16_t)(int16_t)w[1]);
        }
    }
}

/// Requantization constants of one row for shifts >= 33 (row16_store's fast path), prepared once
/// per block of rows instead of once per tile.
typedef struct {
    __m256i m, round;
    __m128i shift;
} row_rq;

/// The high halves of the 64-bit products, rounded and shifted: int32 results before the zero point.
__attribute__((target("avx2"), always_inline)) static inline __m256i rq_fast8(__m256i a, const row_rq *c) {
    const __m256i e = _mm256_mul_epi32(a, c->m), o = _mm256_mul_epi32(_mm256_srli_epi64(a, 32), c->m);
    return _mm256_sra_epi32(_mm256_add_epi32(_mm256_blend_epi32(_mm256_srli_epi64(e, 32), o, 0xAA), c->round), c->shift);
}

/// Two rows' 16 positions through the fast path, packed together: one byte pack, one permutation
/// and one clamp for both rows (row16_store does each per row).
__attribute__((target("avx2"), always_inline)) static inline void row16_store_pair(
    __m256i a0, __m256i a1, __m256i b0, __m256i b1, const row_rq *ca, const row_rq *cb, const vigil_requant_rows *q,
    int8_t *out_a, int8_t *out_b, int n) {
    const __m256i zp = _mm256_set1_epi16((short)q->zero_point);
    const __m256i wa = _mm256_adds_epi16(_mm256_packs_epi32(rq_fast8(a0, ca), rq_fast8(a1, ca)), zp);
    const __m256i wb = _mm256_adds_epi16(_mm256_packs_epi32(rq_fast8(b0, cb), rq_fast8(b1, cb)), zp);
    // Dwords per 128-bit lane: a 0-3, a 8-11, b 0-3, b 8-11 | a 4-7, a 12-15, b 4-7, b 12-15.
    __m256i y = _mm256_permutevar8x32_epi32(_mm256_packs_epi16(wa, wb), _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7));
    y = _mm256_min_epi8(_mm256_max_epi8(y, _mm256_set1_epi8((char)q->lo)), _mm256_set1_epi8((char)q->hi));
    if (n == 16) {
        _mm_storeu_si128((__m128i *)out_a, _mm256_castsi256_si128(y));
        _mm_storeu_si128((__m128i *)out_b, _mm256_extracti128_si256(y, 1));
    } else {
        int8_t tmp[32];
        _mm256_storeu_si256((__m256i *)tmp, y);
        memcpy(out_a, tmp, (size_t)n);
        memcpy(out_b, tmp + 16, (size_t)n);
    }
}

/// nr (1..4) rows from S row j by `nv` (1 or 2) vectors of 8 positions, n of them valid.
__attribute__((target("avx2"), always_inline)) static inline void tile_split(const int32_t *S, int K4, int j, int nr, int nv,
                                                                             const uint8_t *u, ptrdiff_t stride, int n,
                                                                             const vigil_requant_rows *q, int r, int8_t *out,
                                                                             ptrdiff_t ldc, const row_rq *rq) {
    // Missing rows of a partial tile read zero pairs (the buffer holds 16 rows) and are not stored.
    const int32_t *w0 = S + (ptrdiff_t)j * K4 * 2, *w1 = w0 + K4 * 2, *w2 = w1 + K4 * 2, *w3 = w2 + K4 * 2;
    __m256i a00 = _mm256_set1_epi32(q->bias[r]), a01 = a00;
    __m256i a10 = _mm256_set1_epi32(nr > 1 ? q->bias[r + 1] : 0), a11 = a10;
    __m256i a20 = _mm256_set1_epi32(nr > 2 ? q->bias[r + 2] : 0), a21 = a20;
    __m256i a30 = _mm256_set1_epi32(nr > 3 ? q->bias[r + 3] : 0), a31 = a30;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7), low = _mm256_set1_epi16(0x00FF);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane), k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    const int full = n == 8 * nv;
    for (int k = 0; k < 2 * K4; k += 2, u += stride) {
        __m256i v0, v1 = _mm256_setzero_si256();
        if (full) {
            v0 = _mm256_loadu_si256((const __m256i *)u);
            if (nv == 2) v1 = _mm256_loadu_si256((const __m256i *)(u + 32));
        } else {
            v0 = _mm256_maskload_epi32((const int *)u, k0);
            if (nv == 2) v1 = _mm256_maskload_epi32((const int *)(u + 32), k1);
        }
        const __m256i e0 = _mm256_and_si256(v0, low), o0 = _mm256_srli_epi16(v0, 8);
        const __m256i e1 = _mm256_and_si256(v1, low), o1 = _mm256_srli_epi16(v1, 8);
#define VIGIL_SPLIT_ROW(w, x0, x1)                                                                       \
        {                                                                                               \
            const __m256i we = _mm256_set1_epi32(w[k]), wo = _mm256_set1_epi32(w[k + 1]);               \
            x0 = _mm256_add_epi32(x0, _mm256_add_epi32(_mm256_madd_epi16(e0, we), _mm256_madd_epi16(o0, wo))); \
            if (nv == 2)                                                                                \
                x1 = _mm256_add_epi32(x1, _mm256_add_epi32(_mm256_madd_epi16(e1, we), _mm256_madd_epi16(o1, wo))); \
        }
        VIGIL_SPLIT_ROW(w0, a00, a01)
        VIGIL_SPLIT_ROW(w1, a10, a11)
        VIGIL_SPLIT_ROW(w2, a20, a21)
        VIGIL_SPLIT_ROW(w3, a30, a31)
#undef VIGIL_SPLIT_ROW
    }
    if (rq && nr == 4) {  // every row of the block on the fast path
        row16_store_pair(a00, a01, a10, a11, rq, rq + 1, q, out, out + ldc, n);
        row16_store_pair(a20, a21, a30, a31, rq + 2, rq + 3, q, out + 2 * ldc, out + 3 * ldc, n);
        return;
    }
    row16_store(a00, a01, q, r, out, n);
    if (nr > 1) row16_store(a10, a11, q, r + 1, out + ldc, n);
    if (nr > 2) row16_store(a20, a21, q, r + 2, out + 2 * ldc, n);
    if (nr > 3) row16_store(a30, a31, q, r + 3, out + 3 * ldc, n);
}

__attribute__((target("avx2"))) static void tile_split16(const int32_t *S, int K4, int j, int nr, const uint8_t *u,
                                                          ptrdiff_t stride, int n, const vigil_requant_rows *q, int r,
                                                          int8_t *out, ptrdiff_t ldc, const row_rq *rq) {
    tile_split(S, K4, j, nr, 2, u, stride, n, q, r, out, ldc, rq);
}

/// The last panel of at most 8 positions (7 x 7 planes: 49 = 3 x 16 + 1) on one vector.
__attribute__((target("avx2"))) static void tile_split8(const int32_t *S, int K4, int j, int nr, const uint8_t *u,
                                                         ptrdiff_t stride, int n, const vigil_requant_rows *q, int r,
                                                         int8_t *out, ptrdiff_t ldc, const row_rq *rq) {
    tile_split(S, K4, j, nr, 1, u, stride, n, q, r, out, ldc, rq);
}

__attribute__((target("avx2")))
void vigil_gemm_u8s8_k4_avx2(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                             const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    if (K4 > SPLIT_K4_MAX) {
        vigil_gemm_u8s8_k4_avx2_unsplit(A, U, rows, cols, K4, q, C, ldc);
        return;
    }
    int32_t S[SPLIT_ROWS * SPLIT_K4_MAX * 2];
    for (int r0 = 0; r0 < rows; r0 += SPLIT_ROWS) {
        const int nb = rows - r0 < SPLIT_ROWS ? rows - r0 : SPLIT_ROWS;
        split_rows(A, K4, r0, nb, S);
        row_rq R[SPLIT_ROWS];
        int fast = 1;
        for (int j = 0; j < nb; j++) {
            const int32_t sh = q->shift[r0 + j];
            if (sh < 33) { fast = 0; break; }
            R[j].m = _mm256_set1_epi64x(q->multiplier[r0 + j]);
            R[j].round = _mm256_set1_epi32(1 << (sh - 33));
            R[j].shift = _mm_cvtsi32_si128(sh - 32);
        }
        for (int c0 = 0; c0 < cols; c0 += 16) {
            const int n = cols - c0 < 16 ? cols - c0 : 16;
            for (int j = 0; j < nb; j += 4) {
                const int nr = nb - j < 4 ? nb - j : 4;
                const uint8_t *u = U + (ptrdiff_t)c0 * 4;
                int8_t *out = C + (ptrdiff_t)(r0 + j) * ldc + c0;
                const row_rq *rq = fast ? R + j : NULL;
                if (n > 8) tile_split16(S, K4, j, nr, u, (ptrdiff_t)cols * 4, n, q, r0 + j, out, ldc, rq);
                else tile_split8(S, K4, j, nr, u, (ptrdiff_t)cols * 4, n, q, r0 + j, out, ldc, rq);
            }
        }
    }
}

#endif
