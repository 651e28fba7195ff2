/* driver MODEL.vigil INPUT.f32 OUTPUT.f32 — runs the Embedded Swift build of the Vigil int8 core
 * (vigil_embedded_run) on raw little-endian float32 samples and writes the raw float32 outputs.
 * Built with aarch64-linux-gnu-gcc and run under qemu-aarch64 by run-qemu.sh and build-a64-kernels.sh.
 *
 * driver --bench WARMUP RUNS MODEL.vigil [INPUT.f32] — the timed loop of `vigil bench --threads 1`:
 * WARMUP untimed calls, then RUNS calls each bracketed by clock_gettime, a call being "store the
 * input, invoke". The input is the first sample of INPUT.f32, else vigil bench's pseudo-random one.
 * No other clock reads happen after loading, so Tools/bench/qemu's insncount plugin (clock=1) sees
 * the calls as every other count between the last 2*RUNS clock reads.
 *
 * driver --ops WARMUP RUNS MODEL.vigil [INPUT.f32] — per-operator counts: WARMUP untimed calls, then
 * RUNS times a call bracketed by clock_gettime as in --bench, followed by a call through
 * vigil_embedded_invoke_ops, which reads clock_gettime before the first operator and after each one.
 * So per run the clock reads are A, B, P0..Pn (n operators): under insncount clock=1 the deltas are
 * whole call, gap (store the input, enter), n operator counts, loop overhead (before the next A).
 * Prints JSON with the operators (vigil_embedded_describe_ops) and the last run's ns per operator. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

int32_t vigil_embedded_run(const uint8_t *model, size_t model_len, const float *input, size_t input_floats,
                           float *output, size_t output_cap_floats, size_t *output_floats, char *err, size_t errcap);

/* Weak: an entry without them (run-qemu.sh --toy) still links; --bench then refuses to run. */
__attribute__((weak)) void *vigil_embedded_open(const uint8_t *model, size_t model_len, size_t *input_floats,
                                                char *err, size_t errcap);
__attribute__((weak)) float *vigil_embedded_input(void *handle);
__attribute__((weak)) void vigil_embedded_invoke(void *handle);
__attribute__((weak)) void vigil_embedded_kernels(void *handle, char *out, size_t cap);
__attribute__((weak)) void vigil_embedded_close(void *handle);
__attribute__((weak)) size_t vigil_embedded_op_count(void *handle);
__attribute__((weak)) int32_t vigil_embedded_invoke_ops(void *handle, uint64_t *per_op, size_t count,
                                                        uint64_t (*clock)(void));
__attribute__((weak)) size_t vigil_embedded_describe_ops(void *handle, char *out, size_t cap);
#ifdef VIGIL_KERNELS   /* linked with CVigilKernels (build-a64-kernels.sh) */
#include "vigil_kernels.h"
#endif

static void *slurp(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) { perror(path); exit(2); }
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    void *p = NULL;
    /* 64-byte alignment, as from mmap: the runtime uses weights in place. */
    if (posix_memalign(&p, 64, n > 0 ? (size_t)n : 64) != 0) { fprintf(stderr, "out of memory\n"); exit(2); }
    if (n > 0 && fread(p, 1, (size_t)n, f) != (size_t)n) { perror(path); exit(2); }
    fclose(f);
    *len = (size_t)n;
    return p;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/// What --bench and --ops share: WARMUP RUNS MODEL.vigil [INPUT.f32] parsed, the model opened,
/// and the input every call stores (INPUT.f32, else vigil bench's own float32 input).
typedef struct {
    int warmup, runs;
    void *h;
    size_t n;
    float *saved;
} session;

/// 0 with *s filled, or the exit code after a message.
static int open_session(const char *mode, int argc, char **argv, session *s) {
    if (argc < 5 || argc > 6) {
        fprintf(stderr, "usage: %s %s WARMUP RUNS MODEL.vigil [INPUT.f32]\n", argv[0], mode);
        return 64;
    }
    s->warmup = atoi(argv[2]);
    s->runs = atoi(argv[3]);
    if (s->warmup < 0 || s->runs < 1) { fprintf(stderr, "%s: WARMUP >= 0 and RUNS >= 1\n", mode); return 64; }
    size_t model_len;
    uint8_t *model = slurp(argv[4], &model_len);
    char err[512];
    s->n = 0;
    s->h = vigil_embedded_open(model, model_len, &s->n, err, sizeof err);
    if (!s->h) { fprintf(stderr, "vigil_embedded_open: %s\n", err); return 1; }
    s->saved = malloc((s->n ? s->n : 1) * sizeof(float));
    if (argc == 6) {
        size_t len;
        float *in = slurp(argv[5], &len);
        if (len < s->n * sizeof(float)) { fprintf(stderr, "%s: fewer than %zu floats\n", argv[5], s->n); return 2; }
        memcpy(s->saved, in, s->n * sizeof(float));
    } else {
        uint64_t state = 0x5EED;   /* BenchCommand.swift's input, float32 case */
        for (size_t k = 0; k < s->n; k++) {
            state = state * 6364136223846793005ull + 1442695040888963407ull;
            s->saved[k] = (float)((int64_t)(state >> 11) % 2001 - 1000) / 1000;
        }
    }
    return 0;
}

/// The kernel variant the C kernels selected ("reference" in a build without them).
static const char *kernel_name(void) {
#ifdef VIGIL_KERNELS
    return vigil_kernel_name(vigil_kernel_selected());
#else
    return "reference";
#endif
}

static int bench(int argc, char **argv) {
    if (!vigil_embedded_open || !vigil_embedded_input || !vigil_embedded_invoke || !vigil_embedded_kernels ||
        !vigil_embedded_close) {
        fprintf(stderr, "--bench: this entry has no vigil_embedded_open/input/invoke/kernels/close\n");
        return 64;
    }
    session s;
    const int rc = open_session("--bench", argc, argv, &s);
    if (rc) return rc;
    const int warmup = s.warmup, runs = s.runs;
    const size_t n = s.n;
    void *h = s.h;
    const float *saved = s.saved;
    float *input = vigil_embedded_input(h);
    for (int i = 0; i < warmup; i++) { memcpy(input, saved, n * sizeof(float)); vigil_embedded_invoke(h); }
    double *us = malloc((size_t)runs * sizeof(double));
    for (int i = 0; i < runs; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        memcpy(input, saved, n * sizeof(float));
        vigil_embedded_invoke(h);
        clock_gettime(CLOCK_MONOTONIC, &b);
        us[i] = (double)(b.tv_sec - a.tv_sec) * 1e6 + (double)(b.tv_nsec - a.tv_nsec) / 1e3;
    }
    qsort(us, (size_t)runs, sizeof *us, by_value);
    char paths[512];
    vigil_embedded_kernels(h, paths, sizeof paths);
    const char *kernel = kernel_name();
    printf("{\"model\": \"%s\", \"runs\": %d, \"warmup\": %d, \"median_us\": %.1f, \"kernel\": \"%s\", "
           "\"kernels\": \"%s\"}\n", argv[4], runs, warmup, us[(runs - 1) / 2], kernel, paths);
    vigil_embedded_close(h);
    return 0;
}

static uint64_t clock_ns(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (uint64_t)t.tv_sec * 1000000000u + (uint64_t)t.tv_nsec;
}

static int ops(int argc, char **argv) {
    if (!vigil_embedded_open || !vigil_embedded_input || !vigil_embedded_invoke || !vigil_embedded_kernels ||
        !vigil_embedded_close || !vigil_embedded_op_count || !vigil_embedded_invoke_ops || !vigil_embedded_describe_ops) {
        fprintf(stderr, "--ops: this entry has no vigil_embedded_open/input/invoke/invoke_ops/op_count/describe_ops\n");
        return 64;
    }
    session s;
    const int rc = open_session("--ops", argc, argv, &s);
    if (rc) return rc;
    const int warmup = s.warmup, runs = s.runs;
    const size_t n = s.n;
    void *h = s.h;
    const float *saved = s.saved;
    char err[1];
    size_t nops = vigil_embedded_op_count(h);
    uint64_t *per_op = calloc(nops ? nops : 1, sizeof(uint64_t));
    float *input = vigil_embedded_input(h);
    for (int i = 0; i < warmup; i++) { memcpy(input, saved, n * sizeof(float)); vigil_embedded_invoke(h); }
    for (int i = 0; i < runs; i++) {
        struct timespec a, b;
        clock_gettime(CLOCK_MONOTONIC, &a);
        memcpy(input, saved, n * sizeof(float));
        vigil_embedded_invoke(h);
        clock_gettime(CLOCK_MONOTONIC, &b);
        memset(per_op, 0, (nops ? nops : 1) * sizeof(uint64_t));
        memcpy(input, saved, n * sizeof(float));
        if (vigil_embedded_invoke_ops(h, per_op, nops, clock_ns) != 0) { fprintf(stderr, "invoke_ops refused\n"); return 1; }
    }
    /* No clock reads from here on. */
    size_t need = vigil_embedded_describe_ops(h, err, 1) + 1;
    char *desc = malloc(need);
    vigil_embedded_describe_ops(h, desc, need);
    char paths[512];
    vigil_embedded_kernels(h, paths, sizeof paths);
    const char *kernel = kernel_name();
    printf("{\"model\": \"%s\", \"runs\": %d, \"warmup\": %d, \"kernel\": \"%s\", \"kernels\": \"%s\", "
           "\"op_count\": %zu, \"ns\": [", argv[4], runs, warmup, kernel, paths, nops);
    for (size_t k = 0; k < nops; k++) printf("%s%llu", k ? ", " : "", (unsigned long long)per_op[k]);
    printf("],\n \"ops\": %s}\n", desc);
    vigil_embedded_close(h);
    return 0;
}

int main(int argc, char **argv) {
    if (argc > 1 && strcmp(argv[1], "--bench") == 0) return bench(argc, argv);
    if (argc > 1 && strcmp(argv[1], "--ops") == 0) return ops(argc, argv);
    if (argc != 4) { fprintf(stderr, "usage: %s MODEL.vigil INPUT.f32 OUTPUT.f32 | --bench WARMUP RUNS MODEL.vigil [INPUT.f32] | --ops WARMUP RUNS MODEL.vigil [INPUT.f32]\n", argv[0]); return 64; }
    size_t model_len, input_len;
    uint8_t *model = slurp(argv[1], &model_len);
    float *input = slurp(argv[2], &input_len);
    size_t cap = 1 << 24, produced = 0;
    float *output = malloc(cap * sizeof(float));
    char err[512];
    if (vigil_embedded_run(model, model_len, input, input_len / 4, output, cap, &produced, err, sizeof err) != 0) {
        fprintf(stderr, "vigil_embedded_run: %s\n", err);
        return 1;
    }
    FILE *out = fopen(argv[3], "wb");
    if (!out || fwrite(output, sizeof(float), produced, out) != produced) { perror(argv[3]); return 2; }
    fclose(out);
#ifdef VIGIL_KERNELS
    printf("%zu output floats (C kernels: %s)\n", produced, vigil_kernel_name(vigil_kernel_selected()));
#else
    printf("%zu output floats\n", produced);
#endif
    return 0;
}
