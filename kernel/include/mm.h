/*
 * mm.h — memory (interface manual: "Memory", "Pseudo-physical memory",
 * "Page-table updates"). The kernel is linked at KERNEL_VIRT_BASE and keeps
 * every pseudo-physical page it can at KERNEL_VIRT_BASE + (pfn << PAGE_SHIFT)
 * (the direct map). Owners: kernel/arch/x86_32/pagetable.c, kernel/page_alloc.c,
 * kernel/heap.c, kernel/xen/memory.c (memory).
 */
#ifndef XENOLITH_MM_H
#define XENOLITH_MM_H

#include "kernel.h"

#define PAGE_SHIFT 12
#define PAGE_SIZE XEN_PAGE_SIZE
#define KERNEL_VIRT_BASE 0xC0000000UL

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
 * Xen maps at MACH2PHYS_VIRT_START). */
xen_pfn_t pfn_to_mfn(unsigned long pfn);
unsigned long mfn_to_pfn(xen_pfn_t mfn);
uint64_t virt_to_machine(const void *v); /* machine address of a direct-map byte */

/* Physical page allocator over the pages Xen gave and boot did not use.
 * Pages come back mapped in the direct map, not zeroed. NULL when out. */
void *page_alloc(unsigned order);
void page_free(void *p, unsigned order);
unsigned long page_free_count(void);

/* Kernel heap on top of the page allocator. */
void *malloc(size_t size);
void *calloc(size_t n, size_t size);
void free(void *p);

/* Page-table updates, all through Xen. mmu_queue_* batch into one
 * mmu_update (flushed at MMU_BATCH entries, or by mmu_flush()); map_page and
 * unmap_page use update_va_mapping for one PTE. Return 0 or -errno from Xen. */
#define MMU_BATCH 128
void mmu_queue_update(uint64_t ptr, uint64_t val);
int mmu_flush(void);
int map_page(unsigned long va, xen_pfn_t mfn, uint64_t pte_flags);
int unmap_page(unsigned long va);

#endif
