// Depthwise int8 convolution body, included once per variant (depthwise_generic.c, x86/depthwise_avx2.c)
// so the compiler vectorizes the same exact-integer code for each instruction set: interior
// outputs (window fully inside the input) run taps-outer, positions-inner without bounds checks;
// border outputs clip the window. Bit-identical with the Swift reference.
// Expects VIGIL_DW_NAME(x) (the symbol for this variant) and VIGIL_DW_ATTR (its target attribute).
#include "vigil_kernels.h"
#ifndef VIGIL_DW_ROW_MAX
#define VIGIL_DW_ROW_MAX 4096
#endif

// Output columns [x0, x1) of a row whose window lies inside the input horizontally.
static void VIGIL_DW_NAME(interior_columns)(const vigil_depthwise_geometry *g, int *x0, int *x1) {
    int lo = (g->pad_left + g->stride_w - 1) / g->stride_w;  // first ox with ix0 >= 0
    int span = (g->k_w - 1) * g->dilation_w;
    int hi = g->in_w - 1 - span + g->pad_left;               // last ox * stride_w allowed
    hi = hi < 0 ? -1 : hi / g->stride_w;
    if (hi > g->out_w - 1) hi = g->out_w - 1;
    *x0 = lo > g->out_w ? g->out_w : lo;
    *x1 = hi + 1 < *x0 ? *x0 : hi + 1;
}


VIGIL_DW_ATTR void VIGIL_DW_NAME(vigil_depthwise_s8)(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                        const vigil_requant_rows *q, int8_t *Y) {
    const int32_t zx = g->input_zero_point;
    const int kArea = g->k_h * g->k_w;
    int x0, x1;
    VIGIL_DW_NAME(interior_columns)(g, &x0, &x1);
    const int rowwise = g->out_w <= VIGIL_DW_ROW_MAX && x1 > x0;
    int32_t acc_row[VIGIL_DW_ROW_MAX];
    for (int oc = 0; oc < g->channels * g->multiplier; oc++) {
        const int8_t *plane = X + (ptrdiff_t)(oc / g->multiplier) * g->in_h * g->in_w;
        const int8_t *w = W + (ptrdiff_t)oc * kArea;
        int8_t *out = Y + (ptrdiff_t)oc * g->out_h * g->out_w;
        const int32_t m = q->multiplier[oc], n = q->shift[oc], b = q->bias[oc];
        for (int oy = 0; oy < g->out_h; oy++) {
            const int iy0 = oy * g->stride_h - g->pad_top;
            const int yInside = iy0 >= 0 && iy0 + (g->k_h - 1) * g->dilation_h < g->in_h;
            if (yInside && rowwise) {
                // Interior columns: taps outer, output positions inner (contiguous for stride 1,
                // which compilers vectorize); then the border columns below.
                for (int ox = x0; ox < x1; ox++) acc_row[ox] = 0;
                for (int ky = 0; ky < g->k_h; ky++) {
                    const int8_t *row = plane + (ptrdiff_t)(iy0 + ky * g->dilation_h) * g->in_w;
                    for (int kx = 0; kx < g->k_w; kx++) {
                        const int32_t wv = w[ky * g->k_w + kx];
                        const int8_t *src = row + kx * g->dilation_w - g->pad_left;
                        if (g->stride_w == 1) {
                            int ox = x0;
#ifdef VIGIL_DW_ROW8
                            for (; ox + 8 <= x1; ox += 8) VIGIL_DW_ROW8(acc_row + ox, src + ox, zx, wv);
#endif
                            for (; ox < x1; ox++) acc_row[ox] += ((int32_t)src[ox] - zx) * wv;
                        } else if (g->stride_w == 2) {
                            int ox = x0;
#ifdef VIGIL_DW_ROW8_S2
                            // reads src[2 * ox .. 2 * ox + 15]; stop early enough to stay inside the row
                            for (; ox + 8 <= x1 && 2 * ox + 16 <= g->in_w + g->pad_left - kx * g->dilation_w; ox += 8)
                                VIGIL_DW_ROW8_S2(acc_row + ox, src + 2 * ox, zx, wv);
#endif
                            for (; ox < x1; ox++) acc_row[ox] += ((int32_t)src[2 * ox] - zx) * wv;
                        } else {
                            for (int ox = x0; ox < x1; ox++) acc_row[ox] += ((int32_t)src[ox * g->stride_w] - zx) * wv;
                        }
                    }
                }
                int ox = x0;
#ifdef VIGIL_DW_REQUANT8
                for (; ox + 8 <= x1; ox += 8)
                    VIGIL_DW_REQUANT8(acc_row + ox, b, m, n, q->zero_point, q->lo, q->hi, out + (ptrdiff_t)oy * g->out_w + ox);
#endif
                for (; ox < x1; ox++) {
                    int32_t acc = (int32_t)((uint32_t)acc_row[ox] + (uint32_t)b);
                    out[(ptrdiff_t)oy * g->out_w + ox] = (int8_t)vigil_requantize(acc, m, n, q->zero_point, q->lo, q->hi);
                }
            }
            for (int ox = 0; ox < g->out_w; ox++) {
                if (yInside && rowwise && ox >= x0 && ox < x1) { ox = x1 - 1; continue; }
                const int ix0 = ox * g->stride_w - g->pad_left;
                int32_t acc = 0;
                if (yInside && ix0 >= 0 && ix0 + (g->k_w - 1) * g->dilation_w < g->in_w) {
                    for (int ky = 0; ky < g->k_h; ky++) {
                        const int8_t *row = plane + (ptrdiff_t)(iy0 + ky * g->dilation_h) * g->in_w + ix0;
                        const int8_t *wr = w + ky * g->k_w;
                        for (int kx = 0; kx < g->k_w; kx++) acc += ((int32_t)row[kx * g->dilation_w] - zx) * wr[kx];
                    }
                } else {
                    for (int ky = 0; ky < g->k_h; ky++) {
                        const int iy = iy0 + ky * g->dilation_h;
                        if (iy < 0 || iy >= g->in_h) continue;
                        for (int kx = 0; kx < g->k_w; kx++) {
                            const int ix = ix0 + kx * g->dilation_w;
                            if (ix < 0 || ix >= g->in_w) continue;
                            acc += ((int32_t)plane[(ptrdiff_t)iy * g->in_w + ix] - zx) * w[ky * g->k_w + kx];
                        }
                    }
                }
                acc = (int32_t)((uint32_t)acc + (uint32_t)b);
                out[(ptrdiff_t)oy * g->out_w + ox] = (int8_t)vigil_requantize(acc, m, n, q->zero_point, q->lo, q->hi);
            }
        }
    }
}
