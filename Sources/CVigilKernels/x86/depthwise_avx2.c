// The depthwise body compiled for AVX2 (sign extension and 32-bit multiplies on 8 lanes).
#if defined(__x86_64__)
#define VIGIL_DW_NAME(x) x##_avx2
#define VIGIL_DW_ATTR __attribute__((target("avx2")))
#pragma GCC diagnostic ignored "-Wunused-function"
#include "../depthwise_body.h"
#endif
