// Body of the quad-layout convolution GEMM (vigil_gemm_u8s8_k4), included once per variant by
// gemm_vnni.c with VIGIL_Q_ATTR (target attribute), VIGIL_Q_DOT(acc, u, w) (a VPDPBUSD step:
// VPDPBUSD itself, or its exact AVX2 form in dpbusd_avx2.h) and VIGIL_Q_NAME(x) (suffixes names).
// Expects row16_store (gemm_vnni.c).

/// 4 rows by 16 positions: per reduction quad two 32-byte loads of U and four broadcast weight
/// quads feed 8 dot steps (VIGIL_Q_DOT); accumulators start at the bias. Positions past `n` are masked to 0.
VIGIL_Q_ATTR static void VIGIL_Q_NAME(tile4x16)(const int32_t *A, int K4, int r, int nr, const uint8_t *u, ptrdiff_t stride, int n,
                          const vigil_requant_rows *q, int8_t *out, ptrdiff_t ldc) {
    const int32_t *w0 = A + (ptrdiff_t)r * K4, *w1 = A + (ptrdiff_t)(r + (nr > 1)) * K4;
    const int32_t *w2 = A + (ptrdiff_t)(r + (nr > 2 ? 2 : 0)) * K4, *w3 = A + (ptrdiff_t)(r + (nr > 3 ? 3 : 0)) * K4;
    __m256i s00 = _mm256_set1_epi32(q->bias[r]), s01 = s00;
    __m256i s10 = _mm256_set1_epi32(q->bias[r + (nr > 1)]), s11 = s10;
    __m256i s20 = _mm256_set1_epi32(q->bias[r + (nr > 2 ? 2 : 0)]), s21 = s20;
    __m256i s30 = _mm256_set1_epi32(q->bias[r + (nr > 3 ? 3 : 0)]), s31 = s30;
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    const __m256i k0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n), lane), k1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(n - 8), lane);
    for (int k = 0; k < K4; k++, u += stride) {
        __m256i v0, v1;
        if (n == 16) {
            v0 = _mm256_loadu_si256((const __m256i *)u);
            v1 = _mm256_loadu_si256((const __m256i *)(u + 32));
        } else {
            v0 = _mm256_maskload_epi32((const int *)u, k0);
            v1 = _mm256_maskload_epi32((const int *)(u + 32), k1);
        }
        __m256i w = _mm256_set1_epi32(w0[k]);
        s00 = VIGIL_Q_DOT(s00, v0, w); s01 = VIGIL_Q_DOT(s01, v1, w);
        w = _mm256_set1_epi32(w1[k]);
        s10 = VIGIL_Q_DOT(s10, v0, w); s11 = VIGIL_Q_DOT(s11, v1, w);
        w = _mm256_set1_epi32(w2[k]);
        s20 = VIGIL_Q_DOT(s20, v0, w); s21 = VIGIL_Q_DOT(s21, v1, w);
        w = _mm256_set1_epi32(w3[k]);
        s30 = VIGIL_Q_DOT(s30, v0, w); s31 = VIGIL_Q_DOT(s31, v1, w);
    }
    row16_store(s00, s01, q, r, out, n);
    if (nr > 1) row16_store(s10, s11, q, r + 1, out + ldc, n);
    if (nr > 2) row16_store(s20, s21, q, r + 2, out + 2 * ldc, n);
    if (nr > 3) row16_store(s30, s31, q, r + 3, out + 3 * ldc, n);
}

VIGIL_Q_ATTR void VIGIL_Q_NAME(vigil_gemm_u8s8_k4)(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    for (int c0 = 0; c0 < cols; c0 += 16) {
        const int n = cols - c0 < 16 ? cols - c0 : 16;
        for (int r = 0; r < rows; r += 4)
            VIGIL_Q_NAME(tile4x16)(A, K4, r, rows - r < 4 ? rows - r : 4, U + (ptrdiff_t)c0 * 4, (ptrdiff_t)cols * 4, n, q,
                          C + (ptrdiff_t)r * ldc + c0, ldc);
    }
}

