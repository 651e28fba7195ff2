// vigil_gemv_u8s8 for AVX512-VNNI. A fully connected layer on one input row streams its weight
// matrix once, so it is bound by how fast the weights arrive and how much work each 64 bytes of
// them costs: here one load and one VPDPBUSD (the input row, shifted to unsigned once per step,
// is shared by eight weight rows), against sign extension and VPMADDWD on 16 bytes in the AVX2
// one-column GEMM. The -128 * sum(row) of the shift is in the caller's bias. Eight rows' sums are
// reduced together (unpacks and 128-bit shuffles), then requantized in 64-bit lanes by the rule
// itself: (acc * m + 2^(n-1)) >> n clamped to [lo - zp, hi - zp] (saturating to int32, adding zp
// and clamping to [lo, hi] give the same, both bounds lying inside int32), plus zp.
#if defined(__x86_64__)
#include "vigil_kernels.h"
#include <immintrin.h>

#define VIGIL_A512 __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni")))

/// Lanes 0..7: the sums of the eight accumulators' 16 lanes.
VIGIL_A512 static inline __m256i sum8(__m512i a0, __m512i a1, __m512i a2, __m512i a3, __m512i a4, __m512i a5,
                                      __m512i a6, __m512i a7) {
    // Per 128-bit lane: pairs interleaved, then quads; lane L of x holds rows 0..3's partial sums of
    // that lane, of y rows 4..7's.
    const __m512i t01 = _mm512_add_epi32(_mm512_unpacklo_epi32(a0, a1), _mm512_unpackhi_epi32(a0, a1));
    const __m512i t23 = _mm512_add_epi32(_mm512_unpacklo_epi32(a2, a3), _mm512_unpackhi_epi32(a2, a3));
    const __m512i t45 = _mm512_add_epi32(_mm512_unpacklo_epi32(a4, a5), _mm512_unpackhi_epi32(a4, a5));
    const __m512i t67 = _mm512_add_epi32(_mm512_unpacklo_epi32(a6, a7), _mm512_unpackhi_epi32(a6, a7));
    const __m512i x = _mm512_add_epi32(_mm512_unpacklo_epi64(t01, t23), _mm512_unpackhi_epi64(t01, t23));
    const __m512i y = _mm512_add_epi32(_mm512_unpacklo_epi64(t45, t67), _mm512_unpackhi_epi64(t45, t67));
    // [x0 + x1, x2 + x3, y0 + y1, y2 + y3], then lanes 0 and 2 of that plus its pairwise swap.
    const __m512i s = _mm512_add_epi32(_mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(2, 0, 2, 0)),
                                       _mm512_shuffle_i32x4(x, y, _MM_SHUFFLE(3, 1, 3, 1)));
    const __m512i t = _mm512_add_epi32(s, _mm512_shuffle_i32x4(s, s, _MM_SHUFFLE(2, 3, 0, 1)));
    // The unpacks order a lane's four sums as rows 0, 1, 2, 3 (x) and 4..7 (y).
    return _mm512_castsi512_si256(_mm512_shuffle_i32x4(t, t, _MM_SHUFFLE(2, 0, 2, 0)));
}

/// Requantizes eight rows' accumulators (bias already added) and stores them at C[j * ldr].
VIGIL_A512 static inline void store8(__m256i acc, const vigil_requant_rows *q, int r, int8_t *C, ptrdiff_t ldr) {
    const __m512i a = _mm512_cvtepi32_epi64(acc);
    const __m512i m = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(q->multiplier + r)));
    const __m512i n = _mm512_cvtepi32_epi64(_mm256_loadu_si256((const __m256i *)(q->shift + r)));
    const __m512i round = _mm512_sllv_epi64(_mm512_set1_epi64(1), _mm512_sub_epi64(n, _mm512_set1_epi64(1)));
    __m512i v = _mm512_srav_epi64(_mm512_add_epi64(_mm512_mul_epi32(a, m), round), n);
    v = _mm512_min_epi64(_mm512_max_epi64(v, _mm512_set1_epi64((long long)q->lo - q->zero_point)),
                         _mm512_set1_epi64((long long)q->hi - q->zero_point));
    v = _mm512_add_epi64(v, _mm512_set1_epi64(q->zero_point));
    const __m128i bytes = _mm512_cvtepi64_epi8(v);
    if (ldr == 1) {
        _mm_storel_epi64((__m128i *)(C + r), bytes);
    } else {
        int8_t t[16];
        _mm_storeu_si128((__m128i *)t, bytes);
        for (int j = 0; j < 8; j++) C[(ptrdiff_t)(r + j) * ldr] = t[j];
    }
}

VIGIL_A512 void vigil_gemv_u8s8_avx512vnni(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q,
                                           int8_t *C, ptrdiff_t ldr) {
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const int K64 = K & ~63, tail = K - K64;
    // Past K: weights and input are not read (masked loads give 0) and the unsigned input is 0.
    const __mmask64 tk = tail ? ((__mmask64)1 << tail) - 1 : 0;
    const __m512i ut = tail ? _mm512_maskz_mov_epi8(tk, _mm512_xor_si512(_mm512_maskz_loadu_epi8(tk, b + K64), flip))
                            : _mm512_setzero_si512();
    int r = 0;
    for (; r + 8 <= rows; r += 8) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        __m512i s0 = _mm512_setzero_si512(), s1 = s0, s2 = s0, s3 = s0, s4 = s0, s5 = s0, s6 = s0, s7 = s0;
        for (int k = 0; k < K64; k += 64) {
            const __m512i u = _mm512_xor_si512(_mm512_loadu_si512(b + k), flip);
            s0 = _mm512_dpbusd_epi32(s0, u, _mm512_loadu_si512(a + k));
            s1 = _mm512_dpbusd_epi32(s1, u, _mm512_loadu_si512(a + K + k));
            s2 = _mm512_dpbusd_epi32(s2, u, _mm512_loadu_si512(a + 2 * (ptrdiff_t)K + k));
            s3 = _mm512_dpbusd_epi32(s3, u, _mm512_loadu_si512(a + 3 * (ptrdiff_t)K + k));
            s4 = _mm512_dpbusd_epi32(s4, u, _mm512_loadu_si512(a + 4 * (ptrdiff_t)K + k));
            s5 = _mm512_dpbusd_epi32(s5, u, _mm512_loadu_si512(a + 5 * (ptrdiff_t)K + k));
            s6 = _mm512_dpbusd_epi32(s6, u, _mm512_loadu_si512(a + 6 * (ptrdiff_t)K + k));
            s7 = _mm512_dpbusd_epi32(s7, u, _mm512_loadu_si512(a + 7 * (ptrdiff_t)K + k));
        }
        if (tail) {
            s0 = _mm512_dpbusd_epi32(s0, ut, _mm512_maskz_loadu_epi8(tk, a + K64));
            s1 = _mm512_dpbusd_epi32(s1, ut, _mm512_maskz_loadu_epi8(tk, a + K + K64));
            s2 = _mm512_dpbusd_epi32(s2, ut, _mm512_maskz_loadu_epi8(tk, a + 2 * (ptrdiff_t)K + K64));
            s3 = _mm512_dpbusd_epi32(s3, ut, _mm512_maskz_loadu_epi8(tk, a + 3 * (ptrdiff_t)K + K64));
            s4 = _mm512_dpbusd_epi32(s4, ut, _mm512_maskz_loadu_epi8(tk, a + 4 * (ptrdiff_t)K + K64));
            s5 = _mm512_dpbusd_epi32(s5, ut, _mm512_maskz_loadu_epi8(tk, a + 5 * (ptrdiff_t)K + K64));
            s6 = _mm512_dpbusd_epi32(s6, ut, _mm512_maskz_loadu_epi8(tk, a + 6 * (ptrdiff_t)K + K64));
            s7 = _mm512_dpbusd_epi32(s7, ut, _mm512_maskz_loadu_epi8(tk, a + 7 * (ptrdiff_t)K + K64));
        }
        // (the bias adds wrap, like the reference's &+)
        const __m256i acc = _mm256_add_epi32(sum8(s0, s1, s2, s3, s4, s5, s6, s7),
                                             _mm256_loadu_si256((const __m256i *)(q->bias + r)));
        store8(acc, q, r, C + 0, ldr);
    }
    for (; r < rows; r++) {  // the last rows % 8, one at a time
        const int8_t *a = A + (ptrdiff_t)r * K;
        __m512i s = _mm512_setzero_si512();
        for (int k = 0; k < K64; k += 64)
            s = _mm512_dpbusd_epi32(s, _mm512_xor_si512(_mm512_loadu_si512(b + k), flip), _mm512_loadu_si512(a + k));
        if (tail) s = _mm512_dpbusd_epi32(s, ut, _mm512_maskz_loadu_epi8(tk, a + K64));
        const int32_t acc = (int32_t)((uint32_t)_mm512_reduce_add_epi32(s) + (uint32_t)q->bias[r]);
        C[(ptrdiff_t)r * ldr] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
    }
}
#endif
