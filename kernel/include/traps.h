/*
 * traps.h — exceptions (interface manual: "Exceptions"). The trap table is
 * installed with set_trap_table by kernel/arch/x86_32/traps.c; entry stubs in
 * kernel/arch/x86_32/entry.S build a struct trap_frame and call trap_dispatch.
 * Parts that own a vector (#NM lazy FPU, #DB watchpoints) register a handler;
 * anything unhandled is fatal: "*** FATAL", the dump, SHUTDOWN_crash.
 */
#ifndef XENOLITH_TRAPS_H
#define XENOLITH_TRAPS_H

#include "kernel.h"

/* Layout pushed by entry.S, lowest address first: pushal (edi .. eax), then
 * the vector and the error code (0 when the CPU pushes none), then the frame
 * Xen's bounce built: eip, cs, eflags (bits 16-23 of cs hold the event mask
 * Xen saved; vectors that do not ask Xen to mask events leave it as it
 * was). esp_user/ss_user exist only when the trap came from ring 3
 * ((cs & 3) == 3); from ring 1 the interrupted code's stack pointer is
 * trap_frame_esp(f). A handler may change eip and general registers: they
 * are restored from the frame on return. */
struct trap_frame {
    uint32_t edi, esi, ebp, esp_unused, ebx, edx, ecx, eax;
    uint32_t vector, error_code;
    uint32_t eip, cs, eflags;
    uint32_t esp_user, ss_user; /* only if (cs & 3) == 3 */
};

/* The trap came from ring 3 (a process), not the kernel's ring 1. */
#define SEL_RPL_USER 3u
static inline bool trap_from_user(const struct trap_frame *f)
{
    return (f->cs & SEL_RPL_USER) == SEL_RPL_USER;
}

/* The interrupted code's %esp. */
static inline uint32_t trap_frame_esp(const struct trap_frame *f)
{
    return trap_from_user(f) ? f->esp_user : (uint32_t)(uintptr_t)&f->esp_user;
}

#define TRAP_DE 0
#define TRAP_DB 1
#define TRAP_NMI 2
#define TRAP_BP 3
#define TRAP_OF 4
#define TRAP_BR 5
#define TRAP_UD 6
#define TRAP_NM 7
#define TRAP_DF 8
#define TRAP_TS 10
#define TRAP_NP 11
#define TRAP_SS 12
#define TRAP_GP 13
#define TRAP_PF 14
#define TRAP_MF 16
#define TRAP_AC 17
#define TRAP_MC 18
#define TRAP_XM 19
#define TRAP_NR 20

/* Return true when the fault was dealt with and execution may resume. */
typedef bool (*trap_handler_t)(struct trap_frame *f);
/* Start of day (main.c): the trap table to Xen (set_trap_table). */
int traps_init(void);
/* Registers (or, with NULL, removes) the handler; returns the previous one. */
trap_handler_t trap_set_handler(unsigned vector, trap_handler_t h);

/* Called by entry.S. */
void trap_dispatch(struct trap_frame *f);

/* "general protection", ... ("unknown" past the table). */
const char *trap_name(unsigned vector);
/* A #PF error code (SDM Vol. 3A, 4.7), and in words: "(not present, write,
 * user mode)" is printf(PF_CAUSE_FMT, PF_CAUSE_ARGS(error_code)). */
#define PF_ERR_PRESENT (1u << 0)
#define PF_ERR_WRITE (1u << 1)
#define PF_ERR_USER (1u << 2)
#define PF_ERR_FETCH (1u << 4)
#define PF_CAUSE_FMT "(%s, %s, %s mode%s)"
#define PF_CAUSE_ARGS(err)                                                     \
    ((err) & PF_ERR_PRESENT ? "protection violation" : "not present"),        \
        ((err) & PF_ERR_WRITE ? "write" : "read"), ((err) & PF_ERR_USER ? "user" : "kernel"), \
        ((err) & PF_ERR_FETCH ? ", instruction fetch" : "")
/* cr2 of the last page fault, as Xen saved it in vcpu_info->arch.cr2. */
unsigned long trap_read_cr2(void);
void backtrace_here(void);
void backtrace_from(unsigned long eip, unsigned long ebp);

/* The table given to set_trap_table (ended by an entry whose address is 0),
 * for a secondary vCPU's first context (smp_boot.c). */
const struct trap_info *traps_table(void);

#endif
