// Portable int8 GEMM: the C reference every SIMD variant is compared with, bit for bit.
#include "vigil_kernels.h"

void vigil_gemm_s8_generic(const int8_t *A, const int8_t *B, int rows, int cols, int K,
                           const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    for (int r = 0; r < rows; r++) {
        const int8_t *a = A + (ptrdiff_t)r * K;
        for (int c = 0; c < cols; c++) {
            const int8_t *b = B + (ptrdiff_t)c * K;
            int32_t acc = 0;
            for (int k = 0; k < K; k++) acc += (int32_t)a[k] * (int32_t)b[k];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);  // wraps like the Swift &+
            C[r * ldr + c * ldc] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}

void vigil_pack_pairs_s8(const int8_t *A, int rows, int K, int32_t *P) {
    const int half = (K + 1) / 2;
    for (int r = 0; r < rows; r++)
        for (int i = 0; i < half; i++) {
            int16_t lo = A[r * K + 2 * i], hi = 2 * i + 1 < K ? A[r * K + 2 * i + 1] : 0;
            P[r * half + i] = (int32_t)(((uint32_t)(uint16_t)hi << 16) | (uint16_t)lo);
        }
}

void vigil_gemm_s8_kn_generic(const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols, int K,
                              const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int half = (K + 1) / 2;
    for (int r = 0; r < rows; r++) {
        const int32_t *a = Apairs + (ptrdiff_t)r * half;
        for (int c = 0; c < cols; c++) {
            int32_t acc = 0;
            for (int k = 0; k < K; k++) {
                int32_t w = (int16_t)(k & 1 ? (uint32_t)a[k / 2] >> 16 : (uint32_t)a[k / 2] & 0xFFFF);
                acc += w * (int32_t)B[k * ldb + c];
            }
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldc + c] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}

void vigil_gemm_u8s8_k4_generic(const int32_t *A, const uint8_t *U, int rows, int cols, int K4,
                                const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    for (int r = 0; r < rows; r++) {
        const int8_t *a = (const int8_t *)(A + (ptrdiff_t)r * K4);
        for (int c = 0; c < cols; c++) {
            int32_t acc = 0;
            for (int k4 = 0; k4 < K4; k4++)
                for (int j = 0; j < 4; j++) acc += (int32_t)a[4 * k4 + j] * (int32_t)U[((ptrdiff_t)k4 * cols + c) * 4 + j];
            acc = (int32_t)((uint32_t)acc + (uint32_t)q->bias[r]);
            C[r * ldc + c] = (int8_t)vigil_requantize(acc, q->multiplier[r], q->shift[r], q->zero_point, q->lo, q->hi);
        }
    }
}

void vigil_pack_quads_u8_generic(const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U) {
    for (int c4 = 0; c4 < (channels + 3) / 4; c4++)
        for (int p = 0; p < positions; p++)
            for (int j = 0; j < 4; j++) {
                int c = 4 * c4 + j;
                U[((ptrdiff_t)c4 * positions + p) * 4 + j] = c < channels ? (uint8_t)(X[c * plane + p] ^ 0x80) : 0;
            }
}
