/*
 * pagetable.c — page-table updates through Xen (interface manual: "Memory
 * management" / "Page-table updates"; Xen 4.17 public/xen.h, the comments on
 * HYPERVISOR_mmu_update, HYPERVISOR_mmuext_op and update_va_mapping).
 *
 * A PV guest's page tables are ordinary guest pages that Xen has typed as
 * page tables: the guest may read them but maps them read-only and never
 * writes them. Every change goes through Xen, which checks it:
 *   - mmu_update: a list of (machine address of an entry | MMU_* command,
 *     new value) pairs, applied in order. Xenolith queues them here and sends
 *     MMU_BATCH at a time (one hypercall instead of one per entry).
 *   - update_va_mapping: one L1 entry, named by the virtual address it maps,
 *     with an optional TLB flush (map_page / unmap_page).
 *   - mmuext_op: pin/unpin a table (Xen validates it once and keeps its
 *     type while pinned), TLB flush, invlpg. (MMUEXT_NEW_BASEPTR, the PV
 *     "mov to cr3", is user/addrspace.c's: only processes change the base.)
 * The walk below only reads tables, through the direct map (every table is a
 * guest page: machine frame -> m2p -> pfn -> direct-map address).
 */
#include "mm.h"
#include "pagetable.h"
#include "smp.h"

static struct mmu_update mmu_queue[MMU_BATCH];
static unsigned mmu_queue_len;
static int mmu_queue_error; /* first failure of a flush nobody asked for */

static int mmu_send(void)
{
    unsigned count = mmu_queue_len, done = 0;
    long rc;

    mmu_queue_len = 0;
    if (count == 0)
        return 0;
    rc = HYPERVISOR_mmu_update(mmu_queue, count, &done, DOMID_SELF);
    if (rc < 0 || done != count) {
        /* Xen stops at the first entry it refuses: `done` says which. */
        const struct mmu_update *bad = &mmu_queue[done < count ? done : 0];
        printk("mmu_update: error %s, %u of %u done; refused ptr %#llx val %#llx\n",
               xen_errname(rc), done, count, (unsigned long long)bad->ptr, (unsigned long long)bad->val);
        return rc < 0 ? (int)rc : -XEN_EIO;
    }
    return 0;
}

void mmu_queue_update(uint64_t ptr, uint64_t val)
{
    mmu_queue[mmu_queue_len].ptr = ptr;
    mmu_queue[mmu_queue_len].val = val;
    if (++mmu_queue_len == MMU_BATCH) {
        int rc = mmu_send();
        if (rc && !mmu_queue_error)
            mmu_queue_error = rc;
    }
}

int mmu_flush(void)
{
    int rc = mmu_send();
    int earlier = mmu_queue_error;

    mmu_queue_error = 0;
    return earlier ? earlier : rc;
}

int map_page(unsigned long va, xen_pfn_t mfn, uint64_t pte_flags)
{
    /* Not-present -> present needs no flush, but va may have held another
     * mapping: invalidate this one entry on this VCPU. */
    long rc = HYPERVISOR_update_va_mapping(va, pte_make(mfn, pte_flags),
                                           UVMF_INVLPG | UVMF_LOCAL);
    if (rc < 0)
        printk("update_va_mapping(%#lx -> mfn %#lx): error %s\n", va,
               (unsigned long)mfn, xen_errname(rc));
    return (int)rc;
}

int unmap_page(unsigned long va)
{
    /* Every vCPU may hold the old entry in its TLB (a thread's stack ran
     * there, or any kernel mapping was read there): with several, the
     * entry goes from all of them, so that the frame can be used again and
     * va mapped again (map_page flushes only here). */
#if XENOLITH_SMP
    unsigned long which = smp_several() ? UVMF_ALL : UVMF_LOCAL;
#else
    unsigned long which = UVMF_LOCAL;
#endif
    long rc = HYPERVISOR_update_va_mapping(va, 0, UVMF_INVLPG | which);
    if (rc < 0)
        printk("update_va_mapping(%#lx -> none): error %s\n", va, xen_errname(rc));
    return (int)rc;
}

static int mmuext_one(struct mmuext_op *op, const char *what)
{
    unsigned done = 0;
    long rc = HYPERVISOR_mmuext_op(op, 1, &done, DOMID_SELF);

    if (rc < 0 || done != 1) {
        printk("mmuext_op %s: error %s\n", what, xen_errname(rc));
        return rc < 0 ? (int)rc : -XEN_EIO;
    }
    return 0;
}

int mmuext_pin(unsigned cmd, xen_pfn_t mfn)
{
    struct mmuext_op op = {.cmd = cmd};
    op.arg1.mfn = mfn;
    return mmuext_one(&op, "pin");
}

int mmuext_unpin(xen_pfn_t mfn)
{
    struct mmuext_op op = {.cmd = MMUEXT_UNPIN_TABLE};
    op.arg1.mfn = mfn;
    return mmuext_one(&op, "MMUEXT_UNPIN_TABLE");
}

int tlb_flush_local(void)
{
    struct mmuext_op op = {.cmd = MMUEXT_TLB_FLUSH_LOCAL};
    return mmuext_one(&op, "MMUEXT_TLB_FLUSH_LOCAL");
}

int invlpg_local(unsigned long va)
{
    struct mmuext_op op = {.cmd = MMUEXT_INVLPG_LOCAL};
    op.arg1.linear_addr = va;
    return mmuext_one(&op, "MMUEXT_INVLPG_LOCAL");
}

/* The table an entry points to, readable through the direct map; NULL if
 * the entry is not present or its frame is not a direct-mapped page of ours.
 * The direct map always covers every page table Xenolith uses: Xen's initial
 * ones lie in the bootstrap region, the new ones are taken from mapped
 * pages (directmap.c). */
static const pte_t *table_of(pte_t entry)
{
    unsigned long pfn;

    if (!(entry & PTE_P))
        return NULL;
    pfn = mfn_to_pfn((xen_pfn_t)pte_frame(entry));
    if (pfn >= mm_direct_pfns() || pfn_to_mfn(pfn) != pte_frame(entry))
        return NULL;
    return pfn_to_virt(pfn);
}

/* The L2 entry for va, or 0. The L3 is the page Xen's domain builder made
 * (pt_base, as it was at boot): the kernel's own, on which kernel threads
 * run. A process runs on its own L3 (user/addrspace.c), whose 3-4 GiB is a
 * copy of this L2 and maps the same L1s: for a kernel address, these
 * tables are right whichever base is loaded. */
static pte_t l2_entry(unsigned long va)
{
    const pte_t *l3 = (const pte_t *)boot_start_info->pt_base;
    const pte_t *l2 = table_of(l3[pt_l3_index(va)]);

    return l2 ? l2[pt_l2_index(va)] : 0;
}

uint64_t pt_entry_ma(unsigned long va)
{
    pte_t l2e = l2_entry(va);

    if (!(l2e & PTE_P))
        return 0;
    return (pte_frame(l2e) << PTE_ADDR_SHIFT) + pt_l1_index(va) * PT_ENTRY_SIZE;
}

uint64_t pt_lookup(unsigned long va)
{
    const pte_t *l1 = table_of(l2_entry(va));

    return l1 ? l1[pt_l1_index(va)] : 0;
}

uint64_t pt_translate(unsigned long va)
{
    pte_t e = pt_lookup(va);

    if (!(e & PTE_P))
        return 0;
    return (e & PTE_ADDR_MASK) | (va & ~PAGE_MASK);
}

static void direct_map_queue(unsigned long pfn, uint64_t pte)
{
    uint64_t ma = pt_entry_ma((unsigned long)pfn_to_virt(pfn));

    if (!ma) {
        printk("direct map: no L1 table for pfn %#lx\n", pfn);
        return;
    }
    mmu_queue_update(ma | MMU_NORMAL_PT_UPDATE, pte);
}

void direct_map_queue_set(unsigned long pfn, xen_pfn_t mfn)
{
    direct_map_queue(pfn, pte_make(mfn, PTE_KERNEL_RW));
}

void direct_map_queue_readonly(unsigned long pfn)
{
    direct_map_queue(pfn, pte_make(pfn_to_mfn(pfn), PTE_KERNEL_RO));
}

void direct_map_queue_clear(unsigned long pfn)
{
    uint64_t ma = pt_entry_ma((unsigned long)pfn_to_virt(pfn));

    if (ma)
        mmu_queue_update(ma | MMU_NORMAL_PT_UPDATE, 0);
}

/* ---- an L3 of one's own: processes and secondary vCPUs ---------------------- */

/* The L2 of the kernel's 3-4 GiB, in the L3 Xen's domain builder made. */
static const pte_t *kernel_slot_l2(void)
{
    const pte_t *l3 = (const pte_t *)boot_start_info->pt_base;
    return table_of(l3[pt_l3_index(KERNEL_VIRT_BASE)]);
}

/*
 * The kernel half of a new L3 (a process's, a secondary vCPU's): `l2` (a
 * zeroed page) becomes a copy of the kernel's slot-3 L2, its entries below
 * HYPERVISOR_VIRT_START only (Xen fills its own slots when it types the
 * copy), and l3's slot 3 points to it with the flags Xen gave its own L3
 * entries (RW and US, which it adds to every present one). A copy, not the
 * kernel's L2: the slot-3 L2 of a 32-bit guest's L3 holds Xen's private
 * mappings and Xen allows it under one L3 only (mm.c
 * pae_xen_mappings_check: "PAE L3 3rd slot is shared", -EINVAL). The kernel
 * adds no L2 entry after boot (directmap.c makes every L1 of 3-4 GiB then),
 * so the copy stays right; its L1s are the kernel's own.
 */
void pt_kernel_slot_copy(pte_t *l3, pte_t *l2)
{
    const pte_t *kl3 = (const pte_t *)boot_start_info->pt_base;
    const pte_t *kl2 = kernel_slot_l2();
    unsigned slot = pt_l3_index(KERNEL_VIRT_BASE);

    for (unsigned i = 0; i < pt_l2_index(HYPERVISOR_VIRT_START); i++)
        l2[i] = kl2[i];
    l3[slot] = pte_make(pfn_to_mfn(virt_to_pfn(l2)), kl3[slot] & ~PTE_ADDR_MASK);
}

/* Table pages' direct-map entries: read-only before Xen types them (Xen
 * types no page as a table while a writable mapping of it exists), writable
 * again after it has dropped the type. */
int pt_tables_writable(void *const *pages, unsigned n, bool writable)
{
    for (unsigned i = 0; i < n; i++) {
        unsigned long pfn = virt_to_pfn(pages[i]);
        if (writable)
            direct_map_queue_set(pfn, pfn_to_mfn(pfn));
        else
            direct_map_queue_readonly(pfn);
    }
    return mmu_flush();
}
