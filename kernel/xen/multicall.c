/*
 * multicall.c — interface manual "Multicalls": HYPERVISOR_multicall with a
 * result check per entry.
 *
 * Xen runs the entries one after another and stores each return value in
 * entry->result; the multicall hypercall itself returns 0 as soon as it
 * could read the array, even when entries failed. So a caller that only
 * checks the hypercall's return misses failures: multicall_run() walks every
 * entry and reports each negative result with the entry's index and name.
 */
#include "kernel.h"
#include "multicall.h"

struct multicall_entry *multicall_add(struct multicall *mc, unsigned long op)
{
    if (mc->count >= MULTICALL_MAX)
        panic("multicall: batch full (%u entries) adding %s", mc->count,
              xen_hypercall_name((unsigned)op));
    struct multicall_entry *e = &mc->entry[mc->count++];
    memset(e, 0, sizeof(*e));
    e->op = op;
    return e;
}

long multicall_run(struct multicall *mc, const char *what, unsigned *bad_index)
{
    unsigned n = mc->count;
    long first_err = 0;

    mc->count = 0;
    if (bad_index)
        *bad_index = MULTICALL_MAX;
    if (n == 0)
        return 0;

    long rc = HYPERVISOR_multicall(mc->entry, n);
    if (rc < 0) {
        printk("%s: HYPERVISOR_multicall of %u entries failed: %ld\n", what, n, rc);
        return rc;
    }
    for (unsigned i = 0; i < n; i++) {
        /* Results are xen_ulong_t; Xen's errors are small negative numbers. */
        long res = (long)mc->entry[i].result;
        if (res >= 0)
            continue;
        printk("%s: multicall entry %u (%s) failed: %ld\n", what, i,
               xen_hypercall_name((unsigned)mc->entry[i].op), res);
        if (first_err == 0) {
            first_err = res;
            if (bad_index)
                *bad_index = i;
        }
    }
    return first_err;
}
