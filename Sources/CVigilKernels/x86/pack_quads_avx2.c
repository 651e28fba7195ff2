// Interleaves four int8 channel rows into [positions][4] quads of x + 128 (the layout VPDPBUSD
// reads), 32 positions at a time: byte and word unpacks work within 128-bit lanes, so the four
// results are put back in position order with VPERM2I128.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

void vigil_pack_quads_u8_generic(const int8_t *, ptrdiff_t, int, int, uint8_t *);

__attribute__((target("avx2")))
void vigil_pack_quads_u8_avx2(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    const int full = channels / 4, p32 = positions & ~31;
    for (int c4 = 0; c4 < full; c4++) {
        const int8_t *r0 = X + (ptrdiff_t)(4 * c4) * plane, *r1 = r0 + plane, *r2 = r1 + plane, *r3 = r2 + plane;
        uint8_t *dst = U + (ptrdiff_t)c4 * positions * 4;
        for (int p = 0; p < p32; p += 32) {
            __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r0 + p)), flip);
            __m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r1 + p)), flip);
            __m256i c = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r2 + p)), flip);
            __m256i d = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r3 + p)), flip);
            __m256i abl = _mm256_unpacklo_epi8(a, b), abh = _mm256_unpackhi_epi8(a, b);
            __m256i cdl = _mm256_unpacklo_epi8(c, d), cdh = _mm256_unpackhi_epi8(c, d);
            __m256i q0 = _mm256_unpacklo_epi16(abl, cdl), q1 = _mm256_unpackhi_epi16(abl, cdl);
            __m256i q2 = _mm256_unpacklo_epi16(abh, cdh), q3 = _mm256_unpackhi_epi16(abh, cdh);
            _mm256_storeu_si256((__m256i *)(dst + 4 * p), _mm256_permute2x128_si256(q0, q1, 0x20));
            _mm256_storeu_si256((__m256i *)(dst + 4 * p + 32), _mm256_permute2x128_si256(q2, q3, 0x20));
            _mm256_storeu_si256((__m256i *)(dst + 4 * p + 64), _mm256_permute2x128_si256(q0, q1, 0x31));
            _mm256_storeu_si256((__m256i *)(dst + 4 * p + 96), _mm256_permute2x128_si256(q2, q3, 0x31));
        }
        for (int p = p32; p < positions; p++) {
            dst[4 * p] = (uint8_t)(r0[p] ^ 0x80); dst[4 * p + 1] = (uint8_t)(r1[p] ^ 0x80);
            dst[4 * p + 2] = (uint8_t)(r2[p] ^ 0x80); dst[4 * p + 3] = (uint8_t)(r3[p] ^ 0x80);
        }
    }
    if (full * 4 < channels)  // the last, partial quad
        vigil_pack_quads_u8_generic(X + (ptrdiff_t)(4 * full) * plane, plane, channels - 4 * full, positions,
                                    U + (ptrdiff_t)full * positions * 4);
}
#endif
