// float32 -> int8 Quantize with one scale and zero point (model inputs), bit-exact with
// quantizeValue in VigilRuntime: IEEE division, round half to even, NaN to the zero point,
// clamp to +-2^30 before the integer conversion, then the zero point and the [lo, hi] clamp.
#include "vigil_kernels.h"
#include <math.h>

static inline int8_t quantize_one(float x, float scale, int32_t zp, int32_t lo, int32_t hi) {
    const float v = rintf(x / scale);  // the default rounding mode: to nearest, ties to even
    int32_t r;
    if (v != v) {
        r = zp;
    } else {
        const float c = v < -0x1p30f ? -0x1p30f : (v > 0x1p30f ? 0x1p30f : v);
        r = (int32_t)c + zp;
    }
    return (int8_t)(r < lo ? lo : (r > hi ? hi : r));
}

#if defined(__x86_64__)
#include <immintrin.h>
__attribute__((target("avx2"))) static int quantize_avx2(const float *X, int n, float scale, int32_t zp, int32_t lo,
                                                         int32_t hi, int8_t *Y) {
    const __m256 s = _mm256_set1_ps(scale), vmin = _mm256_set1_ps(-0x1p30f), vmax = _mm256_set1_ps(0x1p30f);
    const __m256i z = _mm256_set1_epi32(zp), l = _mm256_set1_epi32(lo), h = _mm256_set1_epi32(hi);
    const __m256i zc = _mm256_min_epi32(_mm256_max_epi32(z, l), h);
    const __m256i gather = _mm256_setr_epi32(0, 4, 1, 1, 1, 1, 1, 1);
    int i = 0;
    for (; i + 8 <= n; i += 8) {
        const __m256 v = _mm256_round_ps(_mm256_div_ps(_mm256_loadu_ps(X + i), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __m256 nan = _mm256_cmp_ps(v, v, _CMP_UNORD_Q);
        const __m256 c = _mm256_min_ps(_mm256_max_ps(v, vmin), vmax);
        __m256i r = _mm256_add_epi32(_mm256_cvtps_epi32(c), z);
        r = _mm256_min_epi32(_mm256_max_epi32(r, l), h);
        r = _mm256_blendv_epi8(r, zc, _mm256_castps_si256(nan));
        // Values lie in [lo, hi] within int8, so the saturating packs are plain narrowing; dwords 0
        // and 4 then hold the 8 bytes in order.
        const __m256i p = _mm256_packs_epi16(_mm256_packs_epi32(r, r), _mm256_setzero_si256());
        _mm_storel_epi64((__m128i *)(Y + i), _mm256_castsi256_si128(_mm256_permutevar8x32_epi32(p, gather)));
    }
    return i;
}

/// The same steps on 16 lanes (AVX-512F/BW). VDIVPS is the bound either way; the other nine
/// operations per vector halve, and VPMOVDB narrows without the packs and the permute.
__attribute__((target("avx512f,avx512bw"))) static int quantize_avx512(const float *X, int n, float scale, int32_t zp,
                                                                       int32_t lo, int32_t hi, int8_t *Y) {
    const __m512 s = _mm512_set1_ps(scale), vmin = _mm512_set1_ps(-0x1p30f), vmax = _mm512_set1_ps(0x1p30f);
    const __m512i z = _mm512_set1_epi32(zp), l = _mm512_set1_epi32(lo), h = _mm512_set1_epi32(hi);
    const __m512i zc = _mm512_min_epi32(_mm512_max_epi32(z, l), h);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const __m512 v = _mm512_roundscale_ps(_mm512_div_ps(_mm512_loadu_ps(X + i), s), _MM_FROUND_TO_NEAREST_INT | _MM_FROUND_NO_EXC);
        const __mmask16 nan = _mm512_cmp_ps_mask(v, v, _CMP_UNORD_Q);
        const __m512 c = _mm512_min_ps(_mm512_max_ps(v, vmin), vmax);
        __m512i r = _mm512_add_epi32(_mm512_cvtps_epi32(c), z);
        r = _mm512_min_epi32(_mm512_max_epi32(r, l), h);
        r = _mm512_mask_mov_epi32(r, nan, zc);
        // (values lie in [lo, hi] within int8: VPMOVDB's truncation is exact)
        _mm_storeu_si128((__m128i *)(Y + i), _mm512_cvtepi32_epi8(r));
    }
    return i;
}
#endif

#if defined(__aarch64__)
#include <arm_neon.h>
/// 16 at a time: FDIV, then FCVTNS (to nearest, ties to even: rintf then the conversion in one;
/// NaN gives 0, so the zero point; out-of-range values saturate, and the saturating zero-point add
/// and narrows keep them past the clamp on the side the 2^30 clamp would), then [lo, hi].
static int quantize_neon(const float *X, int n, float scale, int32_t zp, int32_t lo, int32_t hi, int8_t *Y) {
    const float32x4_t s = vdupq_n_f32(scale);
    const int32x4_t z = vdupq_n_s32(zp);
    const int8x16_t l = vdupq_n_s8((int8_t)lo), h = vdupq_n_s8((int8_t)hi);
    int i = 0;
    for (; i + 16 <= n; i += 16) {
        const float32x4x4_t x = vld1q_f32_x4(X + i);
        const int32x4_t r0 = vqaddq_s32(vcvtnq_s32_f32(vdivq_f32(x.val[0], s)), z);
        const int32x4_t r1 = vqaddq_s32(vcvtnq_s32_f32(vdivq_f32(x.val[1], s)), z);
        const int32x4_t r2 = vqaddq_s32(vcvtnq_s32_f32(vdivq_f32(x.val[2], s)), z);
        const int32x4_t r3 = vqaddq_s32(vcvtnq_s32_f32(vdivq_f32(x.val[3], s)), z);
        const int16x8_t a = vcombine_s16(vqmovn_s32(r0), vqmovn_s32(r1)), b = vcombine_s16(vqmovn_s32(r2), vqmovn_s32(r3));
        vst1q_s8(Y + i, vminq_s8(vmaxq_s8(vcombine_s8(vqmovn_s16(a), vqmovn_s16(b)), l), h));
    }
    return i;
}
#endif

void vigil_quantize_f32_s8(const float *X, int n, float scale, int32_t zero_point, int32_t lo, int32_t hi, int8_t *Y) {
    int i = 0;
#if defined(__x86_64__)
    if (vigil_kernel_selected() == VIGIL_KERNEL_AVX512VNNI) i = quantize_avx512(X, n, scale, zero_point, lo, hi, Y);
    else if (vigil_kernel_has_avx2()) i = quantize_avx2(X, n, scale, zero_point, lo, hi, Y);
#elif defined(__aarch64__)
    if (vigil_kernel_selected() != VIGIL_KERNEL_GENERIC) i = quantize_neon(X, n, scale, zero_point, lo, hi, Y);
#endif
    for (; i < n; i++) Y[i] = quantize_one(X[i], scale, zero_point, lo, hi);
}
