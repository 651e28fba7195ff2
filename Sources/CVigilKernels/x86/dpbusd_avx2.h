// The VPDPBUSD step without VNNI: acc + sum over j < 4 of u[4i + j] * w[4i + j] per int32 lane i,
// u unsigned and w signed bytes. AVX2 has VPMADDUBSW, but its int16 pair sums saturate (255 * 127
// * 2 > 32767), so it would not be exact. Here the even and odd bytes are split into int16 lanes
// (u zero-extended, w sign-extended) and VPMADDWD sums two exact products per int32 lane:
// |u * w| <= 255 * 128, so nothing saturates and the int32 additions wrap like VPDPBUSD's. The
// result is bit-identical with VPDPBUSD for every input. Two multiplies and two additions per
// 32 products; the splits of a vector shared by several calls (a tile's activations or weights)
// are common subexpressions the compiler computes once.
#ifndef VIGIL_DPBUSD_AVX2_H
#define VIGIL_DPBUSD_AVX2_H
#include <immintrin.h>

__attribute__((target("avx2"))) static inline __m256i vigil_dpbusd_avx2(__m256i acc, __m256i u, __m256i w) {
    const __m256i ue = _mm256_and_si256(u, _mm256_set1_epi16(0x00FF)), uo = _mm256_srli_epi16(u, 8);
    const __m256i we = _mm256_srai_epi16(_mm256_slli_epi16(w, 8), 8), wo = _mm256_srai_epi16(w, 8);
    return _mm256_add_epi32(acc, _mm256_add_epi32(_mm256_madd_epi16(ue, we), _mm256_madd_epi16(uo, wo)));
}
#endif
