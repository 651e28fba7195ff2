// The whole-layer loop of the channel-plane depthwise kernels (see depthwise_planes.h), included
// once per variant so that the plane kernel inlines and the row copies use that variant's vectors.
// Expects:
//   VIGIL_DWD_NAME            the entry point's name
//   VIGIL_DWD_ATTR            its target attribute (may be empty)
//   VIGIL_DWD_PLANE(p)        computes p->T for one channel
//   VIGIL_DWD_COPY_XOR(d,s,n) d[i] = s[i] ^ 0x80 for i < n (uint8_t *d, const int8_t *s)
//   VIGIL_DWD_COPY(d,s,n)     d[i] = s[i] for i < n (int8_t *d, const int8_t *s)
//   VIGIL_DWD_SIGNED          optional: the plane holds x itself (padding zx) instead of x + 128
//                             (VIGIL_DWD_COPY_XOR then copies without the flip)
//   VIGIL_DWD_COPY_ROWS(out,T,oh,ow,wq)  optional: out[oy * ow + ox] = T[oy * wq + ox] for oy < oh,
//                             ox < ow (T has VIGIL_DW_TILE bytes of slack); default: row by row
//                             through VIGIL_DWD_COPY
//   VIGIL_DWD_TABLES          optional: the entry point takes `const void *prepared` (after q), the
//                             copy tables of depthwise_planes.h or NULL, and copies by chunks with
//   VIGIL_DWD_CHUNKS_IN(P, x, chunks, n)  copy-in chunks into the plane P from channel input x
//   VIGIL_DWD_CHUNKS_OUT(out, T, chunks, n)  copy-out chunks from T into the output plane
#include "depthwise_planes.h"
#include <string.h>

VIGIL_DWD_ATTR void VIGIL_DWD_NAME(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                   const vigil_requant_rows *q,
#ifdef VIGIL_DWD_TABLES
                                   const void *prepared,
#endif
                                   void *scratch, int8_t *Y) {
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    uint8_t *P = vigil_dw_place(scratch, &l);
    int8_t *T = (int8_t *)(P + l.pbytes);
    const int s = l.s, sub = s - 1, kq = (g->k_w + 3) / 4, nk = g->k_h * kq, kArea = g->k_h * g->k_w;
#ifdef VIGIL_DWD_SIGNED
    const int32_t ushift = 0;
#else
    const int32_t ushift = 128;
#endif
    const uint8_t pad = (uint8_t)(g->input_zero_point + ushift);
    int32_t off[VIGIL_DW_MAX_QUADS], wq[VIGIL_DW_MAX_QUADS];
    for (int ky = 0; ky < g->k_h; ky++)
        for (int j = 0; j < kq; j++) {
            const int r = ky * g->dilation_h;
            off[ky * kq + j] = (int32_t)((size_t)(r % s) * l.plane + (size_t)(r / s) * l.wp + 4 * j);
        }
    // Padding (and the slack past the sub-planes, read only for dropped positions) is the same for
    // every channel: written once here; each channel then overwrites the input part.
    memset(P, pad, l.pbytes);
    // Columns [lo, hi) of a padded row hold input; rows [r0, r1) of the padded image do.
    const int lo = g->pad_left < l.wp ? g->pad_left : l.wp;
    const int hi = g->pad_left + g->in_w < l.wp ? g->pad_left + g->in_w : l.wp;
    const int r0 = g->pad_top < l.hp ? g->pad_top : l.hp;
    const int r1 = g->pad_top + g->in_h < l.hp ? g->pad_top + g->in_h : l.hp;
    vigil_dw_plane p;
    p.P = P; p.s = s; p.nq = l.nq; p.nk = nk; p.off = off; p.wq = wq;
    p.zp = q->zero_point; p.lo = q->lo; p.hi = q->hi; p.T = T;
    // The geometry in locals: the byte stores of the copies may alias *g, which would otherwise be
    // read again for every row.
    const int channels = g->channels, multiplier = g->multiplier, in_w = g->in_w, out_h = g->out_h, out_w = g->out_w;
    const ptrdiff_t in_plane = (ptrdiff_t)g->in_h * in_w, out_plane = (ptrdiff_t)out_h * out_w;
    const ptrdiff_t first = (ptrdiff_t)(r0 - g->pad_top) * in_w + (lo - g->pad_left);
    // Padded row r goes to sub-plane r & sub (s is 1 or 2), row r >> sub: rows r0, r0 + 1 start
    // there, and each following row of the same sub-plane one padded row (wp bytes) further.
    uint8_t *const dst0 = P + (size_t)(r0 & sub) * l.plane + (size_t)(r0 >> sub) * l.wp + lo;
    uint8_t *const dst1 = P + (size_t)((r0 + 1) & sub) * l.plane + (size_t)((r0 + 1) >> sub) * l.wp + lo;
    const size_t wp = l.wp;
    const int t_w = l.wq;  // row width of T
#ifdef VIGIL_DWD_TABLES
    const vigil_dw_tables *tab = (const vigil_dw_tables *)prepared;
    const int n_in = tab ? tab->n_in : 0, n_out = tab ? tab->n_out : 0;
    const vigil_dw_chunk *in_chunks = tab ? (const vigil_dw_chunk *)((const uint8_t *)tab + tab->in_at) : NULL;
    const vigil_dw_chunk *out_chunks = tab ? (const vigil_dw_chunk *)((const uint8_t *)tab + tab->out_at) : NULL;
#endif
    for (int c = 0; c < channels; c++) {
#ifdef VIGIL_DWD_TABLES
        if (n_in) {
            VIGIL_DWD_CHUNKS_IN(P, X + (ptrdiff_t)c * in_plane, in_chunks, n_in);
        } else
#endif
        if (lo < hi && r0 < r1) {
            const int8_t *row = X + (ptrdiff_t)c * in_plane + first;
            uint8_t *dst[2] = {dst0, dst1};
            for (int r = 0; r < r1 - r0; r++, row += in_w) {
                VIGIL_DWD_COPY_XOR(dst[r & sub], row, hi - lo);
                dst[r & sub] += wp;
            }
        }
        for (int mm = 0; mm < multiplier; mm++) {
            const int oc = c * multiplier + mm;
            const int8_t *w = W + (ptrdiff_t)oc * kArea;
            const int32_t sum = vigil_dw_weight_quads(w, g->k_h, g->k_w, kq, wq);
            p.bias = (int32_t)((uint32_t)q->bias[oc] - (uint32_t)(g->input_zero_point + ushift) * (uint32_t)sum);
            p.m = q->multiplier[oc];
            p.n = q->shift[oc];
            VIGIL_DWD_PLANE(&p);
            int8_t *out = Y + (ptrdiff_t)oc * out_plane;
#ifdef VIGIL_DWD_TABLES
            if (n_out) {
                VIGIL_DWD_CHUNKS_OUT(out, T, out_chunks, n_out);
            } else
#endif
            if (t_w == out_w) {
                VIGIL_DWD_COPY(out, T, (int)out_plane);
            } else {
#ifdef VIGIL_DWD_COPY_ROWS
                VIGIL_DWD_COPY_ROWS(out, T, out_h, out_w, t_w);
#else
                const int8_t *t = T;
                for (int oy = 0; oy < out_h; oy++, out += out_w, t += t_w) VIGIL_DWD_COPY(out, t, out_w);
#endif
            }
        }
    }
}
