// Body of the direct convolution (vigil_conv_u8s8_direct), included once per variant by
// conv_direct_vnni.c with VIGIL_Q_ATTR (target attribute), VIGIL_Q_DOT(acc, u, w) (a VPDPBUSD
// step: VPDPBUSD itself, or its exact AVX2 form in dpbusd_avx2.h) and VIGIL_Q_NAME(x) (suffixes
// names). Expects lanes_setup, lanes_requantize, store_lanes and tile_positions (conv_direct_vnni.c).

VIGIL_Q_ATTR void VIGIL_Q_NAME(vigil_conv_u8s8_direct)(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride,
                                 int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                 int8_t *Y, ptrdiff_t ldc) {
    for (int r0 = 0; r0 < rows; r0 += 16) {
        const int32_t *wb = W + (ptrdiff_t)(r0 / 16) * K4 * 16;
        const lanes_requant l0 = lanes_setup(q, r0, rows), l1 = lanes_setup(q, r0 + 8, rows);
        const int v0 = rows - r0 < 8 ? rows - r0 : 8, v1 = rows - r0 - 8 < 0 ? 0 : (rows - r0 - 8 < 8 ? rows - r0 - 8 : 8);
        for (int p0 = 0; p0 < positions; p0 += 4) {
            const uint8_t *a[4];
            const int np = tile_positions(base, pos_stride, p0, positions, a);
            const uint8_t *a0 = a[0], *a1 = a[1], *a2 = a[2], *a3 = a[3];
            __m256i s00 = _mm256_setzero_si256(), s01 = s00, s10 = s00, s11 = s00, s20 = s00, s21 = s00, s30 = s00, s31 = s00;
            const int32_t *w = wb;
            for (int k = 0; k < K4; k++, w += 16) {
                const __m256i w0 = _mm256_loadu_si256((const __m256i *)w), w1 = _mm256_loadu_si256((const __m256i *)(w + 8));
                const ptrdiff_t o = offsets[k];
                int32_t u;
                memcpy(&u, a0 + o, 4);
                __m256i b = _mm256_set1_epi32(u);
                s00 = VIGIL_Q_DOT(s00, b, w0);
                s01 = VIGIL_Q_DOT(s01, b, w1);
                memcpy(&u, a1 + o, 4);
                b = _mm256_set1_epi32(u);
                s10 = VIGIL_Q_DOT(s10, b, w0);
                s11 = VIGIL_Q_DOT(s11, b, w1);
                memcpy(&u, a2 + o, 4);
                b = _mm256_set1_epi32(u);
                s20 = VIGIL_Q_DOT(s20, b, w0);
                s21 = VIGIL_Q_DOT(s21, b, w1);
                memcpy(&u, a3 + o, 4);
                b = _mm256_set1_epi32(u);
                s30 = VIGIL_Q_DOT(s30, b, w0);
                s31 = VIGIL_Q_DOT(s31, b, w1);
            }
            int8_t *y = Y + (ptrdiff_t)r0 * ldc + p0;
            store_lanes(lanes_requantize(s00, &l0), lanes_requantize(s10, &l0), lanes_requantize(s20, &l0),
                        lanes_requantize(s30, &l0), np, v0, y, ldc);
            if (v1 > 0)
                store_lanes(lanes_requantize(s01, &l1), lanes_requantize(s11, &l1), lanes_requantize(s21, &l1),
                            lanes_requantize(s31, &l1), np, v1, y + 8 * ldc, ldc);
        }
    }
}
