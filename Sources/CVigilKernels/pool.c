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
#endif

static inline int first_inside(int origin, int dilation) {
    // Smallest k >= 0 with origin + k * dilation >= 0.
    return origin >= 0 ? 0 : (-origin + dilation - 1) / dilation;
}

void vigil_maxpool_s8(const int8_t *X, const vigil_pool_geometry *geometry, int8_t *Y) {
    // A local copy: stores through the int8 output may alias anything, and would otherwise make
    // the compiler reload every field in the inner loops.
    const vigil_pool_geometry g = *geometry;
    // Output columns [ox_lo, ox_hi) have their whole window inside the row (a contiguous range:
    // the window start grows with ox).
    int ox_lo = 0, ox_hi = 0;
    while (ox_lo < g.out_w && ox_lo * g.stride_w - g.pad_left < 0) ox_lo++;
    for (int ox = ox_lo; ox < g.out_w; ox++)
        if (ox * g.stride_w - g.pad_left + (g.k_w - 1) * g.dilation_w < g.in_w) ox_hi = ox + 1;
    if (ox_hi < ox_lo) ox_hi = ox_lo;
    const int pairs = g.k_w == 2 && g.stride_w == 2 && g.dilation_w == 1;
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

void vigil_global_avgpool_s8(const int8_t *X, int planes, int area, int32_t zero_in, int32_t m, int32_t n,
                             int32_t zero_out, int8_t *Y) {
    for (int p = 0; p < planes; p++) {
        const int8_t *x = X + (ptrdiff_t)p * area;
        int32_t sum = 0;
        for (int i = 0; i < area; i++) sum += x[i];
        // The reference adds (x - z) one at a time with wrapping; the total is the same mod 2^32.
        const int32_t acc = (int32_t)((uint32_t)sum - (uint32_t)zero_in * (uint32_t)area);
        Y[p] = (int8_t)vigil_requantize(acc, m, n, zero_out, -128, 127);
    }
}
