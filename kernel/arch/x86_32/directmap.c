/*
 * directmap.c — start of day for memory (interface manual: "Start of day",
 * "Page-table updates"; Xen 4.17 public/xen.h "Start-of-day memory layout").
 *
 * Xen's domain builder maps only a bootstrap region at the kernel's virtual
 * base: the kernel, the p2m list, start_info (and for a domU the xenstore and
 * console ring pages), the initial page tables (read-only), a one-page stack,
 * then at least 512 KiB of padding, up to a 4 MiB boundary. pfn N is at
 * KERNEL_VIRT_BASE + N pages. This file extends that to a direct map of every
 * pseudo-physical page that fits below MM_DIRECT_MAP_END (mm.h: the grant
 * area, the stack area and the scratch window lie above), using new L1
 * tables:
 *
 *   1. the L1 page is taken from the first free pfns (they are mapped: the
 *      padding first, then pages each new L1 has just mapped), filled with
 *      entries pfn -> p2m[pfn] while it is still an ordinary writable page;
 *   2. its own direct-map entry is made read-only (Xen refuses to type a page
 *      as a page table while a writable mapping of it exists);
 *   3. it is pinned as an L1 (MMUEXT_PIN_L1_TABLE: Xen validates every entry
 *      and keeps the page typed);
 *   4. it is hooked into the L2 (an mmu_update on the L2 entry).
 * Each step is one hypercall for a whole chunk of new L1s (batched).
 *
 * The L1s of the areas above the direct map are made the same way, empty. Pages used here and
 * for the allocators' metadata come from a bump allocator (mm_boot_alloc);
 * page_alloc gets what is left.
 */
#include "mm.h"
#include "pagetable.h"

/* Both builders (Xen's dom0 builder, libxenguest for a domU) put one stack
 * page right after the initial page tables. */
#define BOOT_STACK_PAGES 1
/* New L1 tables prepared per round of hypercalls. */
#define L1_CHUNK 32

_Static_assert((KERNEL_VIRT_BASE >> PT_L3_SHIFT) == ((HYPERVISOR_VIRT_START - 1) >> PT_L3_SHIFT),
               "the direct map and the scratch window must share one L2 (L3 slot 3)");
_Static_assert(MM_SCRATCH_VA % PT_L2_SPAN == 0, "scratch window must start on an L1 boundary");
_Static_assert(MM_STACKS_VA % PT_L2_SPAN == 0, "stack area must start on an L1 boundary");
_Static_assert(MM_GRANT_VA % PT_L2_SPAN == 0, "grant area must start on an L1 boundary");

static unsigned long direct_pfns; /* pfns [0, direct_pfns) are mapped */
static unsigned long boot_end;    /* first pfn after Xen's bootstrap elements */
static unsigned long boot_next;   /* bump allocator */
static bool boot_closed;
static unsigned long new_l1_tables;

unsigned long mm_direct_pfns(void)
{
    return direct_pfns;
}

unsigned long mm_boot_end_pfn(void)
{
    return boot_end;
}

unsigned long mm_boot_used_pfns(void)
{
    return boot_next;
}

unsigned long mm_new_l1_tables(void)
{
    return new_l1_tables;
}

static bool pfn_mapped_rw(unsigned long pfn)
{
    pte_t e = pt_lookup((unsigned long)pfn_to_virt(pfn));
    return (e & (PTE_P | PTE_RW)) == (PTE_P | PTE_RW);
}

void *mm_boot_alloc(unsigned long pages)
{
    unsigned long pfn = boot_next, i;

    if (boot_closed)
        panic("mm_boot_alloc after the page allocator took over");
    for (i = 0; i < pages; i++)
        if (pfn + i >= direct_pfns || !pfn_mapped_rw(pfn + i))
            return NULL;
    boot_next += pages;
    memset(pfn_to_virt(pfn), 0, pages * PAGE_SIZE);
    return pfn_to_virt(pfn);
}

unsigned long mm_boot_finish(void)
{
    boot_closed = true;
    return boot_next;
}

static unsigned long end_pfn(unsigned long va, unsigned long len)
{
    return virt_to_pfn((void *)(va + len - 1)) + 1;
}

static unsigned long max_ul(unsigned long a, unsigned long b)
{
    return a > b ? a : b;
}

/* First pfn after everything the domain builder placed (xen.h's list). */
static unsigned long bootstrap_end(void)
{
    unsigned long end = end_pfn(start_info->pt_base, start_info->nr_pt_frames * PAGE_SIZE);

    end = max_ul(end, end_pfn((unsigned long)start_info, PAGE_SIZE));
    end = max_ul(end, end_pfn(start_info->mfn_list, start_info->nr_pages * sizeof(xen_pfn_t)));
    if (!xen_is_dom0()) {
        end = max_ul(end, mfn_to_pfn(start_info->store_mfn) + 1);
        end = max_ul(end, mfn_to_pfn(start_info->console.domU.mfn) + 1);
    }
    return end + BOOT_STACK_PAGES;
}

/* Every table reachable from the L3 must lie below boot_end (they are Xen's
 * bootstrap page tables); returns the first one that does not, or 0. */
static unsigned long stray_table(void)
{
    const pte_t *l3 = (const pte_t *)start_info->pt_base;

    for (unsigned i = 0; i < PT_L3_ENTRIES; i++) {
        unsigned long l2pfn;
        const pte_t *l2;

        if (!(l3[i] & PTE_P))
            continue;
        l2pfn = mfn_to_pfn((xen_pfn_t)pte_frame(l3[i]));
        if (l2pfn >= boot_end)
            return l2pfn;
        l2 = pfn_to_virt(l2pfn);
        for (unsigned j = 0; j < PT_ENTRIES; j++) {
            unsigned long l1pfn;
            /* Xen's own slots (above HYPERVISOR_VIRT_START) hold Xen's frames. */
            if (i == pt_l3_index(HYPERVISOR_VIRT_START) && j >= pt_l2_index(HYPERVISOR_VIRT_START))
                break;
            if (!(l2[j] & PTE_P))
                continue;
            l1pfn = mfn_to_pfn((xen_pfn_t)pte_frame(l2[j]));
            if (l1pfn >= boot_end)
                return l1pfn;
        }
    }
    return 0;
}

/* Machine address of the L2 that maps 3-4 GiB. */
static uint64_t kernel_l2_ma(void)
{
    const pte_t *l3 = (const pte_t *)start_info->pt_base;
    return pte_frame(l3[pt_l3_index(KERNEL_VIRT_BASE)]) << PTE_ADDR_SHIFT;
}

/* A chunk of new L1 tables: which L2 slot each fills, which pfn holds it. */
struct l1_chunk {
    unsigned n;
    unsigned long slot_va[L1_CHUNK];
    unsigned long pfn[L1_CHUNK];
};

/* Steps 1-4 of the file comment for a whole chunk; `limit` is the first pfn
 * not to map (entries for the areas above the direct map are left empty). */
static int commit_chunk(struct l1_chunk *c, unsigned long limit)
{
    struct mmuext_op pin[L1_CHUNK];
    unsigned done = 0;
    long rc;
    int err;

    if (c->n == 0)
        return 0;
    for (unsigned i = 0; i < c->n; i++) {
        pte_t *l1 = pfn_to_virt(c->pfn[i]);
        unsigned long first = virt_to_pfn((void *)c->slot_va[i]);

        memset(l1, 0, PAGE_SIZE);
        if (c->slot_va[i] < MM_DIRECT_MAP_END)
            for (unsigned j = 0; j < PT_ENTRIES && first + j < limit; j++)
                if (pfn_to_mfn(first + j) != P2M_INVALID)
                    l1[j] = pte_make(pfn_to_mfn(first + j), PTE_KERNEL_RW);
    }
    for (unsigned i = 0; i < c->n; i++)
        direct_map_queue_readonly(c->pfn[i]);
    if ((err = mmu_flush()))
        return err;
    for (unsigned i = 0; i < c->n; i++) {
        pin[i].cmd = MMUEXT_PIN_L1_TABLE;
        pin[i].arg1.mfn = pfn_to_mfn(c->pfn[i]);
    }
    rc = HYPERVISOR_mmuext_op(pin, c->n, &done, DOMID_SELF);
    if (rc < 0 || done != c->n) {
        printk("mmuext_op MMUEXT_PIN_L1_TABLE: error %s, %u of %u pinned (pfn %#lx)\n",
               xen_errname(rc), done, c->n, c->pfn[done < c->n ? done : 0]);
        return rc < 0 ? (int)rc : -XEN_EIO;
    }
    for (unsigned i = 0; i < c->n; i++)
        mmu_queue_update((kernel_l2_ma() + pt_l2_index(c->slot_va[i]) * PT_ENTRY_SIZE) |
                             MMU_NORMAL_PT_UPDATE,
                         pte_make(pfn_to_mfn(c->pfn[i]), PDE_KERNEL));
    if ((err = mmu_flush()))
        return err;
    new_l1_tables += c->n;
    c->n = 0;
    return 0;
}

/* Map the pfns of [first, limit) that lie in slots which already have an L1
 * (the last L1 of the bootstrap region may be partly filled). */
static int fill_existing_l1s(unsigned long first, unsigned long limit)
{
    unsigned long pfn = first;

    while (pfn < limit) {
        unsigned long va = (unsigned long)pfn_to_virt(pfn);
        unsigned long slot_end = virt_to_pfn((void *)ALIGN_DOWN(va + PT_L2_SPAN, PT_L2_SPAN));

        if (!pt_entry_ma(va)) {
            pfn = slot_end; /* no L1 here: build_l1s makes one */
            continue;
        }
        for (; pfn < slot_end && pfn < limit; pfn++)
            if (!(pt_lookup((unsigned long)pfn_to_virt(pfn)) & PTE_P) &&
                pfn_to_mfn(pfn) != P2M_INVALID)
                direct_map_queue_set(pfn, pfn_to_mfn(pfn));
    }
    return mmu_flush();
}

/* Add L1 tables for every slot of [va, va_end) that has none. */
static int build_l1s(unsigned long va, unsigned long va_end, unsigned long limit)
{
    struct l1_chunk c = {.n = 0};
    int err;

    for (; va < va_end; va += PT_L2_SPAN) {
        if (pt_entry_ma(va))
            continue;
        if (!pfn_mapped_rw(boot_next) || c.n == L1_CHUNK) {
            /* The next free page is not mapped yet: the L1s in hand map it. */
            if ((err = commit_chunk(&c, limit)))
                return err;
            if (va < MM_DIRECT_MAP_END)
                direct_pfns = max_ul(direct_pfns, virt_to_pfn((void *)va));
        }
        if (!pfn_mapped_rw(boot_next)) {
            printk("direct map: pfn %#lx is not mapped for use as an L1 table\n", boot_next);
            return -XEN_ENOMEM;
        }
        c.slot_va[c.n] = va;
        c.pfn[c.n++] = boot_next++;
    }
    return commit_chunk(&c, limit);
}

int pagetable_init(void)
{
    unsigned long nr = p2m_size();
    unsigned long room = (MM_DIRECT_MAP_END - KERNEL_VIRT_BASE) >> PAGE_SHIFT;
    unsigned long target = nr < room ? nr : room, stray;
    int err;

    /* Guaranteed mapped: the bootstrap region. */
    boot_end = boot_next = direct_pfns = bootstrap_end();
    if ((stray = stray_table())) {
        printk("mm: initial page table at pfn %#lx is past the bootstrap region\n", stray);
        return -XEN_EINVAL;
    }
    /* How far Xen's mapping goes (padding included). */
    while (direct_pfns < target && (pt_lookup((unsigned long)pfn_to_virt(direct_pfns)) & PTE_P))
        direct_pfns++;
    if (direct_pfns < boot_end)
        return -XEN_EINVAL;

    if ((err = fill_existing_l1s(direct_pfns, target)))
        return err;
    if ((err = build_l1s((unsigned long)pfn_to_virt(0), (unsigned long)pfn_to_virt(target), target)))
        return err;
    direct_pfns = target;
    if ((err = build_l1s(MM_DIRECT_MAP_END, HYPERVISOR_VIRT_START, target)))
        return err;
    /* Xen flushed what its type changes needed; flush once more so this
     * VCPU sees the read-only entries of the new tables as well. */
    return tlb_flush_local();
}
