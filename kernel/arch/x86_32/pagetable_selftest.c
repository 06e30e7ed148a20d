/*
 * pagetable_selftest.c — self-tests for page-table updates (interface
 * manual: "Page-table updates"; Xen 4.17 public/xen.h mmu_update, mmuext_op,
 * update_va_mapping, vm_assist).
 *
 * mm_pagetable: map/unmap through the mmu queue and with update_va_mapping,
 *   reading each mapping back; pin/unpin an L1 and an L2; the L3 (see
 *   l3_pinned); requests Xen must refuse, refused with an error and nothing
 *   changed.
 * mm_writable_pt: VMASST_TYPE_writable_pagetables: a plain store into a
 *   pinned, read-only L1 traps into Xen, which checks and performs it (Xen
 *   4.17's page-fault handler emulates such stores for a guest that enabled
 *   the assist; for the hardware domain it also does so without it, on the
 *   path that handles read-only MMIO pages). Without the assist a domU
 *   would get the #PF itself.
 *
 * Both use the first pages of the scratch window and leave them empty.
 */
#include "fault_guard.h"
#include "mm.h"
#include "pagetable.h"
#include "selftest.h"

#define TEST_PATTERN 0xa5u
#define TEST_PAGES 2 /* scratch slots used */

static bool page_is(const void *p, uint8_t v)
{
    const uint8_t *b = p;
    for (unsigned i = 0; i < PAGE_SIZE; i++)
        if (b[i] != v)
            return false;
    return true;
}

/* One mmu_update, straight to Xen (the queue would report the error). */
static long raw_update(uint64_t ptr, uint64_t val, unsigned *done)
{
    struct mmu_update u = {.ptr = ptr, .val = val};
    *done = 0;
    return HYPERVISOR_mmu_update(&u, 1, done, DOMID_SELF);
}

static long raw_mmuext(unsigned cmd, xen_pfn_t mfn)
{
    struct mmuext_op op = {.cmd = cmd};
    unsigned done = 0;
    op.arg1.mfn = mfn;
    return HYPERVISOR_mmuext_op(&op, 1, &done, DOMID_SELF);
}

/* Map/unmap through the queue, then with update_va_mapping. */
static void queue_and_single(struct selftest_result *r, void *page, xen_pfn_t mfn)
{
    unsigned long va = mm_scratch_va(0);
    uint64_t ma = pt_entry_ma(va);

    ST_EXPECT(r, ma != 0, "scratch va %#lx has no L1 table", va);
    ST_EXPECT(r, pt_lookup(va) == 0, "scratch va %#lx is not empty", va);
    mmu_queue_update(ma | MMU_NORMAL_PT_UPDATE, pte_make(mfn, PTE_KERNEL_RW));
    ST_EXPECT(r, mmu_flush() == 0, "mmu_update (map) failed");
    ST_EXPECT(r, pte_frame(pt_lookup(va)) == mfn, "L1 entry reads %#llx, wanted mfn %#lx",
              (unsigned long long)pt_lookup(va), (unsigned long)mfn);
    ST_EXPECT(r, page_is((void *)va, TEST_PATTERN), "data through the new mapping differs");
    ((volatile uint8_t *)va)[1] = (uint8_t)~TEST_PATTERN; /* an alias: same frame */
    ST_EXPECT(r, ((volatile uint8_t *)page)[1] == (uint8_t)~TEST_PATTERN, "write did not alias");
    ((uint8_t *)page)[1] = TEST_PATTERN;
    mmu_queue_update(ma | MMU_NORMAL_PT_UPDATE, 0);
    ST_EXPECT(r, mmu_flush() == 0, "mmu_update (unmap) failed");
    ST_EXPECT(r, invlpg_local(va) == 0, "MMUEXT_INVLPG_LOCAL failed");
    ST_EXPECT(r, pt_lookup(va) == 0, "L1 entry still %#llx after unmap",
              (unsigned long long)pt_lookup(va));

    va = mm_scratch_va(1);
    ST_EXPECT(r, map_page(va, mfn, PTE_KERNEL_RO) == 0, "update_va_mapping (map) failed");
    ST_EXPECT(r, page_is((void *)va, TEST_PATTERN), "data through update_va_mapping differs");
    ST_EXPECT(r, !(pt_lookup(va) & PTE_RW), "read-only mapping reads back writable");
    ST_EXPECT(r, unmap_page(va) == 0, "update_va_mapping (unmap) failed");
    ST_EXPECT(r, pt_lookup(va) == 0, "entry still set after unmap_page");
}

/* Pin a fresh L1, check Xen's rules around it, unpin it. */
static void pin_l1(struct selftest_result *r, xen_pfn_t data_mfn)
{
    void *l1 = page_alloc(0);
    unsigned long l1va = (unsigned long)l1;
    xen_pfn_t l1mfn;
    unsigned done;
    long rc;

    ST_EXPECT(r, l1 != NULL, "no page for an L1");
    memset(l1, 0, PAGE_SIZE);
    l1mfn = pfn_to_mfn(virt_to_pfn(l1));
    /* Pinning while the page is mapped writable: Xen refuses. */
    rc = raw_mmuext(MMUEXT_PIN_L1_TABLE, l1mfn);
    ST_EXPECT(r, rc < 0, "Xen pinned an L1 that is mapped writable (rc %ld)", rc);
    ST_EXPECT(r, map_page(l1va, l1mfn, PTE_KERNEL_RO) == 0, "making the L1 read-only failed");
    ST_EXPECT(r, mmuext_pin(MMUEXT_PIN_L1_TABLE, l1mfn) == 0, "MMUEXT_PIN_L1_TABLE failed");
    rc = raw_mmuext(MMUEXT_PIN_L1_TABLE, l1mfn);
    ST_EXPECT(r, rc == -XEN_EINVAL, "pinning twice gave %s, wanted -EINVAL", xen_errname(rc));
    /* Refused updates: a writable mapping of a page table ... */
    rc = raw_update(pt_entry_ma(mm_scratch_va(0)) | MMU_NORMAL_PT_UPDATE,
                    pte_make(l1mfn, PTE_KERNEL_RW), &done);
    ST_EXPECT(r, rc < 0 && done == 0, "Xen accepted a writable mapping of a pinned L1 (rc %ld)",
              rc);
    ST_EXPECT(r, pt_lookup(mm_scratch_va(0)) == 0, "refused update changed the entry");
    /* ... and hooking a table into Xen's own part of the L2 (above
     * HYPERVISOR_VIRT_START). (An mmu_update on a page that is not a page
     * table is not refused: Xen just writes the value into the page.) */
    const pte_t *l3 = (const pte_t *)boot_start_info->pt_base;
    uint64_t l2ma = pte_frame(l3[pt_l3_index(HYPERVISOR_VIRT_START)]) << PTE_ADDR_SHIFT;
    unsigned xen_slot = pt_l2_index(HYPERVISOR_VIRT_START);
    const pte_t *l2 = pfn_to_virt(mfn_to_pfn((xen_pfn_t)(l2ma >> PAGE_SHIFT)));
    pte_t before = l2[xen_slot];
    rc = raw_update((l2ma + xen_slot * PT_ENTRY_SIZE) | MMU_NORMAL_PT_UPDATE,
                    pte_make(l1mfn, PDE_KERNEL), &done);
    ST_EXPECT(r, rc < 0 && done == 0, "Xen let the guest change its own L2 slot (rc %ld)", rc);
    ST_EXPECT(r, l2[xen_slot] == before, "refused L2 update changed Xen's slot");
    /* The pinned L1 works once hooked: an update into it is accepted. */
    mmu_queue_update(((uint64_t)l1mfn << PAGE_SHIFT) | MMU_NORMAL_PT_UPDATE,
                     pte_make(data_mfn, PTE_KERNEL_RW));
    ST_EXPECT(r, mmu_flush() == 0, "mmu_update into the pinned L1 failed");
    ST_EXPECT(r, pte_frame(((const pte_t *)l1)[0]) == data_mfn, "pinned L1 entry 0 not updated");
    mmu_queue_update(((uint64_t)l1mfn << PAGE_SHIFT) | MMU_NORMAL_PT_UPDATE, 0);
    ST_EXPECT(r, mmu_flush() == 0, "clearing the pinned L1's entry failed");
    ST_EXPECT(r, mmuext_unpin(l1mfn) == 0, "MMUEXT_UNPIN_TABLE failed");
    rc = raw_mmuext(MMUEXT_UNPIN_TABLE, l1mfn);
    ST_EXPECT(r, rc == -XEN_EINVAL, "unpinning twice gave %s, wanted -EINVAL", xen_errname(rc));
    ST_EXPECT(r, map_page(l1va, l1mfn, PTE_KERNEL_RW) == 0, "making the page writable failed");
    page_free(l1, 0);
}

/* An (empty) L2 pins and unpins the same way: Xen validates its 512
 * entries as L2 entries instead of PTEs. */
static void pin_l2(struct selftest_result *r)
{
    void *l2 = page_alloc(0);
    xen_pfn_t l2mfn;

    ST_EXPECT(r, l2 != NULL, "no page for an L2");
    memset(l2, 0, PAGE_SIZE);
    l2mfn = pfn_to_mfn(virt_to_pfn(l2));
    ST_EXPECT(r, map_page((unsigned long)l2, l2mfn, PTE_KERNEL_RO) == 0, "L2 read-only failed");
    ST_EXPECT(r, mmuext_pin(MMUEXT_PIN_L2_TABLE, l2mfn) == 0, "MMUEXT_PIN_L2_TABLE failed");
    ST_EXPECT(r, raw_mmuext(MMUEXT_PIN_L1_TABLE, l2mfn) < 0, "a pinned L2 was pinned as an L1 too");
    ST_EXPECT(r, mmuext_unpin(l2mfn) == 0, "MMUEXT_UNPIN_TABLE (L2) failed");
    ST_EXPECT(r, map_page((unsigned long)l2, l2mfn, PTE_KERNEL_RW) == 0, "L2 writable failed");
    page_free(l2, 0);
}

/*
 * The L3 (PAE page-directory-pointer table). The domain builder pinned it
 * as an L3 before the guest ran, and it is the running base (the VCPU's
 * cr3 holds a reference of its own too). So pinning it again is refused
 * with -EINVAL ("already pinned"), like any pinned table. Unpinning it would
 * only drop the builder's reference; Xenolith never does, so the base keeps
 * its type even if the VCPU switches away. On 64-bit Xen a 32-bit guest's
 * L3 is one full page of which Xen reads 4 entries, hooked below a per-VCPU
 * L4 that Xen owns.
 */
static void l3_pinned(struct selftest_result *r, long *rc_out)
{
    xen_pfn_t l3mfn = (xen_pfn_t)(virt_to_machine((void *)boot_start_info->pt_base) >> PAGE_SHIFT);
    long rc = raw_mmuext(MMUEXT_PIN_L3_TABLE, l3mfn);

    *rc_out = rc;
    if (rc == 0)
        raw_mmuext(MMUEXT_UNPIN_TABLE, l3mfn); /* it was not pinned: undo */
    ST_EXPECT(r, rc == -XEN_EINVAL, "pinning the running L3 gave %s, wanted -EINVAL", xen_errname(rc));
}

SELFTEST(mm_pagetable)
{
    void *page = page_alloc(0);
    xen_pfn_t mfn;
    long l3rc = 0;

    ST_EXPECT(r, page != NULL, "no free page");
    memset(page, TEST_PATTERN, PAGE_SIZE);
    mfn = pfn_to_mfn(virt_to_pfn(page));
    queue_and_single(r, page, mfn);
    if (!r->failed)
        pin_l1(r, mfn);
    if (!r->failed)
        pin_l2(r);
    if (!r->failed)
        l3_pinned(r, &l3rc);
    page_free(page, 0);
    if (r->failed)
        return;
    ST_PASS(r, "queue and update_va_mapping map/unmap read back, L1 and L2 pin/unpin, 6 bad "
               "requests refused, running L3 already pinned (%ld)", l3rc);
}

/* One store into a page-table page, through the armed guard. */
static struct fault_guard guard;

static void pt_store32(volatile uint32_t *p, uint32_t v)
{
    __asm__ volatile(FAULT_GUARD_ASM("movl %[v], (%[p])")
                     : FAULT_GUARD_OUT(&guard)
                     : [v] "r"(v), [p] "r"(p)
                     : "memory");
}

SELFTEST(mm_writable_pt)
{
    unsigned long va = mm_scratch_va(TEST_PAGES - 1);
    uint64_t ma = pt_entry_ma(va);
    void *page = page_alloc(0);
    volatile uint32_t *half;
    unsigned long calls;
    pte_t want;
    long rc;

    ST_EXPECT(r, page != NULL, "no free page");
    ST_EXPECT(r, ma != 0 && pt_lookup(va) == 0, "scratch va %#lx not ready", va);
    memset(page, TEST_PATTERN, PAGE_SIZE);
    want = pte_make(pfn_to_mfn(virt_to_pfn(page)), PTE_KERNEL_RW);
    /* The L1 holding va's entry, read-only in the direct map. */
    half = (volatile uint32_t *)((char *)pfn_to_virt(mfn_to_pfn((xen_pfn_t)(ma >> PAGE_SHIFT))) +
                                 (ma & ~PAGE_MASK));
    rc = HYPERVISOR_vm_assist(VMASST_CMD_enable, VMASST_TYPE_writable_pagetables);
    if (rc) {
        page_free(page, 0);
        ST_EXPECT(r, false, "vm_assist(enable, writable_pagetables): error %s", xen_errname(rc));
    }
    calls = xen_hypercall_count[__HYPERVISOR_mmu_update] +
            xen_hypercall_count[__HYPERVISOR_update_va_mapping];
    /* Two 32-bit stores, high word first: the entry only becomes present
     * with the low word, so it is never half-valid. Each store faults on
     * the read-only page; Xen emulates it after checking the new entry. A
     * store Xen gives back as a page fault instead is caught and reported. */
    fault_guard_arm(&guard, TRAP_PF);
    pt_store32(&half[1], (uint32_t)(want >> 32));
    pt_store32(&half[0], (uint32_t)want);
    bool mapped = pt_lookup(va) == want && page_is((void *)va, TEST_PATTERN);
    /* Remove it: low word (present bit) first. */
    pt_store32(&half[0], 0);
    pt_store32(&half[1], 0);
    fault_guard_disarm(&guard);
    calls = xen_hypercall_count[__HYPERVISOR_mmu_update] +
            xen_hypercall_count[__HYPERVISOR_update_va_mapping] - calls;
    invlpg_local(va);
    rc = HYPERVISOR_vm_assist(VMASST_CMD_disable, VMASST_TYPE_writable_pagetables);
    page_free(page, 0);
    ST_EXPECT(r, guard.hits == 0,
              "%u of 4 stores into the L1 came back as page faults (error %#x, cr2 %#lx; the "
              "entry is at %#lx), not emulated by Xen", guard.hits, guard.error_code, guard.cr2,
              (unsigned long)half);
    ST_EXPECT(r, mapped, "direct PTE write did not map the page (entry %#llx)",
              (unsigned long long)pt_lookup(va));
    ST_EXPECT(r, pt_lookup(va) == 0, "direct PTE clear left %#llx",
              (unsigned long long)pt_lookup(va));
    ST_EXPECT(r, calls == 0, "%lu page-table hypercalls during direct writes", calls);
    ST_EXPECT(r, rc == 0, "vm_assist(disable, writable_pagetables): error %s", xen_errname(rc));
    ST_PASS(r, "4 stores into a pinned L1 emulated by Xen, mapping seen and removed, 0 "
               "page-table hypercalls");
}
