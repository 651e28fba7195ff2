// int8 Add of two tensors of the same shape, bit-exact with AddOp (docs/FORMAT.md, "Add"):
// t = (a - za) * Ma + (b - zb) * Mb in int64, y = clamp(zy + ((t + 2^(n-1)) >> n), lo, hi).
// With 17 <= n <= 47 the same value comes from 32-bit lanes: split M = Mh * 2^16 + Ml (0 <= Ml <
// 2^16), th = (a - za) * Mh + (b - zb) * Mbh and tl = (a - za) * Ml + (b - zb) * Mbl (both far
// inside int32 since |a - za| <= 255 and M <= 2^31), so t = th * 2^16 + tl and
// floor((t + 2^(n-1)) / 2^n) = (th + (tl >> 16) + 2^(n-17)) >> (n - 16) (the low 16 bits of tl
// cannot carry past 2^16). The loop is plain C that the compiler vectorizes, built once portable
// and once for AVX2.
#include "vigil_kernels.h"

#define VIGIL_ADD_BODY                                                                                       \
    const int32_t mah = (int32_t)(ma >> 16), mal = (int32_t)(ma & 0xFFFF);                                   \
    const int32_t mbh = (int32_t)(mb >> 16), mbl = (int32_t)(mb & 0xFFFF);                                   \
    const int32_t round = (int32_t)1 << (n - 17), s = n - 16;                                                \
    for (int i = 0; i < count; i++) {                                                                        \
        const int32_t a = (int32_t)A[i] - za, b = (int32_t)B[i] - zb;                                        \
        const int32_t th = a * mah + b * mbh, tl = a * mal + b * mbl;                                        \
        int32_t v = ((th + (tl >> 16) + round) >> s) + zy;                                                   \
        v = v < lo ? lo : v;                                                                                 \
        Y[i] = (int8_t)(v > hi ? hi : v);                                                                    \
    }

static void add_split_generic(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma,
                              int64_t mb, int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    VIGIL_ADD_BODY
}

#if defined(__x86_64__)
__attribute__((target("avx2")))
static void add_split_avx2(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma,
                           int64_t mb, int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    VIGIL_ADD_BODY
}
#endif

void vigil_add_s8(const int8_t *A, const int8_t *B, int count, int32_t za, int32_t zb, int64_t ma, int64_t mb,
                  int32_t n, int32_t zy, int32_t lo, int32_t hi, int8_t *Y) {
    if (n >= 17 && n <= 47 && ma >= 0 && ma <= ((int64_t)1 << 31) && mb >= 0 && mb <= ((int64_t)1 << 31)) {
#if defined(__x86_64__)
        if (vigil_kernel_has_avx2()) { add_split_avx2(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y); return; }
#endif
        add_split_generic(A, B, count, za, zb, ma, mb, n, zy, lo, hi, Y);
        return;
    }
    const int64_t round = (int64_t)1 << (n - 1);
    for (int i = 0; i < count; i++) {
        const int64_t t = ((int64_t)A[i] - za) * ma + ((int64_t)B[i] - zb) * mb;
        int64_t v = ((t + round) >> n) + zy;
        v = v < lo ? lo : v;
        Y[i] = (int8_t)(v > hi ? hi : v);
    }
}
