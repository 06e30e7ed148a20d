/*
 * mm_init.c — memory at start of day (interface manual: "Start of day",
 * "Pseudo-physical memory"): mm_init, the memory step of main.c's start of
 * day. In order: the p2m/m2p (p2m.c), the direct map over all
 * pseudo-physical memory that fits (directmap.c), then the page allocator
 * over what is left; the heap needs nothing more. Says how much it maps.
 */
#include "mm.h"

static unsigned long mib(unsigned long pages)
{
    return pages / PAGES_PER_MIB;
}

int mm_init(void)
{
    unsigned long nr, direct, first;
    uint8_t *state;
    int rc;

    if ((rc = p2m_init()))
        return rc;
    if ((rc = pagetable_init())) {
        printk("mm: building the direct map failed: %d\n", rc);
        return rc;
    }
    nr = p2m_size();
    direct = mm_direct_pfns();
    state = mm_boot_alloc(ALIGN_UP(direct, PAGE_SIZE) / PAGE_SIZE);
    if (!state) {
        printk("mm: no page left for the allocator's metadata\n");
        return -XEN_ENOMEM;
    }
    first = mm_boot_finish();
    page_alloc_init(first, direct, state);

    printk("mm: %lu pages (%lu MiB) of pseudo-physical memory; direct map %lu pages (%lu MiB) "
           "at %#lx-%#lx, %lu new L1 tables\n",
           nr, mib(nr), direct, mib(direct), KERNEL_VIRT_BASE, (unsigned long)pfn_to_virt(direct),
           mm_new_l1_tables());
    if (direct < nr)
        printk("mm: %lu pages (%lu MiB) above %lu MiB are not mapped: the direct map ends at the "
               "grant, stack and scratch areas (%#lx), below Xen (%#lx)\n",
               nr - direct, mib(nr - direct), mib(direct), MM_DIRECT_MAP_END, HYPERVISOR_VIRT_START);
    printk("mm: boot uses pfns 0-%#lx (Xen's bootstrap region ends at %#lx); %lu pages free\n",
           first - 1, mm_boot_end_pfn(), page_free_count());
    return 0;
}
