/*
 * memory.c — memory reservations (interface manual: "Memory reservations";
 * Xen 4.17 public/memory.h XENMEM_current_reservation,
 * XENMEM_maximum_reservation) and the `mem` shell command.
 *
 * Xen counts the pages a domain holds (its current reservation, what
 * `xl list` shows) against a ceiling the toolstack set (the maximum
 * reservation). The guest asks for both with memory_op; balloon.c moves the
 * current one.
 */
#include "mm.h"
#include "shell.h"

static long reservation(unsigned cmd, const char *name)
{
    /* The argument is a struct xen_memory_domain, whose only member is the
     * domid_t of the domain asked about. */
    domid_t dom = DOMID_SELF;
    long rc = HYPERVISOR_memory_op(cmd, &dom);

    if (rc < 0)
        printk("memory_op %s: error %s\n", name, xen_errname(rc));
    return rc;
}

long mm_current_reservation(void)
{
    return reservation(XENMEM_current_reservation, "XENMEM_current_reservation");
}

static long mm_maximum_reservation(void)
{
    return reservation(XENMEM_maximum_reservation, "XENMEM_maximum_reservation");
}

static unsigned long mib(unsigned long pages)
{
    return pages / PAGES_PER_MIB;
}

static int cmd_mem(int argc, char **argv)
{
    unsigned long nr = p2m_size(), direct = mm_direct_pfns();
    long cur = mm_current_reservation(), max = mm_maximum_reservation();
    struct heap_stats h;

    heap_get_stats(&h);
    printk("mem: pseudo-physical %lu pages (%lu MiB); direct map %lu pages (%lu MiB) at %#lx-%#lx\n",
           nr, mib(nr), direct, mib(direct), KERNEL_VIRT_BASE,
           (unsigned long)pfn_to_virt(direct));
    printk("mem: reserved at boot %lu pages (Xen's bootstrap region %lu, new page tables and "
           "metadata %lu)\n",
           mm_boot_used_pfns(), mm_boot_end_pfn(), mm_boot_used_pfns() - mm_boot_end_pfn());
    printk("mem: page allocator %lu pages, free %lu pages (%lu MiB)\n", page_managed_count(),
           page_free_count(), mib(page_free_count()));
    printk("mem: heap %lu bytes in %lu blocks, %lu pages\n", h.bytes_in_use, h.blocks_in_use,
           h.pages);
    printk("mem: ballooned out %lu pages\n", balloon_out_pages());
    if (cur < 0 || max < 0)
        return 1;
    printk("mem: reservation current %ld pages (%lu MiB), maximum %ld pages (%lu MiB)\n", cur,
           mib((unsigned long)cur), max, mib((unsigned long)max));
    unsigned long target = balloon_toolstack_target(), floor = balloon_floor_pages();
    unsigned long not_ours = balloon_not_ours_pages();
    if (target && not_ours)
        printk("mem: toolstack target %lu pages (%lu MiB) for the domain, of which %lu pages "
               "(%lu MiB) are the PV shim's; floor %lu pages (%lu MiB)\n", target, mib(target),
               not_ours, mib(not_ours), floor, mib(floor));
    else if (target)
        printk("mem: toolstack target %lu pages (%lu MiB), floor %lu pages (%lu MiB)\n", target,
               mib(target), floor, mib(floor));
    else
        printk("mem: toolstack target none, floor %lu pages (%lu MiB)\n", floor, mib(floor));
    return 0;
}
SHELL_COMMAND(mem, "mem", "mem", "memory: pages, free, heap, reservation, direct map", cmd_mem);
