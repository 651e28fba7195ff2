/* GEMM throughput as a fraction of the CPU's measured int8 peak, single thread.
 * Peak: 16 independent chains in registers, no memory, of the best int8 instruction of the variant
 * that runs (VPDPBUSD on zmm for avx512vnni, on ymm for avxvnni, VPMADDWD+VPADDD for avx2).
 * Ours: vigil_gemm_u8s8_k4 (the convolution GEMM, requantization included) under the variant the
 * runtime selects by default (the best the CPU has; VIGIL_KERNEL=... forces another), on a square
 * 512^3 GEMM and convolution-shaped ones. Best of several repetitions (the machine is shared).
 * Build and run: Tools/bench/gemm_peak.sh */
#include "vigil_kernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

#define PEAK_ITERS 4000000L
/* 16 named accumulators so that they stay in registers at -O2 (an array loop is not unrolled and
 * would go through memory). Each starts from its own value: chains that start equal and take the
 * same steps are one computation to the compiler, which kept one of them (gcc 12: one VPDPBUSD or
 * VPMADDWD per iteration, counted as 16, so the "peak" was one chain's latency times 16). */
#define CHAINS16(T, INIT, STEP, FOLD, MACS)                                                         \
    T a0 = INIT(0), a1 = INIT(1), a2 = INIT(2), a3 = INIT(3), a4 = INIT(4), a5 = INIT(5);           \
    T a6 = INIT(6), a7 = INIT(7), a8 = INIT(8), a9 = INIT(9), a10 = INIT(10), a11 = INIT(11);      \
    T a12 = INIT(12), a13 = INIT(13), a14 = INIT(14), a15 = INIT(15);                              \
    double t = now();                                                                              \
    for (long n = 0; n < PEAK_ITERS; n++) {                                                       \
        a0 = STEP(a0); a1 = STEP(a1); a2 = STEP(a2); a3 = STEP(a3); a4 = STEP(a4); a5 = STEP(a5);    \
        a6 = STEP(a6); a7 = STEP(a7); a8 = STEP(a8); a9 = STEP(a9); a10 = STEP(a10); a11 = STEP(a11); \
        a12 = STEP(a12); a13 = STEP(a13); a14 = STEP(a14); a15 = STEP(a15);                        \
    }                                                                                              \
    t = now() - t;                                                                                 \
    T s = FOLD(FOLD(FOLD(FOLD(a0, a1), FOLD(a2, a3)), FOLD(FOLD(a4, a5), FOLD(a6, a7))),           \
               FOLD(FOLD(FOLD(a8, a9), FOLD(a10, a11)), FOLD(FOLD(a12, a13), FOLD(a14, a15))));    \
    volatile T sink = s; (void)sink;                                                               \
    return PEAK_ITERS * 16.0 * (MACS) / t;

__attribute__((target("avx512f,avx512bw,avx512vnni"))) static double peak_avx512vnni(void) {
    const __m512i b = _mm512_set1_epi8(1), c = _mm512_set1_epi8(2);
#define STEP512(x) _mm512_dpbusd_epi32(x, b, c)
    CHAINS16(__m512i, _mm512_set1_epi32, STEP512, _mm512_add_epi32, 64)  /* 64 MACs per VPDPBUSD zmm */
}

/* With 256-bit registers the 16 chains take all 16 of them, so the steps use the chain itself as
 * every operand (a constant operand would be a 17th register and push the chains to the stack). */
__attribute__((target("avx2,avxvnni"))) static double peak_avxvnni(void) {
#define STEPVNNI(x) _mm256_dpbusd_avx_epi32(x, x, x)
    CHAINS16(__m256i, _mm256_set1_epi32, STEPVNNI, _mm256_add_epi32, 32)  /* 32 MACs per VPDPBUSD ymm */
}

__attribute__((target("avx2"))) static double peak_avx2(void) {
#define STEPAVX2(x) _mm256_madd_epi16(x, x)  /* the multiplier port is the bound: no VPADDD (a temporary would be a 17th register) */
    CHAINS16(__m256i, _mm256_set1_epi32, STEPAVX2, _mm256_add_epi32, 16)  /* 16 MACs per VPMADDWD */
}

static double best_of(double (*f)(void), int n) {
    double best = 0;
    for (int i = 0; i < n; i++) { double v = f(); if (v > best) best = v; }
    return best;
}

int main(void) {
    const int shapes[][3] = {{512, 512, 512}, {256, 3136, 576}, {512, 784, 1152}, {128, 12544, 64}};  /* rows (Cout), cols (positions), K */
    const vigil_kernel_variant v = vigil_kernel_selected();
    double peak;
    const char *insn;
    switch (v) {
    case VIGIL_KERNEL_AVX512VNNI: peak = best_of(peak_avx512vnni, 5); insn = "VPDPBUSD zmm"; break;
    case VIGIL_KERNEL_AVXVNNI: peak = best_of(peak_avxvnni, 5); insn = "VPDPBUSD ymm"; break;
    case VIGIL_KERNEL_AVX2: peak = best_of(peak_avx2, 5); insn = "VPMADDWD ymm"; break;
    default: fprintf(stderr, "gemm-peak: variant %s has no peak loop (x86 only)\n", vigil_kernel_name(v)); return 2;
    }
    printf("variant %s; int8 peak (%s, 16 chains, measured, best of 5): %.1f GMAC/s\n", vigil_kernel_name(v), insn, peak / 1e9);
    for (int s = 0; s < 4; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], K4 = (K + 3) / 4;
        int32_t *A = calloc((size_t)M * K4, 4), *bias = calloc(M, 4), *mult = malloc(4 * M), *shift = malloc(4 * M);
        uint8_t *U = malloc((size_t)K4 * N * 4);
        int8_t *C = malloc((size_t)M * N);
        for (size_t i = 0; i < (size_t)M * K4; i++) A[i] = (int32_t)(i * 2654435761u);
        for (size_t i = 0; i < (size_t)K4 * N * 4; i++) U[i] = (uint8_t)(i * 40503u >> 3);
        for (int i = 0; i < M; i++) { mult[i] = 1 << 30; shift[i] = 40; }
        vigil_requant_rows q = {bias, mult, shift, 0, -128, 127};
        vigil_gemm_u8s8_k4(A, U, M, N, K4, &q, C, N);  /* warm-up: pages, caches, frequency */
        double t = 1e30;
        for (int r = 0; r < 7; r++) {
            double a = now();
            vigil_gemm_u8s8_k4(A, U, M, N, K4, &q, C, N);
            a = now() - a;
            if (a < t) t = a;
        }
        double macs = (double)M * N * K;
        printf("GEMM %4dx%5dx%4d: %7.1f GMAC/s = %5.1f%% of peak (%.2f ms)\n", M, N, K, macs / t / 1e9, 100 * macs / t / peak, t * 1e3);
        free(A); free(bias); free(mult); free(shift); free(U); free(C);
    }
    return 0;
}
