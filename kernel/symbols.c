/*
 * symbols.c — addresses to function names, for backtraces and fatal dumps.
 * The table (.ksyms: ksyms_count, ksyms_addr[], ksyms_name[], sorted by
 * address) is generated from `nm` by the second link pass (mk/kernel.mk,
 * kernel/arch/x86_32/ksyms.awk).
 */
#include "kernel.h"

extern const unsigned long ksyms_count;
extern const unsigned long ksyms_addr[];
extern const char *const ksyms_name[];

const char *symbol_lookup(unsigned long addr, unsigned long *offset)
{
    unsigned long lo = 0, hi = ksyms_count;

    if (addr < (unsigned long)_stext || addr >= (unsigned long)_etext || !hi)
        return NULL;
    /* The last symbol whose address is <= addr. */
    while (hi - lo > 1) {
        unsigned long mid = lo + (hi - lo) / 2;
        if (ksyms_addr[mid] <= addr)
            lo = mid;
        else
            hi = mid;
    }
    if (ksyms_addr[lo] > addr)
        return NULL;
    /* Several names at one address: the first is the one nm sorted first. */
    while (lo > 0 && ksyms_addr[lo - 1] == ksyms_addr[lo])
        lo--;
    if (offset)
        *offset = addr - ksyms_addr[lo];
    return ksyms_name[lo];
}
