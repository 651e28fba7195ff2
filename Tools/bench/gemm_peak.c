/* GEMM throughput as a fraction of the CPU's measured int8 peak, single thread.
 * Peak: independent VPDPBUSD (AVX-VNNI) or VPMADDWD (AVX2) chains in registers, no memory.
 * Ours: vigil_gemm_u8s8_k4 / vigil_gemm_s8_kn on convolution-shaped GEMMs, including requantization.
 * Build and run: Tools/bench/gemm_peak.sh */
#include "vigil_kernels.h"
#include <immintrin.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static double now(void) { struct timespec t; clock_gettime(CLOCK_MONOTONIC, &t); return t.tv_sec + t.tv_nsec * 1e-9; }

__attribute__((target("avx2,avxvnni"))) static double peak_vnni(void) {
    __m256i a[16], b = _mm256_set1_epi8(1), c = _mm256_set1_epi8(2);
    for (int i = 0; i < 16; i++) a[i] = _mm256_setzero_si256();
    const long iters = 20000000;
    double t = now();
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < 16; i++) a[i] = _mm256_dpbusd_avx_epi32(a[i], b, c);
    t = now() - t;
    volatile int sink = _mm256_extract_epi32(a[0], 0) + _mm256_extract_epi32(a[15], 3); (void)sink;
    return iters * 16.0 * 32 / t;  /* 32 int8 MACs per VPDPBUSD on 256 bits */
}

__attribute__((target("avx2"))) static double peak_avx2(void) {
    __m256i a[16], b = _mm256_set1_epi16(1), c = _mm256_set1_epi16(2);
    for (int i = 0; i < 16; i++) a[i] = _mm256_setzero_si256();
    const long iters = 20000000;
    double t = now();
    for (long n = 0; n < iters; n++)
        for (int i = 0; i < 16; i++) a[i] = _mm256_add_epi32(a[i], _mm256_madd_epi16(b, c));
    t = now() - t;
    volatile int sink = _mm256_extract_epi32(a[0], 0) + _mm256_extract_epi32(a[15], 3); (void)sink;
    return iters * 16.0 * 16 / t;  /* 16 MACs per VPMADDWD */
}

int main(void) {
    const int shapes[][3] = {{256, 3136, 576}, {512, 784, 1152}, {128, 12544, 64}};  /* rows (Cout), cols (positions), K */
    int vnni = vigil_kernel_supported(VIGIL_KERNEL_AVXVNNI);
    double peak = vnni ? peak_vnni() : peak_avx2();
    printf("int8 peak (%s, measured): %.1f GMAC/s\n", vnni ? "VPDPBUSD" : "VPMADDWD", peak / 1e9);
    for (int s = 0; s < 3; s++) {
        int M = shapes[s][0], N = shapes[s][1], K = shapes[s][2], K4 = (K + 3) / 4;
        int32_t *A = calloc((size_t)M * K4, 4), *bias = calloc(M, 4), *mult = malloc(4 * M), *shift = malloc(4 * M);
        uint8_t *U = malloc((size_t)K4 * N * 4);
        int8_t *C = malloc((size_t)M * N);
        for (size_t i = 0; i < (size_t)M * K4; i++) A[i] = (int32_t)(i * 2654435761u);
        for (size_t i = 0; i < (size_t)K4 * N * 4; i++) U[i] = (uint8_t)(i * 40503u >> 3);
        for (int i = 0; i < M; i++) { mult[i] = 1 << 30; shift[i] = 40; }
        vigil_requant_rows q = {bias, mult, shift, 0, -128, 127};
        if (vnni) vigil_kernel_select(VIGIL_KERNEL_AVXVNNI);
        int reps = 3;
        double t = now();
        for (int r = 0; r < reps; r++) vigil_gemm_u8s8_k4(A, U, M, N, K4, &q, C, N);
        t = (now() - t) / reps;
        double macs = (double)M * N * K;
        printf("GEMM %4dx%5dx%4d: %7.1f GMAC/s = %5.1f%% of peak (%.2f ms)\n", M, N, K, macs / t / 1e9, 100 * macs / t / peak, t * 1e3);
        free(A); free(bias); free(mult); free(shift); free(U); free(C);
    }
    return 0;
}
