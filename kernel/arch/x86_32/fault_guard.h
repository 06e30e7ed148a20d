/*
 * fault_guard.h — one instruction of a self-test that may fault, caught
 * (fault_guard_selftest.c). A self-test that probes what the CPU or Xen does
 * with an access (a load past a segment limit, a store into a read-only page
 * table) must survive the fault it may get: the guard's handler, installed
 * for one vector, moves eip from that one instruction to the next and
 * records what was delivered (the error code, and cr2 for a page fault).
 * A fault anywhere else goes on to the handler that was there before.
 *
 * The instruction is written in inline asm between the guard's two labels:
 *     __asm__ volatile(FAULT_GUARD_ASM("movl %[v], (%[p])")
 *                      : FAULT_GUARD_OUT(&g) : [v] "r"(v), [p] "r"(p) : "memory");
 */
#ifndef XENOLITH_FAULT_GUARD_H
#define XENOLITH_FAULT_GUARD_H

#include "traps.h"

struct fault_guard {
    volatile unsigned long fault_eip, resume_eip; /* set by FAULT_GUARD_ASM */
    volatile unsigned hits;                      /* faults caught while armed */
    uint32_t error_code;                         /* of the last one */
    unsigned long cr2;                           /* of the last one, for #PF */
    unsigned vector;
    trap_handler_t previous;
};

#define FAULT_GUARD_ASM(insn) "movl $1f, %[fault]\n\tmovl $2f, %[resume]\n1:\t" insn "\n2:"
#define FAULT_GUARD_OUT(g) [fault] "=m"((g)->fault_eip), [resume] "=m"((g)->resume_eip)

/* Catch `vector` at the guarded instruction until fault_guard_disarm. One
 * guard at a time. */
void fault_guard_arm(struct fault_guard *g, unsigned vector);
void fault_guard_disarm(struct fault_guard *g);

#endif
