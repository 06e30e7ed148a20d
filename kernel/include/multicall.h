/*
 * multicall.h — batching hypercalls (interface manual: "Multicalls",
 * HYPERVISOR_multicall). One trap into Xen runs every entry in order; the
 * hypercall's own return only says the batch was read, so each entry's
 * `result` must be checked on its own. Implemented in
 * kernel/xen/multicall.c. Used by the context switch (kernel/sched.c).
 *
 *   struct multicall mc;
 *   multicall_init(&mc);
 *   struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_stack_switch);
 *   e->args[0] = FLAT_KERNEL_SS; e->args[1] = stack_top;
 *   if (multicall_run(&mc, "context switch", NULL)) ...
 */
#ifndef XENOLITH_MULTICALL_H
#define XENOLITH_MULTICALL_H

#include "kernel.h"

#define MULTICALL_MAX 8 /* longest batch any caller builds */

struct multicall {
    struct multicall_entry entry[MULTICALL_MAX];
    unsigned count;
};

static inline void multicall_init(struct multicall *mc)
{
    mc->count = 0;
}

/* Append one call; the caller fills entry->args[] (32-bit words; a 64-bit
 * argument takes two, low word first). Panics when the batch is full. */
struct multicall_entry *multicall_add(struct multicall *mc, unsigned long op);

/* Issue the batch. Returns 0 when the multicall and every entry succeeded;
 * otherwise the first error (negative, Xen's errno) and, if bad_index is not
 * NULL, the index of the first failing entry (MULTICALL_MAX when the
 * multicall itself failed). Every failing entry is printed with `what`, its
 * index, the hypercall's name and Xen's error. The batch is emptied. */
long multicall_run(struct multicall *mc, const char *what, unsigned *bad_index);

#endif
