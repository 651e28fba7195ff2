// CVigilKernels: intra-op threads. A pool of T - 1 persistent workers (created once per interpreter)
// plus the calling thread runs one operator's kernel on T disjoint parts of its output. Each part is
// an ordinary call of the kernel's entry point on a sub-range (output rows = channels, or output
// positions), so every output byte is computed exactly as with one thread: the results are
// bit-identical whatever T.
#ifndef VIGIL_PARALLEL_H
#define VIGIL_PARALLEL_H
#include "vigil_kernels.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct vigil_pool vigil_pool;

/// A pool that runs work on `threads` threads: the caller and threads - 1 workers started here.
/// NULL when threads < 2, when threads cannot be started, or on platforms without POSIX threads;
/// every function below accepts NULL and then runs the kernel once, on the calling thread.
vigil_pool *vigil_pool_create(int threads);
/// Stops and joins the workers and frees the pool (NULL: nothing).
void vigil_pool_destroy(vigil_pool *pool);
/// Threads of the pool (1 for NULL).
int vigil_pool_threads(const vigil_pool *pool);
/// Tasks the pool has split across its threads so far (0 for NULL), for tests.
unsigned long vigil_pool_tasks(const vigil_pool *pool);
/// Runs fn(ctx, part, parts) for part = 0..<parts (parts <= vigil_pool_threads(pool)): part 0 on the
/// caller, the others on the workers; returns when all have finished. No allocation, no system
/// call while the workers are awake (they spin briefly between operators, then sleep).
void vigil_pool_run(vigil_pool *pool, void (*fn)(void *ctx, int part, int parts), void *ctx, int parts);

/// vigil_gemm_s8 split by rows (or by columns when there are fewer rows than threads).
void vigil_par_gemm_s8(vigil_pool *pool, const int8_t *A, const int8_t *B, int rows, int cols, int K,
                       const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc);
/// vigil_gemm_s8_kn split by output positions (columns, in blocks of 16), or by rows when there are
/// too few positions.
void vigil_par_gemm_s8_kn(vigil_pool *pool, const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols,
                          int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
/// vigil_gemm_u8s8_k4 split by rows (output channels, in blocks of 16 where there are enough).
void vigil_par_gemm_u8s8_k4(vigil_pool *pool, const int32_t *Aquads, const uint8_t *U, int rows, int cols, int K4,
                            const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc);
/// vigil_pack_quads_u8 split by channel quads.
void vigil_par_pack_quads_u8(vigil_pool *pool, const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U);
/// The rows of a direct convolution: for oy < out_h, vigil_conv_u8s8_direct(W, rows, base + oy *
/// row_stride, pos_stride, positions, offsets, K4, q, Y + oy * positions, ldc). Split by output rows,
/// or by positions within each row (blocks of 16) when there are fewer rows than threads.
void vigil_par_conv_u8s8_direct(vigil_pool *pool, const int32_t *W, int rows, const uint8_t *base, ptrdiff_t row_stride,
                                int out_h, ptrdiff_t pos_stride, int positions, const int32_t *offsets, int K4,
                                const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc);
/// vigil_depthwise_s8 split by channels (or by the multiplier's filters for one input channel).
/// Part i uses `scratch + i * scratch_stride` (scratch_stride >= vigil_depthwise_s8_scratch_bytes(g);
/// the caller provides vigil_pool_threads(pool) of them).
void vigil_par_depthwise_s8(vigil_pool *pool, const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                            const vigil_requant_rows *q, void *scratch, size_t scratch_stride, int8_t *Y);

#ifdef __cplusplus
}
#endif
#endif
