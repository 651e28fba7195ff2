// Portable depthwise int8 convolution (see depthwise_body.h), and the dispatcher.
#include "vigil_kernels.h"

#define VIGIL_DW_NAME(x) x##_generic
#define VIGIL_DW_ATTR
#include "depthwise_body.h"

#if defined(__x86_64__)
void vigil_depthwise_s8_avx2(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                             const vigil_requant_rows *q, int8_t *Y);
#endif

void vigil_depthwise_s8(const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                        const vigil_requant_rows *q, int8_t *Y) {
#if defined(__x86_64__)
    if (vigil_kernel_has_avx2()) { vigil_depthwise_s8_avx2(X, W, g, q, Y); return; }
#endif
    vigil_depthwise_s8_generic(X, W, g, q, Y);
}
