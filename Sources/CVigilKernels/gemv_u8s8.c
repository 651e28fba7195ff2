// One input row against a weight matrix through u8 x s8 products (fully connected layers on a
// single row; see vigil_kernels.h): the portable definition and the dispatch.
#include "vigil_kernels.h"
#include "dispatch.h"

#if defined(__x86_64__)
void vigil_gemv_u8s8_avx512vnni(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q,
                                int8_t *C, ptrdiff_t ldr);
#endif

void vigil_gemv_u8s8_generic(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q,
                             int8_t *C, ptrdiff_t ldr) {
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        uint32_t acc = (uint32_t)q->bias[r];  // wrapping adds, like the reference's &+
        for (int k = 0; k < K; k++) acc += (uint32_t)(((int32_t)b[k] + 128) * (int32_t)a[k]);
        C[(ptrdiff_t)r * ldr] = (int8_t)vigil_requantize((int32_t)acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
    }
}

void vigil_gemv_u8s8(const int8_t *A, const int8_t *b, int rows, int K, const vigil_requant_rows *q, int8_t *C,
                     ptrdiff_t ldr) {
    vigil_gemv_u8s8_v(vigil_kernel_selected(), A, b, rows, K, q, C, ldr);
}

void vigil_gemv_u8s8_v(vigil_kernel_variant v, const int8_t *A, const int8_t *b, int rows, int K,
                       const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) { vigil_gemv_u8s8_avx512vnni(A, b, rows, K, q, C, ldr); return; }
#endif
    (void)v;
    vigil_gemv_u8s8_generic(A, b, rows, K, q, C, ldr);
}
