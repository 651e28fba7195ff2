/* The board side of FootprintProbe.swift for a size measurement: what Embedded Swift's runtime
 * needs from newlib-nano on a Cortex-M4, and calls that keep every probe function alive. Not run. */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

long probe_encode_waveform(uint8_t *, long, const int32_t *, long, uint64_t);
long probe_encode_status(uint8_t *, long, uint16_t, uint64_t);
long probe_encode_hello(uint8_t *, long);
#ifdef SENSORLINK_PROBE_DECODER
long probe_decode(const uint8_t *, long);
#endif

int posix_memalign(void **p, size_t alignment, size_t size) {
    *p = memalign(alignment, size);
    return *p ? 0 : ENOMEM;
}
uintptr_t __stack_chk_guard = 0x595e9fbd;
void __stack_chk_fail(void) { for (;;) {} }
void _exit(int code) { (void)code; for (;;) {} }
void *_sbrk(ptrdiff_t incr) {
    extern char end;
    static char *heap = &end;
    char *prev = heap;
    heap += incr;
    return prev;
}
int getentropy(void *buf, size_t len) { (void)buf; (void)len; errno = ENOSYS; return -1; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = ENOSYS; return -1; }
int _getpid(void) { return 1; }

static uint8_t uart[300];
static int32_t samples[50];

int main(void) {
    long n = probe_encode_hello(uart, sizeof uart);
    n += probe_encode_status(uart, sizeof uart, 0x12, 1000);
    n += probe_encode_waveform(uart, sizeof uart, samples, 50, 2000);
#ifdef SENSORLINK_PROBE_DECODER
    n += probe_decode(uart, n);
#endif
    return (int)n;
}
