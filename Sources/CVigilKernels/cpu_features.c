#include "vigil_kernels.h"
#include "dispatch.h"
#include <stdlib.h>
#include <string.h>
#if defined(__x86_64__)
#include <cpuid.h>
#elif defined(__aarch64__) && defined(__linux__)
#include <sys/auxv.h>
#ifndef HWCAP_ASIMDDP
#define HWCAP_ASIMDDP (1 << 20)
#endif
#ifndef HWCAP2_I8MM
#define HWCAP2_I8MM (1 << 13)
#endif
#endif

void vigil_gemm_s8_avx2(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_u8s8_k4_avxvnni(const int32_t *, const uint8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t);
void vigil_gemm_u8s8_k4_avx2(const int32_t *, const uint8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t);
void vigil_gemm_u8s8_k4_avx512vnni(const int32_t *, const uint8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t);
void vigil_pack_quads_u8_avx512(const int8_t *, ptrdiff_t, int, int, uint8_t *);
void vigil_pack_quads_u8_generic(const int8_t *, ptrdiff_t, int, int, uint8_t *);
void vigil_pack_quads_u8_avx2(const int8_t *, ptrdiff_t, int, int, uint8_t *);
void vigil_gemm_s8_neon(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_s8_dotprod(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_s8_i8mm(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_s8_kn_neon(const int32_t *, const int8_t *, ptrdiff_t, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t);

int vigil_kernel_supported(vigil_kernel_variant v) {
    switch (v) {
    case VIGIL_KERNEL_GENERIC: return 1;
#if defined(__x86_64__)
    case VIGIL_KERNEL_AVX2: {
        unsigned a, b, c, d;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
        int avx2 = (b >> 5) & 1;
        __get_cpuid(1, &a, &b, &c, &d);
        int osxsave = (c >> 27) & 1;
        if (!avx2 || !osxsave) return 0;
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        return (lo & 6) == 6;  // XMM and YMM state enabled by the OS
    }
    case VIGIL_KERNEL_AVXVNNI: {
        if (!vigil_kernel_supported(VIGIL_KERNEL_AVX2)) return 0;
        unsigned a, b, c, d;
        if (!__get_cpuid_count(7, 1, &a, &b, &c, &d)) return 0;
        return (a >> 4) & 1;  // CPUID.(EAX=7,ECX=1):EAX[4] AVX-VNNI
    }
    case VIGIL_KERNEL_AVX512VNNI: {
        // EVEX VPDPBUSD on 512- and 256-bit vectors (AVX512-VNNI + VL); AVX-VNNI (the VEX form) is not
        // needed: no kernel this variant dispatches to uses it (Tools/kernels/check-isa.sh checks the
        // objects), so servers with AVX-512 VNNI and no AVX-VNNI (Cascade Lake, Ice Lake, Zen 4) get
        // it. The AVX2 helpers it shares (pooling, layout copies) need AVX2.
        if (!vigil_kernel_supported(VIGIL_KERNEL_AVX2)) return 0;
        unsigned a, b, c, d;
        if (!__get_cpuid_count(7, 0, &a, &b, &c, &d)) return 0;
        const int f = (b >> 16) & 1, bw = (b >> 30) & 1, vl = (b >> 31) & 1, vnni = (c >> 11) & 1;
        if (!(f && bw && vl && vnni)) return 0;
        unsigned lo, hi;
        __asm__ volatile("xgetbv" : "=a"(lo), "=d"(hi) : "c"(0));
        return (lo & 0xE6) == 0xE6;  // XMM, YMM, opmask and both halves of the ZMM state enabled by the OS
    }
#elif defined(__aarch64__)
    case VIGIL_KERNEL_NEON: return 1;
    case VIGIL_KERNEL_DOTPROD:
#if defined(__linux__)
        return (getauxval(AT_HWCAP) & HWCAP_ASIMDDP) != 0;
#else
        return 0;
#endif
    case VIGIL_KERNEL_I8MM:
        // Every kernel but the GEMM is the dotprod variant's, so the dot product is required as well
        // (every CPU with i8mm has it).
#if defined(__linux__)
        return vigil_kernel_supported(VIGIL_KERNEL_DOTPROD) && (getauxval(AT_HWCAP2) & HWCAP2_I8MM) != 0;
#else
        return 0;
#endif
#endif
    default: return 0;
    }
}

static vigil_kernel_variant best(void) {
    for (int v = VIGIL_KERNEL_COUNT - 1; v > 0; v--)
        if (vigil_kernel_supported((vigil_kernel_variant)v)) return (vigil_kernel_variant)v;
    return VIGIL_KERNEL_GENERIC;
}

static int selected = -1;

vigil_kernel_variant vigil_kernel_selected(void) {
    if (selected < 0) {
        vigil_kernel_variant v = best();
        const char *env = getenv("VIGIL_KERNEL");
        if (env) {
            for (int k = 0; k < VIGIL_KERNEL_COUNT; k++)
                if (strcmp(env, vigil_kernel_name((vigil_kernel_variant)k)) == 0 && vigil_kernel_supported((vigil_kernel_variant)k))
                    v = (vigil_kernel_variant)k;
        }
        selected = (int)v;
    }
    return (vigil_kernel_variant)selected;
}

int vigil_kernel_select(vigil_kernel_variant v) {
    if (!vigil_kernel_supported(v)) return 0;
    selected = (int)v;
    return 1;
}

const char *vigil_kernel_name(vigil_kernel_variant v) {
    switch (v) {
    case VIGIL_KERNEL_GENERIC: return "generic";
    case VIGIL_KERNEL_AVX2: return "avx2";
    case VIGIL_KERNEL_NEON: return "neon";
    case VIGIL_KERNEL_DOTPROD: return "dotprod";
    case VIGIL_KERNEL_AVXVNNI: return "avxvnni";
    case VIGIL_KERNEL_AVX512VNNI: return "avx512vnni";
    case VIGIL_KERNEL_I8MM: return "i8mm";
    default: return "unknown";
    }
}

void vigil_gemm_s8(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                   const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    vigil_gemm_s8_v(vigil_kernel_selected(), A, B, rows, cols, K, q, C, ldr, ldc);
}

void vigil_gemm_s8_v(vigil_kernel_variant v, const int8_t *A, const int8_t *B, int rows, int cols, int K,
                     const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    switch (v) {
#if defined(__x86_64__)
    case VIGIL_KERNEL_AVX2:
    case VIGIL_KERNEL_AVXVNNI:
    case VIGIL_KERNEL_AVX512VNNI: vigil_gemm_s8_avx2(A, B, rows, cols, K, q, C, ldr, ldc); return;
#elif defined(__aarch64__)
    case VIGIL_KERNEL_NEON: vigil_gemm_s8_neon(A, B, rows, cols, K, q, C, ldr, ldc); return;
    case VIGIL_KERNEL_DOTPROD: vigil_gemm_s8_dotprod(A, B, rows, cols, K, q, C, ldr, ldc); return;
    case VIGIL_KERNEL_I8MM: vigil_gemm_s8_i8mm(A, B, rows, cols, K, q, C, ldr, ldc); return;
#endif
    default: vigil_gemm_s8_generic(A, B, rows, cols, K, q, C, ldr, ldc); return;
    }
}

void vigil_gemm_s8_kn(const int32_t *A, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                      const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    vigil_gemm_s8_kn_v(vigil_kernel_selected(), A, B, ldb, rows, cols, K, q, C, ldc);
}

void vigil_gemm_s8_kn_v(vigil_kernel_variant v, const int32_t *A, const int8_t *B, ptrdiff_t ldb, int rows, int cols,
                        int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
#if defined(__aarch64__)
    if (vigil_variant_arm(v)) { vigil_gemm_s8_kn_neon(A, B, ldb, rows, cols, K, q, C, ldc); return; }
#endif
    (void)v;
    vigil_gemm_s8_kn_generic(A, B, ldb, rows, cols, K, q, C, ldc);
}

int vigil_kernel_has_avx2(void) { return vigil_variant_avx2(vigil_kernel_selected()); }

int vigil_kernel_has_vnni(void) {
    const vigil_kernel_variant v = vigil_kernel_selected();
    return v == VIGIL_KERNEL_AVXVNNI || v == VIGIL_KERNEL_AVX512VNNI;
}

void vigil_gemm_u8s8_k4(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                        const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    vigil_gemm_u8s8_k4_v(vigil_kernel_selected(), A, U, rows, cols, K4, q, C, ldc);
}

void vigil_gemm_u8s8_k4_v(vigil_kernel_variant v, const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                          const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) { vigil_gemm_u8s8_k4_avx512vnni(A, U, rows, cols, K4, q, C, ldc); return; }
    if (v == VIGIL_KERNEL_AVXVNNI) { vigil_gemm_u8s8_k4_avxvnni(A, U, rows, cols, K4, q, C, ldc); return; }
    if (v == VIGIL_KERNEL_AVX2) { vigil_gemm_u8s8_k4_avx2(A, U, rows, cols, K4, q, C, ldc); return; }
#endif
    (void)v;
    vigil_gemm_u8s8_k4_generic(A, U, rows, cols, K4, q, C, ldc);
}

void vigil_pack_quads_u8(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U) {
    vigil_pack_quads_u8_v(vigil_kernel_selected(), X, plane, channels, positions, U);
}

void vigil_pack_quads_u8_v(vigil_kernel_variant v, const int8_t *X, ptrdiff_t plane, int channels, int positions,
                           uint8_t *U) {
#if defined(__x86_64__)
    if (v == VIGIL_KERNEL_AVX512VNNI) { vigil_pack_quads_u8_avx512(X, plane, channels, positions, U); return; }
    if (vigil_variant_avx2(v)) { vigil_pack_quads_u8_avx2(X, plane, channels, positions, U); return; }
#endif
    (void)v;
    vigil_pack_quads_u8_generic(X, plane, channels, positions, U);
}
