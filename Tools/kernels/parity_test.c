/* Runs every kernel variant this CPU supports against the generic C kernel on random shapes and
 * data (including K tails, -128/127 extremes and wrap-prone biases) and requires identical bytes.
 * The generic kernel is itself pinned to the Swift reference by KernelParityTests on x86. */
#include "vigil_kernels.h"
#include "vigil_parallel.h"
#include "vigil_plan.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vigil_gemm_s8_neon(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_s8_dotprod(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

/* Direct convolution (vigil_conv_u8s8_direct) against a naive convolution straight from the
 * definition (acc = bias + sum over taps inside the input of (x - zx) * w), in both input layouts
 * (padded rows with taps in the quad, channels-last with channels in the quad), 1D and 2D. */
/* When set, every channel's shift lies in [33, 54]: the AVX-512 kernel's blocks then take the path
 * with the zero point folded into the rounding term (and a ReLU6-style hi on odd trials). */
static int direct_folded;

static int check_direct(int trial, int *checked) {
    int cin = 1 + next() % 20, cout = 1 + next() % (trial % 3 == 0 ? 72 : 40), kh = trial % 2 ? 1 : 1 + next() % 3, kw = 1 + next() % 9;
    /* Now and then a long reduction (K4 past 256, as in 3x3 layers over 120+ channels) */
    if (trial % 25 == 12) { cin = 120 + next() % 20; kh = 2 + next() % 2; }
    int ih = kh == 1 && trial % 4 == 1 ? 1 : kh + next() % 6, iw = kw + next() % 40;
    int sh = 1 + next() % 2, sw = 1 + next() % 3, pt = next() % 3, pl = next() % 4, pb = next() % 3, pr = next() % 4;
    int dh = 1 + (kh > 1 ? next() % 2 : 0), dw = 1;
    if (kh > 0) { int ekh = (kh - 1) * dh + 1; if (ih + pt + pb < ekh) ih = ekh; }
    int oh = (ih + pt + pb - ((kh - 1) * dh + 1)) / sh + 1, ow = (iw + pl + pr - kw) / sw + 1;
    int extreme = trial % 5 == 0;
    int32_t zx = extreme ? (next() & 1 ? -128 : 127) : (int32_t)(next() % 256) - 128;
    int8_t *X = malloc((size_t)cin * ih * iw), *Wt = malloc((size_t)cout * cin * kh * kw);
    for (int i = 0; i < cin * ih * iw; i++) X[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
    for (int i = 0; i < cout * cin * kh * kw; i++) Wt[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
    int32_t *bias = malloc(4 * cout), *mult = malloc(4 * cout), *shift = malloc(4 * cout), *bias4 = malloc(4 * cout);
    for (int r = 0; r < cout; r++) {
        bias[r] = extreme ? (next() & 1 ? INT32_MAX - 5 : INT32_MIN + 5) : (int32_t)(next() % 200001) - 100000;
        mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
        shift[r] = direct_folded ? 33 + (int32_t)(next() % 22) : 28 + (int32_t)(next() % 20);
        int32_t sum = 0;
        for (int k = 0; k < cin * kh * kw; k++) sum += Wt[r * cin * kh * kw + k];
        bias4[r] = (int32_t)((uint32_t)bias[r] - (uint32_t)(zx + 128) * (uint32_t)sum);
    }
    int32_t zp = (int32_t)(next() % 256) - 128, lo = -128, hi = 127;
    if (trial % 3 == 0) { lo = zp; }  /* fused relu */
    if (direct_folded && trial % 2) hi = zp + 40 < 127 ? zp + 40 : 127;  /* relu6-style upper clamp */
    vigil_requant_rows q4 = {bias4, mult, shift, zp, lo, hi};
    int8_t *ref = malloc((size_t)cout * oh * ow), *got = malloc((size_t)cout * oh * ow);
    for (int r = 0; r < cout; r++)
        for (int oy = 0; oy < oh; oy++)
            for (int ox = 0; ox < ow; ox++) {
                int32_t acc = 0;
                for (int c = 0; c < cin; c++)
                    for (int ky = 0; ky < kh; ky++)
                        for (int kx = 0; kx < kw; kx++) {
                            int iy = oy * sh - pt + ky * dh, ix = ox * sw - pl + kx * dw;
                            if (iy < 0 || iy >= ih || ix < 0 || ix >= iw) continue;
                            acc += (X[(c * ih + iy) * iw + ix] - zx) * Wt[((r * cin + c) * kh + ky) * kw + kx];
                        }
                acc = (int32_t)((uint32_t)acc + (uint32_t)bias[r]);
                ref[(r * oh + oy) * ow + ox] = (int8_t)vigil_requantize(acc, mult[r], shift[r], zp, lo, hi);
            }
    int failures = 0;
    const uint8_t pad = (uint8_t)(zx + 128);
    for (int layout = 0; layout < 2; layout++) {
        int hp = (oh - 1) * sh + (kh - 1) * dh + 1, kq = (kw + 3) / 4, c4 = (cin + 3) / 4;
        int wp = layout == 0 ? (ow - 1) * sw + 4 * kq : (ow - 1) * sw + (kw - 1) * dw + 1;
        int K4 = layout == 0 ? cin * kh * kq : kh * kw * c4, blocks = (cout + 15) / 16;
        size_t bytes = layout == 0 ? (size_t)cin * hp * wp : (size_t)c4 * hp * wp * 4;
        uint8_t *P = malloc(bytes);
        int32_t *off = malloc(4 * K4), *Wq = calloc((size_t)blocks * K4 * 16, 4);
        ptrdiff_t ps, rs;
        if (layout == 0) {
            vigil_conv_pad_rows_u8(X, cin, ih, iw, pt, pl, hp, wp, pad, P);
            ps = sw; rs = (ptrdiff_t)sh * wp;
            for (int c = 0; c < cin; c++) for (int ky = 0; ky < kh; ky++) for (int j = 0; j < kq; j++) {
                int k = (c * kh + ky) * kq + j;
                off[k] = (c * hp + ky * dh) * wp + 4 * j;
                for (int r = 0; r < cout; r++) for (int t = 0; t < 4; t++)
                    if (4 * j + t < kw) ((int8_t *)&Wq[((r / 16) * K4 + k) * 16 + r % 16])[t] = Wt[((r * cin + c) * kh + ky) * kw + 4 * j + t];
            }
        } else {
            ps = (ptrdiff_t)sw * 4; rs = (ptrdiff_t)sh * wp * 4;
            for (int ky = 0; ky < kh; ky++) for (int kx = 0; kx < kw; kx++) for (int j = 0; j < c4; j++) {
                int k = (ky * kw + kx) * c4 + j;
                off[k] = ((j * hp + ky * dh) * wp + kx * dw) * 4;
                for (int r = 0; r < cout; r++) for (int t = 0; t < 4; t++)
                    if (4 * j + t < cin) ((int8_t *)&Wq[((r / 16) * K4 + k) * 16 + r % 16])[t] = Wt[((r * cin + 4 * j + t) * kh + ky) * kw + kx];
            }
        }
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_supported((vigil_kernel_variant)v)) continue;
            vigil_kernel_select((vigil_kernel_variant)v);
            if (layout == 1) {
                memset(P, 0xA5, bytes);
                vigil_conv_pad_quads_u8(X, cin, ih, iw, pt, pl, hp, wp, pad, P);
            }
            memset(got, 0x55, (size_t)cout * oh * ow);
            for (int oy = 0; oy < oh; oy++)
                vigil_conv_u8s8_direct(Wq, cout, P + oy * rs, ps, ow, off, K4, &q4, got + oy * ow, (ptrdiff_t)oh * ow);
            (*checked)++;
            if (memcmp(ref, got, (size_t)cout * oh * ow) != 0) {
                failures++;
                fprintf(stderr, "%s direct conv (layout %d) differs from the definition: cin %d cout %d %dx%d k%dx%d s%d,%d\n",
                        vigil_kernel_name((vigil_kernel_variant)v), layout, cin, cout, ih, iw, kh, kw, sh, sw);
            }
        }
        free(P); free(off); free(Wq);
    }
    free(X); free(Wt); free(bias); free(mult); free(shift); free(bias4); free(ref); free(got);
    return failures;
}

/* vigil_depthwise_s8 (every variant, with its scratch) against the definition: acc = bias + sum over
 * taps inside the input of (x - zx) * w, then vigil_requantize. Shapes cover the vectorized planes
 * (stride 1 and 2, kernels of 1 to 9 columns, vertical dilation, asymmetric padding, planes from 1x1
 * to wider than a vector, channel multipliers) and the fallbacks (stride 3, mixed strides, horizontal
 * dilation); shifts from 20 to 50 reach both the vector requantization (n >= 32 or 33) and the
 * lane-by-lane one; ReLU and ReLU6-style clamps. */
/* When set: {in_h, in_w, stride, pad_top, pad_left, pad_bottom, pad_right, input zero point (999:
 * random)} of a 3x3 depthwise layer that check_depthwise uses instead of a random shape (the rest
 * stays random). */
static const int *dw_force;

static int check_depthwise(int trial, int *checked) {
    vigil_depthwise_geometry g;
    const int odd = trial % 10 == 9;
    g.channels = 1 + next() % 6; g.multiplier = trial % 4 == 3 ? 2 : 1;
    if (trial % 24 == 11) { g.channels = 1; g.multiplier = 2 + next() % 16; }  /* one input channel, Cout outputs (odd and even) */
    g.k_h = trial % 7 == 0 ? 1 + next() % 5 : 3; g.k_w = trial % 7 == 0 ? 1 + next() % 9 : 3;
    g.stride_h = odd ? 1 + next() % 3 : 1 + trial % 2; g.stride_w = odd ? 1 + next() % 3 : g.stride_h;
    g.dilation_h = trial % 5 == 1 ? 2 : 1; g.dilation_w = odd && next() % 2 ? 2 : 1;
    g.pad_top = next() % 3; g.pad_left = next() % 3;
    int pb = next() % 3, pr = next() % 3;
    g.in_h = 1 + next() % (trial % 3 == 0 ? 40 : 9); g.in_w = 1 + next() % (trial % 3 == 0 ? 150 : 12);
    if (dw_force) {
        g.in_h = dw_force[0]; g.in_w = dw_force[1]; g.stride_h = g.stride_w = dw_force[2];
        g.pad_top = dw_force[3]; g.pad_left = dw_force[4]; pb = dw_force[5]; pr = dw_force[6];
        g.k_h = g.k_w = 3; g.dilation_h = g.dilation_w = 1;
    }
    const int eh = (g.k_h - 1) * g.dilation_h + 1, ew = (g.k_w - 1) * g.dilation_w + 1;
    if (g.in_h + g.pad_top + pb < eh) g.in_h = eh;
    if (g.in_w + g.pad_left + pr < ew) g.in_w = ew;
    g.out_h = (g.in_h + g.pad_top + pb - eh) / g.stride_h + 1;
    g.out_w = (g.in_w + g.pad_left + pr - ew) / g.stride_w + 1;
    const int extreme = trial % 6 == 0;
    g.input_zero_point = extreme ? (next() & 1 ? -128 : 127) : (int32_t)(next() % 256) - 128;
    if (dw_force && dw_force[7] != 999) g.input_zero_point = dw_force[7];
    const int oc = g.channels * g.multiplier, ka = g.k_h * g.k_w;
    const int nin = g.channels * g.in_h * g.in_w, nout = oc * g.out_h * g.out_w;
    int8_t *X = malloc(nin), *Wt = malloc((size_t)oc * ka), *ref = malloc(nout), *got = malloc(nout);
    for (int i = 0; i < nin; i++) X[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
    for (int i = 0; i < oc * ka; i++) Wt[i] = extreme ? (next() & 1 ? 127 : (trial % 12 == 0 ? -128 : -127)) : (int8_t)(next() % 255 - 127);
    int32_t *bias = malloc(4 * oc), *mult = malloc(4 * oc), *shift = malloc(4 * oc);
    for (int r = 0; r < oc; r++) {
        bias[r] = extreme && r % 2 ? (next() & 1 ? INT32_MAX - 3 : INT32_MIN + 3) : (int32_t)(next() % 20001) - 10000;
        mult[r] = next() % 17 == 0 ? 0 : (int32_t)((1u << 30) + (next() % (1u << 30)));
        shift[r] = 20 + (int32_t)(next() % 31);
    }
    int32_t zp = (int32_t)(next() % 256) - 128, lo = -128, hi = 127;
    if (trial % 3 == 1) lo = zp;                                   /* relu */
    if (trial % 3 == 2) { lo = zp > -100 ? zp : -100; hi = lo + (int32_t)(next() % 40); if (hi > 127) hi = 127; } /* relu6-like */
    vigil_requant_rows q = {bias, mult, shift, zp, lo, hi};
    for (int o = 0; o < oc; o++)
        for (int oy = 0; oy < g.out_h; oy++)
            for (int ox = 0; ox < g.out_w; ox++) {
                int32_t acc = 0;
                for (int ky = 0; ky < g.k_h; ky++)
                    for (int kx = 0; kx < g.k_w; kx++) {
                        int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h, ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                        if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                        acc += (X[((o / g.multiplier) * g.in_h + iy) * g.in_w + ix] - g.input_zero_point) * Wt[o * ka + ky * g.k_w + kx];
                    }
                acc = (int32_t)((uint32_t)acc + (uint32_t)bias[o]);
                ref[(o * g.out_h + oy) * g.out_w + ox] = (int8_t)vigil_requantize(acc, mult[o], shift[o], zp, lo, hi);
            }
    const size_t sb = vigil_depthwise_s8_scratch_bytes(&g);
    uint8_t *scratch = sb ? malloc(sb) : NULL;
    int failures = 0;
    for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
        if (!vigil_kernel_supported((vigil_kernel_variant)v)) continue;
        vigil_kernel_select((vigil_kernel_variant)v);
        if (scratch) memset(scratch, (int)(next() & 0xFF), sb);
        memset(got, 0x55, nout);
        vigil_depthwise_s8(X, Wt, &g, &q, scratch, got);
        (*checked)++;
        if (memcmp(ref, got, nout) != 0) {
            failures++;
            fprintf(stderr, "%s depthwise differs from the definition: c%d x%d %dx%d k%dx%d s%d,%d d%d,%d p%d,%d zx %d\n",
                    vigil_kernel_name((vigil_kernel_variant)v), g.channels, g.multiplier, g.in_h, g.in_w, g.k_h, g.k_w,
                    g.stride_h, g.stride_w, g.dilation_h, g.dilation_w, g.pad_top, g.pad_left, g.input_zero_point);
        }
    }
    free(scratch); free(X); free(Wt); free(ref); free(got); free(bias); free(mult); free(shift);
    return failures;
}

/* vigil_maxpool_s8 and vigil_global_avgpool_s8 against the definitions (padding never wins; the
 * average requantizes the wrapped sum of x - zero point). */
static int check_pools(void) {
    int failures = 0;
    for (int t = 0; t < 2000; t++) {
        vigil_pool_geometry g;
        g.planes = 1 + next() % 4; g.k_h = 1 + next() % 3; g.k_w = t % 3 == 0 ? 2 : 1 + next() % 4;
        g.stride_h = 1 + next() % 3; g.stride_w = t % 3 == 0 ? 2 : 1 + next() % 3;
        g.dilation_h = 1 + next() % 2; g.dilation_w = t % 3 == 0 ? 1 : 1 + next() % 2;
        g.pad_top = next() % 3; g.pad_left = next() % 4;
        int pb = next() % 3, pr = next() % 4;
        g.in_h = 1 + next() % 6; g.in_w = 1 + next() % 40;
        /* Every third: non-overlapping windows of 4 (the AVX2 quad path), rows long enough for it. */
        if (t % 3 == 1) { g.k_w = 4; g.stride_w = 4; g.dilation_w = 1; g.in_w = 1 + next() % 150; }
        int eh = (g.k_h - 1) * g.dilation_h + 1, ew = (g.k_w - 1) * g.dilation_w + 1;
        if (g.in_h + g.pad_top + pb < eh || g.in_w + g.pad_left + pr < ew) continue;
        g.out_h = (g.in_h + g.pad_top + pb - eh) / g.stride_h + 1;
        g.out_w = (g.in_w + g.pad_left + pr - ew) / g.stride_w + 1;
        int n = g.planes * g.in_h * g.in_w, m = g.planes * g.out_h * g.out_w;
        int8_t *X = malloc(n), *Y = malloc(m), *R = malloc(m);
        for (int i = 0; i < n; i++) X[i] = t % 7 == 0 ? (next() & 1 ? 127 : -128) : (int8_t)next();
        for (int p = 0; p < g.planes; p++)
            for (int oy = 0; oy < g.out_h; oy++)
                for (int ox = 0; ox < g.out_w; ox++) {
                    int v = -128;
                    for (int ky = 0; ky < g.k_h; ky++)
                        for (int kx = 0; kx < g.k_w; kx++) {
                            int iy = oy * g.stride_h - g.pad_top + ky * g.dilation_h, ix = ox * g.stride_w - g.pad_left + kx * g.dilation_w;
                            if (iy < 0 || iy >= g.in_h || ix < 0 || ix >= g.in_w) continue;
                            if (X[(p * g.in_h + iy) * g.in_w + ix] > v) v = X[(p * g.in_h + iy) * g.in_w + ix];
                        }
                    R[(p * g.out_h + oy) * g.out_w + ox] = (int8_t)v;
                }
        vigil_maxpool_s8(X, &g, Y);
        if (memcmp(Y, R, m) != 0) { failures++; fprintf(stderr, "max pool differs: k%dx%d s%d,%d\n", g.k_h, g.k_w, g.stride_h, g.stride_w); }
        int32_t zin = (int32_t)(next() % 256) - 128, zout = (int32_t)(next() % 256) - 128;
        int32_t mult = (int32_t)((1u << 30) + (next() % (1u << 30))), shift = 25 + (int32_t)(next() % 20);
        vigil_global_avgpool_s8(X, g.planes, g.in_h * g.in_w, zin, mult, shift, zout, Y);
        for (int p = 0; p < g.planes; p++) {
            int32_t acc = 0;
            for (int i = 0; i < g.in_h * g.in_w; i++) acc += X[p * g.in_h * g.in_w + i] - zin;
            if (Y[p] != (int8_t)vigil_requantize(acc, mult, shift, zout, -128, 127)) { failures++; fprintf(stderr, "global average pool differs\n"); break; }
        }
        free(X); free(Y); free(R);
    }
    return failures;
}

/* vigil_quantize_f32_s8: every variant against the generic one on ties, NaN, infinities and
 * arbitrary bit patterns. */
static int check_quantize(void) {
    int failures = 0;
    static float X[777];
    static int8_t A[777], B[777];
    for (int t = 0; t < 300; t++) {
        const float scale = t % 3 == 0 ? 1.0f / 256 : (float)(next() % 100000 + 1) / 1e6f;
        const int32_t zp = (int32_t)(next() % 256) - 128, lo = t % 2 ? zp : -128;
        const int n = 1 + (int)(next() % 777);
        for (int i = 0; i < n; i++) {
            uint32_t r = (uint32_t)next();
            if (i % 3 == 0) memcpy(&X[i], &r, 4);
            else if (i % 3 == 1) X[i] = ((int)(next() % 512) - 256 + 0.5f) * scale;
            else X[i] = ((float)(int32_t)r / 2147483648.0f) * 200 * scale;
        }
        vigil_kernel_select(VIGIL_KERNEL_GENERIC);
        vigil_quantize_f32_s8(X, n, scale, zp, lo, 127, A);
        for (int v = 1; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            vigil_quantize_f32_s8(X, n, scale, zp, lo, 127, B);
            if (memcmp(A, B, n) != 0) { failures++; fprintf(stderr, "%s quantize differs\n", vigil_kernel_name((vigil_kernel_variant)v)); }
        }
    }
    return failures;
}

/* vigil_gemv_u8s8 (every variant) against vigil_gemm_s8_generic on one column, with the shift's
 * -128 * sum(row) folded into its bias: rows around the 8-row blocks, K around multiples of 64
 * (masked tails), shifts on both sides of 32, extreme inputs and biases (wrapping sums), strided
 * and contiguous outputs. */
static int check_gemv(int *checked) {
    int failures = 0;
    for (int t = 0; t < 400; t++) {
        const int rows = 1 + (int)(next() % 40), K = t % 4 == 0 ? 64 * (1 + (int)(next() % 4)) + (int)(next() % 3) - 1 : 1 + (int)(next() % 300);
        const int extreme = t % 5 == 0;
        const ptrdiff_t ldr = t % 3 == 0 ? 3 : 1;
        int8_t *A = malloc((size_t)rows * K), *b = malloc(K), *ref = malloc((size_t)rows * ldr), *got = malloc((size_t)rows * ldr);
        int32_t *bias = malloc(4 * rows), *bias8 = malloc(4 * rows), *mult = malloc(4 * rows), *shift = malloc(4 * rows);
        for (int i = 0; i < rows * K; i++) A[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
        for (int i = 0; i < K; i++) b[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
        for (int r = 0; r < rows; r++) {
            bias[r] = extreme && r % 2 ? (next() & 1 ? INT32_MAX - 5 : INT32_MIN + 5) : (int32_t)(next() % 200001) - 100000;
            mult[r] = next() % 17 == 0 ? 0 : (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 20 + (int32_t)(next() % 31);
            int32_t sum = 0;
            for (int k = 0; k < K; k++) sum += A[r * K + k];
            bias8[r] = (int32_t)((uint32_t)bias[r] - 128u * (uint32_t)sum);
        }
        const int32_t zp = (int32_t)(next() % 256) - 128, lo = t % 2 ? zp : -128, hi = t % 7 == 3 ? 100 : 127;
        vigil_requant_rows q = {bias, mult, shift, zp, lo < hi ? lo : hi, hi}, q8 = q;
        q8.bias = bias8;
        memset(ref, 0x11, (size_t)rows * ldr);
        vigil_gemm_s8_generic(A, b, rows, 1, K, &q, ref, ldr, 1);
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            memset(got, 0x11, (size_t)rows * ldr);
            vigil_gemv_u8s8(A, b, rows, K, &q8, got, ldr);
            (*checked)++;
            if (memcmp(ref, got, (size_t)rows * ldr) != 0) {
                failures++;
                fprintf(stderr, "%s gemv u8s8 differs: rows %d K %d ldr %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, K, (int)ldr);
            }
        }
        free(A); free(b); free(ref); free(got); free(bias); free(bias8); free(mult); free(shift);
    }
    return failures;
}

/* vigil_gemm_u8s8_k4 (every variant) against vigil_gemm_u8s8_k4_generic on the shapes of small-K
 * 1x1 convolutions: the AVX512-VNNI column-block path (K4 <= 40, >= 12 rows, >= 128 columns), in
 * place and copied (row strides that are multiples of 4 KiB), with row counts off the 6-row tiles
 * and partial last panels; shifts 1..62 (the zero point folded into the rounding for 33..54, the
 * 64-bit rule below 33), extreme zero points, inputs and biases, ReLU- and ReLU6-style clamps;
 * and more rows than that path prepares constants for (1030 > 1024). The second line of shapes
 * reaches the narrow-panel kernel: last panels of 1-48 positions (one to three vectors, row counts
 * around its 24-, 12- and 8-row tiles), of 49-52 positions (48 plus columns one by one, 7 x 7
 * layers) with K4 up to its limit, and one just past the limit (K4 1050: the full panel). */
static int check_quads_small(int *checked) {
    static const int shapes[][3] = {  /* rows, K, cols */
        {96, 16, 3136}, {144, 24, 784}, {16, 32, 1000}, {24, 96, 448}, {12, 4, 128}, {13, 1, 130}, {97, 40, 1093},
        {24, 64, 1024}, {30, 160, 512}, {12, 36, 4096}, {17, 33, 1024}, {50, 161, 256}, {19, 100, 2048}, {61, 8, 191}, {1030, 8, 130},
        {1, 64, 49}, {7, 960, 49}, {25, 320, 113}, {24, 576, 196}, {23, 384, 196}, {61, 12, 52}, {9, 4096, 50},
        {8, 4200, 50}, {13, 3, 16}, {12, 40, 32}, {11, 100, 81}, {26, 7, 17}, {9, 250, 48}, {1280, 20, 49}};
    int failures = 0;
    for (size_t si = 0; si < sizeof shapes / sizeof shapes[0]; si++)
        for (int mode = 0; mode < 3; mode++) {
            const int rows = shapes[si][0], K = shapes[si][1], cols = shapes[si][2], K4 = (K + 3) / 4;
            uint8_t *U = malloc((size_t)K4 * cols * 4);
            int32_t *A = calloc((size_t)rows * K4, 4), *bias = malloc(4 * rows), *mult = malloc(4 * rows), *shift = malloc(4 * rows);
            int8_t *ref = malloc((size_t)rows * cols), *got = malloc((size_t)rows * cols);
            for (size_t i = 0; i < (size_t)K4 * cols * 4; i++) U[i] = mode == 1 ? (next() & 1 ? 255 : 0) : (uint8_t)next();
            for (int r = 0; r < rows; r++) {
                for (int k = 0; k < K; k++) ((int8_t *)(A + (size_t)r * K4))[k] = mode == 1 ? (next() & 1 ? 127 : -128) : (int8_t)next();
                bias[r] = mode == 1 && r % 3 == 0 ? (next() & 1 ? INT32_MAX - 5 : INT32_MIN + 5) : (int32_t)(next() % 200001) - 100000;
                mult[r] = next() % 13 == 0 ? 0 : (int32_t)((1u << 30) + (next() % (1u << 30)));
                shift[r] = mode == 0 ? 33 + (int32_t)(next() % 22) : mode == 1 ? 1 + (int32_t)(next() % 62) : 28 + (int32_t)(next() % 30);
            }
            const int32_t zp = mode == 1 ? (next() & 1 ? 127 : -128) : (int32_t)(next() % 256) - 128;
            const int32_t lo = mode == 2 ? zp : -128, hi = mode == 2 && zp + 60 < 127 ? zp + 60 : (mode == 0 && si % 2 ? 100 : 127);
            vigil_requant_rows q = {bias, mult, shift, zp, lo < hi ? lo : hi, hi};
            vigil_gemm_u8s8_k4_generic(A, U, rows, cols, K4, &q, ref, cols);
            for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
                if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
                memset(got, 0x55, (size_t)rows * cols);
                vigil_gemm_u8s8_k4(A, U, rows, cols, K4, &q, got, cols);
                (*checked)++;
                if (memcmp(ref, got, (size_t)rows * cols) != 0) {
                    failures++;
                    fprintf(stderr, "%s u8s8 quads differ: rows %d K %d cols %d mode %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, K, cols, mode);
                }
            }
            free(U); free(A); free(bias); free(mult); free(shift); free(ref); free(got);
        }
    return failures;
}

/* vigil_pack_quads_u8 (every variant) against vigil_pack_quads_u8_generic: channel counts with and
 * without a partial last quad, position counts around the 32- and 64-position steps (masked tails),
 * planes with a row stride past the positions. */
void vigil_pack_quads_u8_generic(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U);  /* (internal) */
static int check_pack(int *checked) {
    int failures = 0;
    for (int t = 0; t < 400; t++) {
        const int channels = 1 + (int)(next() % 21), positions = t % 4 == 0 ? 1 + (int)(next() % 300) : 1 + (int)(next() % 70);
        const ptrdiff_t plane = positions + (t % 3 ? 0 : (ptrdiff_t)(next() % 9));
        const size_t ubytes = (size_t)((channels + 3) / 4) * positions * 4;
        int8_t *X = malloc((size_t)channels * plane);
        uint8_t *ref = malloc(ubytes + 64), *got = malloc(ubytes + 64);  /* 64 guard bytes: nothing may be written past U */
        for (ptrdiff_t i = 0; i < channels * plane; i++) X[i] = (int8_t)next();
        memset(ref, 0x3C, ubytes + 64);
        vigil_pack_quads_u8_generic(X, plane, channels, positions, ref);
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            memset(got, 0x3C, ubytes + 64);
            vigil_pack_quads_u8(X, plane, channels, positions, got);
            (*checked)++;
            if (memcmp(ref, got, ubytes + 64) != 0) {
                failures++;
                fprintf(stderr, "%s pack quads differs: channels %d positions %d plane %d\n", vigil_kernel_name((vigil_kernel_variant)v), channels, positions, (int)plane);
            }
        }
        free(X); free(ref); free(got);
    }
    return failures;
}

/* vigil_add_s8 (every variant) against the int64 definition, for shifts 1..62 (the 32-bit split
 * path covers 17..47) and multipliers up to 2^31. */
static int check_add(void) {
    int failures = 0;
    static int8_t A[300], B[300], R[300], Y[300];
    for (int t = 0; t < 3000; t++) {
        const int count = 1 + (int)(next() % 300);
        const int32_t n = 1 + (int32_t)(next() % 62), za = (int32_t)(next() % 256) - 128, zb = (int32_t)(next() % 256) - 128;
        const int32_t zy = (int32_t)(next() % 256) - 128, lo = t % 2 ? zy : -128, hi = t % 3 ? 127 : (lo + 60 > 127 ? 127 : lo + 60);
        const int64_t top = (int64_t)1 << (n < 31 ? n : 31);
        const int64_t ma = t % 11 == 0 ? top : (int64_t)(next() % (uint64_t)(top + 1));
        const int64_t mb = t % 13 == 0 ? top : (int64_t)(next() % (uint64_t)(top + 1));
        for (int i = 0; i < count; i++) {
            A[i] = t % 5 == 0 ? (next() & 1 ? 127 : -128) : (int8_t)next();
            B[i] = t % 7 == 0 ? (next() & 1 ? 127 : -128) : (int8_t)next();
            const int64_t v = (((int64_t)A[i] - za) * ma + ((int64_t)B[i] - zb) * mb + ((int64_t)1 << (n - 1))) >> n;
            const int64_t y = v + zy < lo ? lo : (v + zy > hi ? hi : v + zy);
            R[i] = (int8_t)y;
        }
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            memset(Y, 0x55, sizeof Y);
            vigil_add_s8(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y);
            if (memcmp(R, Y, count) != 0) { failures++; fprintf(stderr, "%s add differs: n %d\n", vigil_kernel_name((vigil_kernel_variant)v), n); }
        }
    }
    return failures;
}

/* Intra-op threads: each split (vigil_par_*) on a pool of 3 must give the bytes of one call, for
 * every variant, on shapes that are not multiples of the split units. */
static int check_threads(int *checked) {
    int failures = 0;
    vigil_pool *pool = vigil_pool_create(3);
    if (vigil_pool_threads(pool) != 3) { fprintf(stderr, "thread pool did not start 3 threads\n"); vigil_pool_destroy(pool); return 1; }
    const int shapes[][3] = {{37, 53, 300}, {5, 1000, 77}, {64, 19, 129}, {130, 260, 40}};
    for (int si = 0; si < 4; si++) {
        const int rows = shapes[si][0], cols = shapes[si][1], K = shapes[si][2];
        int8_t *A = malloc(rows * K), *B = malloc(cols * K), *Bkn = malloc(cols * K), *C1 = malloc(rows * cols), *C3 = malloc(rows * cols);
        int32_t *bias = malloc(4 * rows), *mult = malloc(4 * rows), *shift = malloc(4 * rows), *P = malloc(4 * rows * ((K + 1) / 2));
        for (int i = 0; i < rows * K; i++) A[i] = (int8_t)next();
        for (int i = 0; i < cols * K; i++) B[i] = (int8_t)next();
        for (int c = 0; c < cols; c++) for (int k = 0; k < K; k++) Bkn[k * cols + c] = B[c * K + k];
        for (int r = 0; r < rows; r++) {
            bias[r] = (int32_t)(next() % 20001) - 10000;
            mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 31 + (int32_t)(next() % 10);
        }
        vigil_pack_pairs_s8(A, rows, K, P);
        vigil_requant_rows q = {bias, mult, shift, -5, -128, 127};
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            vigil_gemm_s8(A, B, rows, cols, K, &q, C1, cols, 1);
            memset(C3, 0x55, rows * cols);
            vigil_par_gemm_s8(pool, A, B, rows, cols, K, &q, C3, cols, 1);
            if (memcmp(C1, C3, rows * cols)) { failures++; fprintf(stderr, "%s threaded gemm differs: %d %d %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K); }
            vigil_gemm_s8_kn(P, Bkn, cols, rows, cols, K, &q, C1, cols);
            memset(C3, 0x55, rows * cols);
            vigil_par_gemm_s8_kn(pool, P, Bkn, cols, rows, cols, K, &q, C3, cols);
            if (memcmp(C1, C3, rows * cols)) { failures++; fprintf(stderr, "%s threaded kn gemm differs: %d %d %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K); }
            *checked += 2;
        }
        free(A); free(B); free(Bkn); free(C1); free(C3); free(bias); free(mult); free(shift); free(P);
    }
    /* Depthwise by channels (one scratch per part) and by filters of one channel. */
    const int dw[][5] = {{9, 2, 24, 23, 1}, {1, 24, 30, 31, 2}, {13, 1, 17, 40, 2}};
    for (int di = 0; di < 3; di++) {
        const int ch = dw[di][0], m = dw[di][1], h = dw[di][2], w = dw[di][3], s = dw[di][4];
        const int oh = (h + 2 - 3) / s + 1, ow = (w + 2 - 3) / s + 1, oc = ch * m;
        vigil_depthwise_geometry g = {ch, m, h, w, oh, ow, 3, 3, s, s, 1, 1, 1, 1, -9};
        int8_t *X = malloc(ch * h * w), *W = malloc(oc * 9), *Y1 = malloc(oc * oh * ow), *Y3 = malloc(oc * oh * ow);
        int32_t *bias = malloc(4 * oc), *mult = malloc(4 * oc), *shift = malloc(4 * oc);
        for (int i = 0; i < ch * h * w; i++) X[i] = (int8_t)next();
        for (int i = 0; i < oc * 9; i++) W[i] = (int8_t)(next() % 255 - 127);
        for (int r = 0; r < oc; r++) {
            bias[r] = (int32_t)(next() % 20001) - 10000;
            mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 31 + (int32_t)(next() % 10);
        }
        vigil_requant_rows q = {bias, mult, shift, 4, -128, 127};
        const size_t bytes = vigil_depthwise_s8_scratch_bytes(&g), stride = (bytes + 63) & ~(size_t)63;
        void *scratch = bytes ? malloc(3 * stride) : NULL;
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_select((vigil_kernel_variant)v)) continue;
            vigil_depthwise_s8(X, W, &g, &q, scratch, Y1);
            memset(Y3, 0x55, oc * oh * ow);
            vigil_par_depthwise_s8(pool, X, W, &g, &q, scratch, stride, Y3);
            if (memcmp(Y1, Y3, oc * oh * ow)) { failures++; fprintf(stderr, "%s threaded depthwise differs: %d %d\n", vigil_kernel_name((vigil_kernel_variant)v), ch, m); }
            *checked += 1;
        }
        free(X); free(W); free(Y1); free(Y3); free(bias); free(mult); free(shift); free(scratch);
    }
    vigil_pool_destroy(pool);
    return failures;
}

/* Plans (vigil_plan.h): every variant's convolution, depthwise and fully connected plan against a
 * plain loop written here from the definition, on random geometries (groups, 1D and 2D, one input
 * channel, 1x1, batch 2), run with the process-wide selection set to another variant (a plan runs
 * the variant it was made for) and with a pool of 3 threads. */
static void *plan_alloc(size_t bytes) { return aligned_alloc(64, (bytes + 63) & ~(size_t)63); }

static void conv_reference(const vigil_conv_params *p, const int8_t *X, const int8_t *W, const int32_t *bias,
                           const int32_t *mult, const int32_t *shift, int8_t *Y) {
    const int icpg = p->in_channels / p->groups, ocpg = p->out_channels / p->groups, ks = icpg * p->k_h * p->k_w;
    int o = 0;
    for (int n = 0; n < p->batch; n++)
        for (int oc = 0; oc < p->out_channels; oc++)
            for (int oy = 0; oy < p->out_h; oy++)
                for (int ox = 0; ox < p->out_w; ox++) {
                    uint32_t acc = (uint32_t)bias[oc];
                    for (int ic = 0; ic < icpg; ic++)
                        for (int ky = 0; ky < p->k_h; ky++)
                            for (int kx = 0; kx < p->k_w; kx++) {
                                const int iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
                                const int ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
                                if (iy < 0 || iy >= p->in_h || ix < 0 || ix >= p->in_w) continue;
                                const int c = (oc / ocpg) * icpg + ic;
                                const int32_t x = X[((n * p->in_channels + c) * p->in_h + iy) * p->in_w + ix];
                                acc += (uint32_t)((x - p->input_zero_point) * W[oc * ks + (ic * p->k_h + ky) * p->k_w + kx]);
                            }
                    Y[o++] = (int8_t)vigil_requantize((int32_t)acc, mult[oc], shift[oc], p->output_zero_point, p->lo, p->hi);
                }
}

static int check_plans(int *checked) {
    int failures = 0;
    vigil_pool *pool = vigil_pool_create(3);
    for (int trial = 0; trial < 160; trial++) {
        vigil_conv_params p;
        memset(&p, 0, sizeof p);
        const int oneD = trial % 3 == 0;
        p.batch = trial % 7 == 0 ? 2 : 1;
        p.groups = trial % 5 == 1 ? 1 + (int)(next() % 3) : 1;
        p.in_channels = trial % 6 == 2 ? 1 : p.groups * (1 + (int)(next() % 20));
        if (p.in_channels == 1) p.groups = 1;
        p.out_channels = p.groups * (1 + (int)(next() % 24));
        const int pointwise = trial % 4 == 3;
        /* Some 1x1 layers with 96+ input channels (the A72 channel-last path over a whole plane). */
        if (pointwise && trial % 8 == 7 && p.groups == 1) p.in_channels = 96 + (int)(next() % 80);
        p.k_h = oneD || pointwise ? 1 : 1 + (int)(next() % 5);
        p.k_w = pointwise ? 1 : 1 + (int)(next() % 9);
        p.stride_h = oneD || pointwise ? 1 : 1 + (int)(next() % 2);
        p.stride_w = pointwise ? 1 : 1 + (int)(next() % 3);
        p.dilation_h = oneD || pointwise ? 1 : 1 + (int)(next() % 2);
        p.dilation_w = pointwise ? 1 : 1 + (int)(next() % 2);
        p.pad_top = oneD || pointwise ? 0 : (int)(next() % 3);
        p.pad_bottom = p.pad_top;
        p.pad_left = pointwise ? 0 : (int)(next() % 4);
        p.pad_right = p.pad_left;
        p.in_h = oneD ? 1 : 3 + (int)(next() % 20);
        p.in_w = 5 + (int)(next() % (oneD ? 300 : 30));
        const int eh = (p.k_h - 1) * p.dilation_h + 1, ew = (p.k_w - 1) * p.dilation_w + 1;
        if (p.in_h + p.pad_top + p.pad_bottom < eh) p.in_h = eh;
        if (p.in_w + p.pad_left + p.pad_right < ew) p.in_w = ew;
        p.out_h = (p.in_h + p.pad_top + p.pad_bottom - eh) / p.stride_h + 1;
        p.out_w = (p.in_w + p.pad_left + p.pad_right - ew) / p.stride_w + 1;
        p.input_zero_point = (int32_t)(next() % 256) - 128;
        p.output_zero_point = (int32_t)(next() % 256) - 128;
        p.lo = trial % 2 ? p.output_zero_point : -128;
        p.hi = 127;
        const int ks = p.in_channels / p.groups * p.k_h * p.k_w;
        const size_t nx = (size_t)p.batch * p.in_channels * p.in_h * p.in_w, ny = (size_t)p.batch * p.out_channels * p.out_h * p.out_w;
        /* W also serves the depthwise check: in_channels * 2 filters of k_h * k_w. */
        const size_t nw = (size_t)p.out_channels * ks > (size_t)p.in_channels * 2 * p.k_h * p.k_w ? (size_t)p.out_channels * ks : (size_t)p.in_channels * 2 * p.k_h * p.k_w;
        int8_t *X = malloc(nx), *W = malloc(nw), *Y0 = malloc(ny), *Y1 = malloc(ny);
        int32_t *bias = malloc(4 * p.out_channels), *mult = malloc(4 * p.out_channels), *shift = malloc(4 * p.out_channels);
        for (size_t i = 0; i < nx; i++) X[i] = (int8_t)next();
        for (size_t i = 0; i < nw; i++) W[i] = (int8_t)(next() % 255 - 127);
        /* Some layers with -128 weights against -128 inputs: the pairs of products that the NHWC
         * path and the NEON 3x3 depthwise pairs sum in int16 would overflow (2 * 128 * 128), so
         * those must not take them (odd trials for convolutions, trial % 8 == 2 for depthwise). */
        if (trial % 4 == 1 || trial % 8 == 2) {
            for (size_t i = 0; i < nw; i++) if (next() % 3 == 0) W[i] = -128;
            for (size_t i = 0; i < nx; i++) if (next() % 2 == 0) X[i] = -128;
        }
        for (int r = 0; r < p.out_channels; r++) {
            bias[r] = (int32_t)(next() % 200001) - 100000;
            mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 28 + (int32_t)(next() % 16);
        }
        conv_reference(&p, X, W, bias, mult, shift, Y0);
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_supported((vigil_kernel_variant)v)) continue;
            vigil_kernel_select(v == 0 ? VIGIL_KERNEL_COUNT - 1 : VIGIL_KERNEL_GENERIC);  /* (a no-op when unsupported) */
            const size_t bytes = vigil_conv_plan_bytes(&p, W, (vigil_kernel_variant)v);
            void *plan = plan_alloc(bytes);
            if (!bytes || !vigil_conv_plan_init(plan, bytes, &p, W, bias, mult, shift, (vigil_kernel_variant)v)) {
                failures++;
                fprintf(stderr, "%s: conv plan refused trial %d\n", vigil_kernel_name((vigil_kernel_variant)v), trial);
                free(plan);
                continue;
            }
            for (int threaded = 0; threaded < 2; threaded++) {
                vigil_pool *use = threaded ? pool : NULL;
                const size_t sb = vigil_conv_plan_scratch_bytes(plan, vigil_pool_threads(use));
                void *scratch = sb ? malloc(sb) : NULL;
                memset(Y1, 0x55, ny);
                vigil_conv_run(plan, X, W, scratch, Y1, use);
                free(scratch);
                (*checked)++;
                if (memcmp(Y0, Y1, ny)) {
                    failures++;
                    fprintf(stderr, "%s conv plan (%s%s) differs: trial %d, %dx%dx%d -> %d k %dx%d s %d,%d d %d,%d p %d,%d g %d b %d\n",
                            vigil_kernel_name((vigil_kernel_variant)v), vigil_conv_plan_path(plan), threaded ? ", 3 threads" : "",
                            trial, p.in_channels, p.in_h, p.in_w, p.out_channels, p.k_h, p.k_w, p.stride_h, p.stride_w,
                            p.dilation_h, p.dilation_w, p.pad_top, p.pad_left, p.groups, p.batch);
                }
            }
            free(plan);
            /* Depthwise plan: group == channels, one filter per channel (multiplier 1 or 2). */
            if (trial % 2 == 0 && !oneD) {
                const int m = 1 + trial % 4 / 2, ch = p.in_channels;
                vigil_conv_params d = p;
                d.groups = ch;
                d.out_channels = ch * m;
                int8_t *Yd0 = malloc((size_t)d.batch * d.out_channels * d.out_h * d.out_w), *Yd1 = malloc((size_t)d.batch * d.out_channels * d.out_h * d.out_w);
                int32_t *db = malloc(4 * d.out_channels), *dm = malloc(4 * d.out_channels), *ds = malloc(4 * d.out_channels);
                for (int r = 0; r < d.out_channels; r++) { db[r] = bias[r % p.out_channels]; dm[r] = mult[r % p.out_channels]; ds[r] = shift[r % p.out_channels]; }
                conv_reference(&d, X, W, db, dm, ds, Yd0);
                vigil_depthwise_geometry g = {ch, m, d.in_h, d.in_w, d.out_h, d.out_w, d.k_h, d.k_w, d.stride_h, d.stride_w,
                                              d.dilation_h, d.dilation_w, d.pad_top, d.pad_left, d.input_zero_point};
                const size_t db_bytes = vigil_depthwise_plan_bytes(&g, d.batch, (vigil_kernel_variant)v);
                void *dplan = plan_alloc(db_bytes);
                if (!vigil_depthwise_plan_init(dplan, db_bytes, &g, d.batch, W, db, dm, ds, d.output_zero_point, d.lo, d.hi,
                                               (vigil_kernel_variant)v)) {
                    failures++;
                    fprintf(stderr, "%s: depthwise plan refused trial %d\n", vigil_kernel_name((vigil_kernel_variant)v), trial);
                } else {
                    const size_t dn = (size_t)d.batch * d.out_channels * d.out_h * d.out_w;
                    for (int threaded = 0; threaded < 2; threaded++) {
                        vigil_pool *use = threaded ? pool : NULL;
                        const size_t sb = vigil_depthwise_plan_scratch_bytes(dplan, vigil_pool_threads(use));
                        void *scratch = sb ? malloc(sb) : NULL;
                        memset(Yd1, 0x55, dn);
                        vigil_depthwise_run(dplan, X, W, scratch, Yd1, use);
                        free(scratch);
                        (*checked)++;
                        if (memcmp(Yd0, Yd1, dn)) {
                            failures++;
                            fprintf(stderr, "%s depthwise plan (%s%s) differs: trial %d\n", vigil_kernel_name((vigil_kernel_variant)v),
                                    vigil_depthwise_plan_path(dplan), threaded ? ", 3 threads" : "", trial);
                        }
                    }
                }
                free(dplan); free(Yd0); free(Yd1); free(db); free(dm); free(ds);
            }
            /* Fully connected plan: X read as [m][k] rows of the convolution's input. */
            {
                vigil_fc_params f = {1 + trial % 3, p.out_channels, ks, p.input_zero_point, p.output_zero_point, p.lo, p.hi};
                if ((size_t)f.m * f.k <= nx) {
                    int8_t *F0 = malloc((size_t)f.m * f.n), *F1 = malloc((size_t)f.m * f.n);
                    for (int i = 0; i < f.m; i++)
                        for (int j = 0; j < f.n; j++) {
                            uint32_t acc = (uint32_t)bias[j];
                            for (int k = 0; k < f.k; k++) acc += (uint32_t)((X[i * f.k + k] - f.input_zero_point) * W[j * f.k + k]);
                            F0[i * f.n + j] = (int8_t)vigil_requantize((int32_t)acc, mult[j], shift[j], f.output_zero_point, f.lo, f.hi);
                        }
                    const size_t fb = vigil_fc_plan_bytes(&f, (vigil_kernel_variant)v);
                    void *fplan = plan_alloc(fb);
                    if (!vigil_fc_plan_init(fplan, fb, &f, W, bias, mult, shift, (vigil_kernel_variant)v)) {
                        failures++;
                        fprintf(stderr, "%s: fc plan refused trial %d\n", vigil_kernel_name((vigil_kernel_variant)v), trial);
                    } else {
                        for (int threaded = 0; threaded < 2; threaded++) {
                            memset(F1, 0x55, (size_t)f.m * f.n);
                            vigil_fc_run(fplan, X, W, F1, threaded ? pool : NULL);
                            (*checked)++;
                            if (memcmp(F0, F1, (size_t)f.m * f.n)) {
                                failures++;
                                fprintf(stderr, "%s fc plan (%s) differs: trial %d, %d x %d by %d\n", vigil_kernel_name((vigil_kernel_variant)v),
                                        vigil_fc_plan_path(fplan), trial, f.m, f.k, f.n);
                            }
                        }
                    }
                    free(fplan); free(F0); free(F1);
                }
            }
        }
        free(X); free(W); free(Y0); free(Y1); free(bias); free(mult); free(shift);
    }
    vigil_pool_destroy(pool);
    return failures;
}

int main(void) {
    int failures = 0, checked = 0;
    for (int trial = 0; trial < 412; trial++) {
        int rows = 1 + next() % 19, cols = 1 + next() % (trial % 4 == 0 ? 200 : 23), K = 1 + next() % 300;
        /* The last 12: the AVX512-VNNI GEMM's contiguous panel copy (cols a multiple of 512, at least
         * 16 rows, K4 <= 128), including K4 = 128 and past it; cols 1030 (not a multiple of 512) takes the strided path
         * with a partial last panel; two with K4 > 256. */
        if (trial >= 400) {
            rows = trial % 2 ? 16 + next() % 9 : 60 + next() % 12; cols = trial % 3 == 0 ? 1024 : (trial % 3 == 1 ? 512 : 1030);
            K = trial == 400 ? 512 : (trial == 401 ? 516 : 1 + next() % 520);
            /* Two long reductions (K4 > 256, as in 1x1 layers over 1,024+ channels). */
            if (trial == 402 || trial == 403) K = 1025 + (int)(next() % 200);
        }
        int8_t *A = malloc(rows * K), *B = malloc(cols * K), *C0 = malloc(rows * cols), *C1 = malloc(rows * cols);
        int extreme = trial % 5 == 0;
        for (int i = 0; i < rows * K; i++) A[i] = extreme ? (next() & 1 ? 127 : -127) : (int8_t)next();
        for (int i = 0; i < cols * K; i++) B[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
        int32_t *bias = malloc(4 * rows), *mult = malloc(4 * rows), *shift = malloc(4 * rows);
        for (int r = 0; r < rows; r++) {
            bias[r] = (int32_t)(next() % 200001) - 100000;
            mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 31 + (int32_t)(next() % 16);
        }
        vigil_requant_rows q = {bias, mult, shift, (int32_t)(next() % 256) - 128, -128, 127};
        vigil_gemm_s8_generic(A, B, rows, cols, K, &q, C0, cols, 1);
        /* The [K][cols] layout of the convolution kernel must give the same bytes. */
        int8_t *Bkn = malloc(cols * K), *Ckn = malloc(rows * cols);
        int32_t *P = malloc(4 * rows * ((K + 1) / 2));
        for (int c = 0; c < cols; c++) for (int k = 0; k < K; k++) Bkn[k * cols + c] = B[c * K + k];
        vigil_pack_pairs_s8(A, rows, K, P);
        vigil_gemm_s8_kn_generic(P, Bkn, cols, rows, cols, K, &q, Ckn, cols);
        if (memcmp(C0, Ckn, rows * cols) != 0) { failures++; fprintf(stderr, "kn generic differs from row-dot generic\n"); }
        for (int v = 1; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_supported((vigil_kernel_variant)v)) continue;
            memset(C1, 0x55, rows * cols);
            vigil_kernel_select((vigil_kernel_variant)v);
            vigil_gemm_s8(A, B, rows, cols, K, &q, C1, cols, 1);
            checked++;
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
            memset(C1, 0x55, rows * cols);
            vigil_gemm_s8_kn(P, Bkn, cols, rows, cols, K, &q, C1, cols);
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s kn layout differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
            /* u8 x s8 quad layout (VPDPBUSD): activations + 128, bias folded with -128 * sum(w). */
            int K4 = (K + 3) / 4;
            uint8_t *U = calloc((size_t)K4 * cols * 4, 1);
            int32_t *Q4 = calloc((size_t)rows * K4, 4), *bias4 = malloc(4 * rows);
            for (int c = 0; c < cols; c++) for (int k = 0; k < K; k++) U[((size_t)(k / 4) * cols + c) * 4 + k % 4] = (uint8_t)(B[c * K + k] + 128);
            for (int r = 0; r < rows; r++) {
                int32_t sum = 0;
                for (int k = 0; k < K; k++) { sum += A[r * K + k]; ((int8_t *)(Q4 + r * K4))[k] = A[r * K + k]; }
                bias4[r] = bias[r] - 128 * sum;
            }
            vigil_requant_rows q4 = q;
            q4.bias = bias4;
            memset(C1, 0x55, rows * cols);
            vigil_gemm_u8s8_k4(Q4, U, rows, cols, K4, &q4, C1, cols);
            free(U); free(Q4); free(bias4);
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s u8s8 quad layout differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
        }
        free(Bkn); free(Ckn); free(P);
        free(A); free(B); free(C0); free(C1); free(bias); free(mult); free(shift);
    }
    for (int trial = 0; trial < 300; trial++) failures += check_direct(trial, &checked);
    direct_folded = 1;
    for (int trial = 0; trial < 120; trial++) failures += check_direct(trial, &checked);
    direct_folded = 0;
    failures += check_quads_small(&checked);
    for (int trial = 0; trial < 1500; trial++) failures += check_depthwise(trial, &checked);
    /* Layer-sized planes (the padded-plane path rather than the small-plane one) with rows narrower
     * and wider than a vector, both strides, padded and unpadded edges, and heights that end either
     * sub-plane last; MobileNetV2's own shapes among them. */
    {
        const int widths[] = {20, 28, 30, 56, 61, 112}, heights[] = {40, 41, 56};
        int trial = 0;
        for (size_t wi = 0; wi < sizeof widths / sizeof widths[0]; wi++)
            for (size_t hi = 0; hi < sizeof heights / sizeof heights[0]; hi++)
                for (int s = 1; s <= 2; s++)
                    for (int pad = 0; pad <= 1; pad++) {
                        const int f[8] = {heights[hi], widths[wi], s, pad, pad, pad ? 1 : 0, pad ? 1 : 0, 999};
                        dw_force = f;
                        failures += check_depthwise(trial++, &checked);
                    }
        /* One geometry again and again with other input zero points (the padding byte): the AVX-512
         * small-plane tables hold the padding byte, so each zero point needs its own (one per plan). */
        const int zps[] = {-100, 37, -100, 127, -128, 37};
        for (int rep = 0; rep < 2; rep++)
            for (size_t zi = 0; zi < sizeof zps / sizeof zps[0]; zi++) {
                const int f[8] = {14, 14, 1 + (int)(zi % 2), 1, 1, 1, 1, zps[zi]};
                dw_force = f;
                failures += check_depthwise(trial++, &checked);
            }
        dw_force = NULL;
    }
    failures += check_pools();
    failures += check_add();
    failures += check_quantize();
    failures += check_gemv(&checked);
    failures += check_pack(&checked);
    failures += check_threads(&checked);
    failures += check_plans(&checked);
    printf("parity: %d variant runs checked", checked);
    for (int v = 0; v < VIGIL_KERNEL_COUNT; v++)
        if (vigil_kernel_supported((vigil_kernel_variant)v)) printf(" [%s]", vigil_kernel_name((vigil_kernel_variant)v));
    printf(", %d mismatches", failures);
    /* Variants this build has but this CPU cannot run are named, never left out silently. */
#if defined(__aarch64__)
    const vigil_kernel_variant arch[] = {VIGIL_KERNEL_NEON, VIGIL_KERNEL_DOTPROD, VIGIL_KERNEL_I8MM};
#elif defined(__x86_64__)
    const vigil_kernel_variant arch[] = {VIGIL_KERNEL_AVX2, VIGIL_KERNEL_AVXVNNI, VIGIL_KERNEL_AVX512VNNI};
#else
    const vigil_kernel_variant arch[] = {VIGIL_KERNEL_GENERIC};
#endif
    for (size_t i = 0; i < sizeof arch / sizeof arch[0]; i++)
        if (!vigil_kernel_supported(arch[i])) printf("; %s unsupported on this CPU, not run", vigil_kernel_name(arch[i]));
    printf("\n");
    /* VIGIL_PARITY_REQUIRE=a,b: these variants must have run (test-arm.sh names what each emulated
     * CPU has), so a detection bug cannot turn a check into a skip. */
    const char *req = getenv("VIGIL_PARITY_REQUIRE");
    while (req && *req) {
        size_t n = strcspn(req, ",");
        int found = 0;
        for (int v = 0; v < VIGIL_KERNEL_COUNT; v++) {
            const char *name = vigil_kernel_name((vigil_kernel_variant)v);
            if (strlen(name) == n && strncmp(name, req, n) == 0 && vigil_kernel_supported((vigil_kernel_variant)v)) found = 1;
        }
        if (!found) { failures++; fprintf(stderr, "required variant %.*s did not run\n", (int)n, req); }
        req += n + (req[n] == ',');
    }
    return failures ? 1 : 0;
}
