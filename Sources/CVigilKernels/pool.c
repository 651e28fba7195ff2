// int8 pooling kernels, bit-exact with MaxPoolOp and AveragePoolOp (the Swift reference): plain C
// whose inner loops the compiler vectorizes, with the bounds checks of the reference hoisted out
// of the interior (windows entirely inside the input).
#include "vigil_kernels.h"
#include <string.h>

#if defined(__x86_64__)
#include <immintrin.h>
// y[ox] = max(y[ox], r[2ox], r[2ox+1]) for 32 outputs per step: the pairs are split into even and
// odd bytes as sign-extended words, compared, and packed back (VPACKSSWB cannot saturate: the
// values are int8), with VPERMQ undoing the per-lane interleave of the pack.
__attribute__((target("avx2"))) static int pair_max_avx2(const int8_t *r, int8_t *y, int ox, int end) {
    for (; ox + 32 <= end; ox += 32) {
        const __m256i v0 = _mm256_loadu_si256((const __m256i *)(r + 2 * ox));
        const __m256i v1 = _mm256_loadu_si256((const __m256i *)(r + 2 * ox + 32));
        const __m256i m0 = _mm256_max_epi16(_mm256_srai_epi16(_mm256_slli_epi16(v0, 8), 8), _mm256_srai_epi16(v0, 8));
        const __m256i m1 = _mm256_max_epi16(_mm256_srai_epi16(_mm256_slli_epi16(v1, 8), 8), _mm256_srai_epi16(v1, 8));
        const __m256i m = _mm256_permute4x64_epi64(_mm256_packs_epi16(m0, m1), 0xD8);
        _mm256_storeu_si256((__m256i *)(y + ox), _mm256_max_epi8(m, _mm256_loadu_si256((const __m256i *)(y + ox))));
    }
    return ox;
}

// y[ox] = max(y[ox], r[4ox..4ox+3]) for 8 outputs per step (the non-overlapping windows of 4 of
// ECG networks): two byte shifts within each dword bring the window's maximum into its byte 0,
// which VPSHUFB gathers into the low dword of each 128-bit lane.
__attribute__((target("avx2"))) static int quad_max_avx2(const int8_t *r, int8_t *y, int ox, int end) {
    const __m256i pick = _mm256_setr_epi8(0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1,
                                          0, 4, 8, 12, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1, -1);
    for (; ox + 8 <= end; ox += 8) {
        const __m256i v = _mm256_loadu_si256((const __m256i *)(r + 4 * ox));
        const __m256i m1 = _mm256_max_epi8(v, _mm256_srli_epi32(v, 8));     // bytes 0, 2: max of pairs
        const __m256i m2 = _mm256_max_epi8(m1, _mm256_srli_epi32(m1, 16));  // byte 0: max of four
        const __m256i g = _mm256_shuffle_epi8(m2, pick);
        const __m128i m = _mm_unpacklo_epi32(_mm256_castsi256_si128(g), _mm256_extracti128_si256(g, 1));
        _mm_storel_epi64((__m128i *)(y + ox), _mm_max_epi8(m, _mm_loadl_epi64((const __m128i *)(y + ox))));
    }
    return ox;
}
#endif

static inline int first_inside(int origin, int dilation) {
    // Smallest k >= 0 with origin + k * dilation >= 0.
    return origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
}

void vigil_maxpool_s8(const int8_t *X, const vigil_pool_geometry *geometry, int8_t *Y) {
    // A local copy: stores through the int8 output may alias anything, and would otherwise make
    // the compiler reload every field in the inner loops.
    const vigil_pool_geometry g = *geometry;
    // Non-overlapping windows of 2 or 4 that tile every row exactly (no padding, no leftover input,
    // one row per output row): the rows of all planes form one long row, so the vector loop runs
    // over the whole tensor instead of stopping short of each row's end.
    if ((g.k_w == 2 || g.k_w == 4) && g.stride_w == g.k_w && g.dilation_w == 1 && g.pad_left == 0 &&
        g.in_w == g.k_w * g.out_w && g.k_h == 1 && g.stride_h == 1 && g.pad_top == 0 && g.in_h == g.out_h &&
        g.planes * g.out_h > 1) {
        vigil_pool_geometry flat = g;
        flat.planes = 1; flat.in_h = 1; flat.out_h = 1;
        flat.in_w = g.planes * g.in_h * g.in_w; flat.out_w = g.planes * g.out_h * g.out_w;
        vigil_maxpool_s8(X, &flat, Y);
        return;
    }
    // Output columns [ox_lo, ox_hi) have their whole window inside the row (a contiguous range:
    // the window start grows with ox).
    int ox_lo = 0, ox_hi = 0;
    while (ox_lo < g.out_w && ox_lo * g.stride_w - g.pad_left < 0) ox_lo++;
    // The last ox with ox * stride - pad_left + (k - 1) * dilation < in_w, in closed form (a scan
    // over every column cost as much as the pooling itself on long rows).
    const int lim = g.in_w - 1 - (g.k_w - 1) * g.dilation_w + g.pad_left;
    if (lim >= 0) ox_hi = lim / g.stride_w + 1 < g.out_w ? lim / g.stride_w + 1 : g.out_w;
    if (ox_hi < ox_lo) ox_hi = ox_lo;
    const int pairs = g.k_w == 2 && g.stride_w == 2 && g.dilation_w == 1;
    const int quads = g.k_w == 4 && g.stride_w == 4 && g.dilation_w == 1;
#if defined(__x86_64__)
    const int avx2 = vigil_kernel_has_avx2();
#endif
    for (int p = 0; p < g.planes; p++) {
        const int8_t *plane = X + (ptrdiff_t)p * g.in_h * g.in_w;
        for (int oy = 0; oy < g.out_h; oy++) {
            int8_t *y = Y + ((ptrdiff_t)p * g.out_h + oy) * g.out_w;
            const int iy0 = oy * g.stride_h - g.pad_top;
            memset(y, INT8_MIN, (size_t)g.out_w);  // padding never wins
            for (int ky = first_inside(iy0, g.dilation_h); ky < g.k_h; ky++) {
                const int iy = iy0 + ky * g.dilation_h;
                if (iy >= g.in_h) break;
                const int8_t *row = plane + (ptrdiff_t)iy * g.in_w;
                for (int ox = 0; ox < g.out_w; ox++) {
                    const int ix0 = ox * g.stride_w - g.pad_left;
                    if (ox == ox_lo && ox_hi > ox_lo) {
                        // The interior: no bounds checks.
                        if (pairs) {
                            // The common non-overlapping pair (ECG networks).
                            const int8_t *r = row - g.pad_left;
#if defined(__x86_64__)
                            if (avx2) ox = pair_max_avx2(r, y, ox, ox_hi);
#endif
                            for (; ox < ox_hi; ox++) {
                                const int8_t a = r[2 * ox], b = r[2 * ox + 1], m = a > b ? a : b;
                                y[ox] = m > y[ox] ? m : y[ox];
                            }
                        } else if (quads) {
                            const int8_t *r = row - g.pad_left;
#if defined(__x86_64__)
                            if (avx2) ox = quad_max_avx2(r, y, ox, ox_hi);
#endif
                            for (; ox < ox_hi; ox++) {
                                const int8_t *w = r + 4 * ox;
                                const int8_t a = w[0] > w[1] ? w[0] : w[1], b = w[2] > w[3] ? w[2] : w[3], m = a > b ? a : b;
                                y[ox] = m > y[ox] ? m : y[ox];
                            }
                        } else {
                            for (; ox < ox_hi; ox++) {
                                const int8_t *w = row + ox * g.stride_w - g.pad_left;
                                int8_t m = y[ox];
                                for (int kx = 0; kx < g.k_w; kx++) m = w[kx * g.dilation_w] > m ? w[kx * g.dilation_w] : m;
                                y[ox] = m;
                            }
                        }
                        ox--;  // the loop's increment moves past the interior
                        continue;
                    }
                    int8_t m = y[ox];
                    for (int kx = first_inside(ix0, g.dilation_w); kx < g.k_w; kx++) {
                        const int ix = ix0 + kx * g.dilation_w;
                        if (ix >= g.in_w) break;
                        m = row[ix] > m ? row[ix] : m;
                    }
                    y[ox] = m;
                }
            }
        }
    }
}

#if defined(__x86_64__)
// The sum of x[0..count) (int8) for count >= 16: VPSADBW of x ^ 0x80 (= x + 128 as unsigned bytes)
// against zero adds 8 bytes per 64-bit lane exactly; the 128 per element is subtracted at the end.
// A tail shorter than 16 re-reads the last 16 bytes with the already-summed ones masked off.
__attribute__((target("avx2"))) static int32_t sum_s8_avx2(const int8_t *x, int count) {
    const __m256i flip = _mm256_set1_epi8((char)0x80);
    __m256i acc = _mm256_setzero_si256();
    int i = 0;
    for (; i + 32 <= count; i += 32)
        acc = _mm256_add_epi64(acc, _mm256_sad_epu8(_mm256_xor_si256(_mm256_loadu_si256((const __m256i *)(x + i)), flip), _mm256_setzero_si256()));
    __m128i a = _mm_add_epi64(_mm256_castsi256_si128(acc), _mm256_extracti128_si256(acc, 1));
    if (i + 16 <= count) {
        a = _mm_add_epi64(a, _mm_sad_epu8(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + i)), _mm256_castsi256_si128(flip)), _mm_setzero_si128()));
        i += 16;
    }
    if (i < count) {
        // Bytes [count - 16, i) were summed already: keep only the last count - i.
        const int skip = 16 - (count - i);
        static const int8_t ramp[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
        const __m128i keep = _mm_cmpgt_epi8(_mm_loadu_si128((const __m128i *)ramp), _mm_set1_epi8((char)(skip - 1)));
        const __m128i v = _mm_and_si128(_mm_xor_si128(_mm_loadu_si128((const __m128i *)(x + count - 16)), _mm256_castsi256_si128(flip)), keep);
        a = _mm_add_epi64(a, _mm_sad_epu8(v, _mm_setzero_si128()));
    }
    const int64_t total = _mm_cvtsi128_si64(a) + _mm_extract_epi64(a, 1);
    return (int32_t)(total - 128 * (int64_t)count);
}
#endif

void vigil_global_avgpool_s8(const int8_t *X, int planes, int area, int32_t zero_in, int32_t m, int32_t n,
                             int32_t zero_out, int8_t *Y) {
#if defined(__x86_64__)
    const int avx2 = area >= 16 && vigil_kernel_has_avx2();
#endif
    for (int p = 0; p < planes; p++) {
        const int8_t *x = X + (ptrdiff_t)p * area;
        int32_t sum = 0;
#if defined(__x86_64__)
        if (avx2) sum = sum_s8_avx2(x, area);
        else
#endif
        for (int i = 0; i < area; i++) sum += x[i];
        // The reference adds (x - z) one at a time with wrapping; the total is the same mod 2^32.
        const int32_t acc = (int32_t)((uint32_t)sum - (uint32_t)zero_in * (uint32_t)area);
        Y[p] = (int8_t)vigil_requantize(acc, m, n, zero_out, -128, 127);
    }
}
