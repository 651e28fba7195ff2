// Prepared convolutions, depthwise convolutions and fully connected layers (vigil_plan.h).
// Each plan is a header followed by its arrays, placed at 64-byte aligned offsets computed the same
// way by the size query and by init (plan_layout), so the two cannot disagree.
#include "vigil_plan.h"
#include "dispatch.h"
#include <string.h>
#if defined(__aarch64__)
#include <arm_neon.h>
#include "arm/interleave_neon.h"
#endif

enum { PLAN_ALIGN = 64 };
static size_t align_up(size_t n) { return (n + PLAN_ALIGN - 1) & ~(size_t)(PLAN_ALIGN - 1); }
static size_t thread_stride(size_t bytes) { return align_up(bytes); }

/// Appends an array of `bytes` to a layout being measured; returns its offset.
static size_t take(size_t *end, size_t bytes) {
    const size_t at = *end;
    *end = align_up(at + bytes);
    return at;
}

#define AT(plan, T, off) ((T *)((uint8_t *)(plan) + (off)))
#define CAT(plan, T, off) ((const T *)((const uint8_t *)(plan) + (off)))

// --- convolution ---------------------------------------------------------------------------------

enum { CONV_MAGIC = 0x56434E31 };  // "VCN1"
typedef enum { PATH_ROWS, PATH_COLUMNS, PATH_QUADS, PATH_DIRECT, PATH_DEPTHWISE, PATH_SDOT, PATH_LANES, PATH_NHWC } conv_path;

typedef struct {
    uint32_t magic;
    vigil_kernel_variant variant;
    conv_path path;
    vigil_conv_params p;
    int icpg, ocpg, ksize, k4, pointwise;
    // direct: the padded input [channels][hp][wp] (rows) or [ceil(channels/4)][hp][wp][4] (channel quads)
    int channel_quads, hp, wp, noffsets;
    int c8;                  // PATH_NHWC: channels padded to a multiple of 8
    // 0: u8 quads (x86), 16-row weight blocks; 1: SDOT, signed quads, 8-row blocks; 2: NEON SMLAL,
    // one tap per reduction term, int16 weights in 4-row blocks. 1 and 2 pad with zx, not zx + 128.
    int direct_kind;
    ptrdiff_t pos_stride, row_stride;
    size_t scratch;          // bytes (per thread for PATH_DEPTHWISE)
    size_t weights, bias, multiplier, shift, offsets, prepared;  // offsets into the plan
    vigil_depthwise_geometry dw;  // PATH_DEPTHWISE
    size_t total;
} conv_plan;

static int conv_valid(const vigil_conv_params *p) {
    if (p->batch < 1 || p->in_channels < 1 || p->out_channels < 1 || p->groups < 1) return 0;
    if (p->in_channels % p->groups || p->out_channels % p->groups) return 0;
    if (p->in_h < 1 || p->in_w < 1 || p->out_h < 1 || p->out_w < 1 || p->k_h < 1 || p->k_w < 1) return 0;
    if (p->stride_h < 1 || p->stride_w < 1 || p->dilation_h < 1 || p->dilation_w < 1) return 0;
    if (p->pad_top < 0 || p->pad_left < 0 || p->pad_bottom < 0 || p->pad_right < 0) return 0;
    return 1;
}

/// The depthwise kernel's geometry for a convolution with one input channel (multiplier = Cout). A
/// 1D layer (one row in, one row out) gets its horizontal stride as the vertical one too: the same
/// convolution, and the shape the channel-plane kernels take.
static vigil_depthwise_geometry single_channel_geometry(const vigil_conv_params *p) {
    const int one_row = p->in_h == 1 && p->out_h == 1 && p->k_h == 1 && p->pad_top == 0;
    vigil_depthwise_geometry g = {1, p->out_channels, p->in_h, p->in_w, p->out_h, p->out_w, p->k_h, p->k_w,
                                  one_row ? p->stride_w : p->stride_h, p->stride_w, p->dilation_h, p->dilation_w,
                                  p->pad_top, p->pad_left, p->input_zero_point};
    return g;
}

/// Chooses the path and measures the plan (everything but the packed contents).
/// 1 if no weight is -128 (what the SMULL/SMLAL2 pairs of the NHWC path need to stay exact).
static int no_min_weight(const int8_t *W, size_t n) {
    if (!W) return 0;
    for (size_t i = 0; i < n; i++)
        if (W[i] == -128) return 0;
    return 1;
}

static void conv_layout(const vigil_conv_params *p, const int8_t *W, vigil_kernel_variant v, conv_plan *h) {
    memset(h, 0, sizeof *h);
    h->magic = CONV_MAGIC;
    h->variant = v;
    h->p = *p;
    h->icpg = p->in_channels / p->groups;
    h->ocpg = p->out_channels / p->groups;
    h->ksize = h->icpg * p->k_h * p->k_w;
    h->k4 = (h->ksize + 3) / 4;
    const int cout = p->out_channels, spatial = p->out_h * p->out_w;
    const int unit_kernel = p->k_h == 1 && p->k_w == 1 && p->stride_h == 1 && p->stride_w == 1 && p->pad_top == 0 &&
                            p->pad_left == 0 && p->pad_bottom == 0 && p->pad_right == 0;
    if (vigil_variant_avx2(v)) {
        // Every x86 variant runs on the quad layout (AVX2 through the exact VPMADDWD form of the
        // VPDPBUSD step); convolutions with a spatial kernel skip im2col through the direct kernel.
        h->pointwise = unit_kernel;
        h->path = !h->pointwise && p->groups == 1 ? PATH_DIRECT : PATH_QUADS;
    } else if (v == VIGIL_KERNEL_DOTPROD || v == VIGIL_KERNEL_I8MM) {
        // Signed quads and SDOT: 1x1 convolutions pack their input; others read a padded copy
        // directly (grouped ones through im2col).
        h->pointwise = unit_kernel;
        h->path = !h->pointwise && p->groups == 1 ? PATH_DIRECT : PATH_SDOT;
        h->direct_kind = h->path == PATH_DIRECT ? 1 : 0;
    } else if (vigil_variant_arm(v)) {
        // SMLAL: 1x1 convolutions read their input in place; others a padded copy (grouped ones
        // through im2col).
        // SMLAL by lane: 1x1 convolutions read their input in place (lanes), others a padded copy
        // (direct), grouped ones go through im2col (columns). Channel-last runs with
        // SMULL/SMLAL2/SADALP (nhwc) instead where they measured faster under qemu cortex-a72
        // (count_vigil_arm.sh --ops, per layer, after 499400d): reductions of 96 terms or more
        // (MobileNetV2's K = 144 and 192 layers: 11-14% fewer instructions, K = 96: 0-7%, K = 128
        // in the MobileNet-style model: 8-17%; K = 16-64: 1.15-1.7x more, the channel-last copy
        // costing more than it saves), and only when no weight is -128.
        h->pointwise = unit_kernel;
        const int kc8 = p->k_h * p->k_w * ((p->in_channels + 7) & ~7);
        if (p->groups == 1 && p->in_channels >= 8 && kc8 >= 96 && no_min_weight(W, (size_t)p->out_channels * h->ksize))
            h->path = PATH_NHWC;
        else
            h->path = p->groups > 1 ? PATH_COLUMNS : (h->pointwise ? PATH_LANES : PATH_DIRECT);
        h->direct_kind = h->path == PATH_DIRECT ? 2 : 0;
    } else {
        h->path = PATH_ROWS;
    }
    if (p->groups == 1 && p->in_channels == 1) {
        // The first layer of an image or waveform network: a depthwise convolution with multiplier
        // Cout, whose channel-plane kernels vectorize across output positions.
        const vigil_depthwise_geometry g = single_channel_geometry(p);
        const size_t bytes = vigil_depthwise_s8_scratch_bytes(&g);
        if (bytes > 0) {
            h->path = PATH_DEPTHWISE;
            h->pointwise = 0;
            h->dw = g;
            h->scratch = bytes;
        }
    }
    size_t end = align_up(sizeof(conv_plan));
    switch (h->path) {
    case PATH_ROWS:
        h->scratch = (size_t)spatial * h->ksize;
        break;
    case PATH_COLUMNS:
        h->weights = take(&end, (size_t)cout * ((h->ksize + 1) / 2) * 4);
        h->scratch = h->pointwise ? 0 : (size_t)spatial * h->ksize;
        break;
    case PATH_QUADS:
        h->weights = take(&end, (size_t)cout * h->k4 * 4);
        h->scratch = (size_t)h->k4 * 4 * spatial;
        break;
    case PATH_SDOT:  // per group [ceil(ocpg/4)][K4][4][4]; the GEMM's last panel reads 64 bytes past U
        h->weights = take(&end, (size_t)p->groups * ((h->ocpg + 3) / 4) * h->k4 * 16);
        h->scratch = (size_t)h->k4 * 4 * spatial + 64;
        break;
    case PATH_NHWC: {
        // The input as [hp][wp][C8] (padding zx, channels past C: 0); term t = tap (ky, kx).
        h->c8 = (p->in_channels + 7) & ~7;
        h->hp = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dilation_h + 1;
        h->wp = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dilation_w + 1;
        h->pos_stride = (ptrdiff_t)p->stride_w * h->c8;
        h->row_stride = (ptrdiff_t)p->stride_h * h->wp * h->c8;
        h->noffsets = p->k_h * p->k_w;
        h->weights = take(&end, (size_t)((cout + 3) / 4) * 4 * h->noffsets * h->c8);
        h->offsets = take(&end, (size_t)h->noffsets * 4);
        h->scratch = (size_t)h->hp * h->wp * h->c8 + 64;
        break;
    }
    case PATH_LANES:
        // 1x1 on NEON: the SMLAL tile of the direct path reads the input in place (term k = channel
        // plane k); the last positions (spatial % 16) are copied into a [K][16] buffer first, so
        // no read passes the input's end.
        h->noffsets = h->ksize;
        h->weights = take(&end, (size_t)((cout + 3) / 4) * h->ksize * 4 * 2);
        h->offsets = take(&end, (size_t)h->ksize * 4 * 2);  // in place, then in the tail buffer
        h->scratch = spatial % 16 ? (size_t)h->ksize * 16 + 64 : 0;
        break;
    case PATH_DIRECT:
        if (h->direct_kind == 2) {
            // One byte per tap: rows [C][hp][wp]; term k = (ic, ky, kx).
            h->hp = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dilation_h + 1;
            h->wp = (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dilation_w + 1;
            h->pos_stride = p->stride_w;
            h->row_stride = (ptrdiff_t)p->stride_h * h->wp;
            h->noffsets = h->ksize;
            h->weights = take(&end, (size_t)((cout + 3) / 4) * h->ksize * 4 * 2);
            h->offsets = take(&end, (size_t)h->noffsets * 4);
            // The last tile reads past the last position (vigil_conv_s8_direct_neon).
            h->scratch = (size_t)p->in_channels * h->hp * h->wp + 16 * (size_t)p->stride_w + 64;
            break;
        }
        {
        // Each group of four reduction terms must be four adjacent bytes of the padded input: four
        // taps along a row (needs dilation 1 along the row; taps past the kernel get weight 0) or
        // four channels at one tap (channels past C get weight 0). The layout that wastes fewer of
        // the four lanes wins.
        const int cin = p->in_channels, kq = (p->k_w + 3) / 4, c4 = (cin + 3) / 4;
        const double tap_use = p->dilation_w == 1 ? (double)p->k_w / (4.0 * kq) : 0;
        const double channel_use = (double)cin / (4.0 * c4);
        h->channel_quads = channel_use > tap_use;
        // Rows and columns the kernel can touch: output position times stride plus its reach.
        h->hp = (p->out_h - 1) * p->stride_h + (p->k_h - 1) * p->dilation_h + 1;
        h->wp = h->channel_quads ? (p->out_w - 1) * p->stride_w + (p->k_w - 1) * p->dilation_w + 1
                                 : (p->out_w - 1) * p->stride_w + 4 * kq;
        const int unit = h->channel_quads ? 4 : 1;
        h->pos_stride = (ptrdiff_t)p->stride_w * unit;
        h->row_stride = (ptrdiff_t)p->stride_h * h->wp * unit;
        h->noffsets = h->channel_quads ? p->k_h * p->k_w * c4 : cin * p->k_h * kq;
        const int bs = h->direct_kind ? 8 : 16;
        h->weights = take(&end, (size_t)((cout + bs - 1) / bs) * h->noffsets * bs * 4);
        h->offsets = take(&end, (size_t)h->noffsets * 4);
        h->scratch = h->channel_quads ? (size_t)c4 * h->hp * h->wp * 4 : (size_t)cin * h->hp * h->wp;
        // The SDOT kernel's last tile reads past the last position (vigil_conv_s8_direct_dotprod).
        if (h->direct_kind) h->scratch += (size_t)8 * h->pos_stride + 64;
        break;
    }
    case PATH_DEPTHWISE: {
        const size_t prepared = vigil_depthwise_prepared_bytes(v, &h->dw);
        if (prepared) h->prepared = take(&end, prepared);
        break;
    }
    }
    h->bias = take(&end, (size_t)cout * 4);
    h->multiplier = take(&end, (size_t)cout * 4);
    h->shift = take(&end, (size_t)cout * 4);
    h->total = end;
}

size_t vigil_conv_plan_bytes(const vigil_conv_params *p, const int8_t *W, vigil_kernel_variant v) {
    if (!conv_valid(p)) return 0;
    conv_plan h;
    conv_layout(p, W, v, &h);
    return h.total;
}

/// Sum of the weights of output channel oc (the reduction's zero-point and unsigned-shift terms).
static int32_t weight_sum(const int8_t *W, int ksize, int oc) {
    uint32_t s = 0;
    for (int k = 0; k < ksize; k++) s += (uint32_t)(int32_t)W[(ptrdiff_t)oc * ksize + k];
    return (int32_t)s;
}

/// b - z * sum, wrapping like the Swift reference's &- and &*.
static int32_t fold(int32_t b, int32_t z, int32_t sum) { return (int32_t)((uint32_t)b - (uint32_t)z * (uint32_t)sum); }

int vigil_conv_plan_init(void *plan, size_t bytes, const vigil_conv_params *p, const int8_t *W, const int32_t *bias,
                         const int32_t *multiplier, const int32_t *shift, vigil_kernel_variant v) {
    if (!plan || !conv_valid(p) || !vigil_kernel_supported(v) || ((uintptr_t)plan & (PLAN_ALIGN - 1))) return 0;
    conv_plan h;
    conv_layout(p, W, v, &h);
    if (bytes < h.total) return 0;
    memset(plan, 0, h.total);
    const int cout = p->out_channels, ks = h.ksize;
    const int32_t zx = p->input_zero_point;
    int32_t *b = AT(plan, int32_t, h.bias);
    memcpy(AT(plan, int32_t, h.multiplier), multiplier, (size_t)cout * 4);
    memcpy(AT(plan, int32_t, h.shift), shift, (size_t)cout * 4);
    for (int oc = 0; oc < cout; oc++) {
        const int32_t b0 = bias ? bias[oc] : 0, sum = weight_sum(W, ks, oc);
        switch (h.path) {
        case PATH_ROWS:
        case PATH_COLUMNS:
        case PATH_LANES:
        case PATH_NHWC:
        case PATH_SDOT: b[oc] = fold(b0, zx, sum); break;
        // acc over (x + 128) * w = acc over x * w + 128 * sum(w); the reference subtracts zx * sum(w).
        case PATH_QUADS: b[oc] = fold(b0, zx + 128, sum); break;
        case PATH_DIRECT: b[oc] = fold(b0, h.direct_kind ? zx : zx + 128, sum); break;
        case PATH_DEPTHWISE: b[oc] = b0; break;  // the depthwise kernel subtracts zx itself
        }
    }
    switch (h.path) {
    case PATH_ROWS: break;
    case PATH_COLUMNS:
        vigil_pack_pairs_s8(W, cout, ks, AT(plan, int32_t, h.weights));
        break;
    case PATH_QUADS: {
        uint32_t *q = AT(plan, uint32_t, h.weights);
        for (int oc = 0; oc < cout; oc++)
            for (int k = 0; k < ks; k++)
                q[(ptrdiff_t)oc * h.k4 + k / 4] |= (uint32_t)(uint8_t)W[(ptrdiff_t)oc * ks + k] << (8 * (k % 4));
        break;
    }
    case PATH_DIRECT: {
        if (h.direct_kind == 2) {  // int16 [ceil(Cout/4)][K][4]; offsets of (ic, ky, kx)
            int16_t *w16 = AT(plan, int16_t, h.weights);
            int32_t *off = AT(plan, int32_t, h.offsets);
            int k = 0;
            for (int ic = 0; ic < p->in_channels; ic++)
                for (int ky = 0; ky < p->k_h; ky++)
                    for (int kx = 0; kx < p->k_w; kx++, k++)
                        off[k] = (ic * h.hp + ky * p->dilation_h) * h.wp + kx * p->dilation_w;
            for (int oc = 0; oc < cout; oc++)
                for (int k2 = 0; k2 < ks; k2++) w16[((ptrdiff_t)(oc / 4) * ks + k2) * 4 + oc % 4] = W[(ptrdiff_t)oc * ks + k2];
            break;
        }
        // Weight quads [ceil(Cout / bs)][K4][bs] (bs = 16, or 8 for SDOT); quad k of the reduction
        // starts offsets[k] bytes past the output position's first byte.
        uint32_t *q = AT(plan, uint32_t, h.weights);
        int32_t *off = AT(plan, int32_t, h.offsets);
        const int cin = p->in_channels, kq = (p->k_w + 3) / 4, c4 = (cin + 3) / 4, k4 = h.noffsets;
        const int bs = h.direct_kind ? 8 : 16;
#define PUT(oc, k, t, val) (q[((ptrdiff_t)((oc) / bs) * k4 + (k)) * bs + (oc) % bs] |= (uint32_t)(uint8_t)(val) << (8 * (t)))
        if (h.channel_quads) {
            for (int ky = 0; ky < p->k_h; ky++)
                for (int kx = 0; kx < p->k_w; kx++)
                    for (int j = 0; j < c4; j++) {
                        const int k = (ky * p->k_w + kx) * c4 + j;
                        off[k] = ((j * h.hp + ky * p->dilation_h) * h.wp + kx * p->dilation_w) * 4;
                        for (int oc = 0; oc < cout; oc++)
                            for (int t = 0; t < 4 && 4 * j + t < cin; t++)
                                PUT(oc, k, t, W[(ptrdiff_t)oc * ks + ((4 * j + t) * p->k_h + ky) * p->k_w + kx]);
                    }
        } else {
            for (int ic = 0; ic < cin; ic++)
                for (int ky = 0; ky < p->k_h; ky++)
                    for (int j = 0; j < kq; j++) {
                        const int k = (ic * p->k_h + ky) * kq + j;
                        off[k] = (ic * h.hp + ky * p->dilation_h) * h.wp + 4 * j;
                        for (int oc = 0; oc < cout; oc++)
                            for (int t = 0; t < 4 && 4 * j + t < p->k_w; t++)
                                PUT(oc, k, t, W[(ptrdiff_t)oc * ks + (ic * p->k_h + ky) * p->k_w + 4 * j + t]);
                    }
        }
#undef PUT
        break;
    }
    case PATH_DEPTHWISE:
        if (h.prepared) vigil_depthwise_prepare(v, &h.dw, AT(plan, void, h.prepared));
        break;
    case PATH_NHWC: {  // [ceil(Cout/4)][T][chunks of 16 channels, then 8][4 rows][chunk], taps (ky, kx)
        int8_t *w8 = AT(plan, int8_t, h.weights);
        int32_t *off = AT(plan, int32_t, h.offsets);
        const int T = h.noffsets, C8 = h.c8;
        for (int ky = 0; ky < p->k_h; ky++)
            for (int kx = 0; kx < p->k_w; kx++)
                off[ky * p->k_w + kx] = ((ky * p->dilation_h) * h.wp + kx * p->dilation_w) * C8;
        for (int oc = 0; oc < cout; oc++)
            for (int ic = 0; ic < p->in_channels; ic++)
                for (int t = 0; t < T; t++) {
                    const int chunk = ic < (C8 & ~15) ? 16 : 8, c0 = ic - ic % chunk;
                    const ptrdiff_t at = ((ptrdiff_t)(oc / 4) * T + t) * 4 * C8 + 4 * c0 + (oc % 4) * chunk + ic % chunk;
                    w8[at] = W[(ptrdiff_t)oc * ks + ic * T + t];
                }
        break;
    }
    case PATH_LANES: {
        int16_t *w16 = AT(plan, int16_t, h.weights);
        int32_t *off = AT(plan, int32_t, h.offsets);
        for (int k = 0; k < ks; k++) {
            off[k] = k * p->in_h * p->in_w;
            off[ks + k] = 16 * k;
        }
        for (int oc = 0; oc < cout; oc++)
            for (int k = 0; k < ks; k++) w16[((ptrdiff_t)(oc / 4) * ks + k) * 4 + oc % 4] = W[(ptrdiff_t)oc * ks + k];
        break;
    }
    case PATH_SDOT: {
        int8_t *q = AT(plan, int8_t, h.weights);
        const ptrdiff_t group_bytes = (ptrdiff_t)((h.ocpg + 3) / 4) * h.k4 * 16;
        for (int oc = 0; oc < cout; oc++) {
            const int g = oc / h.ocpg, r = oc % h.ocpg;
            int8_t *blk = q + g * group_bytes + (ptrdiff_t)(r / 4) * h.k4 * 16 + (r % 4) * 4;
            for (int k = 0; k < ks; k++) blk[(ptrdiff_t)(k / 4) * 16 + k % 4] = W[(ptrdiff_t)oc * ks + k];
        }
        break;
    }
    }
    memcpy(plan, &h, sizeof h);
    return 1;
}

size_t vigil_conv_plan_scratch_bytes(const void *plan, int threads) {
    const conv_plan *h = plan;
    if (h->scratch == 0) return 0;
    // The depthwise kernel works per channel in its scratch: one copy per thread.
    return h->path == PATH_DEPTHWISE && threads > 1 ? thread_stride(h->scratch) * (size_t)threads : h->scratch;
}

vigil_kernel_variant vigil_conv_plan_variant(const void *plan) { return ((const conv_plan *)plan)->variant; }

const char *vigil_conv_plan_path(const void *plan) {
    switch (((const conv_plan *)plan)->path) {
    case PATH_ROWS: return "rows";
    case PATH_COLUMNS: return "columns";
    case PATH_QUADS: return "quads";
    case PATH_DIRECT: return "direct";
    case PATH_DEPTHWISE: return "depthwise";
    case PATH_SDOT: return "sdot";
    case PATH_LANES: return "lanes";
    case PATH_NHWC: return "nhwc";
    }
    return "unknown";
}

static vigil_requant_rows conv_rows(const void *plan, const conv_plan *h, int r0) {
    vigil_requant_rows q = {CAT(plan, int32_t, h->bias) + r0, CAT(plan, int32_t, h->multiplier) + r0,
                            CAT(plan, int32_t, h->shift) + r0, h->p.output_zero_point, h->p.lo, h->p.hi};
    return q;
}

/// Input channel `ic` of group plane `first` at tap (ky, kx) for every output position, in output
/// order, written `step` bytes apart from `dst`, each byte x ^ flip (padding: pad).
static void gather_tap(const conv_plan *h, const int8_t *plane, int ky, int kx, uint8_t *dst, ptrdiff_t step,
                       uint8_t flip, uint8_t pad) {
    const vigil_conv_params *p = &h->p;
    for (int oy = 0; oy < p->out_h; oy++) {
        const int iy = oy * p->stride_h - p->pad_top + ky * p->dilation_h;
        const int in_row = iy >= 0 && iy < p->in_h;
        for (int ox = 0; ox < p->out_w; ox++) {
            const int ix = ox * p->stride_w - p->pad_left + kx * p->dilation_w;
            *dst = in_row && ix >= 0 && ix < p->in_w ? (uint8_t)plane[(ptrdiff_t)iy * p->in_w + ix] ^ flip : pad;
            dst += step;
        }
    }
}

#if defined(__aarch64__)
/// The direct path's padded input, signed (padding: zx): rows [C][hp][wp].
static void pad_rows_s8(const conv_plan *h, const int8_t *X, int8_t *P) {
    const vigil_conv_params *p = &h->p;
    for (int c = 0; c < p->in_channels; c++)
        for (int r = 0; r < h->hp; r++) {
            int8_t *d = P + ((ptrdiff_t)c * h->hp + r) * h->wp;
            const int iy = r - p->pad_top;
            if (iy < 0 || iy >= p->in_h) { memset(d, p->input_zero_point, (size_t)h->wp); continue; }
            const int8_t *s = X + ((ptrdiff_t)c * p->in_h + iy) * p->in_w;
            const int left = p->pad_left < h->wp ? p->pad_left : h->wp;
            int n = p->in_w < h->wp - left ? p->in_w : h->wp - left;
            memset(d, p->input_zero_point, (size_t)left);
            memcpy(d + left, s, (size_t)n);
            memset(d + left + n, p->input_zero_point, (size_t)(h->wp - left - n));
        }
}

/// The same as channel quads [ceil(C/4)][hp][wp][4] (channels past C: zx; their weights are 0):
/// each row is filled with zx, then its input columns interleaved (vigil_interleave4_s8_neon).
static void pad_quads_s8(const conv_plan *h, const int8_t *X, int8_t *P) {
    const vigil_conv_params *p = &h->p;
    const int c4 = (p->in_channels + 3) / 4;
    const int8_t zx = (int8_t)p->input_zero_point;
    const int left = p->pad_left < h->wp ? p->pad_left : h->wp;
    const int n = p->in_w < h->wp - left ? p->in_w : h->wp - left;
    for (int j = 0; j < c4; j++)
        for (int r = 0; r < h->hp; r++) {
            int8_t *d = P + (((ptrdiff_t)j * h->hp + r) * h->wp) * 4;
            memset(d, zx, (size_t)h->wp * 4);
            const int iy = r - p->pad_top;
            if (iy < 0 || iy >= p->in_h) continue;
            const int8_t *x[4];
            for (int t = 0; t < 4; t++) {
                const int c = 4 * j + t;
                x[t] = c < p->in_channels ? X + ((ptrdiff_t)c * p->in_h + iy) * p->in_w : NULL;
            }
            vigil_interleave4_s8_neon(x, n, zx, d + left * 4);
        }
}

/// n positions of C channels (channel c at src + c * plane) as [n][C8] at d (channels past C: 0):
/// eight channels at a time, 8 positions by 8 channels transposed with TRN; the last positions
/// (n % 8) as the 8 ending at n again, overlapping (the same bytes), when n >= 8.
static void nhwc_run_s8(const int8_t *src, ptrdiff_t plane, int C, int C8, int n, int8_t *d) {
    for (int c0 = 0; c0 < C8; c0 += 8) {
        int col = 0;
        if (c0 + 8 <= C && n >= 8) {
            for (int next = 0; next < n; next += 8) {
                col = next + 8 <= n ? next : n - 8;
                int8x8_t v[8];
                for (int j = 0; j < 8; j++) v[j] = vld1_s8(src + (ptrdiff_t)(c0 + j) * plane + col);
                // 8 x 8 byte transpose: TRN on bytes, halfwords, words.
                const int8x8x2_t b01 = vtrn_s8(v[0], v[1]), b23 = vtrn_s8(v[2], v[3]);
                const int8x8x2_t b45 = vtrn_s8(v[4], v[5]), b67 = vtrn_s8(v[6], v[7]);
                const int16x4x2_t h02 = vtrn_s16(vreinterpret_s16_s8(b01.val[0]), vreinterpret_s16_s8(b23.val[0]));
                const int16x4x2_t h13 = vtrn_s16(vreinterpret_s16_s8(b01.val[1]), vreinterpret_s16_s8(b23.val[1]));
                const int16x4x2_t h46 = vtrn_s16(vreinterpret_s16_s8(b45.val[0]), vreinterpret_s16_s8(b67.val[0]));
                const int16x4x2_t h57 = vtrn_s16(vreinterpret_s16_s8(b45.val[1]), vreinterpret_s16_s8(b67.val[1]));
                const int32x2x2_t w04 = vtrn_s32(vreinterpret_s32_s16(h02.val[0]), vreinterpret_s32_s16(h46.val[0]));
                const int32x2x2_t w15 = vtrn_s32(vreinterpret_s32_s16(h13.val[0]), vreinterpret_s32_s16(h57.val[0]));
                const int32x2x2_t w26 = vtrn_s32(vreinterpret_s32_s16(h02.val[1]), vreinterpret_s32_s16(h46.val[1]));
                const int32x2x2_t w37 = vtrn_s32(vreinterpret_s32_s16(h13.val[1]), vreinterpret_s32_s16(h57.val[1]));
                int8_t *o = d + (ptrdiff_t)col * C8 + c0;
                vst1_s8(o, vreinterpret_s8_s32(w04.val[0]));
                vst1_s8(o + C8, vreinterpret_s8_s32(w15.val[0]));
                vst1_s8(o + 2 * C8, vreinterpret_s8_s32(w26.val[0]));
                vst1_s8(o + 3 * C8, vreinterpret_s8_s32(w37.val[0]));
                vst1_s8(o + 4 * C8, vreinterpret_s8_s32(w04.val[1]));
                vst1_s8(o + 5 * C8, vreinterpret_s8_s32(w15.val[1]));
                vst1_s8(o + 6 * C8, vreinterpret_s8_s32(w26.val[1]));
                vst1_s8(o + 7 * C8, vreinterpret_s8_s32(w37.val[1]));
            }
            continue;
        }
        for (; col < n; col++)
            for (int j = 0; j < 8; j++)
                d[(ptrdiff_t)col * C8 + c0 + j] = c0 + j < C ? src[(ptrdiff_t)(c0 + j) * plane + col] : 0;
    }
}

/// The NHWC path's input: [hp][wp][C8] of x (padding zx; channels past C: 0), by nhwc_run_s8 per
/// row, or over the whole plane at once when there is no padding (a 1x1 convolution: rows of 7 or
/// 14 positions would otherwise be mostly tails).
static void pad_nhwc_s8(const conv_plan *h, const int8_t *X, int8_t *P) {
    const vigil_conv_params *p = &h->p;
    const int C = p->in_channels, C8 = h->c8, wp = h->wp;
    const int8_t zx = (int8_t)p->input_zero_point;
    const ptrdiff_t plane = (ptrdiff_t)p->in_h * p->in_w;
    if (p->pad_top == 0 && p->pad_left == 0 && wp == p->in_w && h->hp == p->in_h) {
        nhwc_run_s8(X, plane, C, C8, (int)plane, P);
        return;
    }
    const int left = p->pad_left < wp ? p->pad_left : wp;
    const int n = p->in_w < wp - left ? p->in_w : wp - left;
    for (int r = 0; r < h->hp; r++) {
        int8_t *row = P + (ptrdiff_t)r * wp * C8;
        const int iy = r - p->pad_top;
        // padding: every channel zx (channels past C: 0)
        for (int col = 0; col < wp; col++) {
            if (iy >= 0 && iy < p->in_h && col >= left && col < left + n) continue;
            memset(row + (ptrdiff_t)col * C8, zx, (size_t)C);
            memset(row + (ptrdiff_t)col * C8 + C, 0, (size_t)(C8 - C));
        }
        if (iy < 0 || iy >= p->in_h || n <= 0) continue;
        nhwc_run_s8(X + (ptrdiff_t)iy * p->in_w, plane, C, C8, n, row + (ptrdiff_t)left * C8);
    }
}
#endif

void vigil_conv_run(const void *plan, const int8_t *X, const int8_t *W, void *scratch, int8_t *Y, vigil_pool *pool) {
    const conv_plan *h = plan;
    const vigil_conv_params *p = &h->p;
    const vigil_kernel_variant v = h->variant;
    const ptrdiff_t in_plane = (ptrdiff_t)p->in_h * p->in_w, spatial = (ptrdiff_t)p->out_h * p->out_w;
    const ptrdiff_t in_image = in_plane * p->in_channels, out_image = spatial * p->out_channels;
    uint8_t *S = scratch;
    for (int n = 0; n < p->batch; n++) {
        const int8_t *image = X + n * in_image;
        int8_t *out = Y + n * out_image;
        switch (h->path) {
        case PATH_DEPTHWISE: {
            const vigil_requant_rows q = conv_rows(plan, h, 0);
            vigil_par_depthwise_s8_v(pool, v, image, W, &h->dw, &q, h->prepared ? CAT(plan, void, h->prepared) : NULL,
                                     scratch, thread_stride(h->scratch), out);
            break;
        }
        case PATH_DIRECT: {
#if defined(__aarch64__)
            if (h->direct_kind == 2) {
                pad_rows_s8(h, image, (int8_t *)S);
                const vigil_requant_rows q = conv_rows(plan, h, 0);
                vigil_par_conv_s8_direct_neon(pool, CAT(plan, int16_t, h->weights), p->out_channels, (const int8_t *)S,
                                              h->row_stride, p->out_h, p->stride_w, p->out_w,
                                              CAT(plan, int32_t, h->offsets), h->noffsets, &q, out, spatial);
                break;
            }
            if (h->direct_kind == 1) {
                if (h->channel_quads) pad_quads_s8(h, image, (int8_t *)S);
                else pad_rows_s8(h, image, (int8_t *)S);
                const vigil_requant_rows q = conv_rows(plan, h, 0);
                vigil_par_conv_s8_direct_dotprod(pool, CAT(plan, int8_t, h->weights), p->out_channels, (const int8_t *)S,
                                                 h->row_stride, p->out_h, h->pos_stride, p->out_w,
                                                 CAT(plan, int32_t, h->offsets), h->noffsets, &q, out, spatial);
                break;
            }
#endif
            const uint8_t pad = (uint8_t)(p->input_zero_point + 128);
            if (h->channel_quads)
                vigil_conv_pad_quads_u8_v(v, image, p->in_channels, p->in_h, p->in_w, p->pad_top, p->pad_left, h->hp,
                                          h->wp, pad, S);
            else
                vigil_conv_pad_rows_u8(image, p->in_channels, p->in_h, p->in_w, p->pad_top, p->pad_left, h->hp, h->wp,
                                       pad, S);
            const vigil_requant_rows q = conv_rows(plan, h, 0);
            vigil_par_conv_u8s8_direct_v(pool, v, CAT(plan, int32_t, h->weights), p->out_channels, S, h->row_stride,
                                         p->out_h, h->pos_stride, p->out_w, CAT(plan, int32_t, h->offsets), h->noffsets,
                                         &q, out, spatial);
            break;
        }
        case PATH_QUADS:
            for (int grp = 0; grp < p->groups; grp++) {
                const int8_t *first = image + (ptrdiff_t)grp * h->icpg * in_plane;
                if (h->pointwise) {
                    vigil_par_pack_quads_u8_v(pool, v, first, in_plane, h->icpg, (int)spatial, S);
                } else {
                    // im2col of x + 128 as [K4][positions][4] (k = 4 * k4 + j); terms past K: 0
                    const uint8_t pad = (uint8_t)(p->input_zero_point + 128);
                    int k = 0;
                    for (int ic = 0; ic < h->icpg; ic++)
                        for (int ky = 0; ky < p->k_h; ky++)
                            for (int kx = 0; kx < p->k_w; kx++, k++)
                                gather_tap(h, first + ic * in_plane, ky, kx, S + (ptrdiff_t)(k / 4) * spatial * 4 + k % 4,
                                           4, 0x80, pad);
                    for (; k < 4 * h->k4; k++)
                        for (ptrdiff_t o = 0; o < spatial; o++) S[((ptrdiff_t)(k / 4) * spatial + o) * 4 + k % 4] = 0;
                }
                const int r0 = grp * h->ocpg;
                const vigil_requant_rows q = conv_rows(plan, h, r0);
                vigil_par_gemm_u8s8_k4_v(pool, v, CAT(plan, int32_t, h->weights) + (ptrdiff_t)r0 * h->k4, S, h->ocpg,
                                         (int)spatial, h->k4, &q, out + r0 * spatial, spatial);
            }
            break;
        case PATH_COLUMNS:
            for (int grp = 0; grp < p->groups; grp++) {
                const int8_t *first = image + (ptrdiff_t)grp * h->icpg * in_plane;
                const int8_t *B = first;
                if (!h->pointwise) {  // im2col as [K][positions]
                    int k = 0;
                    for (int ic = 0; ic < h->icpg; ic++)
                        for (int ky = 0; ky < p->k_h; ky++)
                            for (int kx = 0; kx < p->k_w; kx++, k++)
                                gather_tap(h, first + ic * in_plane, ky, kx, S + (ptrdiff_t)k * spatial, 1, 0,
                                           (uint8_t)p->input_zero_point);
                    B = (const int8_t *)S;
                }
                const int r0 = grp * h->ocpg;
                const vigil_requant_rows q = conv_rows(plan, h, r0);
                vigil_par_gemm_s8_kn_v(pool, v, CAT(plan, int32_t, h->weights) + (ptrdiff_t)r0 * ((h->ksize + 1) / 2), B,
                                       spatial, h->ocpg, (int)spatial, h->ksize, &q, out + r0 * spatial, spatial);
            }
            break;
        case PATH_NHWC:
#if defined(__aarch64__)
        {
            pad_nhwc_s8(h, image, (int8_t *)S);
            const vigil_requant_rows q = conv_rows(plan, h, 0);
            vigil_par_conv_s8_nhwc_neon(pool, CAT(plan, int8_t, h->weights), p->out_channels, (const int8_t *)S,
                                        h->row_stride, p->out_h, h->pos_stride, p->out_w, CAT(plan, int32_t, h->offsets),
                                        h->noffsets, h->c8, &q, out, spatial);
        }
#endif
            break;
        case PATH_LANES:
#if defined(__aarch64__)
        {
            const vigil_requant_rows q = conv_rows(plan, h, 0);
            const int16_t *w16 = CAT(plan, int16_t, h->weights);
            const int32_t *off = CAT(plan, int32_t, h->offsets);
            const int whole = (int)(spatial & ~(ptrdiff_t)15), tail = (int)spatial - whole;
            if (whole)
                vigil_par_conv_s8_direct_neon(pool, w16, p->out_channels, image, 0, 1, 1, whole, off, h->ksize, &q, out,
                                              spatial);
            if (tail) {
                int8_t *T = (int8_t *)S;
                for (int k = 0; k < h->ksize; k++) {
                    memcpy(T + 16 * k, image + (ptrdiff_t)k * in_plane + whole, (size_t)tail);
                    memset(T + 16 * k + tail, 0, (size_t)(16 - tail));
                }
                vigil_conv_s8_direct_neon(w16, p->out_channels, T, 1, tail, off + h->ksize, h->ksize, &q, out + whole,
                                          spatial);
            }
        }
#endif
            break;
        case PATH_SDOT:
#if defined(__aarch64__)
            for (int grp = 0; grp < p->groups; grp++) {
                const int8_t *first = image + (ptrdiff_t)grp * h->icpg * in_plane;
                if (h->pointwise) {
                    vigil_pack_quads_s8_neon(first, in_plane, h->icpg, (int)spatial, (int8_t *)S);
                } else {
                    // im2col of x as [K4][positions][4] (k = 4 * k4 + j); terms past K: 0
                    int k = 0;
                    for (int ic = 0; ic < h->icpg; ic++)
                        for (int ky = 0; ky < p->k_h; ky++)
                            for (int kx = 0; kx < p->k_w; kx++, k++)
                                gather_tap(h, first + ic * in_plane, ky, kx, S + (ptrdiff_t)(k / 4) * spatial * 4 + k % 4,
                                           4, 0, (uint8_t)p->input_zero_point);
                    for (; k < 4 * h->k4; k++)
                        for (ptrdiff_t o = 0; o < spatial; o++) S[((ptrdiff_t)(k / 4) * spatial + o) * 4 + k % 4] = 0;
                }
                const int r0 = grp * h->ocpg;
                const vigil_requant_rows q = conv_rows(plan, h, r0);
                vigil_par_gemm_s8_k4_dotprod(pool, CAT(plan, int8_t, h->weights) + grp * (ptrdiff_t)((h->ocpg + 3) / 4) * h->k4 * 16,
                                             (const int8_t *)S, h->ocpg, (int)spatial, h->k4, &q, out + r0 * spatial, spatial);
            }
#endif
            break;
        case PATH_ROWS:
            for (int grp = 0; grp < p->groups; grp++) {
                const int8_t *first = image + (ptrdiff_t)grp * h->icpg * in_plane;
                // im2col, one row of K values per output position
                int k = 0;
                for (int ic = 0; ic < h->icpg; ic++)
                    for (int ky = 0; ky < p->k_h; ky++)
                        for (int kx = 0; kx < p->k_w; kx++, k++)
                            gather_tap(h, first + ic * in_plane, ky, kx, S + k, h->ksize, 0, (uint8_t)p->input_zero_point);
                const int r0 = grp * h->ocpg;
                const vigil_requant_rows q = conv_rows(plan, h, r0);
                vigil_par_gemm_s8_v(pool, v, W + (ptrdiff_t)r0 * h->ksize, (const int8_t *)S, h->ocpg, (int)spatial,
                                    h->ksize, &q, out + r0 * spatial, spatial, 1);
            }
            break;
        }
    }
}

// --- depthwise -----------------------------------------------------------------------------------

enum { DW_MAGIC = 0x56445731 };  // "VDW1"
typedef struct {
    uint32_t magic;
    vigil_kernel_variant variant;
    vigil_depthwise_geometry g;
    int batch;
    int32_t zero_point, lo, hi;
    size_t scratch, bias, multiplier, shift, prepared, total;
} dw_plan;

static int dw_valid(const vigil_depthwise_geometry *g, int batch) {
    return batch >= 1 && g->channels >= 1 && g->multiplier >= 1 && g->in_h >= 1 && g->in_w >= 1 && g->out_h >= 1 &&
           g->out_w >= 1 && g->k_h >= 1 && g->k_w >= 1 && g->stride_h >= 1 && g->stride_w >= 1 && g->dilation_h >= 1 &&
           g->dilation_w >= 1 && g->pad_top >= 0 && g->pad_left >= 0;
}

static void dw_layout(const vigil_depthwise_geometry *g, int batch, vigil_kernel_variant v, dw_plan *h) {
    memset(h, 0, sizeof *h);
    h->magic = DW_MAGIC;
    h->variant = v;
    h->g = *g;
    h->batch = batch;
    // The channel-plane kernels (the only users of scratch) exist for the vector variants.
    h->scratch = vigil_variant_avx2(v) || vigil_variant_arm(v) ? vigil_depthwise_s8_scratch_bytes(g) : 0;
    const size_t rows = (size_t)g->channels * g->multiplier;
    size_t end = align_up(sizeof(dw_plan));
    const size_t prepared = h->scratch ? vigil_depthwise_prepared_bytes(v, g) : 0;
    if (prepared) h->prepared = take(&end, prepared);
    h->bias = take(&end, rows * 4);
    h->multiplier = take(&end, rows * 4);
    h->shift = take(&end, rows * 4);
    h->total = end;
}

size_t vigil_depthwise_plan_bytes(const vigil_depthwise_geometry *g, int batch, vigil_kernel_variant v) {
    if (!dw_valid(g, batch)) return 0;
    dw_plan h;
    dw_layout(g, batch, v, &h);
    return h.total;
}

int vigil_depthwise_plan_init(void *plan, size_t bytes, const vigil_depthwise_geometry *g, int batch, const int8_t *W,
                              const int32_t *bias, const int32_t *multiplier, const int32_t *shift, int32_t zero_point,
                              int32_t lo, int32_t hi, vigil_kernel_variant v) {
    (void)W;
    if (!plan || !dw_valid(g, batch) || !vigil_kernel_supported(v) || ((uintptr_t)plan & (PLAN_ALIGN - 1))) return 0;
    dw_plan h;
    dw_layout(g, batch, v, &h);
    if (bytes < h.total) return 0;
    memset(plan, 0, h.total);
    h.zero_point = zero_point;
    h.lo = lo;
    h.hi = hi;
    const size_t rows = (size_t)g->channels * g->multiplier;
    if (bias) memcpy(AT(plan, int32_t, h.bias), bias, rows * 4);
    memcpy(AT(plan, int32_t, h.multiplier), multiplier, rows * 4);
    memcpy(AT(plan, int32_t, h.shift), shift, rows * 4);
    if (h.prepared) vigil_depthwise_prepare(v, g, AT(plan, void, h.prepared));
    memcpy(plan, &h, sizeof h);
    return 1;
}

size_t vigil_depthwise_plan_scratch_bytes(const void *plan, int threads) {
    const dw_plan *h = plan;
    if (h->scratch == 0) return 0;
    return threads > 1 ? thread_stride(h->scratch) * (size_t)threads : h->scratch;
}

vigil_kernel_variant vigil_depthwise_plan_variant(const void *plan) { return ((const dw_plan *)plan)->variant; }
const char *vigil_depthwise_plan_path(const void *plan) { return ((const dw_plan *)plan)->scratch ? "planes" : "taps"; }

void vigil_depthwise_run(const void *plan, const int8_t *X, const int8_t *W, void *scratch, int8_t *Y, vigil_pool *pool) {
    const dw_plan *h = plan;
    const vigil_depthwise_geometry *g = &h->g;
    const vigil_requant_rows q = {CAT(plan, int32_t, h->bias), CAT(plan, int32_t, h->multiplier),
                                  CAT(plan, int32_t, h->shift), h->zero_point, h->lo, h->hi};
    const ptrdiff_t in_image = (ptrdiff_t)g->channels * g->in_h * g->in_w;
    const ptrdiff_t out_image = (ptrdiff_t)g->channels * g->multiplier * g->out_h * g->out_w;
    for (int n = 0; n < h->batch; n++)
        vigil_par_depthwise_s8_v(pool, h->variant, X + n * in_image, W, g, &q,
                                 h->prepared ? CAT(plan, void, h->prepared) : NULL, h->scratch ? scratch : NULL,
                                 thread_stride(h->scratch), Y + n * out_image);
}

// --- fully connected -----------------------------------------------------------------------------

enum { FC_MAGIC = 0x56464331 };  // "VFC1"
typedef struct {
    uint32_t magic;
    vigil_kernel_variant variant;
    vigil_fc_params p;
    int gemv;
    size_t bias, gemv_bias, multiplier, shift, total;
} fc_plan;

static void fc_layout(const vigil_fc_params *p, vigil_kernel_variant v, fc_plan *h) {
    memset(h, 0, sizeof *h);
    h->magic = FC_MAGIC;
    h->variant = v;
    h->p = *p;
    // The u8 x s8 one-row kernel (AVX512-VNNI: eight rows share each 64-byte step of the shifted
    // input) pays off from a row of 64 bytes and eight output features on.
    h->gemv = v == VIGIL_KERNEL_AVX512VNNI && p->m == 1 && p->k >= 64 && p->n >= 8;
    size_t end = align_up(sizeof(fc_plan));
    h->bias = take(&end, (size_t)p->n * 4);
    if (h->gemv) h->gemv_bias = take(&end, (size_t)p->n * 4);
    h->multiplier = take(&end, (size_t)p->n * 4);
    h->shift = take(&end, (size_t)p->n * 4);
    h->total = end;
}

size_t vigil_fc_plan_bytes(const vigil_fc_params *p, vigil_kernel_variant v) {
    if (p->m < 1 || p->n < 1 || p->k < 1) return 0;
    fc_plan h;
    fc_layout(p, v, &h);
    return h.total;
}

int vigil_fc_plan_init(void *plan, size_t bytes, const vigil_fc_params *p, const int8_t *W, const int32_t *bias,
                       const int32_t *multiplier, const int32_t *shift, vigil_kernel_variant v) {
    if (!plan || p->m < 1 || p->n < 1 || p->k < 1 || !vigil_kernel_supported(v) || ((uintptr_t)plan & (PLAN_ALIGN - 1)))
        return 0;
    fc_plan h;
    fc_layout(p, v, &h);
    if (bytes < h.total) return 0;
    memset(plan, 0, h.total);
    memcpy(AT(plan, int32_t, h.multiplier), multiplier, (size_t)p->n * 4);
    memcpy(AT(plan, int32_t, h.shift), shift, (size_t)p->n * 4);
    for (int j = 0; j < p->n; j++) {
        const int32_t b0 = bias ? bias[j] : 0, sum = weight_sum(W, p->k, j);
        AT(plan, int32_t, h.bias)[j] = fold(b0, p->input_zero_point, sum);
        if (h.gemv) AT(plan, int32_t, h.gemv_bias)[j] = fold(b0, p->input_zero_point + 128, sum);
    }
    memcpy(plan, &h, sizeof h);
    return 1;
}

vigil_kernel_variant vigil_fc_plan_variant(const void *plan) { return ((const fc_plan *)plan)->variant; }
const char *vigil_fc_plan_path(const void *plan) { return ((const fc_plan *)plan)->gemv ? "gemv" : "gemm"; }

void vigil_fc_run(const void *plan, const int8_t *X, const int8_t *W, int8_t *Y, vigil_pool *pool) {
    const fc_plan *h = plan;
    const vigil_fc_params *p = &h->p;
    vigil_requant_rows q = {CAT(plan, int32_t, h->bias), CAT(plan, int32_t, h->multiplier), CAT(plan, int32_t, h->shift),
                            p->output_zero_point, p->lo, p->hi};
    if (h->gemv && vigil_pool_threads(pool) < 2) {
        q.bias = CAT(plan, int32_t, h->gemv_bias);
        vigil_gemv_u8s8_v(h->variant, W, X, p->n, p->k, &q, Y, 1);
        return;
    }
    // Rows of the GEMM are output features (W rows), columns the input rows: Y[i][j] at j + i * n.
    vigil_par_gemm_s8_v(pool, h->variant, W, X, p->n, p->m, p->k, &q, Y, 1, p->n);
}
