/* Cortex-M4F start-up for the STM32F411CEU6 sensor bridge: the vector table, Reset_Handler (FPU
 * on, .data copied, .bss zeroed, init_array run, then the Swift entry point) and the few C-library
 * hooks that Embedded Swift and newlib-nano need on bare metal. Built by build.sh; not run here. */
#include <errno.h>
#include <malloc.h>
#include <stddef.h>
#include <stdint.h>

extern uint32_t _sidata, _sdata, _edata, _sbss, _ebss, _estack;
extern char _heap_start, _heap_end;
extern void (*__init_array_start[])(void);
extern void (*__init_array_end[])(void);

void sensor_bridge_main(void) __attribute__((noreturn));
void Reset_Handler(void) __attribute__((noreturn));

void Default_Handler(void) { for (;;) {} }

void Reset_Handler(void) {
    /* CP10/CP11 full access (SCB->CPACR, ARMv7-M ARM B3.2.20) before any floating-point code. */
    volatile uint32_t *cpacr = (volatile uint32_t *)0xE000ED88u;
    *cpacr |= 0xFu << 20;
    __asm volatile("dsb\n\tisb" ::: "memory");
    for (uint32_t *s = &_sidata, *d = &_sdata; d < &_edata;) *d++ = *s++;
    for (uint32_t *d = &_sbss; d < &_ebss;) *d++ = 0;
    for (void (**f)(void) = __init_array_start; f < __init_array_end; f++) (*f)();
    sensor_bridge_main();
}

/* 16 system exceptions + 86 STM32F411 interrupts (RM0383 table 37). Nothing enables an interrupt
 * yet; every entry exists so a stray one lands in Default_Handler instead of in code. */
__attribute__((section(".isr_vector"), used))
void (*const vector_table[16 + 86])(void) = {
    (void (*)(void))&_estack, Reset_Handler,
    Default_Handler, /* NMI */ Default_Handler, /* HardFault */ Default_Handler, /* MemManage */
    Default_Handler, /* BusFault */ Default_Handler, /* UsageFault */ 0, 0, 0, 0,
    Default_Handler, /* SVCall */ Default_Handler, /* DebugMonitor */ 0,
    Default_Handler, /* PendSV */ Default_Handler, /* SysTick */
    [16 ... 16 + 86 - 1] = Default_Handler,
};

/* Embedded Swift allocates through posix_memalign; newlib-nano has memalign. */
int posix_memalign(void **p, size_t alignment, size_t size) {
    *p = memalign(alignment, size);
    return *p ? 0 : ENOMEM;
}

/* The heap is the linker script's .heap region, so its size counts in the RAM budget; malloc
 * fails (and Swift traps) rather than growing into the stack. */
void *_sbrk(ptrdiff_t incr) {
    static char *brk = &_heap_start;
    if (incr < 0 || brk + incr > &_heap_end) { errno = ENOMEM; return (void *)-1; }
    char *prev = brk;
    brk += incr;
    return prev;
}

uintptr_t __stack_chk_guard = 0x595e9fbd;
void __stack_chk_fail(void) { for (;;) {} }
void _exit(int code) { (void)code; for (;;) {} }
int _kill(int pid, int sig) { (void)pid; (void)sig; errno = ENOSYS; return -1; }
int _getpid(void) { return 1; }
int getentropy(void *buf, size_t len) { (void)buf; (void)len; errno = ENOSYS; return -1; }
/* Embedded Swift's fatal-error path prints through putchar; there is no console, drop it. */
int putchar(int c) { return c; }
