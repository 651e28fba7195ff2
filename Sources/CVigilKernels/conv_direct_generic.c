// Direct ("implicit GEMM") convolution without an im2col buffer: the input is copied once into a
// padded, unsigned (x + 128) layout in which every group of four reduction terms of one output
// position is four adjacent bytes, found at base + position * pos_stride + offsets[k4]. This file
// holds the layout copies, the portable reference of the kernel and the dispatch; the AVX-VNNI
// kernel is x86/conv_direct_vnni.c.
#include "vigil_kernels.h"
#include "dispatch.h"

void vigil_conv_pad_rows_u8(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                            int hp, int wp, uint8_t pad, uint8_t *P) {
    for (int c = 0; c < channels; c++)
        for (int r = 0; r < hp; r++) {
            uint8_t *dst = P + ((ptrdiff_t)c * hp + r) * wp;
            const int iy = r - pad_top;
            if (iy < 0 || iy >= in_h) {
                for (int col = 0; col < wp; col++) dst[col] = pad;
                continue;
            }
            const int8_t *src = X + ((ptrdiff_t)c * in_h + iy) * in_w;
            // Columns [lo, hi) of the padded row are input; the rest is padding.
            int lo = pad_left < wp ? pad_left : wp, hi = pad_left + in_w < wp ? pad_left + in_w : wp;
            int col = 0;
            for (; col < lo; col++) dst[col] = pad;
            for (; col < hi; col++) dst[col] = (uint8_t)src[col - pad_left] ^ 0x80;
            for (; col < wp; col++) dst[col] = pad;
        }
}

void vigil_conv_pad_quads_u8_generic(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                                     int hp, int wp, uint8_t pad, uint8_t *P) {
    const int c4n = (channels + 3) / 4;
    for (int c4 = 0; c4 < c4n; c4++)
        for (int r = 0; r < hp; r++) {
            uint8_t *dst = P + ((ptrdiff_t)c4 * hp + r) * wp * 4;
            const int iy = r - pad_top;
            for (int col = 0; col < wp; col++) {
                const int ix = col - pad_left;
                const int inside = iy >= 0 && iy < in_h && ix >= 0 && ix < in_w;
                for (int j = 0; j < 4; j++) {
                    const int c = 4 * c4 + j;
                    // Channels past the last one have weight 0: any value will do; pad keeps it defined.
                    dst[4 * col + j] = inside && c < channels ? (uint8_t)X[((ptrdiff_t)c * in_h + iy) * in_w + ix] ^ 0x80 : pad;
                }
            }
        }
}

void vigil_conv_u8s8_direct_generic(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride,
                                    int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                    int8_t *Y, ptrdiff_t ldc) {
    for (int r = 0; r < rows; r++) {
        const int32_t *wb = W + (ptrdiff_t)(r / 16) * K4 * 16 + r % 16;
        for (int p = 0; p < positions; p++) {
            const uint8_t *at = base + (ptrdiff_t)p * pos_stride;
            int32_t acc = 0;
            for (int k = 0; k < K4; k++) {
                const int8_t *w = (const int8_t *)(wb + (ptrdiff_t)k * 16);
                const uint8_t *u = at + offsets[k];
                for (int j = 0; j < 4; j++) acc += (int32_t)w[j] * (int32_t)u[j];
            }
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);  // wraps like the Swift &+
            Y[r * ldc + p] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}

#if defined(__x86_64__)
void vigil_conv_pad_quads_u8_avx2(const int8_t *, int, int, int, int, int, int, int, uint8_t, uint8_t *);
void vigil_conv_u8s8_direct_avxvnni(const int32_t *, int, const uint8_t *, ptrdiff_t, int, const int32_t *, int,
                                    const vigil_requant_rows *, int8_t *, ptrdiff_t);
void vigil_conv_u8s8_direct_avx512vnni(const int32_t *, int, const uint8_t *, ptrdiff_t, int, const int32_t *, int,
                                       const vigil_requant_rows *, int8_t *, ptrdiff_t);
void vigil_conv_u8s8_direct_avx2(const int32_t *, int, const uint8_t *, ptrdiff_t, int, const int32_t *, int,
                                 const vigil_requant_rows *, int8_t *, ptrdiff_t);
#endif

void vigil_conv_u8s8_direct(const int32_t *W, int rows, const uint8_t *base, ptrdiff_t pos_stride, int positions,
                            const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    vigil_conv_u8s8_direct_v(vigil_kernel_selected(), W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
}

void vigil_conv_u8s8_direct_v(vigil_kernel_variant v, const int32_t *W, int rows, const uint8_t *base,
                              ptrdiff_t pos_stride, int positions, const int32_t *offsets, int K4,
                              const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) {
        vigil_conv_u8s8_direct_avx512vnni(W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
        return;
    }
    if (v == VIGIL_KERNEL_AVXVNNI) {
        vigil_conv_u8s8_direct_avxvnni(W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
        return;
    }
    if (v == VIGIL_KERNEL_AVX2) {
        vigil_conv_u8s8_direct_avx2(W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
        return;
    }
#endif
    (void)v;
    vigil_conv_u8s8_direct_generic(W, rows, base, pos_stride, positions, offsets, K4, q, Y, ldc);
}

void vigil_conv_pad_quads_u8(const int8_t *X, int channels, int in_h, int in_w, int pad_top, int pad_left,
                             int hp, int wp, uint8_t pad, uint8_t *P) {
    vigil_conv_pad_quads_u8_v(vigil_kernel_selected(), X, channels, in_h, in_w, pad_top, pad_left, hp, wp, pad, P);
}

void vigil_conv_pad_quads_u8_v(vigil_kernel_variant v, const int8_t *X, int channels, int in_h, int in_w, int pad_top,
                               int pad_left, int hp, int wp, uint8_t pad, uint8_t *P) {
#if defined(__x86_64__)
    if (vigil_variant_avx2(v)) {
        vigil_conv_pad_quads_u8_avx2(X, channels, in_h, in_w, pad_top, pad_left, hp, wp, pad, P);
        return;
    }
#endif
    (void)v;
    vigil_conv_pad_quads_u8_generic(X, channels, in_h, in_w, pad_top, pad_left, hp, wp, pad, P);
}
