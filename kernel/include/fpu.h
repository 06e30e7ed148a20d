/*
 * fpu.h — lazy FPU switching (interface manual: "CPU state",
 * HYPERVISOR_fpu_taskswitch). Implemented in
 * kernel/arch/x86_32/fpu.c. Used by kernel/sched.c only.
 *
 * A context switch sets CR0.TS (through Xen); the first FPU/SSE instruction a
 * thread then runs raises #NM, and only then are the registers of the
 * previous owner saved and this thread's restored.
 */
#ifndef XENOLITH_FPU_H
#define XENOLITH_FPU_H

#include "kernel.h"
#include "multicall.h"

#define FPU_AREA_SIZE 512 /* FXSAVE image (FNSAVE needs 108 of it) */
#define FPU_AREA_ALIGN 16 /* FXSAVE/FXRSTOR need a 16-byte aligned image */

struct fpu_state {
    uint8_t area[FPU_AREA_SIZE] __attribute__((aligned(FPU_AREA_ALIGN)));
    bool used; /* has state worth restoring (else start from FNINIT) */
};

void fpu_init(struct fpu_state *boot_thread); /* #NM handler, TS on */
void fpu_thread_init(struct fpu_state *s);
void fpu_thread_exit(struct fpu_state *s);    /* its registers are dropped */
/* Add this switch's fpu_taskswitch(1) to the batch; `next` becomes the
 * state the #NM handler loads. */
void fpu_switch_prepare(struct multicall *mc, struct fpu_state *next);
#if XENOLITH_SMP
/* Several vCPUs: each has its own registers, owner and current state. A
 * thread may run on another vCPU after a switch, so switching away from
 * one saves its registers if it owns this vCPU's (no lazy save across
 * vCPUs; the restore stays lazy). fpu_cpu_enter: a secondary's first
 * context, whose state is s. */
void fpu_switch_out(struct fpu_state *prev);
void fpu_cpu_enter(struct fpu_state *s);
#endif
bool fpu_is_owner(const struct fpu_state *s);
unsigned long fpu_nm_traps(void);    /* #NM taken */
unsigned long fpu_state_loads(void); /* of those, owner changes (save+restore) */

#endif
