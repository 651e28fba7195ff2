// Portable depthwise int8 convolution (see depthwise_body.h), the channel-plane driver of the
// vectorized kernels (see depthwise_planes.h), and the dispatcher.
#include "vigil_kernels.h"
#include "depthwise_planes.h"
#include "dispatch.h"
#include <string.h>

#define VIGIL_DW_NAME(x) x##_generic
#define VIGIL_DW_ATTR
#include "depthwise_body.h"

#if defined(__x86_64__)
void vigil_depthwise_s8_avx2(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                             const vigil_requant_rows *q, int8_t *Y);
#endif

size_t vigil_depthwise_s8_scratch_bytes(const vigil_depthwise_geometry *g) {
    if (!vigil_dw_planar(g)) return 0;
    const vigil_dw_layout l = vigil_dw_layout_of(g);
    return l.pbytes + l.tbytes;
}

void vigil_depthwise_s8(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                        const vigil_requant_rows *q, void *scratch, int8_t *Y) {
    vigil_depthwise_s8_v(vigil_kernel_selected(), X, W, g, q, NULL, scratch, Y);
}

size_t vigil_depthwise_prepared_bytes(vigil_kernel_variant v, const vigil_depthwise_geometry *g) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) return vigil_depthwise_avx512_prepared_bytes();
#elif defined(__aarch64__)
    if (vigil_variant_arm(v)) return vigil_dw_tables_bytes(g);
#endif
    (void)v; (void)g;
    return 0;
}

int vigil_depthwise_prepare(vigil_kernel_variant v, const vigil_depthwise_geometry *g, void *out) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) {
        if (vigil_dw_planar(g)) return vigil_depthwise_avx512_prepare(g, out);
        *(int32_t *)out = 0;
        return 0;
    }
#elif defined(__aarch64__)
    if (vigil_variant_arm(v)) {
        vigil_dw_tables_fill(g, out);
        return vigil_dw_planar(g);
    }
#endif
    (void)v; (void)g; (void)out;
    return 0;
}

void vigil_depthwise_s8_v(vigil_kernel_variant v, const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                          const vigil_requant_rows *q, const void *prepared, void *scratch, int8_t *Y) {
    if (scratch && vigil_dw_planar(g)) {
#if defined(__x86_64__)
        if (v == VIGIL_KERNEL_AVX512VNNI) { vigil_depthwise_planes_avx512vnni(X, W, g, q, prepared, scratch, Y); return; }
        if (v == VIGIL_KERNEL_AVXVNNI) { vigil_depthwise_planes_avxvnni(X, W, g, q, scratch, Y); return; }
        if (v == VIGIL_KERNEL_AVX2) { vigil_depthwise_planes_avx2(X, W, g, q, scratch, Y); return; }
#elif defined(__aarch64__)
        if (v == VIGIL_KERNEL_DOTPROD || v == VIGIL_KERNEL_I8MM) { vigil_depthwise_planes_dotprod(X, W, g, q, prepared, scratch, Y); return; }
        if (v == VIGIL_KERNEL_NEON) { vigil_depthwise_planes_neon(X, W, g, q, prepared, scratch, Y); return; }
#endif
    }
    (void)prepared;
#if defined(__x86_64__)
    if (vigil_variant_avx2(v)) { vigil_depthwise_s8_avx2(X, W, g, q, Y); return; }
#endif
    vigil_depthwise_s8_generic(X, W, g, q, Y);
}
