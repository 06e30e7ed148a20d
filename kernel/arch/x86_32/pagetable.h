/*
 * pagetable.h — PAE page-table entries as the hardware defines them (Intel
 * SDM Vol. 3A, 4.4 "PAE Paging": Table 4-8 PDPTE, Table 4-10 PDE that
 * references a page table, Table 4-11 PTE that maps a 4-KByte page).
 *
 * A 32-bit PV guest on 64-bit Xen runs with PAE page tables: an L3 (the
 * PDPT, 4 entries used but one whole page), L2 page directories and L1 page
 * tables of 512 64-bit entries each. The guest builds and reads them with
 * these bits; it changes them only through Xen (mmu_update,
 * update_va_mapping), which validates every entry (see pagetable.c).
 * Used by the memory part only (pagetable.c and its self-tests).
 */
#ifndef XENOLITH_ARCH_PAGETABLE_H
#define XENOLITH_ARCH_PAGETABLE_H

#include <stdint.h>

typedef uint64_t pte_t;

/* Bits of a PAE PTE / PDE (SDM Tables 4-10, 4-11). */
#define PTE_P (1ULL << 0)   /* present */
#define PTE_RW (1ULL << 1)  /* writable */
#define PTE_US (1ULL << 2)  /* user (ring 3) may access */
#define PTE_PWT (1ULL << 3) /* page-level write-through */
#define PTE_PCD (1ULL << 4) /* page-level cache disable */
#define PTE_A (1ULL << 5)   /* accessed */
#define PTE_D (1ULL << 6)   /* dirty (PTE only) */
#define PTE_PAT (1ULL << 7) /* PAT index bit (4-KByte PTE; PS in a PDE) */
#define PTE_G (1ULL << 8)   /* global */
#define PTE_XD (1ULL << 63) /* execute-disable (needs IA32_EFER.NXE) */

/* Physical address field: bits 51:12 (MAXPHYADDR is at most 52). */
#define PTE_ADDR_SHIFT 12
#define PTE_ADDR_MASK 0x000FFFFFFFFFF000ULL

/* Geometry: 4-KByte tables of 8-byte entries; a linear address splits
 * 2 (PDPT index) + 9 (directory) + 9 (table) + 12 (offset) bits. */
#define PT_ENTRY_SIZE 8u
#define PT_ENTRIES 512u     /* entries in an L1 or L2 table */
#define PT_L3_ENTRIES 4u    /* PDPT entries */
#define PT_L1_SHIFT 12      /* one L1 entry maps 4 KiB */
#define PT_L2_SHIFT 21      /* one L2 entry maps 2 MiB (one L1 table) */
#define PT_L3_SHIFT 30      /* one L3 entry maps 1 GiB (one L2 table) */
#define PT_L2_SPAN (1UL << PT_L2_SHIFT)

static inline unsigned pt_l1_index(unsigned long va)
{
    return (va >> PT_L1_SHIFT) & (PT_ENTRIES - 1);
}
static inline unsigned pt_l2_index(unsigned long va)
{
    return (va >> PT_L2_SHIFT) & (PT_ENTRIES - 1);
}
static inline unsigned pt_l3_index(unsigned long va)
{
    return va >> PT_L3_SHIFT;
}

/* Frame number (machine, for a PV guest) held by an entry. */
static inline uint64_t pte_frame(pte_t e)
{
    return (e & PTE_ADDR_MASK) >> PTE_ADDR_SHIFT;
}
static inline pte_t pte_make(uint64_t frame, uint64_t flags)
{
    return ((frame << PTE_ADDR_SHIFT) & PTE_ADDR_MASK) | flags;
}

/* What Xenolith puts in its tables. Data pages in the direct map: present,
 * writable, accessed and dirty set up front (so the CPU never has to write
 * them back into a read-only table). Page-table pages are mapped without
 * PTE_RW: Xen refuses any writable mapping of a page that is a page table.
 * L2 entries allow everything; the L1 entry decides. */
#define PTE_KERNEL_RW (PTE_P | PTE_RW | PTE_A | PTE_D)
#define PTE_KERNEL_RO (PTE_P | PTE_A)
#define PDE_KERNEL (PTE_P | PTE_RW | PTE_US | PTE_A)

#endif
