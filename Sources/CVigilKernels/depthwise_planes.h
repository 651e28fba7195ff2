// Depthwise convolution over one channel at a time, vectorized across output positions
// (internal to CVigilKernels; depthwise_driver.h is the layer loop, x86/ and arm/ hold the plane
// kernels and instantiate it, depthwise_generic.c dispatches).
//
// The channel's input is copied once into a padded plane of x + 128 (padding: zx + 128) whose
// rows are split by stride s into s sub-planes (padded row r goes to sub-plane r % s, row r / s),
// each `wp` bytes wide with wp a multiple of s. Output (oy, ox) is then flattened to
// q = oy * (wp / s) + ox, and every tap reads byte s * q + off[tap] — one linear function of q, so a
// whole plane (not just a row) is one run of positions and small planes (7x7) fill vectors too.
// Positions with ox >= out_w are computed and dropped. Four adjacent taps of one kernel row form a
// "quad" (bytes s*q + off[k] .. + 3; weight 0 past the kernel), which is what VPDPBUSD consumes.
//
// acc = bias' + sum over quads of u8 * s8 with bias' = bias - (zx + 128) * sum(w) equals the
// reference's bias + sum over taps inside the input of (x - zx) * w, modulo 2^32, like the
// reference's wrapping adds (padding bytes are zx + 128 and cancel out).
#ifndef VIGIL_DEPTHWISE_PLANES_H
#define VIGIL_DEPTHWISE_PLANES_H
#include "vigil_kernels.h"
#include <string.h>

/// At most this many quads per channel (k_h * ceil(k_w / 4)); larger kernels use the generic body.
#define VIGIL_DW_MAX_QUADS 32
/// Positions a plane kernel may compute past the last one (its results land in the slack of T).
#define VIGIL_DW_TILE 64
/// Page size assumed for keeping small planes inside one page (a smaller real page only loses the benefit).
#define VIGIL_DW_PAGE 4096

typedef struct {
    const uint8_t *P;          // sub-plane 0; reads at P + s * q + off[k], 4 or more bytes
    int s;                     // stride, 1 or 2
    int nq;                    // positions to compute, q in [0, nq)
    int nk;                    // quads
    const int32_t *off;        // [nk] byte offsets (sub-plane, row and column of the quad)
    const int32_t *wq;         // [nk] weight quads, byte t = tap 4j + t of the row (0 past k_w)
    int32_t bias, m, n, zp, lo, hi;  // bias' and the channel's requantization
    int8_t *T;                 // [nq rounded up to VIGIL_DW_TILE] results
} vigil_dw_plane;

/// 1 if the shape has the vectorized channel-plane path.
static inline int vigil_dw_planar(const vigil_depthwise_geometry *g) {
    const int s = g->stride_w;
    return g->stride_h == s && (s == 1 || s == 2) && g->dilation_w == 1 && g->out_h > 0 && g->out_w > 0 &&
           g->k_h * ((g->k_w + 3) / 4) <= VIGIL_DW_MAX_QUADS;
}

typedef struct {
    int s, hp, wp, hps, wq, nq, nqr;
    size_t plane, pbytes, tbytes;  // tbytes includes the slack
    size_t slack;                  // bytes for vigil_dw_place to move the plane by (0: not moved)
} vigil_dw_layout;

static inline vigil_dw_layout vigil_dw_layout_of(const vigil_depthwise_geometry *g) {
    vigil_dw_layout l;
    l.s = g->stride_w;
    // Padded rows and columns the kernel can touch; the width rounded up to a multiple of s.
    l.hp = (g->out_h - 1) * l.s + (g->k_h - 1) * g->dilation_h + 1;
    l.wp = (g->out_w - 1) * l.s + g->k_w;
    l.wp = (l.wp + l.s - 1) / l.s * l.s;
    l.hps = (l.hp + l.s - 1) / l.s;
    l.plane = (size_t)l.hps * l.wp;
    l.wq = l.wp / l.s;
    l.nq = (g->out_h - 1) * l.wq + g->out_w;
    l.nqr = (l.nq + VIGIL_DW_TILE - 1) / VIGIL_DW_TILE * VIGIL_DW_TILE;
    // Reads reach s * q + (sub-plane, row and quad offset) + a vector, for q below nqr.
    const size_t reach = (size_t)(l.s - 1) * l.plane + (size_t)((g->k_h - 1) * g->dilation_h / l.s) * l.wp +
                         4 * (size_t)((g->k_w + 3) / 4);
    const size_t need = (size_t)l.s * l.nqr + reach + 2 * VIGIL_DW_TILE;
    l.pbytes = need > (size_t)l.s * l.plane ? need : (size_t)l.s * l.plane;
    l.tbytes = (size_t)l.nqr + VIGIL_DW_TILE;
    // A channel's plane and results that fit in a page are kept inside one (vigil_dw_place): vector
    // loads that straddle a page boundary cost several times a plain one, and with the scratch near
    // a page's end every tap of a 7x7 plane straddled it (MobileNetV2's [960, 7x7] layers ran at
    // twice the time of the same layer whose scratch the arena plan had put elsewhere). The slack
    // for moving them (at most their own size) is counted in tbytes, part of the scratch size.
    l.slack = l.pbytes + l.tbytes <= VIGIL_DW_PAGE ? l.pbytes + l.tbytes : 0;
    l.tbytes += l.slack;
    return l;
}

/// Where the driver puts the padded plane in `scratch`: the scratch itself, or, when the plane and
/// results (pbytes + tbytes - slack bytes) would cross a page boundary there, the next page boundary,
/// which lies within the slack.
static inline uint8_t *vigil_dw_place(void *scratch, const vigil_dw_layout *l) {
    uint8_t *P = (uint8_t *)scratch;
    if (!l->slack) return P;
    const size_t into = (size_t)((uintptr_t)P & (VIGIL_DW_PAGE - 1));
    return into + l->slack > VIGIL_DW_PAGE ? P + (VIGIL_DW_PAGE - into) : P;
}

/// The requantized value minus the zero point, for the lanes a plane kernel cannot do in vector
/// form: fed back into the same pack-and-saturate steps it gives vigil_requantize's byte.
static inline int32_t vigil_dw_requant_minus_zp(int32_t acc, const vigil_dw_plane *p) {
    return vigil_requantize(acc, p->m, p->n, p->zp, p->lo, p->hi) - p->zp;
}

// --- copy tables (the AArch64 plane kernels) -------------------------------------------------------
// On small planes the row-by-row copies into the padded plane and out of T cost more than the
// arithmetic (7 x 7: two 7-byte copies per row, ~25 instructions each, against ~55 per 16 outputs
// computed). The plan precomputes, per geometry, 16-byte chunks instead: a copy-in chunk is one TBX
// of a 16-byte window of the channel's input into 16 bytes of the plane (lanes with index 255 keep
// what the plane holds: padding, or bytes another chunk writes), a copy-out chunk one TBL of a
// 32-byte window of T into 16 output bytes. Windows never leave the channel's input (one is moved
// back to end at the plane's end) nor the output plane (the last chunk overlaps the one before).

/// One chunk: 16 bytes at `dst` made from the window at `src` (offsets from the channel's plane,
/// input, output or T), lane i from window byte idx[i] (255: none).
typedef struct {
    int32_t dst, src;
    uint8_t idx[16];
} vigil_dw_chunk;

/// Header of the tables (vigil_depthwise_arm_prepare); chunk arrays follow at in_at and out_at bytes
/// from it. n_in or n_out 0: that copy goes row by row.
typedef struct {
    int32_t n_in, n_out, in_at, out_at;
} vigil_dw_tables;

/// Rows narrower than this are copied by chunks (wider rows: vector row copies are as cheap).
#define VIGIL_DW_CHUNK_ROWS 48

/// The copy-in chunks of g (written to `out` unless NULL); their count, or 0 when the rows are wide,
/// the input plane is under 16 bytes or a chunk would leave the plane's bytes.
static inline int vigil_dw_in_chunks(const vigil_depthwise_geometry *g, const vigil_dw_layout *l, vigil_dw_chunk *out) {
    const int in_plane = g->in_h * g->in_w;
    if (g->in_w >= VIGIL_DW_CHUNK_ROWS || in_plane < 16) return 0;
    const int s = l->s, sub = s - 1;
    const int lo = g->pad_left < l->wp ? g->pad_left : l->wp;
    const int hi = g->pad_left + g->in_w < l->wp ? g->pad_left + g->in_w : l->wp;
    const int r0 = g->pad_top < l->hp ? g->pad_top : l->hp;
    const int r1 = g->pad_top + g->in_h < l->hp ? g->pad_top + g->in_h : l->hp;
    int n = 0, open = 0;
    int32_t d0 = 0, s0 = 0;
    uint8_t idx[16];
    for (int sp = 0; sp < s; sp++)          // in plane order: sub-plane, its rows, columns
        for (int r = r0; r < r1; r++) {
            if ((r & sub) != sp) continue;
            for (int c = lo; c < hi; c++) {
                const int32_t d = (int32_t)((size_t)sp * l->plane + (size_t)(r >> sub) * l->wp + (size_t)c);
                const int32_t src = (r - g->pad_top) * g->in_w + (c - g->pad_left);
                if (open && d < d0 + 16 && src >= s0 && src < s0 + 16) {
                    idx[d - d0] = (uint8_t)(src - s0);
                    continue;
                }
                if (open) {
                    if (out) { out[n].dst = d0; out[n].src = s0; memcpy(out[n].idx, idx, 16); }
                    n++;
                }
                open = 1;
                d0 = d;
                s0 = src + 16 > in_plane ? in_plane - 16 : src;
                if ((size_t)d0 + 16 > l->pbytes) return 0;
                memset(idx, 255, 16);
                idx[0] = (uint8_t)(src - s0);
            }
        }
    if (open) {
        if (out) { out[n].dst = d0; out[n].src = s0; memcpy(out[n].idx, idx, 16); }
        n++;
    }
    return n;
}

/// The copy-out chunks of g: output bytes [16i, 16i + 16) (the last chunk ending at the plane's
/// end) from T, whose rows are l->wq wide; 0 when the rows are wide, the plane is under 16 bytes or
/// a chunk's bytes of T span more than 32.
static inline int vigil_dw_out_chunks(const vigil_depthwise_geometry *g, const vigil_dw_layout *l, vigil_dw_chunk *out) {
    const int ow = g->out_w, plane = g->out_h * ow;
    if (ow >= VIGIL_DW_CHUNK_ROWS || plane < 16 || l->wq == ow) return 0;
    const int n = (plane + 15) / 16;
    for (int i = 0; i < n; i++) {
        const int o0 = i + 1 < n ? 16 * i : plane - 16;
        const int32_t t0 = (o0 / ow) * l->wq + o0 % ow;
        if (out) { out[i].dst = o0; out[i].src = t0; }
        for (int j = 0; j < 16; j++) {
            const int32_t t = ((o0 + j) / ow) * l->wq + (o0 + j) % ow - t0;
            if (t > 31) return 0;
            if (out) out[i].idx[j] = (uint8_t)t;
        }
    }
    return n;
}

/// Bytes of the copy tables of g (a vigil_dw_tables header and both chunk arrays).
static inline size_t vigil_dw_tables_bytes(const vigil_depthwise_geometry *g) {
    if (!vigil_dw_planar(g)) return 0;
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    return sizeof(vigil_dw_tables) + (size_t)(vigil_dw_in_chunks(g, &l, NULL) + vigil_dw_out_chunks(g, &l, NULL)) * sizeof(vigil_dw_chunk);
}

/// Writes the copy tables of g to `out` (vigil_dw_tables_bytes(g) bytes, 4-byte aligned).
static inline void vigil_dw_tables_fill(const vigil_depthwise_geometry *g, void *out) {
    vigil_dw_tables *t = (vigil_dw_tables *)out;
    memset(t, 0, sizeof *t);
    if (!vigil_dw_planar(g)) return;
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    t->in_at = (int32_t)sizeof *t;
    t->n_in = vigil_dw_in_chunks(g, &l, (vigil_dw_chunk *)((uint8_t *)out + t->in_at));
    t->out_at = t->in_at + t->n_in * (int32_t)sizeof(vigil_dw_chunk);
    t->n_out = vigil_dw_out_chunks(g, &l, (vigil_dw_chunk *)((uint8_t *)out + t->out_at));
}

// Whole-layer entry points, one per variant (depthwise_driver.h instantiated with that variant's
// plane kernel and row copies).
void vigil_depthwise_planes_avx2(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                 const vigil_requant_rows *q, void *scratch, int8_t *Y);
void vigil_depthwise_planes_avxvnni(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                    const vigil_requant_rows *q, void *scratch, int8_t *Y);
/// `prepared`: vigil_depthwise_avx512_prepare's tables for g, or NULL.
void vigil_depthwise_planes_avx512vnni(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                       const vigil_requant_rows *q, const void *prepared, void *scratch, int8_t *Y);
size_t vigil_depthwise_avx512_prepared_bytes(void);
int vigil_depthwise_avx512_prepare(const vigil_depthwise_geometry *g, void *out);
/// `prepared`: vigil_dw_tables_fill's tables for g, or NULL (row copies).
void vigil_depthwise_planes_neon(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                 const vigil_requant_rows *q, const void *prepared, void *scratch, int8_t *Y);
/// The same with SDOT on a signed plane (arm/gemm_dotprod.c; CPUs with the dot product only).
void vigil_depthwise_planes_dotprod(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                    const vigil_requant_rows *q, const void *prepared, void *scratch, int8_t *Y);
/// The scalar tail of the vector row copies: bytes i..<n of `src` to `d`, XOR 0x80 when `flip`
/// (int8 -> x + 128), 8 bytes at a time, then one by one.
static inline void vigil_dw_copy_tail(uint8_t *d, const int8_t *src, int i, int n, int flip) {
    const uint64_t f8 = flip ? 0x8080808080808080ull : 0;
    for (; i + 8 <= n; i += 8) {
        uint64_t v;
        memcpy(&v, src + i, 8);
        v ^= f8;
        memcpy(d + i, &v, 8);
    }
    for (; i < n; i++) d[i] = (uint8_t)src[i] ^ (uint8_t)f8;
}

/// Packs one filter's taps into quads (four consecutive taps of a kernel row per int32, the row's
/// last quad zero-padded; one quad per row for the common 3-wide kernels) and returns the sum of its
/// taps (for the input zero-point correction).
static inline int32_t vigil_dw_weight_quads(const int8_t *w, int k_h, int k_w, int kq, int32_t *wq) {
    int32_t sum = 0;
    if (k_w == 3) {
        for (int ky = 0; ky < k_h; ky++) {
            const int8_t *r = w + 3 * ky;
            sum += r[0] + r[1] + r[2];
            wq[ky] = (int32_t)((uint32_t)(uint8_t)r[0] | (uint32_t)(uint8_t)r[1] << 8 | (uint32_t)(uint8_t)r[2] << 16);
        }
        return sum;
    }
    for (int ky = 0; ky < k_h; ky++)
        for (int j = 0; j < kq; j++) {
            uint32_t v = 0;
            for (int t = 0; t < 4 && 4 * j + t < k_w; t++) {
                const int8_t wv = w[ky * k_w + 4 * j + t];
                sum += wv;
                v |= (uint32_t)(uint8_t)wv << (8 * t);
            }
            wq[ky * kq + j] = (int32_t)v;
        }
    return sum;
}

#endif
