// vigil_pack_quads_u8 on 512-bit vectors (the AVX512-VNNI variant): four channel rows of 64
// positions become 256 bytes of quads per step — byte and word unpacks within 128-bit lanes, then
// a 4 x 4 transpose of the lanes with VSHUFI64X2 — and the last positions of a row go through the
// same steps with masked loads and stores instead of a scalar loop (on 7 x 7 layers, 49 positions,
// the AVX2 version moved 17 of every 49 positions byte by byte).
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

void vigil_pack_quads_u8_generic(const int8_t *, ptrdiff_t, int, int, uint8_t *);

__attribute__((target("avx512f,avx512bw")))
void vigil_pack_quads_u8_avx512(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int full = channels / 4;
    for (int c4 = 0; c4 < full; c4++) {
        const int8_t *r0 = X + (ptrdiff_t)(4 * c4) * plane, *r1 = r0 + plane, *r2 = r1 + plane, *r3 = r2 + plane;
        uint8_t *dst = U + (ptrdiff_t)c4 * positions * 4;
        for (int p = 0; p < positions; p += 64) {
            const int n = positions - p < 64 ? positions - p : 64;
            const __mmask64 k = n == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
            const __m512i a = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, r0 + p), flip);
            const __m512i b = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, r1 + p), flip);
            const __m512i c = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, r2 + p), flip);
            const __m512i d = _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, r3 + p), flip);
            const __m512i abl = _mm512_unpacklo_epi8(a, b), abh = _mm512_unpackhi_epi8(a, b);
            const __m512i cdl = _mm512_unpacklo_epi8(c, d), cdh = _mm512_unpackhi_epi8(c, d);
            // Lane L of q0..q3: positions 16L + 0..3, 4..7, 8..11, 12..15 as quads.
            const __m512i q0 = _mm512_unpacklo_epi16(abl, cdl), q1 = _mm512_unpackhi_epi16(abl, cdl);
            const __m512i q2 = _mm512_unpacklo_epi16(abh, cdh), q3 = _mm512_unpackhi_epi16(abh, cdh);
            const __m512i t0 = _mm512_shuffle_i64x2(q0, q1, _MM_SHUFFLE(1, 0, 1, 0));
            const __m512i t1 = _mm512_shuffle_i64x2(q0, q1, _MM_SHUFFLE(3, 2, 3, 2));
            const __m512i t2 = _mm512_shuffle_i64x2(q2, q3, _MM_SHUFFLE(1, 0, 1, 0));
            const __m512i t3 = _mm512_shuffle_i64x2(q2, q3, _MM_SHUFFLE(3, 2, 3, 2));
            // Output vector j: positions 16j..16j+15 = lane j of q0, q1, q2, q3.
            const __m512i o0 = _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(2, 0, 2, 0));
            const __m512i o1 = _mm512_shuffle_i64x2(t0, t2, _MM_SHUFFLE(3, 1, 3, 1));
            const __m512i o2 = _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(2, 0, 2, 0));
            const __m512i o3 = _mm512_shuffle_i64x2(t1, t3, _MM_SHUFFLE(3, 1, 3, 1));
            uint8_t *o = dst + 4 * (ptrdiff_t)p;
            if (n == 64) {
                _mm512_storeu_si512(o, o0); _mm512_storeu_si512(o + 64, o1);
                _mm512_storeu_si512(o + 128, o2); _mm512_storeu_si512(o + 192, o3);
            } else {  // 4n bytes: vector j keeps bytes below 4n - 64j
#define VIGIL_KEEP(j) (4 * n - 64 * (j) >= 64 ? ~(__mmask64)0 : 4 * n - 64 * (j) <= 0 ? (__mmask64)0 : ((__mmask64)1 << (4 * n - 64 * (j))) - 1)
                _mm512_mask_storeu_epi8(o, VIGIL_KEEP(0), o0); _mm512_mask_storeu_epi8(o + 64, VIGIL_KEEP(1), o1);
                _mm512_mask_storeu_epi8(o + 128, VIGIL_KEEP(2), o2); _mm512_mask_storeu_epi8(o + 192, VIGIL_KEEP(3), o3);
#undef VIGIL_KEEP
            }
        }
    }
    if (full * 4 < channels)  // the last, partial quad
        vigil_pack_quads_u8_generic(X + (ptrdiff_t)(4 * full) * plane, plane, channels - 4 * full, positions,
                                    U + (ptrdiff_t)full * positions * 4);
}
#endif
