// The depthwise body compiled for AVX2 (sign extension and 32-bit multiplies on 8 lanes).
#if defined(__x86_64__)
#define VIGIL_DW_NAME(x) x##_avx2
#define VIGIL_DW_ATTR __attribute__((target("avx2")))
#include "requant_avx2.h"
#define VIGIL_DW_REQUANT8(acc, bias, m, n, zp, lo, hi, out) \
    vigil_requant8_avx2(_mm256_loadu_si256((const __m256i *)(acc)), bias, m, n, zp, lo, hi, out)
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../depthwise_body.h"
#endif
