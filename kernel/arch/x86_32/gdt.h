/*
 * gdt.h — segment descriptors and Xenolith's GDT layout (interface manual:
 * "Segment Descriptor Tables" and, in the hypercall appendix,
 * "Segmentation Support": set_gdt, update_descriptor), implemented in
 * kernel/arch/x86_32/gdt.c.
 *
 * The descriptor format is the hardware's (Intel SDM Vol. 3A, 3.4.5
 * "Segment Descriptors", 3.5 "System Descriptor Types"): Xen checks each
 * descriptor we give it but stores it unchanged, apart from the fix-ups it
 * documents (DPL 0 is raised to the guest kernel's ring 1).
 *
 * Layout: one page of 512 slots, of which the first GDT_ENTRIES are ours.
 * Xen's own entries (FLAT_RING1_CS, ...) live far above, from
 * FIRST_RESERVED_GDT_ENTRY (slot 7168, page 14 of the 16-page GDT) on, in
 * pages Xen supplies; installing our table does not move them.
 */
#ifndef XENOLITH_ARCH_GDT_H
#define XENOLITH_ARCH_GDT_H

#include "kernel.h"

/* Our slots. */
#define GDT_ENTRY_NULL 0      /* the CPU never uses slot 0 */
#define GDT_ENTRY_KERNEL_CS 1 /* flat 4 GiB code, ring 1 */
#define GDT_ENTRY_KERNEL_DS 2 /* flat 4 GiB data, ring 1 (also SS) */
#define GDT_ENTRY_PERCPU 3    /* %fs: this CPU's struct percpu, limited to it */
#define GDT_ENTRY_SCRATCH 4   /* changed at run time: self-test, `failsafe real` */
#define GDT_ENTRIES 5         /* what we pass to set_gdt */

/* Selectors (SDM 3.4.2): index << 3 | TI (0 = GDT) | RPL. A PV guest
 * kernel runs in ring 1, so its selectors carry RPL 1. */
#define SEL_INDEX_SHIFT 3
#define SEL_RPL_MASK 3u
#define SEL_RPL_KERNEL 1u
#define GDT_SEL(idx, rpl) ((uint16_t)(((idx) << SEL_INDEX_SHIFT) | (rpl)))
#define KERNEL_CS GDT_SEL(GDT_ENTRY_KERNEL_CS, SEL_RPL_KERNEL)
#define KERNEL_DS GDT_SEL(GDT_ENTRY_KERNEL_DS, SEL_RPL_KERNEL)
#define PERCPU_SEL GDT_SEL(GDT_ENTRY_PERCPU, SEL_RPL_KERNEL)
#define SCRATCH_SEL GDT_SEL(GDT_ENTRY_SCRATCH, SEL_RPL_KERNEL)

/* Descriptor fields, as bit positions in the 64-bit descriptor. */
#define DESC_LIMIT_LO_MASK 0xFFFFULL       /* limit 15:0 in bits 15:0 */
#define DESC_BASE_LO_SHIFT 16              /* base 23:0 in bits 39:16 */
#define DESC_BASE_LO_MASK 0xFFFFFFULL
#define DESC_TYPE_SHIFT 40                 /* type, 4 bits */
#define DESC_TYPE_MASK 0xFULL
#define DESC_S (1ULL << 44)                /* 1 = code/data, 0 = system */
#define DESC_DPL_SHIFT 45                  /* descriptor privilege level */
#define DESC_DPL_MASK 3ULL
#define DESC_P (1ULL << 47)                /* present */
#define DESC_LIMIT_HI_SHIFT 48             /* limit 19:16 in bits 51:48 */
#define DESC_LIMIT_HI_MASK 0xFULL
#define DESC_L (1ULL << 53)                /* 64-bit code segment */
#define DESC_DB (1ULL << 54)               /* 32-bit default size */
#define DESC_G (1ULL << 55)                /* limit in 4 KiB units */
#define DESC_BASE_HI_SHIFT 56              /* base 31:24 in bits 63:56 */
#define DESC_BASE_HI_MASK 0xFFULL
#define DESC_LIMIT_MAX 0xFFFFFu            /* 20-bit limit field */
#define DESC_LIMIT_G_SHIFT 12              /* G=1: limit counts 4 KiB pages */

/* Code/data types (S=1), SDM Table 3-1; bit 0 is "accessed". We set it up
 * front so the CPU never writes the descriptor back. */
#define DESC_TYPE_ACCESSED 0x1u
#define DESC_TYPE_DATA_RW 0x2u
#define DESC_TYPE_CODE_XR 0xAu
#define DESC_TYPE_CODE 0x8u                /* set for every code type */
/* System types (S=0), SDM Table 3-2. */
#define DESC_TYPE_SYS_LDT 0x2u
#define DESC_TYPE_SYS_TSS32 0x9u
#define DESC_TYPE_SYS_CALL_GATE32 0xCu
/* Call gate (SDM 5.8.3): target offset 15:0 in bits 15:0, target selector
 * in bits 31:16, offset 31:16 in bits 63:48. */
#define GATE_SEL_SHIFT 16

/* Ring levels used in descriptors. */
#define DPL_XEN 0
#define DPL_KERNEL 1
#define DPL_USER 3

/* A code/data or system descriptor from its parts (limit is the last valid
 * offset; above DESC_LIMIT_MAX it is stored in pages, with G set). */
static inline uint64_t desc_make(uint32_t base, uint32_t limit, unsigned type,
                                 bool system, unsigned dpl, uint64_t flags)
{
    uint64_t d = 0;

    if (limit > DESC_LIMIT_MAX) {
        limit >>= DESC_LIMIT_G_SHIFT;
        flags |= DESC_G;
    }
    d |= limit & DESC_LIMIT_LO_MASK;
    d |= ((uint64_t)(limit >> 16) & DESC_LIMIT_HI_MASK) << DESC_LIMIT_HI_SHIFT;
    d |= ((uint64_t)base & DESC_BASE_LO_MASK) << DESC_BASE_LO_SHIFT;
    d |= ((uint64_t)(base >> 24) & DESC_BASE_HI_MASK) << DESC_BASE_HI_SHIFT;
    d |= ((uint64_t)type & DESC_TYPE_MASK) << DESC_TYPE_SHIFT;
    d |= system ? 0 : DESC_S;
    d |= ((uint64_t)dpl & DESC_DPL_MASK) << DESC_DPL_SHIFT;
    return d | DESC_P | flags;
}

static inline uint32_t desc_base(uint64_t d)
{
    return (uint32_t)(((d >> DESC_BASE_LO_SHIFT) & DESC_BASE_LO_MASK) |
                      (((d >> DESC_BASE_HI_SHIFT) & DESC_BASE_HI_MASK) << 24));
}
static inline uint32_t desc_limit(uint64_t d) /* in bytes, last valid offset */
{
    uint32_t l = (uint32_t)((d & DESC_LIMIT_LO_MASK) |
                            (((d >> DESC_LIMIT_HI_SHIFT) & DESC_LIMIT_HI_MASK) << 16));
    return (d & DESC_G) ? (l << DESC_LIMIT_G_SHIFT) | ((1u << DESC_LIMIT_G_SHIFT) - 1) : l;
}
static inline unsigned desc_type(uint64_t d) { return (d >> DESC_TYPE_SHIFT) & DESC_TYPE_MASK; }
static inline unsigned desc_dpl(uint64_t d) { return (d >> DESC_DPL_SHIFT) & DESC_DPL_MASK; }

#define FLAT_LIMIT 0xFFFFFFFFu /* last byte of a 4 GiB segment */

/* A flat 4 GiB ring-1 code or data descriptor (type: DESC_TYPE_CODE_XR or
 * DESC_TYPE_DATA_RW), 32-bit, accessed bit set. */
static inline uint64_t desc_flat(unsigned type)
{
    return desc_make(0, FLAT_LIMIT, type | DESC_TYPE_ACCESSED, false, DPL_KERNEL, DESC_DB);
}

/* LAR's result (SDM "LAR"): the descriptor's bits 8..23 of its high word,
 * i.e. the access byte at bits 15:8. */
#define LAR_ACCESS_SHIFT 8
#define LAR_ACCESS_MASK 0xFFu
#define ACCESS_DPL_SHIFT 5
#define ACCESS_P (1u << 7)

/* Segment registers, as the CPU holds them now. */
struct segregs {
    uint16_t cs, ds, es, fs, gs, ss;
};

static inline void segregs_read(struct segregs *s)
{
    __asm__ __volatile__("movw %%cs, %0\n\t"
                         "movw %%ds, %1\n\t"
                         "movw %%es, %2\n\t"
                         "movw %%fs, %3\n\t"
                         "movw %%gs, %4\n\t"
                         "movw %%ss, %5"
                         : "=m"(s->cs), "=m"(s->ds), "=m"(s->es), "=m"(s->fs),
                           "=m"(s->gs), "=m"(s->ss));
}

static inline void load_fs(uint16_t sel)
{
    __asm__ __volatile__("movw %0, %%fs" : : "r"(sel) : "memory");
}

static inline void load_gs(uint16_t sel)
{
    __asm__ __volatile__("movw %0, %%gs" : : "r"(sel) : "memory");
}

/* LAR / LSL read a descriptor as the CPU sees it (through Xen's mapping of
 * our frame), without privilege: a check that Xen really loaded our table.
 * false (ZF clear) when the selector is not usable from ring 1. */
static inline bool seg_lar(uint16_t sel, uint32_t *access)
{
    uint32_t ar = 0;
    uint8_t ok;

    __asm__ __volatile__("larl %2, %0\n\tsetz %1"
                         : "+r"(ar), "=qm"(ok)
                         : "r"((uint32_t)sel)
                         : "cc");
    *access = (ar >> LAR_ACCESS_SHIFT) & LAR_ACCESS_MASK;
    return ok;
}

static inline bool seg_lsl(uint16_t sel, uint32_t *limit)
{
    uint32_t l = 0;
    uint8_t ok;

    __asm__ __volatile__("lsll %2, %0\n\tsetz %1"
                         : "+r"(l), "=qm"(ok)
                         : "r"((uint32_t)sel)
                         : "cc");
    *limit = l;
    return ok;
}

/* Per-CPU data reached through %fs (base = the struct, limit = its size):
 * %fs:0 is the pointer to itself, as in most SMP kernels. One CPU here. */
struct percpu {
    struct percpu *self;
    unsigned cpu;
    uint32_t magic;
};
#define PERCPU_MAGIC 0x50435055u /* "PCPU" */

/* This CPU's struct percpu, read through %fs; NULL before gdt_init ran
 * (or with gdt=off). */
struct percpu *this_percpu(void);
/* The descriptor of a per-CPU segment for p (a secondary vCPU's GDT has its
 * own, smp_boot.c). */
uint64_t gdt_percpu_desc(struct percpu *p);

/* Write one of our GDT slots through HYPERVISOR_update_descriptor (the
 * table's page is read-only to us). Returns 0 or Xen's -errno, after
 * printing "gdt: Xen refused descriptor ...". */
/* Start of day (main.c): our GDT page read-only and handed to set_gdt
 * (gdt=off keeps Xen's default). */
int gdt_init(void);
int gdt_update(unsigned idx, uint64_t desc);
/* Read a slot (the page is readable); 0 for idx out of range. */
uint64_t gdt_read(unsigned idx);
/* True once our table is installed and the segment registers use it. */
bool gdt_installed(void);
/* Our table's machine frame (0 when not installed), why it is (not)
 * installed ("installed", "gdt=off", ...), and a slot's machine address. */
xen_pfn_t gdt_frame(void);
const char *gdt_state(void);
uint64_t gdt_slot_machine_address(unsigned idx);

#endif
