// Depthwise plane kernel for AVX512-VNNI (see depthwise_planes.h): one channel, 64 output positions
// per step. Stride 1: four loads at q0, q0+1, q0+2, q0+3 (plus the quad's offset) put in lane j
// the four taps of positions q0 + 4j + phase, and VPDPBUSD multiplies them with the broadcast
// weight quad; stride 2: two phases of two 32-position halves. The accumulators start at bias'.
// Requantization: for n >= 33 (every layer whose real multiplier is below 1/4, the common case)
// floor((acc * m + 2^(n-1)) / 2^n) = (floor(acc * m / 2^32) + 2^(n-33)) >> (n - 32) exactly, which
// needs only the high halves of two VPMULDQ and a 32-bit shift; other channels take the rule in
// 64-bit lanes (rq16_wide in requant_avx512.h). Packing with signed saturation to int16, adding the zero point with
// saturation, packing to int8 and clamping to [lo, hi] gives vigil_requantize's bytes (a value
// beyond int16 stays beyond int8 after adding a zero point in [-128, 127]).
#if defined(__x86_64__)
#include "../depthwise_planes.h"
#include <cpuid.h>
#include <immintrin.h>

#include "requant_avx512.h"

/// A channel's requantization constants (the rule of the header comment) and the byte shuffles.
typedef struct {
    __m512i m, round, shift, wround, wshift, wlo, whi, zp, lo, hi;
    int fast;
} dw_rq512;

VIGIL_A512 static inline dw_rq512 dw_rq_of(int32_t mult, int32_t n, int32_t zp, int32_t lo, int32_t hi) {
    dw_rq512 r;
    r.fast = n >= 33;
    r.m = _mm512_set1_epi64(mult);
    r.round = _mm512_set1_epi32(r.fast ? 1 << (n - 33) : 0);
    r.shift = _mm512_set1_epi32(r.fast ? n - 32 : 0);
    // Channels with n <= 32: the 64-bit rule (rq16_wide).
    r.wround = _mm512_set1_epi64((long long)1 << (n - 1)); r.wshift = _mm512_set1_epi64(n);
    r.wlo = _mm512_set1_epi64((long long)lo - zp); r.whi = _mm512_set1_epi64((long long)hi - zp);
    r.zp = _mm512_set1_epi16((short)zp); r.lo = _mm512_set1_epi8((char)lo); r.hi = _mm512_set1_epi8((char)hi);
    return r;
}

/// The 64 output bytes of the four phase accumulators, position q0 + i in byte i.
VIGIL_A512 static inline __m512i dw_finish(const dw_rq512 *r, __m512i a0, __m512i a1, __m512i a2, __m512i a3, int s) {
    // Per 128-bit lane after the packs: 4 results of each of the 4 vectors; put them in position order.
    const __m512i transpose = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15));
    const __m512i pairs = _mm512_broadcast_i32x4(_mm_setr_epi8(0, 4, 1, 5, 2, 6, 3, 7, 8, 12, 9, 13, 10, 14, 11, 15));
    const __m512i halves = _mm512_setr_epi64(0, 2, 4, 6, 1, 3, 5, 7);
    if (r->fast) {
        a0 = rq16(a0, r->m, r->round, r->shift); a1 = rq16(a1, r->m, r->round, r->shift);
        a2 = rq16(a2, r->m, r->round, r->shift); a3 = rq16(a3, r->m, r->round, r->shift);
    } else {
        a0 = rq16_wide(a0, r->m, r->wround, r->wshift, r->wlo, r->whi); a1 = rq16_wide(a1, r->m, r->wround, r->wshift, r->wlo, r->whi);
        a2 = rq16_wide(a2, r->m, r->wround, r->wshift, r->wlo, r->whi); a3 = rq16_wide(a3, r->m, r->wround, r->wshift, r->wlo, r->whi);
    }
    const __m512i ab = _mm512_adds_epi16(_mm512_packs_epi32(a0, a1), r->zp);
    const __m512i cd = _mm512_adds_epi16(_mm512_packs_epi32(a2, a3), r->zp);
    __m512i y = _mm512_packs_epi16(ab, cd);
    if (s == 1) y = _mm512_shuffle_epi8(y, transpose);
    else y = _mm512_permutexvar_epi64(halves, _mm512_shuffle_epi8(y, pairs));
    return _mm512_min_epi8(_mm512_max_epi8(y, r->lo), r->hi);
}

VIGIL_A512 static inline void plane_avx512vnni(const vigil_dw_plane *p) {
    const dw_rq512 r = dw_rq_of(p->m, p->n, p->zp, p->lo, p->hi);
    const __m512i bias = _mm512_set1_epi32(p->bias);
    const int s = p->s;
    // Phase loads: stride 1 at +0..3; stride 2 at +0, +2 (first 32 positions) and +64, +66 (next 32).
    const int d1 = s == 1 ? 1 : 2, d2 = s == 1 ? 2 : 64, d3 = s == 1 ? 3 : 66;
    if (p->nk == 3) {
        // 3-wide kernels of three rows (the common case): the weight quads and offsets in registers.
        const __m512i w0 = _mm512_set1_epi32(p->wq[0]), w1 = _mm512_set1_epi32(p->wq[1]), w2 = _mm512_set1_epi32(p->wq[2]);
        const ptrdiff_t o0 = p->off[0], o1 = p->off[1], o2 = p->off[2];
        for (int q0 = 0; q0 < p->nq; q0 += 64) {
            const uint8_t *base = p->P + (ptrdiff_t)s * q0;
            __m512i a0 = _mm512_dpbusd_epi32(bias, _mm512_loadu_si512(base + o0), w0);
            __m512i a1 = _mm512_dpbusd_epi32(bias, _mm512_loadu_si512(base + o0 + d1), w0);
            __m512i a2 = _mm512_dpbusd_epi32(bias, _mm512_loadu_si512(base + o0 + d2), w0);
            __m512i a3 = _mm512_dpbusd_epi32(bias, _mm512_loadu_si512(base + o0 + d3), w0);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(base + o1), w1);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(base + o1 + d1), w1);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(base + o1 + d2), w1);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(base + o1 + d3), w1);
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(base + o2), w2);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(base + o2 + d1), w2);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(base + o2 + d2), w2);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(base + o2 + d3), w2);
            _mm512_storeu_si512(p->T + q0, dw_finish(&r, a0, a1, a2, a3, s));
        }
        return;
    }
    for (int q0 = 0; q0 < p->nq; q0 += 64) {
        __m512i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
        const uint8_t *base = p->P + (ptrdiff_t)s * q0;
        for (int k = 0; k < p->nk; k++) {
            const __m512i w = _mm512_set1_epi32(p->wq[k]);
            const uint8_t *b = base + p->off[k];
            a0 = _mm512_dpbusd_epi32(a0, _mm512_loadu_si512(b), w);
            a1 = _mm512_dpbusd_epi32(a1, _mm512_loadu_si512(b + d1), w);
            a2 = _mm512_dpbusd_epi32(a2, _mm512_loadu_si512(b + d2), w);
            a3 = _mm512_dpbusd_epi32(a3, _mm512_loadu_si512(b + d3), w);
        }
        _mm512_storeu_si512(p->T + q0, dw_finish(&r, a0, a1, a2, a3, s));
    }
}

/// Row copies with 64-byte vectors and a masked tail.
VIGIL_A512 static inline void copy_avx512(uint8_t *d, const int8_t *src, int n, int flip) {
    const __m512i f = _mm512_set1_epi8(flip ? (char)0x80 : 0);
    int i = 0;
    for (; i + 64 <= n; i += 64) _mm512_storeu_si512(d + i, _mm512_xor_si512(_mm512_loadu_si512(src + i), f));
    if (i < n) {
        const __mmask64 k = ((__mmask64)1 << (n - i)) - 1;
        _mm512_mask_storeu_epi8(d + i, k, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, src + i), f));
    }
}

/// The output rows of a plane, out[oy * ow + ox] = T[oy * wq + ox]. Rows of at most 16 or 32 bytes
/// (planes of 14 x 14 and smaller, where this copy is a good part of a channel's time) move as one
/// unmasked vector each, in order, so that a row's overhang lands on the rows after it and is
/// overwritten by them; rows whose vector would reach past the plane are stored masked. Unmasked
/// loads also take their bytes straight from the plane kernel's store of T, which masked loads
/// cannot.
VIGIL_A512 static inline void copy_rows_avx512(int8_t *out, const int8_t *T, int oh, int ow, int wq) {
    const ptrdiff_t end = (ptrdiff_t)oh * ow;
    int oy = 0;
    if (ow <= 16) {
        for (; oy < oh && (ptrdiff_t)oy * ow + 16 <= end; oy++)
            _mm_storeu_si128((__m128i *)(out + (ptrdiff_t)oy * ow), _mm_loadu_si128((const __m128i *)(T + (ptrdiff_t)oy * wq)));
        for (; oy < oh; oy++)
            _mm_mask_storeu_epi8(out + (ptrdiff_t)oy * ow, (__mmask16)((1u << ow) - 1),
                                 _mm_loadu_si128((const __m128i *)(T + (ptrdiff_t)oy * wq)));
    } else if (ow <= 32) {
        for (; oy < oh && (ptrdiff_t)oy * ow + 32 <= end; oy++)
            _mm256_storeu_si256((__m256i *)(out + (ptrdiff_t)oy * ow), _mm256_loadu_si256((const __m256i *)(T + (ptrdiff_t)oy * wq)));
        for (; oy < oh; oy++)
            _mm256_mask_storeu_epi8(out + (ptrdiff_t)oy * ow, (__mmask32)(ow == 32 ? 0xFFFFFFFFu : (1u << ow) - 1),
                                    _mm256_loadu_si256((const __m256i *)(T + (ptrdiff_t)oy * wq)));
    } else {
        for (; oy < oh; oy++) copy_avx512((uint8_t *)out + (ptrdiff_t)oy * ow, T + (ptrdiff_t)oy * wq, ow, 0);
    }
}

#define VIGIL_DWD_NAME dw_planes_one_by_one
#define VIGIL_DWD_ATTR static VIGIL_A512
#define VIGIL_DWD_PLANE(p) plane_avx512vnni(p)
#define VIGIL_DWD_COPY_XOR(d, s, n) copy_avx512(d, s, n, 1)
#define VIGIL_DWD_COPY(d, s, n) copy_avx512((uint8_t *)(d), s, n, 0)
#define VIGIL_DWD_COPY_ROWS(out, T, oh, ow, wq) copy_rows_avx512(out, T, oh, ow, wq)
#include "../depthwise_driver.h"

// Small planes without the padded plane in memory. On 7 x 7 and 14 x 14 layers the plane path
// spends most of a channel's time around its VPDPBUSD: the row copies into the plane, 64-byte loads
// that must wait until those stores are written (they cannot be forwarded), and the copies out of
// T. Here every phase vector of the plane path (lane byte i of phase d of quad k at step t is padded-
// plane byte s * 64t + off[k] + d_phase + i) is built in registers instead: an index into the
// channel's input (fixed per layer) or the padding byte zx + 128 where that byte is padding. When
// the input bytes a vector needs lie within 64 (128) bytes of the channel, one VPERMB (VPERMT2B) of
// one (two) loads gives the vector: of the channel (x + 128) held in a register when it has at most
// 64 bytes ("whole", 7 x 7), else of a copy on the stack written while the previous channel was
// computed (so that the unaligned loads do not wait for its stores). The accumulation, requantization and packing are those of
// plane_avx512vnni, so the results are the same bytes; one VPERMB per step drops the padded columns
// and a masked store writes the step's outputs. Layers whose vectors span more than 128 input bytes,
// or that need more than DW_SMALL_VECS vectors, take the plane path. Needs AVX512-VBMI.
#define VIGIL_A512V __attribute__((target("avx512f,avx512bw,avx512vl,avx512vnni,avx512vbmi")))
/// Phase vectors (steps x quads x 4) and steps of 64 positions the small-plane path takes, and the
/// largest padded plane (bytes) it maps.
#define DW_SMALL_VECS 64
#define DW_SMALL_STEPS 8
#define DW_SMALL_PBYTES 2048
/// The largest channel (in_h * in_w bytes) the small-plane path takes (its copies are on the stack).
#define DW_SMALL_AREA 1024

typedef struct {
    __m512i idx[DW_SMALL_VECS];            // lane i: input byte start + idx (two: of 128 bytes), or
                                           // the padding byte where `from` is clear
    __mmask64 from[DW_SMALL_VECS];         // lanes that are input (else padding)
    int32_t start[DW_SMALL_VECS];
    uint8_t two[DW_SMALL_VECS];
    __m512i oidx[DW_SMALL_STEPS];          // output byte i of a step = result byte oidx[i]
    __mmask64 omask[DW_SMALL_STEPS];
    int32_t ostart[DW_SMALL_STEPS];        // output index of the step's first kept position
    int steps, nk;
    int whole;                             // the channel is one vector (start 0, one table)
} dw_small_plan;

static int dw_has_vbmi(void) {
    static int known = -1;
    if (known < 0) {
        unsigned a, b, c, d;
        known = __get_cpuid_count(7, 0, &a, &b, &c, &d) && (c & (1u << 1)) ? 1 : 0;  // CPUID.7.0:ECX.AVX512_VBMI
    }
    return known;
}

/// Fills `pl` for the layer; 0 if the small-plane path does not take it.
VIGIL_A512 static int dw_small_plan_of(const vigil_depthwise_geometry *g, const vigil_dw_layout *l, dw_small_plan *pl) {
    const int s = l->s, kq = (g->k_w + 3) / 4, nk = g->k_h * kq, steps = l->nqr / 64, area = g->in_h * g->in_w;
    if (steps > DW_SMALL_STEPS || steps * nk * 4 > DW_SMALL_VECS || l->pbytes > DW_SMALL_PBYTES || area > DW_SMALL_AREA ||
        !dw_has_vbmi())
        return 0;
    // Input index of every byte of the padded plane (-1: padding), as the plane path fills it, and
    // 64 bytes of padding past it for the vector reads below.
    int16_t map[DW_SMALL_PBYTES + 64];
    memset(map, 0xFF, (l->pbytes + 64) * sizeof map[0]);
    for (int u = 0; u < s; u++)
        for (int row = 0; row < l->hps; row++) {
            const int r = row * s + u, y = r - g->pad_top;
            if (r >= l->hp || y < 0 || y >= g->in_h) continue;
            for (int col = 0; col < l->wp; col++) {
                const int x = col - g->pad_left;
                if (x >= 0 && x < g->in_w) map[(size_t)u * l->plane + (size_t)row * l->wp + col] = (int16_t)(y * g->in_w + x);
            }
        }
    // Kept positions (ox < out_w) of each step, in order, and where their outputs start; bit i of
    // kept[t]: position i of step t is kept.
    uint64_t kept[DW_SMALL_STEPS];
    for (int t = 0, oy = 0, ox = 0, qq = 0; t < steps; t++) {
        uint8_t ob[64] = {0};
        kept[t] = 0;
        int n = 0, first = -1;
        for (int i = 0; i < 64; i++, qq++) {  // qq = oy * wq + ox
            if (qq < l->nq && ox < g->out_w) {
                if (first < 0) first = oy * g->out_w + ox;
                ob[n++] = (uint8_t)i;
                kept[t] |= (uint64_t)1 << i;
            }
            if (++ox == l->wq) { ox = 0; oy++; }
        }
        pl->oidx[t] = _mm512_loadu_si512(ob);
        pl->omask[t] = n == 64 ? ~(__mmask64)0 : ((__mmask64)1 << n) - 1;
        pl->ostart[t] = first < 0 ? 0 : first;
    }
    const int phase[4] = {0, s == 1 ? 1 : 2, s == 1 ? 2 : 64, s == 1 ? 3 : 66};
    const __m512i none = _mm512_set1_epi16(0x7FFF), zero = _mm512_setzero_si512();
    const __m512i padw = _mm512_set1_epi16((short)(uint8_t)(g->input_zero_point + 128));
    const int whole = area <= 64;
    for (int t = 0; t < steps; t++)
        for (int k = 0; k < nk; k++) {
            const int ky = k / kq, rr = ky * g->dilation_h;
            const int off = (rr % s) * (int)l->plane + (rr / s) * l->wp + 4 * (k % kq);
            for (int d = 0; d < 4; d++) {
                const int e = (t * nk + k) * 4 + d, a0 = s * 64 * t + off + phase[d];
                if ((size_t)a0 + 64 > l->pbytes + 64) return 0;  // not reached: reads stay inside pbytes
                __m512i v0 = _mm512_loadu_si512(map + a0), v1 = _mm512_loadu_si512(map + a0 + 32);
                // Lanes whose position is not kept (past nq, or a column ox >= out_w) may hold
                // anything: they count as padding, so that they do not widen the span of input a
                // vector needs (on stride-2 planes the last lanes of a step reach into the other
                // sub-plane). Lane j of phase d holds position 4j + d (stride 1) or
                // 32 * (d / 2) + 2j + d % 2 (stride 2) of the step.
                uint64_t live = 0;
                for (int j = 0; j < 16; j++)
                    if (kept[t] >> (s == 1 ? 4 * j + d : 32 * (d >> 1) + 2 * j + (d & 1)) & 1) live |= (uint64_t)0xF << (4 * j);
                v0 = _mm512_mask_mov_epi16(_mm512_set1_epi16(-1), (__mmask32)live, v0);
                v1 = _mm512_mask_mov_epi16(_mm512_set1_epi16(-1), (__mmask32)(live >> 32), v1);
                const __mmask32 in0 = _mm512_cmpge_epi16_mask(v0, zero), in1 = _mm512_cmpge_epi16_mask(v1, zero);
                // Smallest and largest input index among the lanes that are input (unsigned minimum
                // of 8 words by PHMINPOSUW; the largest as 0x7FFF minus the smallest of 0x7FFF - v).
                const __m512i mn = _mm512_min_epi16(_mm512_mask_mov_epi16(none, in0, v0), _mm512_mask_mov_epi16(none, in1, v1));
                const __m512i mx = _mm512_max_epi16(v0, v1);
                __m256i a = _mm256_min_epu16(_mm512_castsi512_si256(mn), _mm512_extracti64x4_epi64(mn, 1));
                __m128i b = _mm_min_epu16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
                int lo = _mm_extract_epi16(_mm_minpos_epu16(b), 0);
                const __m512i rx = _mm512_sub_epi16(none, mx);  // 0x7FFF - max; padding lanes give 0x8000 (large unsigned)
                a = _mm256_min_epu16(_mm512_castsi512_si256(rx), _mm512_extracti64x4_epi64(rx, 1));
                b = _mm_min_epu16(_mm256_castsi256_si128(a), _mm256_extracti128_si256(a, 1));
                int hi = 0x7FFF - _mm_extract_epi16(_mm_minpos_epu16(b), 0);
                if (!in0 && !in1) lo = hi = 0;
                if (whole) lo = 0;
                if (hi - lo >= 128) return 0;
                const __m512i base = _mm512_set1_epi16((short)lo);
                const __m256i i0 = _mm512_cvtepi16_epi8(_mm512_mask_sub_epi16(padw, in0, v0, base));
                const __m256i i1 = _mm512_cvtepi16_epi8(_mm512_mask_sub_epi16(padw, in1, v1, base));
                pl->idx[e] = _mm512_inserti64x4(_mm512_castsi256_si512(i0), i1, 1);
                pl->from[e] = (__mmask64)in0 | (__mmask64)in1 << 32;
                pl->start[e] = lo;
                pl->two[e] = hi - lo >= 64;
            }
        }
    pl->steps = steps;
    pl->whole = whole;
    pl->nk = nk;
    return 1;
}

/// Phase vector e of the channel whose input (x + 128) is at `src`.
VIGIL_A512V static inline __m512i dw_small_vec(const dw_small_plan *pl, int e, const uint8_t *src) {
    const __m512i lo = _mm512_loadu_si512(src + pl->start[e]);
    if (!pl->two[e]) return _mm512_mask_permutexvar_epi8(pl->idx[e], pl->from[e], pl->idx[e], lo);
    return _mm512_mask2_permutex2var_epi8(lo, pl->idx[e], pl->from[e], _mm512_loadu_si512(src + pl->start[e] + 64));
}

/// d[i] = s[i] ^ 0x80 for i < n, in nv 64-byte stores (bytes past n: 0x80).
VIGIL_A512 static inline void dw_small_copy(uint8_t *d, const int8_t *s, int n, int nv, __m512i flip) {
    for (int v = 0; v < nv; v++) {
        const int left = n - 64 * v;
        const __mmask64 k = left >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << left) - 1;
        _mm512_store_si512(d + 64 * v, _mm512_xor_si512(_mm512_maskz_loadu_epi8(k, s + 64 * v), flip));
    }
}

VIGIL_A512V static inline void dw_small_channels(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                                 const vigil_requant_rows *q, const dw_small_plan *pl, int8_t *Y,
                                                 const int whole) {
    const int kq = (g->k_w + 3) / 4, nk = pl->nk, kArea = g->k_h * g->k_w, s = g->stride_w;
    const int area = g->in_h * g->in_w, oarea = g->out_h * g->out_w;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    const __mmask64 inm = area >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << area) - 1;
    int32_t wq[VIGIL_DW_MAX_QUADS];
    // Not whole: channel c + 1 (x + 128) is copied to buf[(c + 1) & 1] while channel c is computed, so
    // that its stores are written before the unaligned loads of the next channel read them.
    _Alignas(64) uint8_t buf[2][DW_SMALL_AREA + 128];
    const int nv = (area + 63) / 64;
    if (!whole) {
        memset(buf, 0, sizeof buf);
        dw_small_copy(buf[0], X, area, nv, flip);
    }
    for (int c = 0; c < g->channels; c++) {
        const uint8_t *src = buf[c & 1];
        if (!whole && c + 1 < g->channels) dw_small_copy(buf[(c + 1) & 1], X + (ptrdiff_t)(c + 1) * area, area, nv, flip);
        // whole: the channel's input (x + 128) in one register, every vector one VPERMB of it
        const __m512i x = whole ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(inm, X + (ptrdiff_t)c * area), flip) : flip;
        for (int mm = 0; mm < g->multiplier; mm++) {
            const int oc = c * g->multiplier + mm;
            const int8_t *w = W + (ptrdiff_t)oc * kArea;
            const int32_t sum = vigil_dw_weight_quads(w, g->k_h, g->k_w, kq, wq);
            const __m512i bias = _mm512_set1_epi32(
                (int32_t)((uint32_t)q->bias[oc] - (uint32_t)(g->input_zero_point + 128) * (uint32_t)sum));
            const dw_rq512 r = dw_rq_of(q->multiplier[oc], q->shift[oc], q->zero_point, q->lo, q->hi);
            int8_t *out = Y + (ptrdiff_t)oc * oarea;
            for (int t = 0; t < pl->steps; t++) {
                __m512i a0 = bias, a1 = bias, a2 = bias, a3 = bias;
                for (int k = 0; k < nk; k++) {
                    const __m512i wv = _mm512_set1_epi32(wq[k]);
                    const int e = (t * nk + k) * 4;
                    if (whole) {
                        a0 = _mm512_dpbusd_epi32(a0, _mm512_mask_permutexvar_epi8(pl->idx[e], pl->from[e], pl->idx[e], x), wv);
                        a1 = _mm512_dpbusd_epi32(a1, _mm512_mask_permutexvar_epi8(pl->idx[e + 1], pl->from[e + 1], pl->idx[e + 1], x), wv);
                        a2 = _mm512_dpbusd_epi32(a2, _mm512_mask_permutexvar_epi8(pl->idx[e + 2], pl->from[e + 2], pl->idx[e + 2], x), wv);
                        a3 = _mm512_dpbusd_epi32(a3, _mm512_mask_permutexvar_epi8(pl->idx[e + 3], pl->from[e + 3], pl->idx[e + 3], x), wv);
                    } else {
                        a0 = _mm512_dpbusd_epi32(a0, dw_small_vec(pl, e, src), wv);
                        a1 = _mm512_dpbusd_epi32(a1, dw_small_vec(pl, e + 1, src), wv);
                        a2 = _mm512_dpbusd_epi32(a2, dw_small_vec(pl, e + 2, src), wv);
                        a3 = _mm512_dpbusd_epi32(a3, dw_small_vec(pl, e + 3, src), wv);
                    }
                }
                const __m512i y = _mm512_permutexvar_epi8(pl->oidx[t], dw_finish(&r, a0, a1, a2, a3, s));
                _mm512_mask_storeu_epi8(out + pl->ostart[t], pl->omask[t], y);
            }
        }
    }
}

/// Two output channels at a time — of two input channels (multiplier 1), or two outputs of the one
/// input channel (`single`: multiplier >= 2) — whose vectors are built from the same plan entries,
/// so that each step has eight independent accumulators (on 14 x 14 layers 0.73-0.79x of one channel
/// at a time: the one-channel loop waits on its four accumulator chains and the requantization).
/// Other channel multipliers and an odd last output channel go through dw_small_channels.
VIGIL_A512V static inline void dw_small_pairs(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                              const vigil_requant_rows *q, const dw_small_plan *pl, int8_t *Y, const int whole,
                                              const int single) {
    const int kq = (g->k_w + 3) / 4, nk = pl->nk, kArea = g->k_h * g->k_w, s = g->stride_w;
    const int area = g->in_h * g->in_w, oarea = g->out_h * g->out_w;
    const __m512i flip = _mm512_set1_epi8((char)0x80);
    int32_t wa[VIGIL_DW_MAX_QUADS], wb[VIGIL_DW_MAX_QUADS];
    // Channels c, c + 1 are in buf[(c / 2) & 1][0..1] while c + 2, c + 3 are copied to the other pair;
    // `single`: one input channel (in buf[0][0]) and pairs of its multiplier output channels.
    _Alignas(64) uint8_t buf[2][2][DW_SMALL_AREA + 128];
    const int nv = (area + 63) / 64, pairs = (single ? g->multiplier : g->channels) / 2;
    const __mmask64 inm = area >= 64 ? ~(__mmask64)0 : ((__mmask64)1 << area) - 1;
    if (!whole) {
        memset(buf, 0, sizeof buf);
        dw_small_copy(buf[0][0], X, area, nv, flip);
        if (!single) dw_small_copy(buf[0][1], X + area, area, nv, flip);
    }
    for (int pc = 0; pc < pairs; pc++) {
        const int c = 2 * pc;
        const uint8_t *sa = single ? buf[0][0] : buf[pc & 1][0], *sb = single ? buf[0][0] : buf[pc & 1][1];
        // whole: each channel's input (x + 128) in one register
        const __m512i xa = whole ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(inm, X + (ptrdiff_t)(single ? 0 : c) * area), flip) : flip;
        const __m512i xb = whole ? _mm512_xor_si512(_mm512_maskz_loadu_epi8(inm, X + (ptrdiff_t)(single ? 0 : c + 1) * area), flip) : flip;
        if (!whole && !single && pc + 1 < pairs) {
            dw_small_copy(buf[(pc + 1) & 1][0], X + (ptrdiff_t)(c + 2) * area, area, nv, flip);
            dw_small_copy(buf[(pc + 1) & 1][1], X + (ptrdiff_t)(c + 3) * area, area, nv, flip);
        }
        const int32_t suma = vigil_dw_weight_quads(W + (ptrdiff_t)c * kArea, g->k_h, g->k_w, kq, wa);
        const int32_t sumb = vigil_dw_weight_quads(W + (ptrdiff_t)(c + 1) * kArea, g->k_h, g->k_w, kq, wb);
        const uint32_t pz = (uint32_t)(g->input_zero_point + 128);
        const __m512i biasa = _mm512_set1_epi32((int32_t)((uint32_t)q->bias[c] - pz * (uint32_t)suma));
        const __m512i biasb = _mm512_set1_epi32((int32_t)((uint32_t)q->bias[c + 1] - pz * (uint32_t)sumb));
        const dw_rq512 ra = dw_rq_of(q->multiplier[c], q->shift[c], q->zero_point, q->lo, q->hi);
        const dw_rq512 rb = dw_rq_of(q->multiplier[c + 1], q->shift[c + 1], q->zero_point, q->lo, q->hi);
        int8_t *outa = Y + (ptrdiff_t)c * oarea, *outb = outa + oarea;
        for (int t = 0; t < pl->steps; t++) {
            __m512i a0 = biasa, a1 = biasa, a2 = biasa, a3 = biasa, b0 = biasb, b1 = biasb, b2 = biasb, b3 = biasb;
            for (int k = 0; k < nk; k++) {
                const __m512i va = _mm512_set1_epi32(wa[k]), vb = _mm512_set1_epi32(wb[k]);
                const int e = (t * nk + k) * 4;
                if (whole) {
#define VIGIL_PERM(i, x) _mm512_mask_permutexvar_epi8(pl->idx[e + i], pl->from[e + i], pl->idx[e + i], x)
                    a0 = _mm512_dpbusd_epi32(a0, VIGIL_PERM(0, xa), va); b0 = _mm512_dpbusd_epi32(b0, VIGIL_PERM(0, xb), vb);
                    a1 = _mm512_dpbusd_epi32(a1, VIGIL_PERM(1, xa), va); b1 = _mm512_dpbusd_epi32(b1, VIGIL_PERM(1, xb), vb);
                    a2 = _mm512_dpbusd_epi32(a2, VIGIL_PERM(2, xa), va); b2 = _mm512_dpbusd_epi32(b2, VIGIL_PERM(2, xb), vb);
                    a3 = _mm512_dpbusd_epi32(a3, VIGIL_PERM(3, xa), va); b3 = _mm512_dpbusd_epi32(b3, VIGIL_PERM(3, xb), vb);
#undef VIGIL_PERM
                } else {
                    a0 = _mm512_dpbusd_epi32(a0, dw_small_vec(pl, e, sa), va);
                    b0 = _mm512_dpbusd_epi32(b0, dw_small_vec(pl, e, sb), vb);
                    a1 = _mm512_dpbusd_epi32(a1, dw_small_vec(pl, e + 1, sa), va);
                    b1 = _mm512_dpbusd_epi32(b1, dw_small_vec(pl, e + 1, sb), vb);
                    a2 = _mm512_dpbusd_epi32(a2, dw_small_vec(pl, e + 2, sa), va);
                    b2 = _mm512_dpbusd_epi32(b2, dw_small_vec(pl, e + 2, sb), vb);
                    a3 = _mm512_dpbusd_epi32(a3, dw_small_vec(pl, e + 3, sa), va);
                    b3 = _mm512_dpbusd_epi32(b3, dw_small_vec(pl, e + 3, sb), vb);
                }
            }
            _mm512_mask_storeu_epi8(outa + pl->ostart[t], pl->omask[t], _mm512_permutexvar_epi8(pl->oidx[t], dw_finish(&ra, a0, a1, a2, a3, s)));
            _mm512_mask_storeu_epi8(outb + pl->ostart[t], pl->omask[t], _mm512_permutexvar_epi8(pl->oidx[t], dw_finish(&rb, b0, b1, b2, b3, s)));
        }
    }
}

VIGIL_A512V static void dw_small_planes(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                        const vigil_requant_rows *q, const dw_small_plan *pl, int8_t *Y) {
    // Pairs of output channels: of consecutive input channels (multiplier 1), or of the one input
    // channel (a convolution with one input channel as depthwise with multiplier Cout).
    const int single = g->channels == 1 && g->multiplier >= 2;
    if ((g->multiplier == 1 && g->channels >= 2) || single) {
        if (pl->whole) { if (single) dw_small_pairs(X, W, g, q, pl, Y, 1, 1); else dw_small_pairs(X, W, g, q, pl, Y, 1, 0); }
        else { if (single) dw_small_pairs(X, W, g, q, pl, Y, 0, 1); else dw_small_pairs(X, W, g, q, pl, Y, 0, 0); }
        const int total = g->channels * g->multiplier;
        if (total & 1) {  // the odd last output channel alone
            const int oc = total - 1, oarea = g->out_h * g->out_w;
            vigil_depthwise_geometry one = *g;
            one.channels = 1;
            one.multiplier = 1;
            vigil_requant_rows q1 = {q->bias + oc, q->multiplier + oc, q->shift + oc, q->zero_point, q->lo, q->hi};
            dw_small_channels(X + (ptrdiff_t)(single ? 0 : oc) * g->in_h * g->in_w, W + (ptrdiff_t)oc * g->k_h * g->k_w, &one,
                              &q1, pl, Y + (ptrdiff_t)oc * oarea, pl->whole);
        }
    } else if (pl->whole) {
        dw_small_channels(X, W, g, q, pl, Y, 1);
    } else {
        dw_small_channels(X, W, g, q, pl, Y, 0);
    }
}

// The small-plane tables depend on the geometry but not on channels or multiplier, and building
// them costs about 1-2 us (on the ECG network's first layer, one input channel and 16 outputs of
// 360 positions, more than the layer's arithmetic): a depthwise plan (vigil_plan.h) builds them
// once, when it is prepared, and every run reads them. Callers without a plan (the public
// vigil_depthwise_s8, for tests) build them on the stack per call.
// Prepared memory: an int32 "taken" flag, then the tables 64 bytes in.
size_t vigil_depthwise_avx512_prepared_bytes(void) { return 64 + sizeof(dw_small_plan); }

VIGIL_A512 int vigil_depthwise_avx512_prepare(const vigil_depthwise_geometry *g, void *out) {
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    const int taken = dw_small_plan_of(g, &l, (dw_small_plan *)((uint8_t *)out + 64));
    *(int32_t *)out = taken;
    return taken;
}

VIGIL_A512 void vigil_depthwise_planes_avx512vnni(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                                                  const vigil_requant_rows *q, const void *prepared, void *scratch,
                                                  int8_t *Y) {
    if (prepared) {
        if (*(const int32_t *)prepared) dw_small_planes(X, W, g, q, (const dw_small_plan *)((const uint8_t *)prepared + 64), Y);
        else dw_planes_one_by_one(X, W, g, q, scratch, Y);
        return;
    }
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    dw_small_plan pl;
    if (dw_small_plan_of(g, &l, &pl)) dw_small_planes(X, W, g, q, &pl, Y);
    else dw_planes_one_by_one(X, W, g, q, scratch, Y);
}
#endif
