/* Runs every kernel variant this CPU supports against the generic C kernel on random shapes and
 * data (including K tails, -128/127 extremes and wrap-prone biases) and requires identical bytes.
 * The generic kernel is itself pinned to the Swift reference by KernelParityTests on x86. */
#include "vigil_kernels.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void vigil_gemm_s8_neon(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);
void vigil_gemm_s8_dotprod(const int8_t *, const int8_t *, int, int, int, const vigil_requant_rows *, int8_t *, ptrdiff_t, ptrdiff_t);

static uint64_t state = 0x9E3779B97F4A7C15ull;
static uint64_t next(void) { state ^= state << 13; state ^= state >> 7; state ^= state << 17; return state; }

int main(void) {
    int failures = 0, checked = 0;
    for (int trial = 0; trial < 400; trial++) {
        int rows = 1 + next() % 19, cols = 1 + next() % 23, K = 1 + next() % 300;
        int8_t *A = malloc(rows * K), *B = malloc(cols * K), *C0 = malloc(rows * cols), *C1 = malloc(rows * cols);
        int extreme = trial % 5 == 0;
        for (int i = 0; i < rows * K; i++) A[i] = extreme ? (next() & 1 ? 127 : -127) : (int8_t)next();
        for (int i = 0; i < cols * K; i++) B[i] = extreme ? (next() & 1 ? 127 : -128) : (int8_t)next();
        int32_t *bias = malloc(4 * rows), *mult = malloc(4 * rows), *shift = malloc(4 * rows);
        for (int r = 0; r < rows; r++) {
            bias[r] = (int32_t)(next() % 200001) - 100000;
            mult[r] = (int32_t)((1u << 30) + (next() % (1u << 30)));
            shift[r] = 31 + (int32_t)(next() % 16);
        }
        vigil_requant_rows q = {bias, mult, shift, (int32_t)(next() % 256) - 128, -128, 127};
        vigil_gemm_s8_generic(A, B, rows, cols, K, &q, C0, cols, 1);
        /* The [K][cols] layout of the convolution kernel must give the same bytes. */
        int8_t *Bkn = malloc(cols * K), *Ckn = malloc(rows * cols);
        int32_t *P = malloc(4 * rows * ((K + 1) / 2));
        for (int c = 0; c < cols; c++) for (int k = 0; k < K; k++) Bkn[k * cols + c] = B[c * K + k];
        vigil_pack_pairs_s8(A, rows, K, P);
        vigil_gemm_s8_kn_generic(P, Bkn, cols, rows, cols, K, &q, Ckn, cols);
        if (memcmp(C0, Ckn, rows * cols) != 0) { failures++; fprintf(stderr, "kn generic differs from row-dot generic\n"); }
        for (int v = 1; v < VIGIL_KERNEL_COUNT; v++) {
            if (!vigil_kernel_supported((vigil_kernel_variant)v)) continue;
            memset(C1, 0x55, rows * cols);
            vigil_kernel_select((vigil_kernel_variant)v);
            vigil_gemm_s8(A, B, rows, cols, K, &q, C1, cols, 1);
            checked++;
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
            memset(C1, 0x55, rows * cols);
            vigil_gemm_s8_kn(P, Bkn, cols, rows, cols, K, &q, C1, cols);
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s kn layout differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
            /* u8 x s8 quad layout (VPDPBUSD): activations + 128, bias folded with -128 * sum(w). */
            int K4 = (K + 3) / 4;
            uint8_t *U = calloc((size_t)K4 * cols * 4, 1);
            int32_t *Q4 = calloc((size_t)rows * K4, 4), *bias4 = malloc(4 * rows);
            for (int c = 0; c < cols; c++) for (int k = 0; k < K; k++) U[((size_t)(k / 4) * cols + c) * 4 + k % 4] = (uint8_t)(B[c * K + k] + 128);
            for (int r = 0; r < rows; r++) {
                int32_t sum = 0;
                for (int k = 0; k < K; k++) { sum += A[r * K + k]; ((int8_t *)(Q4 + r * K4))[k] = A[r * K + k]; }
                bias4[r] = bias[r] - 128 * sum;
            }
            vigil_requant_rows q4 = q;
            q4.bias = bias4;
            memset(C1, 0x55, rows * cols);
            vigil_gemm_u8s8_k4(Q4, U, rows, cols, K4, &q4, C1, cols);
            free(U); free(Q4); free(bias4);
            if (memcmp(C0, C1, rows * cols) != 0) {
                failures++;
                fprintf(stderr, "%s u8s8 quad layout differs from generic: rows %d cols %d K %d\n", vigil_kernel_name((vigil_kernel_variant)v), rows, cols, K);
            }
        }
        free(Bkn); free(Ckn); free(P);
        free(A); free(B); free(C0); free(C1); free(bias); free(mult); free(shift);
    }
    printf("parity: %d variant runs checked", checked);
    for (int v = 0; v < VIGIL_KERNEL_COUNT; v++)
        if (vigil_kernel_supported((vigil_kernel_variant)v)) printf(" [%s]", vigil_kernel_name((vigil_kernel_variant)v));
    printf(", %d mismatches\n", failures);
    return failures ? 1 : 0;
}
