/*
 * Startup for the Cortex-M4F of QEMU mps2-an386: the vector table, the reset handler
 * (FPU on, .data copied, .bss zeroed, main) and semihosting (console output, exit code).
 */
#include <stdint.h>

#include "semihosting.h"

extern uint32_t _sidata[], _sdata[], _edata[], _sbss[], _ebss[], _estack[];
int main(void);

#define SYS_WRITE0 0x04
#define SYS_EXIT_EXTENDED 0x20
#define ADP_STOPPED_APPLICATION_EXIT 0x20026

static uintptr_t semihost(uintptr_t op, const void *arg) {
    register uintptr_t r0 __asm__("r0") = op;
    register const void *r1 __asm__("r1") = arg;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    return r0;
}

void sh_puts(const char *s) { semihost(SYS_WRITE0, s); }

void sh_exit(int code) {
    const uintptr_t block[2] = {ADP_STOPPED_APPLICATION_EXIT, (uintptr_t)code};
    semihost(SYS_EXIT_EXTENDED, block);
    for (;;) {
    }
}

/* Copies and clears word by word through volatile pointers, so the compiler cannot turn
 * the loops into library calls before .data and .bss are set up. */
void Reset_Handler(void) {
    /* CPACR: full access to CP10/CP11 (the FPU) before any floating-point instruction. */
    *(volatile uint32_t *)0xE000ED88u |= 0xFu << 20;
    __asm__ volatile("dsb\n\tisb" ::: "memory");
    volatile uint32_t *dst = _sdata;
    const volatile uint32_t *src = _sidata;
    while (dst < _edata) *dst++ = *src++;
    for (dst = _sbss; dst < _ebss; dst++) *dst = 0;
    sh_exit(main());
}

static void fault(const char *what) {
    sh_puts(what);
    sh_exit(3);
}

void NMI_Handler(void) { fault("NMI\n"); }
void HardFault_Handler(void) { fault("HardFault\n"); }
void MemManage_Handler(void) { fault("MemManage fault\n"); }
void BusFault_Handler(void) { fault("BusFault\n"); }
void UsageFault_Handler(void) { fault("UsageFault\n"); }
void Default_Handler(void) { fault("unexpected exception\n"); }

__attribute__((section(".isr_vector"), used)) void (*const vector_table[16])(void) = {
    (void (*)(void))_estack, Reset_Handler,   NMI_Handler,        HardFault_Handler,
    MemManage_Handler,       BusFault_Handler, UsageFault_Handler, 0,
    0,                       0,                0,                  Default_Handler, /* SVCall */
    Default_Handler,         0,                Default_Handler,    Default_Handler,
};
