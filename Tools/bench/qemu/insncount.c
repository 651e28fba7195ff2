/*
 * insncount: a QEMU user-mode TCG plugin that counts executed guest instructions between markers.
 *
 * A benchmark marks each measured region with two syscalls that cannot do anything else:
 * close(-0x5649) before and close(-0x564A) after (a negative fd: the kernel answers EBADF).
 * The plugin counts every executed instruction into one 64-bit counter with an inline add per
 * translation block (tb_n_insns at translation time: no helper call per block, so the guest runs
 * at near plain-TCG speed) and, on the markers, snapshots that counter. It prints, at exit, the
 * whole-process count, the number of marked intervals and each interval's count (min, median, max
 * and the list), as one JSON object to stderr or to the file named by the argument out=PATH:
 *
 *   qemu-x86_64 -cpu Haswell -plugin .build-qemu/libinsncount.so,out=/tmp/n.json PROGRAM...
 *
 * With the argument clock=1 it also snapshots the counter at every clock_gettime syscall and
 * prints the counts between consecutive ones of each thread ("clock_deltas": {"vCPU": [...]},
 * a guest thread is a vCPU in user mode): a benchmark that reads the clock before and after each
 * timed call is then measured with no markers in its source. This works
 * because QEMU 7.2 linux-user gives the guest no vDSO, so each clock read is a real syscall
 * (QEMU 8.1 and later map a vDSO for x86_64 and aarch64 guests: there, use the markers).
 *
 * With blocks=PATH it also writes, at exit, every translation block that ran: its address, its
 * instructions and how often it ran (one counter per block, whole process), the raw material of a
 * profile by symbol or by loop (subtract the load base of a static-pie guest, then `nm -n`).
 *
 * Single-threaded guests only: the counter is one plain uint64 for all vCPUs (in user mode every
 * guest thread is a vCPU), so with several threads running the count is inexact and the markers
 * of one thread see the others' instructions. (An idle thread adds only its wake-ups: `vigil bench
 * --threads 1` has three besides the main one, ~1k instructions per emulated second between them.) Counts are per block entry: a block left early (a
 * fault the program handles) is still counted whole; the inference code measured here never is.
 *
 * QEMU ships no qemu-plugin.h with Debian's qemu-user, so the few declarations used are written
 * below for the plugin API of QEMU 7.2 (QEMU_PLUGIN_VERSION 1). They must match its ABI exactly.
 */
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- QEMU 7.2 plugin API, version 1: only what this plugin calls ---- */
#define EXPORT __attribute__((visibility("default")))
typedef uint64_t plugin_id;
typedef struct {
    const char *target_name;                /* "x86_64", "aarch64", ... */
    struct { int min, cur; } version;       /* API versions QEMU accepts */
    bool system_emulation;
    union { struct { int smp_vcpus, max_vcpus; } system; };
} plugin_info;
struct qemu_plugin_tb;                      /* opaque: a block being translated */
enum { INLINE_ADD_U64 = 0 };                /* enum qemu_plugin_op */

EXPORT int qemu_plugin_version = 1;         /* QEMU refuses plugins without this symbol */
void qemu_plugin_register_vcpu_tb_trans_cb(plugin_id, void (*)(plugin_id, struct qemu_plugin_tb *));
size_t qemu_plugin_tb_n_insns(const struct qemu_plugin_tb *);
void qemu_plugin_register_vcpu_tb_exec_inline(struct qemu_plugin_tb *, int op, void *ptr, uint64_t imm);
void qemu_plugin_register_vcpu_syscall_cb(plugin_id, void (*)(plugin_id, unsigned vcpu, int64_t num,
    uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t, uint64_t));
void qemu_plugin_register_atexit_cb(plugin_id, void (*)(plugin_id, void *), void *);
void qemu_plugin_outs(const char *);
uint64_t qemu_plugin_tb_vaddr(const struct qemu_plugin_tb *);
/* ---- end of the API declarations ---- */

#define MARK_START (-0x5649)                /* "VI" */
#define MARK_STOP (-0x564A)

static uint64_t executed;                   /* every guest instruction, always (inline add) */
static uint64_t started_at;
static bool armed;
static int64_t close_nr, clock_nr;          /* close(2), clock_gettime(2) of the guest ABI */
static bool clock_ticks;
static uint64_t *ticks, *tick_vcpus;       /* counter and thread at each clock_gettime, if clock=1 */
static size_t n_ticks, cap_ticks, n_tick_vcpus, cap_tick_vcpus;
static unsigned max_vcpu;
static uint64_t *deltas;
static size_t n_deltas, cap_deltas;
static uint64_t unmatched;                  /* stops without a start, starts without a stop */
static const char *out_path;
/* blocks=PATH: executions of every translation block, for a profile by address (see below). */
typedef struct { uint64_t vaddr, insns, count; } block;
static const char *blocks_path;
static block **blocks;
static size_t n_blocks, cap_blocks;

static void on_translate(plugin_id id, struct qemu_plugin_tb *tb) {
    (void)id;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &executed, qemu_plugin_tb_n_insns(tb));
    if (!blocks_path) return;
    /* One counter per translation (a block translated twice gets two; the report adds them up).
     * Allocated one by one so that the inline add's pointer stays valid as the list grows. */
    block *b = calloc(1, sizeof *b);
    if (!b) abort();
    b->vaddr = qemu_plugin_tb_vaddr(tb);
    b->insns = qemu_plugin_tb_n_insns(tb);
    if (n_blocks == cap_blocks) {
        cap_blocks = cap_blocks ? 2 * cap_blocks : 4096;
        blocks = realloc(blocks, cap_blocks * sizeof *blocks);
        if (!blocks) abort();
    }
    blocks[n_blocks++] = b;
    qemu_plugin_register_vcpu_tb_exec_inline(tb, INLINE_ADD_U64, &b->count, 1);
}

static void push(uint64_t **a, size_t *n, size_t *cap, uint64_t v) {
    if (*n == *cap) {
        *cap = *cap ? 2 * *cap : 256;
        *a = realloc(*a, *cap * sizeof **a);
        if (!*a) abort();
    }
    (*a)[(*n)++] = v;
}

static void on_syscall(plugin_id id, unsigned vcpu, int64_t num, uint64_t a1, uint64_t a2, uint64_t a3,
                       uint64_t a4, uint64_t a5, uint64_t a6, uint64_t a7, uint64_t a8) {
    (void)id; (void)a2; (void)a3; (void)a4; (void)a5; (void)a6; (void)a7; (void)a8;
    if (clock_ticks && num == clock_nr) {
        push(&ticks, &n_ticks, &cap_ticks, executed);
        push(&tick_vcpus, &n_tick_vcpus, &cap_tick_vcpus, vcpu);
        if (vcpu > max_vcpu) max_vcpu = vcpu;
        return;
    }
    if (num != close_nr) return;
    int32_t fd = (int32_t)a1;               /* an int in the C API: compare the low 32 bits only */
    if (fd == MARK_START) {
        if (armed) unmatched++;
        armed = true;
        started_at = executed;              /* includes the block that made this syscall */
    } else if (fd == MARK_STOP) {
        if (!armed) { unmatched++; return; }
        armed = false;
        push(&deltas, &n_deltas, &cap_deltas, executed - started_at);
    }
}

static int by_value(const void *a, const void *b) {
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return (x > y) - (x < y);
}

static void report_at_exit(plugin_id id, void *unused) {
    (void)id; (void)unused;
    uint64_t *sorted = malloc((n_deltas ? n_deltas : 1) * sizeof *sorted);
    if (!sorted) abort();
    if (n_deltas) memcpy(sorted, deltas, n_deltas * sizeof *sorted);
    qsort(sorted, n_deltas, sizeof *sorted, by_value);
    /* Median of an even count: the lower middle, so it is always one interval's real count. */
    uint64_t med = n_deltas ? sorted[(n_deltas - 1) / 2] : 0;
    size_t size = 256 + 24 * (n_deltas + n_ticks + max_vcpu);
    char *s = malloc(size);
    if (!s) abort();
    int n = snprintf(s, size, "{\"total\": %lu, \"intervals\": %zu, \"unmatched_markers\": %lu, \"min\": %lu, "
                     "\"median\": %lu, \"max\": %lu, \"deltas\": [", (unsigned long)executed, n_deltas,
                     (unsigned long)unmatched, (unsigned long)(n_deltas ? sorted[0] : 0), (unsigned long)med,
                     (unsigned long)(n_deltas ? sorted[n_deltas - 1] : 0));
    for (size_t i = 0; i < n_deltas; i++)   /* in execution order: warm-up effects stay visible */
        n += snprintf(s + n, size - n, "%s%lu", i ? ", " : "", (unsigned long)deltas[i]);
    n += snprintf(s + n, size - n, "]");
    if (clock_ticks) {
        n += snprintf(s + n, size - n, ", \"clock_deltas\": {");
        for (unsigned v = 0; n_ticks && v <= max_vcpu; v++) {   /* one list per thread that read the clock */
            size_t last = SIZE_MAX;
            for (size_t i = 0; i < n_ticks; i++) {
                if (tick_vcpus[i] != v) continue;
                if (last == SIZE_MAX) n += snprintf(s + n, size - n, "%s\"%u\": [", n > 0 && s[n - 1] == '{' ? "" : ", ", v);
                else n += snprintf(s + n, size - n, "%s%lu", s[n - 1] == '[' ? "" : ", ", (unsigned long)(ticks[i] - ticks[last]));
                last = i;
            }
            if (last != SIZE_MAX) n += snprintf(s + n, size - n, "]");
        }
        n += snprintf(s + n, size - n, "}");
    }
    snprintf(s + n, size - n, "}\n");
    FILE *f = out_path ? fopen(out_path, "w") : NULL;
    if (f) { fputs(s, f); fclose(f); }
    else qemu_plugin_outs(s);               /* stderr unless QEMU's -D log file is set */
    free(s); free(sorted);
    /* blocks=PATH: "vaddr instructions executions" per block translation that ran, hex address.
     * Whole-process counts (markers do not apply). A static-pie guest is loaded at a base the
     * plugin does not see: subtract it (qemu-aarch64 7.2 puts one at 0x5500000000) before
     * looking addresses up with nm. */
    FILE *bf = blocks_path ? fopen(blocks_path, "w") : NULL;
    for (size_t i = 0; bf && i < n_blocks; i++)
        if (blocks[i]->count)
            fprintf(bf, "%lx %lu %lu\n", (unsigned long)blocks[i]->vaddr, (unsigned long)blocks[i]->insns,
                    (unsigned long)blocks[i]->count);
    if (bf) fclose(bf);
}

EXPORT int qemu_plugin_install(plugin_id id, const plugin_info *info, int argc, char **argv) {
    for (int i = 0; i < argc; i++) {        /* argv stays valid for the plugin's lifetime */
        if (strncmp(argv[i], "out=", 4) == 0) out_path = argv[i] + 4;
        else if (strcmp(argv[i], "clock=1") == 0) clock_ticks = true;
        else if (strncmp(argv[i], "blocks=", 7) == 0) blocks_path = argv[i] + 7;
        else { fprintf(stderr, "insncount: unknown argument %s (known: out=PATH, clock=1, blocks=PATH)\n", argv[i]); return -1; }
    }
    if (strcmp(info->target_name, "x86_64") == 0) close_nr = 3, clock_nr = 228;
    else if (strcmp(info->target_name, "aarch64") == 0) close_nr = 57, clock_nr = 113;
    else { fprintf(stderr, "insncount: no close(2) number for target %s\n", info->target_name); return -1; }
    qemu_plugin_register_vcpu_tb_trans_cb(id, on_translate);
    qemu_plugin_register_vcpu_syscall_cb(id, on_syscall);
    qemu_plugin_register_atexit_cb(id, report_at_exit, NULL);
    return 0;
}
