// Intra-op threads (vigil_parallel.h): a persistent pool and the per-kernel splits.
//
// The pool: run() publishes the task and bumps a generation counter; workers that are spinning see
// it at once, sleeping ones are woken through a condition variable (only when one sleeps, so an
// invoke that keeps the workers busy makes no system call). The caller and the workers claim parts
// with a compare-exchange on (generation, next part), so no part waits for a thread that is not
// running; the caller then waits for the parts others claimed to finish. Workers spin
// for VIGIL_POOL_SPIN_NS after each task (operators follow each other within microseconds) and then
// sleep, so an idle agent does not burn its cores.
//
// The splits call the existing kernel entry points on disjoint sub-ranges of the output; operators
// below VIGIL_PAR_MIN_WORK multiply-adds stay on one thread (waking a worker costs more than they
// take).
#include "vigil_parallel.h"
#include "dispatch.h"
#include <stdlib.h>
#include <string.h>

#define VIGIL_PAR_MIN_WORK 32768
#define VIGIL_POOL_SPIN_NS 200000

/// [begin, end) of part `part` of `parts` over n items taken in blocks of `unit`.
static void part_range(int n, int unit, int part, int parts, int *begin, int *end) {
    const int blocks = (n + unit - 1) / unit, per = (blocks + parts - 1) / parts;
    const long b = (long)part * per * unit, e = (long)(part + 1) * per * unit;
    *begin = b < n ? (int)b : n;
    *end = e < n ? (int)e : n;
}

/// Parts worth running for n items in blocks of `unit` and `work` multiply-adds in all.
static int parts_for(const vigil_pool *pool, int n, int unit, double work) {
    const int t = vigil_pool_threads(pool);
    if (t < 2 || work < VIGIL_PAR_MIN_WORK) return 1;
    const int blocks = (n + unit - 1) / unit;
    if (blocks < 2) return 1;
    const int per = (blocks + t - 1) / t;
    return (blocks + per - 1) / per;  // parts that get at least one block
}

#if defined(__linux__) || defined(__APPLE__)
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <time.h>

static inline void cpu_relax(void) {
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__) || defined(__arm__)
    __asm__ volatile("yield");
#endif
}

static inline long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

struct vigil_pool {
    int threads;
    pthread_t *handles;
    pthread_mutex_t mutex;
    pthread_cond_t wake;
    unsigned long tasks;  // only the caller's thread touches it
    // The task: published before `state` (release), read by workers after it (acquire). Whoever
    // claims a part (the caller included) re-checks the generation in the same compare-exchange, so
    // a late worker never runs a part of a newer task with an older task's function.
    _Atomic(void (*)(void *, int, int)) fn;
    _Atomic(void *) ctx;
    atomic_int parts;
    // generation << 32 | next unclaimed part
    _Atomic uint64_t state;
    atomic_int done;
    atomic_int sleepers;
    atomic_int stop;
};

/// `state`'s part index while a task's fields are being replaced: no part is claimable.
#define VIGIL_POOL_CLOSED 0x7fffffffu

/// Claims and runs parts of generation `gen` until none is left.
///
/// The state is read first (acquire), so the task fields read after it are at least this
/// generation's. They may be a newer task's: vigil_pool_run closes the state (a new generation)
/// before it stores a new task's fields with release, so having read a newer field means the
/// closing is visible too, and the compare-exchange on the old state fails instead of running the
/// newer function as part of this generation.
static void run_parts(vigil_pool *p, uint32_t gen) {
    for (;;) {
        uint64_t s = atomic_load_explicit(&p->state, memory_order_acquire);
        void (*fn)(void *, int, int) = atomic_load_explicit(&p->fn, memory_order_acquire);
        void *ctx = atomic_load_explicit(&p->ctx, memory_order_acquire);
        const int parts = atomic_load_explicit(&p->parts, memory_order_acquire);
        if ((uint32_t)(s >> 32) != gen || (int)(uint32_t)s >= parts) return;
        if (!atomic_compare_exchange_weak_explicit(&p->state, &s, s + 1, memory_order_acq_rel, memory_order_relaxed)) continue;
        fn(ctx, (int)(uint32_t)s, parts);
        atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
    }
}

static void *worker_main(void *arg) {
    vigil_pool *p = arg;
    // Generation 0 is the pool's state at creation: a task published before this thread got here
    // must still be run.
    uint32_t seen = 0;
    for (;;) {
        uint32_t g = (uint32_t)(atomic_load_explicit(&p->state, memory_order_acquire) >> 32);
        if (g == seen) {
            const long long until = now_ns() + VIGIL_POOL_SPIN_NS;
            int spins = 0;
            while ((g = (uint32_t)(atomic_load_explicit(&p->state, memory_order_acquire) >> 32)) == seen) {
                cpu_relax();
                if (++spins % 256 == 0 && now_ns() > until) break;
            }
            if (g == seen) {
                pthread_mutex_lock(&p->mutex);
                atomic_fetch_add(&p->sleepers, 1);
                while ((g = (uint32_t)(atomic_load(&p->state) >> 32)) == seen && !atomic_load(&p->stop))
                    pthread_cond_wait(&p->wake, &p->mutex);
                atomic_fetch_sub(&p->sleepers, 1);
                pthread_mutex_unlock(&p->mutex);
            }
        }
        if (atomic_load(&p->stop)) return NULL;
        seen = g;
        run_parts(p, g);
    }
}

vigil_pool *vigil_pool_create(int threads) {
    if (threads < 2) return NULL;
    vigil_pool *p = calloc(1, sizeof *p);
    if (!p) return NULL;
    p->handles = calloc((size_t)threads, sizeof *p->handles);
    if (!p->handles) { free(p); return NULL; }
    pthread_mutex_init(&p->mutex, NULL);
    pthread_cond_init(&p->wake, NULL);
    atomic_init(&p->fn, NULL);
    atomic_init(&p->ctx, NULL);
    atomic_init(&p->parts, 0);
    atomic_init(&p->state, 0);
    atomic_init(&p->done, 0);
    atomic_init(&p->sleepers, 0);
    atomic_init(&p->stop, 0);
    p->threads = 1;
    for (int i = 1; i < threads; i++) {
        if (pthread_create(&p->handles[i], NULL, worker_main, p) != 0) break;
        p->threads = i + 1;
    }
    if (p->threads < 2) { vigil_pool_destroy(p); return NULL; }
    return p;
}

void vigil_pool_destroy(vigil_pool *p) {
    if (!p) return;
    pthread_mutex_lock(&p->mutex);
    atomic_store(&p->stop, 1);
    atomic_store(&p->parts, 0);
    atomic_fetch_add(&p->state, (uint64_t)1 << 32);
    pthread_cond_broadcast(&p->wake);
    pthread_mutex_unlock(&p->mutex);
    for (int i = 1; i < p->threads; i++) pthread_join(p->handles[i], NULL);
    pthread_cond_destroy(&p->wake);
    pthread_mutex_destroy(&p->mutex);
    free(p->handles);
    free(p);
}

int vigil_pool_threads(const vigil_pool *p) { return p ? p->threads : 1; }
unsigned long vigil_pool_tasks(const vigil_pool *p) { return p ? p->tasks : 0; }

/// The caller claims parts too: when a worker is slow to wake (the cores are shared), the caller
/// runs the remaining parts itself and only waits for parts a worker has already started.
void vigil_pool_run(vigil_pool *p, void (*fn)(void *, int, int), void *ctx, int parts) {
    if (!p || parts < 2) { fn(ctx, 0, 1); return; }
    if (parts > p->threads) parts = p->threads;
    p->tasks++;
    // Close the previous task before its fields are reused (see run_parts): one generation with
    // nothing to claim, then this task's fields, then its generation with part 0 next.
    const uint32_t closed = (uint32_t)(atomic_load_explicit(&p->state, memory_order_relaxed) >> 32) + 1;
    atomic_store(&p->state, ((uint64_t)closed << 32) | VIGIL_POOL_CLOSED);
    atomic_store_explicit(&p->fn, fn, memory_order_release);
    atomic_store_explicit(&p->ctx, ctx, memory_order_release);
    atomic_store_explicit(&p->parts, parts, memory_order_release);
    atomic_store_explicit(&p->done, 0, memory_order_release);
    const uint32_t gen = closed + 1;
    atomic_store(&p->state, (uint64_t)gen << 32);  // seq_cst: ordered against the sleepers check below
    if (atomic_load(&p->sleepers) > 0) {
        pthread_mutex_lock(&p->mutex);
        pthread_cond_broadcast(&p->wake);
        pthread_mutex_unlock(&p->mutex);
    }
    run_parts(p, gen);
    int spins = 0;
    while (atomic_load_explicit(&p->done, memory_order_acquire) < parts) {
        cpu_relax();
        if (++spins % 4096 == 0) sched_yield();  // a worker that claimed a part may be waiting for this core
    }
}
#else
// No POSIX threads (bare-metal builds): every split runs on the caller.
vigil_pool *vigil_pool_create(int threads) { (void)threads; return NULL; }
void vigil_pool_destroy(vigil_pool *p) { (void)p; }
int vigil_pool_threads(const vigil_pool *p) { (void)p; return 1; }
unsigned long vigil_pool_tasks(const vigil_pool *p) { (void)p; return 0; }
void vigil_pool_run(vigil_pool *p, void (*fn)(void *, int, int), void *ctx, int parts) {
    (void)p; (void)parts;
    fn(ctx, 0, 1);
}
#endif

/// The rows [r0, r1) of a requantization.
static vigil_requant_rows rows_from(const vigil_requant_rows *q, int r0) {
    vigil_requant_rows s = *q;
    s.bias += r0;
    s.multiplier += r0;
    s.shift += r0;
    return s;
}

// --- vigil_gemm_s8 -----------------------------------------------------------------------------------

typedef struct {
    vigil_kernel_variant v;
    const int8_t *A, *B;
    int rows, cols, K, byRows;
    const vigil_requant_rows *q;
    int8_t *C;
    ptrdiff_t ldr, ldc;
} gemm_s8_task;

static void gemm_s8_part(void *ctx, int part, int parts) {
    const gemm_s8_task *t = ctx;
    int b, e;
    if (t->byRows) {
        part_range(t->rows, 4, part, parts, &b, &e);
        if (b >= e) return;
        vigil_requant_rows q = rows_from(t->q, b);
        vigil_gemm_s8_v(t->v, t->A + (ptrdiff_t)b * t->K, t->B, e - b, t->cols, t->K, &q, t->C + b * t->ldr, t->ldr, t->ldc);
    } else {
        part_range(t->cols, 4, part, parts, &b, &e);
        if (b >= e) return;
        vigil_gemm_s8_v(t->v, t->A, t->B + (ptrdiff_t)b * t->K, t->rows, e - b, t->K, t->q, t->C + b * t->ldc, t->ldr, t->ldc);
    }
}

void vigil_par_gemm_s8(vigil_pool *pool, const int8_t *A, const int8_t *B, int rows, int cols, int K,
                       const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    vigil_par_gemm_s8_v(pool, vigil_kernel_selected(), A, B, rows, cols, K, q, C, ldr, ldc);
}

void vigil_par_gemm_s8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *A, const int8_t *B, int rows, int cols,
                         int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldr, ptrdiff_t ldc) {
    const double work = (double)rows * cols * K;
    const int byRows = rows >= cols;
    const int parts = parts_for(pool, byRows ? rows : cols, 4, work);
    if (parts < 2) { vigil_gemm_s8_v(v, A, B, rows, cols, K, q, C, ldr, ldc); return; }
    gemm_s8_task t = {v, A, B, rows, cols, K, byRows, q, C, ldr, ldc};
    vigil_pool_run(pool, gemm_s8_part, &t, parts);
}

// --- vigil_gemm_s8_kn --------------------------------------------------------------------------------

typedef struct {
    vigil_kernel_variant v;
    const int32_t *A;
    const int8_t *B;
    ptrdiff_t ldb;
    int rows, cols, K, byRows;
    const vigil_requant_rows *q;
    int8_t *C;
    ptrdiff_t ldc;
} gemm_kn_task;

static void gemm_kn_part(void *ctx, int part, int parts) {
    const gemm_kn_task *t = ctx;
    int b, e;
    if (t->byRows) {
        part_range(t->rows, 4, part, parts, &b, &e);
        if (b >= e) return;
        vigil_requant_rows q = rows_from(t->q, b);
        vigil_gemm_s8_kn_v(t->v, t->A + (ptrdiff_t)b * ((t->K + 1) / 2), t->B, t->ldb, e - b, t->cols, t->K, &q,
                         t->C + b * t->ldc, t->ldc);
    } else {
        part_range(t->cols, 16, part, parts, &b, &e);
        if (b >= e) return;
        vigil_gemm_s8_kn_v(t->v, t->A, t->B + b, t->ldb, t->rows, e - b, t->K, t->q, t->C + b, t->ldc);
    }
}

void vigil_par_gemm_s8_kn(vigil_pool *pool, const int32_t *Apairs, const int8_t *B, ptrdiff_t ldb, int rows, int cols,
                          int K, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    vigil_par_gemm_s8_kn_v(pool, vigil_kernel_selected(), Apairs, B, ldb, rows, cols, K, q, C, ldc);
}

void vigil_par_gemm_s8_kn_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *Apairs, const int8_t *B,
                            ptrdiff_t ldb, int rows, int cols, int K, const vigil_requant_rows *q, int8_t *C,
                            ptrdiff_t ldc) {
    const double work = (double)rows * cols * K;
    const int t = vigil_pool_threads(pool);
    const int byRows = cols < 16 * t;
    const int parts = parts_for(pool, byRows ? rows : cols, byRows ? 4 : 16, work);
    if (parts < 2) { vigil_gemm_s8_kn_v(v, Apairs, B, ldb, rows, cols, K, q, C, ldc); return; }
    gemm_kn_task task = {v, Apairs, B, ldb, rows, cols, K, byRows, q, C, ldc};
    vigil_pool_run(pool, gemm_kn_part, &task, parts);
}

// --- vigil_gemm_u8s8_k4 ------------------------------------------------------------------------------

typedef struct {
    vigil_kernel_variant v;
    const int32_t *A;
    const uint8_t *U;
    int rows, cols, K4, unit;
    const vigil_requant_rows *q;
    int8_t *C;
    ptrdiff_t ldc;
} gemm_k4_task;

static void gemm_k4_part(void *ctx, int part, int parts) {
    const gemm_k4_task *t = ctx;
    int b, e;
    part_range(t->rows, t->unit, part, parts, &b, &e);
    if (b >= e) return;
    vigil_requant_rows q = rows_from(t->q, b);
    vigil_gemm_u8s8_k4_v(t->v, t->A + (ptrdiff_t)b * t->K4, t->U, e - b, t->cols, t->K4, &q, t->C + b * t->ldc, t->ldc);
}

void vigil_par_gemm_u8s8_k4(vigil_pool *pool, const int32_t *Aquads, const uint8_t *U, int rows, int cols, int K4,
                            const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    vigil_par_gemm_u8s8_k4_v(pool, vigil_kernel_selected(), Aquads, U, rows, cols, K4, q, C, ldc);
}

void vigil_par_gemm_u8s8_k4_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *Aquads, const uint8_t *U,
                              int rows, int cols, int K4, const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const double work = (double)rows * cols * K4 * 4;
    // Whole 16-row blocks where every part gets one (the wide kernels' row tiles), else 4 rows.
    const int unit = rows >= 16 * vigil_pool_threads(pool) ? 16 : 4;
    const int parts = parts_for(pool, rows, unit, work);
    if (parts < 2) { vigil_gemm_u8s8_k4_v(v, Aquads, U, rows, cols, K4, q, C, ldc); return; }
    gemm_k4_task t = {v, Aquads, U, rows, cols, K4, unit, q, C, ldc};
    vigil_pool_run(pool, gemm_k4_part, &t, parts);
}

// --- vigil_gemm_s8_k4_dotprod ------------------------------------------------------------------------

#if defined(__aarch64__)
typedef struct {
    const int8_t *W, *U;
    int rows, cols, K4;
    const vigil_requant_rows *q;
    int8_t *C;
    ptrdiff_t ldc;
} sdot_task;

static void sdot_part(void *ctx, int part, int parts) {
    const sdot_task *t = ctx;
    int b, e;
    part_range(t->rows, 4, part, parts, &b, &e);  // b is a multiple of 4: whole row blocks
    if (b >= e) return;
    vigil_requant_rows q = rows_from(t->q, b);
    vigil_gemm_s8_k4_dotprod(t->W + (ptrdiff_t)(b / 4) * t->K4 * 16, t->U, e - b, t->cols, t->K4, &q, t->C + b * t->ldc,
                             t->ldc);
}

void vigil_par_gemm_s8_k4_dotprod(vigil_pool *pool, const int8_t *W, const int8_t *U, int rows, int cols, int K4,
                                  const vigil_requant_rows *q, int8_t *C, ptrdiff_t ldc) {
    const int parts = parts_for(pool, rows, 4, (double)rows * cols * K4 * 4);
    if (parts < 2) { vigil_gemm_s8_k4_dotprod(W, U, rows, cols, K4, q, C, ldc); return; }
    sdot_task t = {W, U, rows, cols, K4, q, C, ldc};
    vigil_pool_run(pool, sdot_part, &t, parts);
}
#endif

// --- vigil_pack_quads_u8 -----------------------------------------------------------------------------

typedef struct {
    vigil_kernel_variant v;
    const int8_t *X;
    ptrdiff_t plane;
    int channels, positions;
    uint8_t *U;
} pack_task;

static void pack_part(void *ctx, int part, int parts) {
    const pack_task *t = ctx;
    int b, e;
    part_range(t->channels, 4, part, parts, &b, &e);  // b is a multiple of 4: whole channel quads
    if (b >= e) return;
    vigil_pack_quads_u8_v(t->v, t->X + b * t->plane, t->plane, e - b, t->positions, t->U + (ptrdiff_t)(b / 4) * t->positions * 4);
}

void vigil_par_pack_quads_u8(vigil_pool *pool, const int8_t *X, ptrdiff_t plane, int channels, int positions, uint8_t *U) {
    vigil_par_pack_quads_u8_v(pool, vigil_kernel_selected(), X, plane, channels, positions, U);
}

void vigil_par_pack_quads_u8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *X, ptrdiff_t plane,
                               int channels, int positions, uint8_t *U) {
    // A copy: weigh each byte like a few multiply-adds.
    const int parts = parts_for(pool, channels, 4, 4.0 * channels * positions);
    if (parts < 2) { vigil_pack_quads_u8_v(v, X, plane, channels, positions, U); return; }
    pack_task t = {v, X, plane, channels, positions, U};
    vigil_pool_run(pool, pack_part, &t, parts);
}

// --- direct convolutions: output rows, or positions within them ----------------------------------

/// One kernel call on `positions` positions of one output row: `base` is the input of the first
/// of them, `Y` its output; the rest of the call's arguments are in `args`.
typedef void (*row_kernel)(const void *args, const void *base, int positions, int8_t *Y);

typedef struct {
    row_kernel run;
    const void *args;
    const uint8_t *base;
    ptrdiff_t row_stride, pos_stride;
    int out_h, positions, unit, byRows;
    int8_t *Y;
} rows_task;

static void rows_part(void *ctx, int part, int parts) {
    const rows_task *t = ctx;
    int b, e;
    if (t->byRows) {
        part_range(t->out_h, 1, part, parts, &b, &e);
        for (int oy = b; oy < e; oy++)
            t->run(t->args, t->base + oy * t->row_stride, t->positions, t->Y + (ptrdiff_t)oy * t->positions);
    } else {
        part_range(t->positions, t->unit, part, parts, &b, &e);
        if (b >= e) return;
        for (int oy = 0; oy < t->out_h; oy++)
            t->run(t->args, t->base + oy * t->row_stride + b * t->pos_stride, e - b, t->Y + (ptrdiff_t)oy * t->positions + b);
    }
}

/// The output rows (oy < out_h, `positions` each, rows of Y `positions` apart) of a direct
/// convolution split across the pool: by rows, or by positions in blocks of `unit` (the kernel's
/// tile width) when there are fewer rows than threads. `work`: multiply-adds in all.
static void par_rows(vigil_pool *pool, row_kernel run, const void *args, const void *base, ptrdiff_t row_stride,
                     ptrdiff_t pos_stride, int out_h, int positions, int unit, double work, int8_t *Y) {
    const int byRows = out_h >= vigil_pool_threads(pool);
    const int parts = parts_for(pool, byRows ? out_h : positions, byRows ? 1 : unit, work);
    rows_task t = {run, args, base, row_stride, pos_stride, out_h, positions, unit, byRows, Y};
    vigil_pool_run(pool, rows_part, &t, parts);
}

typedef struct {
    vigil_kernel_variant v;
    const int32_t *W;
    int rows;
    ptrdiff_t pos_stride;
    const int32_t *offsets;
    int K4;
    const vigil_requant_rows *q;
    ptrdiff_t ldc;
} u8_direct_args;

static void u8_direct_row(const void *args, const void *base, int positions, int8_t *Y) {
    const u8_direct_args *a = args;
    vigil_conv_u8s8_direct_v(a->v, a->W, a->rows, base, a->pos_stride, positions, a->offsets, a->K4, a->q, Y, a->ldc);
}

void vigil_par_conv_u8s8_direct(vigil_pool *pool, const int32_t *W, int rows, const uint8_t *base, ptrdiff_t row_stride,
                                int out_h, ptrdiff_t pos_stride, int positions, const int32_t *offsets, int K4,
                                const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    vigil_par_conv_u8s8_direct_v(pool, vigil_kernel_selected(), W, rows, base, row_stride, out_h, pos_stride, positions,
                                 offsets, K4, q, Y, ldc);
}

void vigil_par_conv_u8s8_direct_v(vigil_pool *pool, vigil_kernel_variant v, const int32_t *W, int rows,
                                  const uint8_t *base, ptrdiff_t row_stride, int out_h, ptrdiff_t pos_stride,
                                  int positions, const int32_t *offsets, int K4, const vigil_requant_rows *q,
                                  int8_t *Y, ptrdiff_t ldc) {
    const u8_direct_args a = {v, W, rows, pos_stride, offsets, K4, q, ldc};
    par_rows(pool, u8_direct_row, &a, base, row_stride, pos_stride, out_h, positions, 16,
             (double)rows * out_h * positions * K4 * 4, Y);
}

#if defined(__aarch64__)
typedef struct {
    const int8_t *W;
    int rows;
    ptrdiff_t pos_stride;
    const int32_t *offsets;
    int K;
    int C8;  // nhwc only
    const vigil_requant_rows *q;
    ptrdiff_t ldc;
} s8_direct_args;

static void sdot_direct_row(const void *args, const void *base, int positions, int8_t *Y) {
    const s8_direct_args *a = args;
    vigil_conv_s8_direct_dotprod(a->W, a->rows, base, a->pos_stride, positions, a->offsets, a->K, a->q, Y, a->ldc);
}

void vigil_par_conv_s8_direct_dotprod(vigil_pool *pool, const int8_t *W, int rows, const int8_t *base,
                                      ptrdiff_t row_stride, int out_h, ptrdiff_t pos_stride, int positions,
                                      const int32_t *offsets, int K4, const vigil_requant_rows *q, int8_t *Y,
                                      ptrdiff_t ldc) {
    const s8_direct_args a = {W, rows, pos_stride, offsets, K4, 0, q, ldc};
    par_rows(pool, sdot_direct_row, &a, base, row_stride, pos_stride, out_h, positions, 8,
             (double)rows * out_h * positions * K4 * 4, Y);
}

static void neon_direct_row(const void *args, const void *base, int positions, int8_t *Y) {
    const s8_direct_args *a = args;
    vigil_conv_s8_direct_neon((const int16_t *)(const void *)a->W, a->rows, base, (int)a->pos_stride, positions,
                              a->offsets, a->K, a->q, Y, a->ldc);
}

void vigil_par_conv_s8_direct_neon(vigil_pool *pool, const int16_t *W, int rows, const int8_t *base,
                                   ptrdiff_t row_stride, int out_h, int s, int positions, const int32_t *offsets, int K,
                                   const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    const s8_direct_args a = {(const int8_t *)(const void *)W, rows, s, offsets, K, 0, q, ldc};
    par_rows(pool, neon_direct_row, &a, base, row_stride, s, out_h, positions, 16, (double)rows * out_h * positions * K, Y);
}

static void nhwc_row(const void *args, const void *base, int positions, int8_t *Y) {
    const s8_direct_args *a = args;
    vigil_conv_s8_nhwc_neon(a->W, a->rows, base, a->pos_stride, positions, a->offsets, a->K, a->C8, a->q, Y, a->ldc);
}

void vigil_par_conv_s8_nhwc_neon(vigil_pool *pool, const int8_t *W, int rows, const int8_t *base, ptrdiff_t row_stride,
                                 int out_h, ptrdiff_t ps, int positions, const int32_t *taps, int T, int C8,
                                 const vigil_requant_rows *q, int8_t *Y, ptrdiff_t ldc) {
    const s8_direct_args a = {W, rows, ps, taps, T, C8, q, ldc};
    par_rows(pool, nhwc_row, &a, base, row_stride, ps, out_h, positions, 4, (double)rows * out_h * positions * T * C8, Y);
}
#endif

// --- vigil_depthwise_s8 ------------------------------------------------------------------------------

typedef struct {
    vigil_kernel_variant v;
    const void *prepared;
    const int8_t *X, *W;
    const vigil_depthwise_geometry *g;
    const vigil_requant_rows *q;
    uint8_t *scratch;
    size_t stride;
    int8_t *Y;
    int byChannels;
} depthwise_task;

static void depthwise_part(void *ctx, int part, int parts) {
    const depthwise_task *t = ctx;
    vigil_depthwise_geometry g = *t->g;
    const ptrdiff_t taps = (ptrdiff_t)g.k_h * g.k_w, in = (ptrdiff_t)g.in_h * g.in_w, out = (ptrdiff_t)g.out_h * g.out_w;
    void *scratch = t->scratch ? t->scratch + (size_t)part * t->stride : NULL;
    int b, e;
    if (t->byChannels) {
        part_range(g.channels, 1, part, parts, &b, &e);
        if (b >= e) return;
        g.channels = e - b;
        const int oc = b * t->g->multiplier;
        vigil_requant_rows q = rows_from(t->q, oc);
        vigil_depthwise_s8_v(t->v, t->X + b * in, t->W + oc * taps, &g, &q, t->prepared, scratch, t->Y + oc * out);
    } else {  // one input channel: its filters
        part_range(g.multiplier, 1, part, parts, &b, &e);
        if (b >= e) return;
        g.multiplier = e - b;
        vigil_requant_rows q = rows_from(t->q, b);
        vigil_depthwise_s8_v(t->v, t->X, t->W + b * taps, &g, &q, t->prepared, scratch, t->Y + b * out);
    }
}

void vigil_par_depthwise_s8(vigil_pool *pool, const int8_t *X, const int8_t *W, const vigil_depthwise_geometry *g,
                            const vigil_requant_rows *q, void *scratch, size_t scratch_stride, int8_t *Y) {
    vigil_par_depthwise_s8_v(pool, vigil_kernel_selected(), X, W, g, q, NULL, scratch, scratch_stride, Y);
}

void vigil_par_depthwise_s8_v(vigil_pool *pool, vigil_kernel_variant v, const int8_t *X, const int8_t *W,
                              const vigil_depthwise_geometry *g, const vigil_requant_rows *q, const void *prepared,
                              void *scratch, size_t scratch_stride, int8_t *Y) {
    const double work = (double)g->channels * g->multiplier * g->out_h * g->out_w * g->k_h * g->k_w;
    const int byChannels = g->channels > 1;
    const int parts = parts_for(pool, byChannels ? g->channels : g->multiplier, 1, work);
    if (parts < 2) { vigil_depthwise_s8_v(v, X, W, g, q, prepared, scratch, Y); return; }
    depthwise_task t = {v, prepared, X, W, g, q, scratch, scratch_stride, Y, byChannels};
    vigil_pool_run(pool, depthwise_part, &t, parts);
}
