// int8 Add of two tensors of the same shape, bit-exact with AddOp (docs/FORMAT.md, "Add"):
// t = (a - za) * Ma + (b - zb) * Mb in int64, y = clamp(zy + ((t + 2^(n-1)) >> n), lo, hi).
// With 17 <= n <= 47 the same value comes from 32-bit lanes: split M = Mh * 2^16 + Ml (0 <= Ml <
// 2^16), th = (a - za) * Mh + (b - zb) * Mbh and tl = (a - za) * Ml + (b - zb) * Mbl (both far
// inside int32 since |a - za| <= 255 and M <= 2^31), so t = th * 2^16 + tl and
// floor((t + 2^(n-1)) / 2^n) = (th + (tl >> 16) + 2^(n-17)) >> (n - 16) (the low 16 bits of tl
// cannot carry past 2^16). The loop is plain C that the compiler vectorizes, built once portable
// and once for AVX2; the AVX512-VNNI variant has the same steps in 512-bit intrinsics.
#include "vigil_kernels.h"

#define VIGIL_ADD_BODY                                                                                       \
    const int32_t mah = (int32_t)(ma >> 16), mal = (int32_t)(ma & 0xFFFF);                                   \
    const int32_t mbh = (int32_t)(mb >> 16), mbl = (int32_t)(mb & 0xFFFF);                                   \
    const int32_t round = (int32_t)1 << (n - 17), s = n - 16;                                                \
    for (int i = 0; i < count; i++) {                                                                        \
        const int32_t a = (int32_t)A[i] - za, b = (int32_t)B[i] - zb;                                        \
        const int32_t th = a * mah + b * mbh, tl = a * mal + b * mbl;                                        \
        int32_t v = ((th + (tl >> 16) + round) >> s) + zy;                                                   \
        v = v < lo ? lo : v;                                                                                 \
        Y[i] = (int8_t)(v > hi ? hi : v);                                                                    \
    }

static void add_split_generic(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma,
                              int64_t mb, int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    VIGIL_ADD_BODY
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void add_split_avx2(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma,
                           int64_t mb, int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    VIGIL_ADD_BODY
}

#include <immintrin.h>
/// The split path on 16 lanes with intrinsics (the compiler's vectorization of the body above stays
/// on 256-bit vectors): four VPMULLD per 16 elements, the clamp on int32, VPMOVDB to bytes; the
/// last count % 16 elements through the masked forms.
__attribute__((target("avx512f,avx512bw,avx512vl")))
static void add_split_avx512(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma,
                             int64_t mb, int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    const __m512i vza = _mm512_set1_epi32(za), vzb = _mm512_set1_epi32(zb);
    const __m512i mah = _mm512_set1_epi32((int32_t)(ma >> 16)), mal = _mm512_set1_epi32((int32_t)(ma & 0xFFFF));
    const __m512i mbh = _mm512_set1_epi32((int32_t)(mb >> 16)), mbl = _mm512_set1_epi32((int32_t)(mb & 0xFFFF));
    const __m512i round = _mm512_set1_epi32((int32_t)1 << (n - 17)), vzy = _mm512_set1_epi32(zy);
    const __m512i vlo = _mm512_set1_epi32(lo), vhi = _mm512_set1_epi32(hi);
    const __m128i s = _mm_cvtsi32_si128(n - 16);
    for (int i = 0; i < count; i += 16) {
        const int left = count - i;
        const __mmask16 k = left >= 16 ? (__mmask16)0xFFFF : (__mmask16)((1u << left) - 1);
        const __m512i a = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, A + i)), vza);
        const __m512i b = _mm512_sub_epi32(_mm512_cvtepi8_epi32(_mm_maskz_loadu_epi8(k, B + i)), vzb);
        const __m512i th = _mm512_add_epi32(_mm512_mullo_epi32(a, mah), _mm512_mullo_epi32(b, mbh));
        const __m512i tl = _mm512_add_epi32(_mm512_mullo_epi32(a, mal), _mm512_mullo_epi32(b, mbl));
        __m512i v = _mm512_add_epi32(_mm512_add_epi32(th, _mm512_srai_epi32(tl, 16)), round);
        v = _mm512_add_epi32(_mm512_sra_epi32(v, s), vzy);
        v = _mm512_min_epi32(_mm512_max_epi32(v, vlo), vhi);
        _mm_mask_storeu_epi8(Y + i, k, _mm512_cvtepi32_epi8(v));
    }
}
#endif

void vigil_add_s8(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma, int64_t mb,
                  int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    if (n >= 17 && n <= 47 && ma >= 0 && ma <= ((int64_t)1 << 31) && mb >= 0 && mb <= ((int64_t)1 << 31)) {
#if defined(__x86_64__)
        if (vigil_kernel_selected() == VIGIL_KERNEL_AVX512VNNI) { add_split_avx512(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y); return; }
        if (vigil_kernel_has_avx2()) { add_split_avx2(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y); return; }
#endif
        add_split_generic(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y);
        return;
    }
    const int64_t round = (int64_t)1 << (n - 1);
    for (int i = 0; i < count; i++) {
        const int64_t t = ((int64_t)A[i] - za) * ma + ((int64_t)B[i] - zb) * mb;
        int64_t v = ((t + round) >> n) + zy;
        v = v < lo ? lo : v;
        Y[i] = (int8_t)(v > hi ? hi : v);
    }
}
