// The narrow-panel kernel of the AVX512-VNNI convolution GEMM (gemm_vnni_avx512_narrow.c), called
// by vigil_gemm_u8s8_k4_avx512vnni for its last, partial panel of positions.
#ifndef VIGIL_GEMM_VNNI_AVX512_NARROW_H
#define VIGIL_GEMM_VNNI_AVX512_NARROW_H
#include "vigil_kernels.h"

/// Partial panels of at most 48 positions, or of at most VIGIL_NARROW_MAX positions when
/// K4 <= VIGIL_NARROW_MAX_K4, go to the narrow kernel.
#define VIGIL_NARROW_MAX 52
#define VIGIL_NARROW_MAX_K4 1024

/// Columns [0, nc) of C (row stride ldc) from the panel u of the quad layout (row stride us bytes
/// per reduction quad), with A, K4 and q as in vigil_gemm_u8s8_k4.
void vigil_gemm_u8s8_k4_avx512vnni_narrow(const int32_t *A, const uint8_t *u, ptrdiff_t us, int rows, int nc, int K4,
                                          const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
#endif
