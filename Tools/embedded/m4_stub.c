/* Minimal Cortex-M4F environment to prove the Embedded Swift core links for armv7em with newlib-nano:
 * what Embedded Swift's runtime needs and the board would provide. Not run. */
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>
#include <errno.h>

int32_t vigil_embedded_run(const uint8_t *, size_t, const float *, size_t, float *, size_t, size_t *, char *, size_t);

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

extern const uint8_t model_blob[];
const uint8_t model_blob[64] = {0};
static float in[720], out[8];

int main(void) {
    size_t produced;
    char err[64];
    return (int)vigil_embedded_run(model_blob, sizeof model_blob, in, 720, out, 8, &produced, err, sizeof err);
}

/* newlib-nano hooks a bare-metal board provides; unused by the core. */
int getentropy(void *buf, size_t len) { (void)buf; (void)len; errno = ENOSYS; return -1; }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = ENOSYS; return -1; }
int _getpid(void) { return 1; }
