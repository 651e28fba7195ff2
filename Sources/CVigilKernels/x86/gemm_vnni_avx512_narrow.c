// The last, partial 64-position panel of the AVX512-VNNI convolution GEMM when it has at most 48
// positions (vigil_gemm_u8s8_k4_avx512vnni hands it here). The full-panel tile multiplies four
// vectors of 16 positions per reduction quad whatever the panel holds, so on 14 x 14 layers (196
// positions: three full panels and one of 4) the fourth panel cost as much as each full one. Here a
// tile has only the vectors the panel needs — NV = 1, 2 or 3 — and, to keep 24 accumulators, 24, 12
// or 8 rows (one broadcast weight quad per row and reduction quad, NV masked loads of U shared by
// all rows). Requantization, packing and the masked store are the full-panel kernel's row_store
// (gemm_vnni_avx512.h), so the bytes are the same; the products of a lane are added in the same order
// (reduction quads in order, starting from the bias).
#if defined(__x86_64__)
#include <string.h>

#include "gemm_vnni_avx512.h"

/// MR rows from r (nr of them real: the others repeat row r + nr - 1 and are not stored) by NV
/// vectors of positions.
VIGIL_A512 static inline __attribute__((always_inline)) void
narrow_tile(const int NV, const int MR, const int32_t *A, int K4, const uint8_t *u, ptrdiff_t us, const vigil_requant_rows *q,
            int r, int nr, int8_t *C, ptrdiff_t ldc, __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask64 keep) {
    __m512i s[24][3];
    const int32_t *w[24];
#pragma GCC unroll 24
    for (int i = 0; i < MR; i++) {
        const int ri = r + (i < nr ? i : nr - 1);
        w[i] = A + (ptrdiff_t)ri * K4;
        const __m512i b = _mm512_set1_epi32(q->bias[ri]);
        s[i][0] = b; s[i][1] = b; s[i][2] = b;
    }
    for (int k = 0; k < K4; k++, u += us) {
        const __m512i v0 = _mm512_maskz_loadu_epi32(m0, u);
        const __m512i v1 = NV > 1 ? _mm512_maskz_loadu_epi32(m1, u + 64) : v0;
        const __m512i v2 = NV > 2 ? _mm512_maskz_loadu_epi32(m2, u + 128) : v0;
#pragma GCC unroll 24
        for (int i = 0; i < MR; i++) {
            const __m512i b = _mm512_set1_epi32(w[i][k]);
            s[i][0] = _mm512_dpbusd_epi32(s[i][0], v0, b);
            if (NV > 1) s[i][1] = _mm512_dpbusd_epi32(s[i][1], v1, b);
            if (NV > 2) s[i][2] = _mm512_dpbusd_epi32(s[i][2], v2, b);
        }
    }
#pragma GCC unroll 24
    for (int i = 0; i < MR; i++)
        if (i < nr)  // (the vectors this tile does not have are zeros; `keep` drops their bytes)
            row_store(s[i][0], NV > 1 ? s[i][1] : _mm512_setzero_si512(), NV > 2 ? s[i][2] : _mm512_setzero_si512(),
                      _mm512_setzero_si512(), q, r + i, C + (ptrdiff_t)(r + i) * ldc, keep);
}

VIGIL_A512 static inline __attribute__((always_inline)) void
narrow_rows(const int NV, const int MR, const int32_t *A, int rows, int K4, const uint8_t *u, ptrdiff_t us,
            const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc, __mmask16 m0, __mmask16 m1, __mmask16 m2, __mmask64 keep) {
    for (int r = 0; r < rows; r += MR)
        narrow_tile(NV, MR, A, K4, u, us, q, r, rows - r < MR ? rows - r : MR, C, ldc, m0, m1, m2, keep);
}

void vigil_gemv_u8s8_avx512vnni(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q,
                                int8_t *C, ptrdiff_t ldr);

/// Columns [0, nc) of C from the panel u (row stride us bytes per reduction quad): nc in [1, 48], or
/// up to VIGIL_NARROW_MAX with K4 <= VIGIL_NARROW_MAX_K4 — then the first 48 as above and each
/// column past them as one input row through the one-row kernel of gemv_vnni_avx512.c (a 7 x 7
/// layer's 49 positions would otherwise take a fourth vector for one position: a quarter of the
/// multiply-adds for 2% of the results). That kernel computes bias + sum A * (b + 128); with b the
/// column's bytes of U minus 128 (x + 128 - 128 = x, stored back as int8) this is the same sum, and its
/// requantization is the same rule, so the bytes are those of the full-panel kernel.
VIGIL_A512 void vigil_gemm_u8s8_k4_avx512vnni_narrow(const int32_t *A, const uint8_t *u, ptrdiff_t us, int rows, int nc,
                                                    int K4, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    if (nc > 48) {
        vigil_gemm_u8s8_k4_avx512vnni_narrow(A, u, us, rows, 48, K4, q, C, ldc);
        _Alignas(64) int8_t b[4 * VIGIL_NARROW_MAX_K4];
        for (int c = 48; c < nc; c++) {
            for (int k = 0; k < K4; k++) {
                uint32_t v;
                memcpy(&v, u + (ptrdiff_t)k * us + 4 * c, 4);
                v ^= 0x80808080u;
                memcpy(b + 4 * k, &v, 4);
            }
            vigil_gemv_u8s8_avx512vnni((const int8_t *)A, b, rows, 4 * K4, q, C + c, ldc);
        }
        return;
    }
#define VIGIL_NMASK(k) ((k) >= 16 ? (__mmask16)0xFFFF : (k) <= 0 ? (__mmask16)0 : (__mmask16)((1u << (k)) - 1))
    const __mmask16 m0 = VIGIL_NMASK(nc), m1 = VIGIL_NMASK(nc - 16), m2 = VIGIL_NMASK(nc - 32);
#undef VIGIL_NMASK
    const __mmask64 keep = ((__mmask64)1 << nc) - 1;
    if (nc <= 16) narrow_rows(1, 24, A, rows, K4, u, us, q, C, ldc, m0, m1, m2, keep);
    else if (nc <= 32) narrow_rows(2, 12, A, rows, K4, u, us, q, C, ldc, m0, m1, m2, keep);
    else narrow_rows(3, 8, A, rows, K4, u, us, q, C, ldc, m0, m1, m2, keep);
}
#endif
