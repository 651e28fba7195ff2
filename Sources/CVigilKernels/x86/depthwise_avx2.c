// The depthwise body compiled for AVX2 (sign extension and 32-bit multiplies on 8 lanes).
#if defined(__x86_64__)
#define VIGIL_DW_NAME(x) x##_avx2
#define VIGIL_DW_ATTR __attribute__((target("avx2")))
#include "requant_avx2.h"
#define VIGIL_DW_REQUANT8(acc, bias, m, n, zp, lo, hi, out) \
    vigil_requant8_avx2(_mm256_loadu_si256((const __m256i *)(acc)), bias, m, n, zp, lo, hi, out)
// acc[0..7] += (src[i] - zx) * w for 8 consecutive (or every other, for stride 2) int8 inputs.
__attribute__((target("avx2"))) static inline void dw_row8(int32_t *acc, const int8_t *src, int32_t zx, int32_t w) {
    __m256i x = _mm256_cvtepi8_epi32(_mm_loadl_epi64((const __m128i *)src));
    __m256i p = _mm256_mullo_epi32(_mm256_sub_epi32(x, _mm256_set1_epi32(zx)), _mm256_set1_epi32(w));
    _mm256_storeu_si256((__m256i *)acc, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)acc), p));
}
__attribute__((target("avx2"))) static inline void dw_row8_s2(int32_t *acc, const int8_t *src, int32_t zx, int32_t w) {
    const __m128i even = _mm_setr_epi8(0, 2, 4, 6, 8, 10, 12, 14, -1, -1, -1, -1, -1, -1, -1, -1);
    __m128i v = _mm_shuffle_epi8(_mm_loadu_si128((const __m128i *)src), even);
    __m256i x = _mm256_cvtepi8_epi32(v);
    __m256i p = _mm256_mullo_epi32(_mm256_sub_epi32(x, _mm256_set1_epi32(zx)), _mm256_set1_epi32(w));
    _mm256_storeu_si256((__m256i *)acc, _mm256_add_epi32(_mm256_loadu_si256((const __m256i *)acc), p));
}
#define VIGIL_DW_ROW8(acc, src, zx, w) dw_row8(acc, src, zx, w)
#define VIGIL_DW_ROW8_S2(acc, src, zx, w) dw_row8_s2(acc, src, zx, w)
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../depthwise_body.h"
#endif
