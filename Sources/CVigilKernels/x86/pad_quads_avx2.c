// The channel-quad input layout of the direct convolution with AVX2: four channel rows are
// interleaved 32 positions at a time with byte and word unpacks (which work within 128-bit lanes,
// hence the VPERM2I128 that puts the results back in position order); padding and the partial
// last quad go through the generic code.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>
#include <string.h>

__attribute__((target("avx2")))
void vigil_conv_pad_quads_u8_avx2(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                                  int hp, int wp, uint8_t pad, uint8_t *P) {
    const int full = channels / 4;
    const ptrdiff_t plane = (ptrdiff_t)in_h * in_w;
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    // Columns [lo, hi) of a padded row hold input; the rest is padding.
    const int lo = pad_left < wp ? pad_left : wp, hi = pad_left + in_w < wp ? pad_left + in_w : wp;
    const int n = hi > lo ? hi - lo : 0, n32 = n & ~31;
    for (int c4 = 0; c4 < full; c4++)
        for (int r = 0; r < hp; r++) {
            uint8_t *dst = P + ((ptrdiff_t)c4 * hp + r) * wp * 4;
            const int iy = r - pad_top;
            if (iy < 0 || iy >= in_h || n == 0) {
                memset(dst, pad, (size_t)wp * 4);
                continue;
            }
            memset(dst, pad, (size_t)lo * 4);
            memset(dst + (ptrdiff_t)hi * 4, pad, (size_t)(wp - hi) * 4);
            const int8_t *r0 = X + (ptrdiff_t)(4 * c4) * plane + (ptrdiff_t)iy * in_w + (lo - pad_left);
            const int8_t *r1 = r0 + plane, *r2 = r1 + plane, *r3 = r2 + plane;
            uint8_t *d = dst + (ptrdiff_t)lo * 4;
            for (int p = 0; p < n32; p += 32) {
                __m256i a = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r0 + p)), flip);
                __m256i b = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r1 + p)), flip);
                __m256i c = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r2 + p)), flip);
                __m256i e = _mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(r3 + p)), flip);
                __m256i abl = _mm256_unpacklo_epi8(a, b), abh = _mm256_unpackhi_epi8(a, b);
                __m256i cel = _mm256_unpacklo_epi8(c, e), ceh = _mm256_unpackhi_epi8(c, e);
                __m256i q0 = _mm256_unpacklo_epi16(abl, cel), q1 = _mm256_unpackhi_epi16(abl, cel);
                __m256i q2 = _mm256_unpacklo_epi16(abh, ceh), q3 = _mm256_unpackhi_epi16(abh, ceh);
                _mm256_storeu_si256((__m256i *)(d + 4 * p), _mm256_permute2x128_si256(q0, q1, 0x20));
                _mm256_storeu_si256((__m256i *)(d + 4 * p + 32), _mm256_permute2x128_si256(q2, q3, 0x20));
                _mm256_storeu_si256((__m256i *)(d + 4 * p + 64), _mm256_permute2x128_si256(q0, q1, 0x31));
                _mm256_storeu_si256((__m256i *)(d + 4 * p + 96), _mm256_permute2x128_si256(q2, q3, 0x31));
            }
            for (int p = n32; p < n; p++) {
                d[4 * p] = (uint8_t)(r0[p] ^ 0x80); d[4 * p + 1] = (uint8_t)(r1[p] ^ 0x80);
                d[4 * p + 2] = (uint8_t)(r2[p] ^ 0x80); d[4 * p + 3] = (uint8_t)(r3[p] ^ 0x80);
            }
        }
    if (full * 4 < channels) {  // the last, partial quad: its own plane of quads
        vigil_conv_pad_quads_u8_generic(X + (ptrdiff_t)(4 * full) * plane, channels - 4 * full, in_h, in_w, pad_top, pad_left,
                                        hp, wp, pad, P + (ptrdiff_t)full * hp * wp * 4);
    }
}
#endif
