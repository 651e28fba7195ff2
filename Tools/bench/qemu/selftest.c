/*
 * Known-count check for insncount (selftest.sh runs it). Between the markers runs a loop of
 * exactly 4 instructions per iteration, written in assembly so no compiler can change it, N times
 * for each N below. No libc: the program makes raw syscalls, so the same file cross-compiles for
 * aarch64 with clang and no arm64 libc headers.
 * Expected interval: 4*N + c with the same small c for every N (the syscall stubs and the loop
 * set-up): selftest.sh checks the slope is exactly 4 and c is constant.
 */
/* volatile and not unrolled: every N runs the same code around the loop, so c is one constant
 * (unrolled, a compiler may hoist one N's constant above the start marker and not another's) */
static const volatile long ns[] = {1, 10, 1000, 1000000, 1000000};

#if defined(__x86_64__)
#define NR_CLOSE 3
#define NR_EXIT 60
static long sys1(long nr, long a) {
    long r;
    __asm__ volatile("syscall" : "=a"(r) : "a"(nr), "D"(a) : "rcx", "r11", "memory");
    return r;
}
static void loop(long n) {   /* add, xor, dec, jnz */
    long acc = 0;
    __asm__ volatile("1: add %1, %0\n\txor $1, %0\n\tdec %1\n\tjnz 1b" : "+r"(acc), "+r"(n) : : "cc");
}
#elif defined(__aarch64__)
#define NR_CLOSE 57
#define NR_EXIT 93
static long sys1(long nr, long a) {
    register long x8 __asm__("x8") = nr;
    register long x0 __asm__("x0") = a;
    __asm__ volatile("svc 0" : "+r"(x0) : "r"(x8) : "memory");
    return x0;
}
static void loop(long n) {   /* add, eor, sub, cbnz */
    long acc = 0;
    __asm__ volatile("1: add %0, %0, %1\n\teor %0, %0, #1\n\tsub %1, %1, #1\n\tcbnz %1, 1b" : "+r"(acc), "+r"(n) : : "cc");
}
#else
#error "x86_64 or aarch64"
#endif

__attribute__((noreturn)) void _start(void) {
#pragma GCC unroll 1
    for (unsigned i = 0; i < sizeof ns / sizeof ns[0]; i++) {
        sys1(NR_CLOSE, -0x5649);
        loop(ns[i]);
        sys1(NR_CLOSE, -0x564A);
    }
    sys1(NR_EXIT, 0);
    __builtin_unreachable();
}
