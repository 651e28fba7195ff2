// Convolution GEMM (vigil_gemm_u8s8_k4: 1x1 convolutions over the quad layout) for AVX512-VNNI.
// A register tile is 6 output rows (channels) by 64 positions: per reduction quad, four 64-byte
// loads of U (16 positions x 4 channels each) and six broadcast weight quads feed 24 VPDPBUSD
// (10 loads per 24 multiply-adds; the 4 x 64 tile before needed 8 per 16). The accumulators start
// at the bias. The 64-position panel of U is copied contiguously, K is split into blocks of 128
// quads (32 KiB of panel, which stays in L1 while the tiles of a row block go over it) with
// partial sums on the stack between blocks; the products of a lane are added in the same order as
// in one pass, so the results are the same. Lanes are positions, so one row's requantization constants are
// broadcasts and its 64 results are one contiguous store (no transposition). Requantization as in
// depthwise_avx512.c: for n >= 33, (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) from two
// VPMULDQ; other rows in 64-bit lanes (rq16_wide); then saturating packs, the zero point
// added with saturation in int16, and the [lo, hi] clamp on bytes.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

#include "gemm_vnni_avx512.h"

/// Requantization constants of the small-K path, prepared once per call: for row r, rs[2r] =
/// 2^(n-33) + zp * 2^(n-32) and rs[2r+1] = n - 32 when 33 <= n <= 54 (else 0: row_store), so that
/// they are broadcast from memory (a load) rather than moved from general registers (a shuffle-port
/// uop) for every 64 results; likewise the clamp bounds, as dwords of four equal bytes.
typedef struct {
    const int32_t *rs;
    int32_t lo4, hi4;
    int clamp;  // [lo, hi] narrower than [-128, 127]
} small_rq;

/// row_store's folded path with the prepared constants.
VIGIL_A512 static inline __attribute__((always_inline)) void
row_store_prepared(__m512i a0, __m512i a1, __m512i a2, __m512i a3, const vigil_requant_rows *q, const small_rq *sq, int r,
                   int8_t *out, __mmask64 keep) {
    if (sq->rs[2 * r + 1] == 0) {
        row_store(a0, a1, a2, a3, q, r, out, keep);
        return;
    }
    const __m512i m = _mm512_set1_epi32(q->multiplier[r]);
    const __m512i round = _mm512_set1_epi32(sq->rs[2 * r]), shift = _mm512_set1_epi32(sq->rs[2 * r + 1]);
    a0 = rq16(a0, m, round, shift); a1 = rq16(a1, m, round, shift);
    a2 = rq16(a2, m, round, shift); a3 = rq16(a3, m, round, shift);
    const __m512i order = _mm512_setr_epi32(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15);
    __m512i y = _mm512_permutexvar_epi32(order, _mm512_packs_epi16(_mm512_packs_epi32(a0, a1), _mm512_packs_epi32(a2, a3)));
    if (sq->clamp) y = _mm512_min_epi8(_mm512_max_epi8(y, _mm512_set1_epi32(sq->lo4)), _mm512_set1_epi32(sq->hi4));
    _mm512_mask_storeu_epi8(out, keep, y);
}

/// Rows per register tile: 6 rows x 4 vectors of 16 positions = 24 accumulators, plus the four
/// activation vectors of one quad step; the weight quads are broadcast from memory.
#define VIGIL_MR 6
/// Reduction quads per block: a 64-position panel of 128 quads is 32 KiB and stays in L1 while the
/// tiles of a row block go over it.
#define VIGIL_KC 128
/// Rows per block when K is split into several blocks (partial sums of 96 x 64 int32 = 24 KiB on
/// the stack between blocks).
#define VIGIL_RB 96
/// Small reductions (K4 <= VIGIL_SMALL_K4) go over column blocks of about VIGIL_SMALL_BYTES of U,
/// each taken by every row tile in turn (see vigil_gemm_u8s8_k4_avx512vnni).
#define VIGIL_SMALL_K4 40
#define VIGIL_SMALL_BYTES 16384
#define VIGIL_SMALL_ROWS 1024

/// One register tile: NR (compile-time, 1..6) rows of `w` (row stride K4 quads, already at the
/// block's first quad) against kc quad steps of the panel `u` (row stride `us` bytes). The
/// accumulators start at the bias (first block) or the partial sums `part` (row stride 64); they
/// end as requantized bytes in C (last block) or as partial sums again. MASKED tiles load and store
/// only the first nc positions (m0..m3, keep); the others load 64 positions unmasked.
VIGIL_A512 static inline __attribute__((always_inline)) void
tile(const int NR, const int MASKED, const int32_t *w, ptrdiff_t K4, const uint8_t *u, ptrdiff_t us, int kc,
     int first, int last, int32_t *part, const vigil_requant_rows *q, const small_rq *sq, int r, int8_t *out, ptrdiff_t ldc,
     __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3, __mmask64 keep) {
    __m512i s[VIGIL_MR][4];
#pragma GCC unroll 6
    for (int i = 0; i < NR; i++) {
        if (first) {
            const __m512i b = _mm512_set1_epi32(q->bias[r + i]);
            s[i][0] = b; s[i][1] = b; s[i][2] = b; s[i][3] = b;
        } else {
            s[i][0] = _mm512_loadu_si512(part + 64 * i); s[i][1] = _mm512_loadu_si512(part + 64 * i + 16);
            s[i][2] = _mm512_loadu_si512(part + 64 * i + 32); s[i][3] = _mm512_loadu_si512(part + 64 * i + 48);
        }
    }
    for (int k = 0; k < kc; k++, u += us) {
        __m512i v0, v1, v2, v3;
        if (MASKED) {
            v0 = _mm512_maskz_loadu_epi32(m0, u); v1 = _mm512_maskz_loadu_epi32(m1, u + 64);
            v2 = _mm512_maskz_loadu_epi32(m2, u + 128); v3 = _mm512_maskz_loadu_epi32(m3, u + 192);
        } else {
            v0 = _mm512_loadu_si512(u); v1 = _mm512_loadu_si512(u + 64);
            v2 = _mm512_loadu_si512(u + 128); v3 = _mm512_loadu_si512(u + 192);
        }
#pragma GCC unroll 6
        for (int i = 0; i < NR; i++) {
            const __m512i b = _mm512_set1_epi32(w[i * K4 + k]);
            s[i][0] = _mm512_dpbusd_epi32(s[i][0], v0, b); s[i][1] = _mm512_dpbusd_epi32(s[i][1], v1, b);
            s[i][2] = _mm512_dpbusd_epi32(s[i][2], v2, b); s[i][3] = _mm512_dpbusd_epi32(s[i][3], v3, b);
        }
    }
#pragma GCC unroll 6
    for (int i = 0; i < NR; i++) {
        if (last && sq) {
            row_store_prepared(s[i][0], s[i][1], s[i][2], s[i][3], q, sq, r + i, out + i * ldc, keep);
        } else if (last) {
            row_store(s[i][0], s[i][1], s[i][2], s[i][3], q, r + i, out + i * ldc, keep);
        } else {
            _mm512_storeu_si512(part + 64 * i, s[i][0]); _mm512_storeu_si512(part + 64 * i + 16, s[i][1]);
            _mm512_storeu_si512(part + 64 * i + 32, s[i][2]); _mm512_storeu_si512(part + 64 * i + 48, s[i][3]);
        }
    }
}

/// Rows r0..r1 of one K block over one panel, in tiles of VIGIL_MR rows and one tile of the rest.
VIGIL_A512 static inline __attribute__((always_inline)) void
row_block(const int MASKED, const int32_t *A, ptrdiff_t K4, int k0, const uint8_t *u, ptrdiff_t us, int kc,
          int first, int last, int32_t *part, const vigil_requant_rows *q, const small_rq *sq, int r0, int r1, int8_t *C, ptrdiff_t ldc,
          __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask16 m3, __mmask64 keep) {
    // Partial sums only exist when K is split (then r1 - r0 <= VIGIL_RB).
    const int split = !(first && last);
    int r = r0;
    for (; r + VIGIL_MR <= r1; r += VIGIL_MR)
        tile(VIGIL_MR, MASKED, A + (ptrdiff_t)r * K4 + k0, K4, u, us, kc, first, last, split ? part + 64 * (r - r0) : part, q, sq, r,
             C + (ptrdiff_t)r * ldc, ldc, m0, m1, m2, m3, keep);
    const int32_t *w = A + (ptrdiff_t)r * K4 + k0;
    int32_t *p = split ? part + 64 * (r - r0) : part;
    int8_t *out = C + (ptrdiff_t)r * ldc;
    switch (r1 - r) {
    case 1: tile(1, MASKED, w, K4, u, us, kc, first, last, p, q, sq, r, out, ldc, m0, m1, m2, m3, keep); break;
    case 2: tile(2, MASKED, w, K4, u, us, kc, first, last, p, q, sq, r, out, ldc, m0, m1, m2, m3, keep); break;
    case 3: tile(3, MASKED, w, K4, u, us, kc, first, last, p, q, sq, r, out, ldc, m0, m1, m2, m3, keep); break;
    case 4: tile(4, MASKED, w, K4, u, us, kc, first, last, p, q, sq, r, out, ldc, m0, m1, m2, m3, keep); break;
    case 5: tile(5, MASKED, w, K4, u, us, kc, first, last, p, q, sq, r, out, ldc, m0, m1, m2, m3, keep); break;
    default: break;
    }
}

VIGIL_A512
void vigil_gemm_u8s8_k4_avx512vnni(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                   const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const ptrdiff_t stride = (ptrdiff_t)cols * 4;
    _Alignas(64) uint8_t panel[VIGIL_KC * 256];
    _Alignas(64) int32_t part[VIGIL_RB * 64];
    // One K block when it fits (no partial sums); otherwise row blocks of VIGIL_RB rows, each going
    // over the K blocks in order. The products of a lane are added in the same order either way.
    const int rb = K4 <= VIGIL_KC ? rows : VIGIL_RB;
    int c_start = 0;
    // Small K: the row_store of every 64 results costs about as much as the multiply-adds, and the
    // results of one row tile go out as long runs of each row (a column block) instead of 64 bytes
    // per row per panel across all rows, which the store streams take better. The block of U (at
    // most VIGIL_SMALL_BYTES) stays in L1 across the row tiles; it is read in place unless its row
    // stride folds the K4 rows into so few L1 sets that they would evict each other (then copied).
    if (K4 >= 1 && K4 <= VIGIL_SMALL_K4 && rows >= 2 * VIGIL_MR && rows <= VIGIL_SMALL_ROWS && cols >= 128) {
        int32_t rs[2 * VIGIL_SMALL_ROWS];
        for (int r = 0; r < rows; r++) {
            const int32_t n = q->shift[r];
            const int fold = n >= 33 && n <= 54;
            rs[2 * r] = fold ? (1 << (n - 33)) + (int32_t)((uint32_t)q->zero_point << (n - 32)) : 0;
            rs[2 * r + 1] = fold ? n - 32 : 0;
        }
        const small_rq sq = {rs, (int32_t)((uint8_t)q->lo * 0x01010101u), (int32_t)((uint8_t)q->hi * 0x01010101u),
                             q->lo > -128 || q->hi < 127};
        int cb = (VIGIL_SMALL_BYTES / (256 * K4)) * 64;
        if (cb < 64) cb = 64;
        const ptrdiff_t low = stride & 4095;
        const int groups = low == 0 ? 1 : (int)(4096 / (low & -low));  // distinct 4 KiB offsets of the rows
        const int copy = K4 > 8 * (groups < 16 ? groups : 16);
        const int full = cols & ~63;
        for (int b0 = 0; b0 < full; b0 += cb) {
            const int bn = full - b0 < cb ? full - b0 : cb;
            const uint8_t *ub = U + (ptrdiff_t)b0 * 4;
            ptrdiff_t bs = stride;
            if (copy) {
                bs = (ptrdiff_t)bn * 4;
                for (int k = 0; k < K4; k++)
                    for (int j = 0; j < bn * 4; j += 64)
                        _mm512_store_si512(panel + k * bs + j, _mm512_loadu_si512(ub + (ptrdiff_t)k * stride + j));
                ub = panel;
            }
            int r = 0;
            for (; r + VIGIL_MR <= rows; r += VIGIL_MR)
                for (int c0 = 0; c0 < bn; c0 += 64)
                    tile(VIGIL_MR, 0, A + (ptrdiff_t)r * K4, K4, ub + c0 * 4, bs, K4, 1, 1, part, q, &sq, r,
                         C + (ptrdiff_t)r * ldc + b0 + c0, ldc, 0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, ~(__mmask64)0);
            if (r < rows)
                for (int c0 = 0; c0 < bn; c0 += 64)
                    row_block(0, A, K4, 0, ub + c0 * 4, bs, K4, 1, 1, part, q, &sq, r, rows, C + b0 + c0, ldc,
                              0xFFFF, 0xFFFF, 0xFFFF, 0xFFFF, ~(__mmask64)0);
        }
        if (full == cols) return;
        c_start = full;  // the last, partial panel as below
    }
    for (int c0 = c_start; c0 < cols; c0 += 64) {
        const int nc = cols - c0 < 64 ? cols - c0 : 64;
        // The last panel with one to three vectors of positions, plus a few columns one by one
        // (gemm_vnni_avx512_narrow.c).
        if (nc <= 48 || (nc <= VIGIL_NARROW_MAX && K4 <= VIGIL_NARROW_MAX_K4)) {
            vigil_gemm_u8s8_k4_avx512vnni_narrow(A, U + (ptrdiff_t)c0 * 4, stride, rows, nc, K4, q, C + c0, ldc);
            continue;
        }
        // Positions past the last are not loaded (masked to 0) and not stored.
        __mmask16 m0 = 0xFFFF, m1 = 0xFFFF, m2 = 0xFFFF, m3 = 0xFFFF;
        if (nc < 64) {
            const int n0 = nc, n1 = nc - 16, n2 = nc - 32, n3 = nc - 48;
#define VIGIL_MASK(k) ((k) >= 16 ? (__mmask16)0xFFFF : (k) <= 0 ? (__mmask16)0 : (__mmask16)((1u << (k)) - 1))
            m0 = VIGIL_MASK(n0); m1 = VIGIL_MASK(n1); m2 = VIGIL_MASK(n2); m3 = VIGIL_MASK(n3);
#undef VIGIL_MASK
        }
        const __mmask64 keep = nc == 64 ? ~(__mmask64)0 : (((__mmask64)1 << nc) - 1);
        for (int r0 = 0; r0 < rows; r0 += rb) {
            const int r1 = rows - r0 < rb ? rows : r0 + rb;
            // (K4 = 0: one empty block, the results are the requantized bias)
            for (int k0 = 0; k0 == 0 || k0 < K4; k0 += VIGIL_KC) {
                const int kc = K4 - k0 < VIGIL_KC ? K4 - k0 : VIGIL_KC;
                const uint8_t *u = U + (ptrdiff_t)k0 * stride + (ptrdiff_t)c0 * 4;
                ptrdiff_t us = stride;
                const int first = k0 == 0, last = k0 + kc == K4;
                if (nc < 64) {
                    row_block(1, A, K4, k0, u, us, kc, first, last, part, q, NULL, r0, r1, C + c0, ldc, m0, m1, m2, m3, keep);
                    continue;
                }
                // The block of the panel is read once per tile. Copied contiguously (when there
                // are a few tiles to pay for it) it stays in L1 whatever the row stride: with a
                // stride that is a multiple of 2 KiB its rows would fall into a few L1 sets.
                if (r1 - r0 >= 2 * VIGIL_MR) {
                    for (int k = 0; k < kc; k++)
                        for (int j = 0; j < 4; j++)
                            _mm512_store_si512(panel + (ptrdiff_t)k * 256 + 64 * j, _mm512_loadu_si512(u + (ptrdiff_t)k * stride + 64 * j));
                    u = panel;
                    us = 256;
                }
                row_block(0, A, K4, k0, u, us, kc, first, last, part, q, NULL, r0, r1, C + c0, ldc, m0, m1, m2, m3, keep);
            }
        }
    }
}
#endif
