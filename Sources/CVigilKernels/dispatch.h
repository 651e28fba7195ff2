// Kernel entry points with the variant as an argument (internal to CVigilKernels). The public
// entry points of vigil_kernels.h call these with vigil_kernel_selected(); plans (vigil_plan.h)
// call them with the variant they were prepared for, so a plan runs the code it packed for
// whatever the process-wide selection says later.
#ifndef VIGIL_DISPATCH_H
#define VIGIL_DISPATCH_H
#include "vigil_kernels.h"
#include "vigil_parallel.h"

static inline int vigil_variant_avx2(vigil_kernel_variant v) {
    return v == VIGIL_KERNEL_AVX2 || v == VIGIL_KERNEL_AVXVNNI || v == VIGIL_KERNEL_AVX512VNNI;
}
static inline int vigil_variant_arm(vigil_kernel_variant v) {
    return v == VIGIL_KERNEL_NEON || v == VIGIL_KERNEL_DOTPROD || v == VIGIL_KERNEL_I8MM;
}

void vigil_gemm_s8_v(vigil_kernel_variant v, const int8_t *A, const int8_t *B, int rows, int cols, int K,
                     const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc);
void vigil_gemm_s8_kn_v(vigil_kernel_variant v, const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows,
                        int cols, int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
void vigil_gemm_u8s8_k4_v(vigil_kernel_variant v, const int32_t *Aquads, const uint8_t *U, int rows, int cols, int K4,
                          const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
void vigil_pack_quads_u8_v(vigil_kernel_variant v, const int8_t *X, ptrdiff_t plane, int channels, int positions,
                           uint8_t *U);
void vigil_conv_u8s8_direct_v(vigil_kernel_variant v, const int32_t *W, int rows, const uint8_t *base,
                              ptrdiff_t pos_stride, int positions, const int32_t *offsets, int K4,
                              const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
void vigil_conv_pad_quads_u8_v(vigil_kernel_variant v, const int8_t *X, int channels, int in_h, int in_w, int pad_top,
                               int pad_left, int hp, int wp, uint8_t pad, uint8_t *P);
void vigil_gemv_u8s8_v(vigil_kernel_variant v, const int8_t *A, const int8_t *b, int rows, int K,
                       const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr);
/// `prepared`: what vigil_depthwise_prepare wrote for this geometry (any channels and multiplier),
/// or NULL (the AVX-512 small-plane path then builds its tables on the stack).
void vigil_depthwise_s8_v(vigil_kernel_variant v, const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                          const vigil_requant_rows *q, const void *prepared, void *scratch, int8_t *Y);
/// Bytes (64-byte aligned memory) of the per-geometry tables of variant v's depthwise kernel for g
/// (AVX-512: small-plane index tables; AArch64: the plane copy tables); 0 if it has none.
size_t vigil_depthwise_prepared_bytes(vigil_kernel_variant v, const vigil_depthwise_geometry *g);
/// Fills those tables for g (`out`: 64-byte aligned, vigil_depthwise_prepared_bytes(v) bytes);
/// returns 0 when the variant's table-driven path does not take g (the memory then records that,
/// and the kernel takes its other path without asking again).
int vigil_depthwise_prepare(vigil_kernel_variant v, const vigil_depthwise_geometry *g, void *out);

#if defined(__aarch64__)
// AArch64 signed-quad convolution GEMM with SDOT (arm/gemm_dotprod.c) and its input packing
// (arm/gemm_kn_neon.c); W is [ceil(rows/4)][K4][4 rows][4].
void vigil_gemm_s8_k4_dotprod(const int8_t *W, const int8_t *U, int rows, int cols, int K4, const vigil_requant_rows *q,
                              int8_t *C, ptrdiff_t ldc);
void vigil_pack_quads_s8_neon(const int8_t *X, ptrdiff_t plane, int channels, int positions, int8_t *U);
void vigil_conv_s8_direct_dotprod(const int8_t *W, int rows, const int8_t *base, ptrdiff_t pos_stride, int positions,
                                  const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
/// The rows of vigil_conv_s8_direct_dotprod as vigil_par_conv_u8s8_direct splits them.
void vigil_par_conv_s8_direct_dotprod(vigil_pool *pool, const int8_t *W, int rows, const int8_t *base,
                                      ptrdiff_t row_stride, int out_h, ptrdiff_t pos_stride, int positions,
                                      const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y,
                                      ptrdiff_t ldc);
void vigil_conv_s8_direct_neon(const int16_t *W, int rows, const int8_t *base, int s, int positions,
                               const int32_t *offsets, int K, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
/// Its rows split as vigil_par_conv_u8s8_direct splits them (row_stride: bytes between output rows).
void vigil_par_conv_s8_direct_neon(vigil_pool *pool, const int16_t *W, int rows, const int8_t *base,
                                   ptrdiff_t row_stride, int out_h, int s, int positions, const int32_t *offsets, int K,
                                   const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
void vigil_conv_s8_nhwc_neon(const int8_t *W, int rows, const int8_t *base, ptrdiff_t ps, int positions,
                             const int32_t *taps, int T, int C8, const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
/// Its output rows (oy) split across the pool, or positions (blocks of 4) when there are few.
void vigil_par_conv_s8_nhwc_neon(vigil_pool *pool, const int8_t *W, int rows, const int8_t *base, ptrdiff_t row_stride,
                                 int out_h, ptrdiff_t ps, int positions, const int32_t *taps, int T, int C8,
                                 const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
/// vigil_gemm_s8_k4_dotprod split by rows (blocks of 4).
void vigil_par_gemm_s8_k4_dotprod(vigil_pool *pool, const int8_t *W, const int8_t *U, int rows, int cols, int K4,
                                  const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
#endif

void vigil_par_gemm_s8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *A, const int8_t *B, int rows, int cols,
                         int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc);
void vigil_par_gemm_s8_kn_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *Apairs, const int8_t *B,
                            ptrdiff_t ldb, int rows, int cols, int K, const vigil_requant_rows *q, int8_t *C,
                            ptrdiff_t ldc);
void vigil_par_gemm_u8s8_k4_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *Aquads, const uint8_t *U,
                              int rows, int cols, int K4, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
void vigil_par_pack_quads_u8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *X, ptrdiff_t plane,
                               int channels, int positions, uint8_t *U);
void vigil_par_conv_u8s8_direct_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *W, int rows,
                                  const uint8_t *base, ptrdiff_t row_stride, int out_h, ptrdiff_t pos_stride,
                                  int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                  int8_t *Y, ptrdiff_t ldc);
void vigil_par_depthwise_s8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *X, const int8_t *W,
                              const vigil_depthwise_geometry *g, const vigil_requant_rows *q, const void *prepared,
                              void *scratch, size_t scratch_stride, int8_t *Y);
#endif
