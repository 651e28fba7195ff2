// The whole-layer loop of the channel-plane depthwise kernels (see depthwise_planes.h), included
// once per variant so that the plane kernel inlines and the row copies use that variant's vectors.
// Expects:
//   VIGIL_DWD_NAME            the entry point's name
//   VIGIL_DWD_ATTR            its target attribute (may be empty)
//   VIGIL_DWD_PLANE(p)        computes p->T for one channel
//   VIGIL_DWD_COPY_XOR(d,s,n) d[i] = s[i] ^ 0x80 for i < n (uint8_t *d, const int8_t *s)
//   VIGIL_DWD_COPY(d,s,n)     d[i] = s[i] for i < n (int8_t *d, const int8_t *s)
//   VIGIL_DWD_COPY_ROWS(out,T,oh,ow,wq)  optional: out[oy * ow + ox] = T[oy * wq + ox] for oy < oh,
//                             ox < ow (T has VIGIL_DW_TILE bytes of slack); default: row by row
//                             through VIGIL_DWD_COPY
#include "depthwise_planes.h"
#include <string.h>

VIGIL_DWD_ATTR void VIGIL_DWD_NAME(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                   const vigil_requant_rows *q, void *scratch, int8_t *Y) {
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    uint8_t *P = vigil_dw_place(scratch, &l);
    int8_t *T = (int8_t *)(P + l.pbytes);
    const int s = l.s, sub = s - 1, kq = (g->k_w + 3) / 4, nk = g->k_h * kq, kArea = g->k_h * g->k_w;
    const uint8_t pad = (uint8_t)(g->input_zero_point + 128);
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
    for (int c = 0; c < g->channels; c++) {
        const int8_t *plane = X + (ptrdiff_t)c * g->in_h * g->in_w;
        if (lo < hi)
            for (int r = r0; r < r1; r++)  // s is 1 or 2: sub-plane r & sub, row r >> sub
                VIGIL_DWD_COPY_XOR(P + (size_t)(r & sub) * l.plane + (size_t)(r >> sub) * l.wp + lo,
                                   plane + (ptrdiff_t)(r - g->pad_top) * g->in_w + (lo - g->pad_left), hi - lo);
        for (int mm = 0; mm < g->multiplier; mm++) {
            const int oc = c * g->multiplier + mm;
            const int8_t *w = W + (ptrdiff_t)oc * kArea;
            const int32_t sum = vigil_dw_weight_quads(w, g->k_h, g->k_w, kq, wq);
            p.bias = (int32_t)((uint32_t)q->bias[oc] - (uint32_t)(g->input_zero_point + 128) * (uint32_t)sum);
            p.m = q->multiplier[oc];
            p.n = q->shift[oc];
            VIGIL_DWD_PLANE(&p);
            int8_t *out = Y + (ptrdiff_t)oc * g->out_h * g->out_w;
            if (l.wq == g->out_w) {
                VIGIL_DWD_COPY(out, T, g->out_h * g->out_w);
            } else {
#ifdef VIGIL_DWD_COPY_ROWS
                VIGIL_DWD_COPY_ROWS(out, T, g->out_h, g->out_w, l.wq);
#else
                for (int oy = 0; oy < g->out_h; oy++)
                    VIGIL_DWD_COPY(out + (ptrdiff_t)oy * g->out_w, T + (ptrdiff_t)oy * l.wq, g->out_w);
#endif
            }
        }
    }
}
