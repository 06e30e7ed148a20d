/*
 * mm.h — memory (interface manual: "Memory", "Pseudo-physical memory",
 * "Page-table updates"). The kernel is linked at KERNEL_VIRT_BASE and keeps
 * every pseudo-physical page it can at KERNEL_VIRT_BASE + (pfn << PAGE_SHIFT)
 * (the direct map). Implemented in kernel/arch/x86_32/pagetable.c,
 * kernel/page_alloc.c, kernel/heap.c, kernel/xen/memory/memory.c, kernel/xen/memory/p2m.c,
 * kernel/xen/memory/balloon.c, kernel/xen/memory/balloon_target.c.
 *
 * Not reentrant: call none of this from an event handler (upcall context);
 * the mmu queue, the page allocator and the heap have no locks.
 *
 * Virtual layout (3 GiB .. 4 GiB, L3 slot 3):
 *   KERNEL_VIRT_BASE ... + mm_direct_pfns() pages   direct map (pfn 0 first),
 *                                                    ends by MM_DIRECT_MAP_END
 *   MM_GRANT_VA ... MM_STACKS_VA                    grant-table frames
 *                                                    (grant_table_grow.c): one L1 table
 *   MM_STACKS_VA ... MM_SCRATCH_VA                  thread stacks (sched.c): one
 *                                                    L1 table, a fixed slot per
 *                                                    thread, guard pages unmapped
 *   MM_SCRATCH_VA ... HYPERVISOR_VIRT_START         scratch window: L1 tables
 *                                                    ready, nothing mapped
 *   HYPERVISOR_VIRT_START ... 4 GiB                 Xen (m2p table read-only)
 */
#ifndef XENOLITH_MM_H
#define XENOLITH_MM_H

#include "kernel.h"

#define PAGE_SHIFT XEN_PAGE_SHIFT
#define PAGE_SIZE XEN_PAGE_SIZE
#define PAGE_MASK (~((unsigned long)PAGE_SIZE - 1))
#define KERNEL_VIRT_BASE 0xC0000000UL
#define PAGES_PER_MIB ((1024UL * 1024UL) / PAGE_SIZE)

/* Scratch window just below Xen's area: 4096 pages whose L1 tables exist
 * (pinned, hooked) but map nothing. For temporary mappings, tests and
 * `bench mmu`; a user takes a slot range and gives it back empty. */
#define MM_SCRATCH_PAGES 4096UL
#define MM_SCRATCH_VA (HYPERVISOR_VIRT_START - MM_SCRATCH_PAGES * PAGE_SIZE)
static inline unsigned long mm_scratch_va(unsigned long idx)
{
    return MM_SCRATCH_VA + idx * PAGE_SIZE;
}

/* Thread stacks, just below the scratch window: one L1 table's worth (2 MiB),
 * made at boot like the scratch window's. kernel/sched.c gives every thread
 * slot a fixed range here and maps only the top of it (the stack, pages from
 * page_alloc, so they are also in the direct map); the pages below stay
 * unmapped: an overflow faults there instead of writing over whatever lies
 * below. Nothing else maps pages in this area. */
#define MM_STACKS_PAGES 512UL
#define MM_STACKS_VA (MM_SCRATCH_VA - MM_STACKS_PAGES * PAGE_SIZE)
static inline bool mm_in_stacks(unsigned long va)
{
    return va >= MM_STACKS_VA && va < MM_SCRATCH_VA;
}

/* Grant-table frames, below the stacks: one L1 table's worth, made at boot
 * like the others. kernel/xen/grant_table/grant_table_grow.c maps the table's frames here,
 * one after another, as the table grows; nothing else maps pages here. */
#define MM_GRANT_PAGES 512UL
#define MM_GRANT_VA (MM_STACKS_VA - MM_GRANT_PAGES * PAGE_SIZE)

/* The lowest of these areas: the direct map ends here at the latest. */
#define MM_DIRECT_MAP_END MM_GRANT_VA

/* Direct map. Valid for pfn < mm_direct_pfns(). */
static inline unsigned long virt_to_pfn(const void *v)
{
    return ((unsigned long)v - KERNEL_VIRT_BASE) >> PAGE_SHIFT;
}
static inline void *pfn_to_virt(unsigned long pfn)
{
    return (void *)(KERNEL_VIRT_BASE + (pfn << PAGE_SHIFT));
}
unsigned long mm_direct_pfns(void);

/* p2m (start_info->mfn_list) and m2p (the read-only machine_to_phys table
 * Xen maps where XENMEM_machphys_mapping says, see p2m.c). A ballooned-out
 * pfn has P2M_INVALID; mfn_to_pfn of a frame that is not ours (or past Xen's
 * RAM) gives M2P_INVALID. mfn_to_pfn works from the first instruction (it
 * asks Xen where the m2p is on first use). */
#define P2M_INVALID ((xen_pfn_t)~0u)
#define M2P_INVALID (~0UL)
xen_pfn_t pfn_to_mfn(unsigned long pfn);
unsigned long mfn_to_pfn(xen_pfn_t mfn);
uint64_t virt_to_machine(const void *v); /* machine address of a direct-map byte */
/* Machine frame of the page holding v (virt_to_machine's rules). */
static inline xen_pfn_t virt_to_mfn(const void *v)
{
    return (xen_pfn_t)(virt_to_machine(v) >> PAGE_SHIFT);
}
unsigned long p2m_size(void);            /* entries in the p2m: start_info->nr_pages */
void p2m_set(unsigned long pfn, xen_pfn_t mfn);
xen_pfn_t m2p_max_mfn(void);             /* frames below this can be looked up */
unsigned long m2p_va(void);              /* where Xen maps the m2p; 0 if unknown */
void m2p_resume(void);                   /* after a restore: ask Xen again */
/* Start of day (main.c, mm_init.c): p2m, direct map, page allocator. */
int mm_init(void);
int p2m_init(void);                      /* called by mm_init first */

/* Physical page allocator over the pages Xen gave and boot did not use.
 * Pages come back mapped in the direct map, not zeroed. NULL when out. */
#define PAGE_ALLOC_MAX_ORDER 10 /* largest block: 2^10 pages = 4 MiB */
void *page_alloc(unsigned order);
void page_free(void *p, unsigned order);
unsigned long page_free_count(void);
unsigned long page_managed_count(void); /* pages the allocator owns (free or not) */
/* Boot: hand pfns [first, end) to the allocator; state is a byte per pfn
 * below end (from mm_boot_alloc). */
void page_alloc_init(unsigned long first, unsigned long end, uint8_t *state);

/* Kernel heap on top of the page allocator. 16-byte aligned blocks. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void free(void *p);
struct heap_stats {
    unsigned long bytes_in_use;  /* sum of the block sizes handed out */
    unsigned long blocks_in_use;
    unsigned long pages;         /* pages the heap holds from page_alloc */
};
void heap_get_stats(struct heap_stats *s);

/* Page-table updates, all through Xen. mmu_queue_* batch into one
 * mmu_update (flushed at MMU_BATCH entries, or by mmu_flush()); map_page and
 * unmap_page use update_va_mapping for one PTE. Return 0 or -errno from Xen.
 * mmu_queue_update takes the ptr word as mmu_update wants it: the machine
 * address of the entry, with the MMU_* command in bits 1:0. A failure of a
 * flush that the queue did by itself is kept and returned by the next
 * mmu_flush(). */
#define MMU_BATCH 128
void mmu_queue_update(uint64_t ptr, uint64_t val);
int mmu_flush(void);
int map_page(unsigned long va, xen_pfn_t mfn, uint64_t pte_flags);
int unmap_page(unsigned long va);

/* mmuext_op helpers (pagetable.c): pin/unpin a table by its mfn
 * (cmd = MMUEXT_PIN_L1_TABLE ...), TLB flushes on this VCPU. */
int mmuext_pin(unsigned cmd, xen_pfn_t mfn);
int mmuext_unpin(xen_pfn_t mfn);
int tlb_flush_local(void);
int invlpg_local(unsigned long va);

/* Reading the live page tables (never written directly). pt_lookup returns
 * the L1 entry that maps va (0 when no L1 or not present); pt_entry_ma the
 * machine address of that L1 entry, 0 if va has no L1 table. Both read the
 * kernel's own tables, which every address space shares for 3-4 GiB. */
uint64_t pt_lookup(unsigned long va);
uint64_t pt_entry_ma(unsigned long va);
uint64_t pt_translate(unsigned long va); /* machine address va maps, or 0 */
/* The direct-map L1 entry of a pfn, queued (mmu_queue_update): map it to
 * mfn read-write, or clear it. */
void direct_map_queue_set(unsigned long pfn, xen_pfn_t mfn);
void direct_map_queue_readonly(unsigned long pfn); /* before Xen types the page as a table */
void direct_map_queue_clear(unsigned long pfn);

/* An L3 of one's own (pagetable.c): the kernel's 3-4 GiB in l3's slot 3,
 * through l2, a private copy of the kernel's L2 (Xen wants that L2 under
 * one L3 only); and the table pages' direct-map entries read-only (before
 * pinning) or writable again (after unpinning). */
void pt_kernel_slot_copy(uint64_t *l3, uint64_t *l2);
int pt_tables_writable(void *const *pages, unsigned n, bool writable);

/* Boot (pagetable.c): the first pfn after what Xen's domain builder placed
 * (kernel, p2m, start_info, rings, page tables, stack); pages for the boot
 * allocator are taken from there on, then the allocator gets the rest. */
unsigned long mm_boot_end_pfn(void);
void *mm_boot_alloc(unsigned long pages); /* zeroed, mapped; NULL when out */
unsigned long mm_boot_finish(void);       /* closes it: first pfn left free */
unsigned long mm_boot_used_pfns(void);    /* [0, this) is never freed */
unsigned long mm_new_l1_tables(void);     /* L1 tables pagetable_init added */
int pagetable_init(void);                 /* builds the direct map */

/* Reservation (kernel/xen/memory/memory.c): pages Xen counts for this domain now
 * (XENMEM_current_reservation), or -errno. */
long mm_current_reservation(void);

/* Balloon (kernel/xen/memory/balloon.c). release: unmap each pfn from the direct
 * map, set its p2m entry to P2M_INVALID, give the frames back with
 * XENMEM_decrease_reservation. populate: XENMEM_populate_physmap for those
 * pfns, record the new frames in the p2m and m2p (MMU_MACHPHYS_UPDATE) and
 * map them again. Both return how many pfns they did (in order), or -errno
 * when none. The pages' ownership stays with the caller. */
long balloon_release(const unsigned long *pfns, unsigned long n);
long balloon_populate(const unsigned long *pfns, unsigned long n);
/* Move the reservation to `pages`, taking pages from / giving them to the
 * page allocator; returns the reservation reached, or -errno. */
long balloon_set_target(unsigned long pages);
unsigned long balloon_out_pages(void); /* pfns currently given back */
/* The smallest reservation balloon_set_target can reach now: pages in use
 * plus the free pages it always keeps. */
unsigned long balloon_floor_pages(void);
/* The toolstack's target (memory/target: the whole domain's), in pages; 0
 * before it is known. Of the domain's pages, balloon_not_ours_pages() are not
 * ours (the PV shim's) and never will be (kernel/xen/memory/balloon_target.c). */
unsigned long balloon_toolstack_target(void);
unsigned long balloon_not_ours_pages(void);
/* Start of day (main.c), late: the thread that follows memory/target. */
int balloon_target_init(void);

#endif
