/*
 * addrspace.c — page tables of a ring-3 process (interface manual:
 * "Page-table updates"; Xen 4.17 public/xen.h, the comments on
 * MMUEXT_PIN_L3_TABLE and MMUEXT_NEW_BASEPTR; xen/arch/x86/mm.c).
 *
 * A process gets four table pages and its data pages, all from page_alloc
 * (so the kernel also reaches them through the direct map):
 *   - an L3 (the PAE PDPT; Xen wants a whole page): slot 0 -> the user L2,
 *     slots 1-2 empty, slot 3 -> the copy below;
 *   - the user L2: one entry, the user L1;
 *   - the user L1: the image pages at USER_IMAGE_VA and the stack pages
 *     under USER_STACK_TOP, PTE_US set (ring 3 may use them); nothing else,
 *     so a null pointer, a stack overflow or any stray address faults;
 *   - a copy of the kernel's slot-3 L2 (3-4 GiB): the same kernel L1s, so
 *     the kernel is mapped in every address space, without PTE_US in its
 *     L1 entries (ring 3 cannot touch it). A copy, not the kernel's own L2:
 *     the L2 in slot 3 of a 32-bit guest's L3 holds Xen's private mappings
 *     (Xen fills its slots from HYPERVISOR_VIRT_START up when it types the
 *     page, init_xen_pae_l2_slots) and Xen allows it under one L3 only
 *     (mm.c pae_xen_mappings_check: "PAE L3 3rd slot is shared", -EINVAL).
 *     The kernel never adds an L2 entry after boot (directmap.c makes every
 *     L1 of 3-4 GiB then), so a copy taken now stays right.
 * The pages are filled while they are ordinary writable pages, then their
 * direct-map entries are made read-only (Xen types no page as a table while
 * a writable mapping of it exists), then the L3 is pinned, which makes Xen
 * validate the whole tree once (the slot-3 copy is not pinned on its own:
 * Xen types it as the L3's "pae_xen_l2" and a pinned L2 cannot be one).
 * Destroying reverses it: unpin (Xen drops the types), make the pages
 * writable again, free them.
 *
 * Switching: context_switch (sched.c) adds MMUEXT_NEW_BASEPTR with the next
 * thread's L3 frame to its multicall (pt_switch_prepare, below) when
 * the base changes. Xen flushes the TLB with it; the kernel's global-free
 * mappings are reloaded from the same L1s.
 */
#include "addrspace.h"
#include "mm.h"
#include "multicall.h"
#include "user_abi.h"
#include "../pagetable.h"

_Static_assert(USER_PAGE_SIZE == PAGE_SIZE, "user_abi.h's page is Xen's");
_Static_assert(USER_IMAGE_VA % PT_L2_SPAN == 0 && USER_STACK_TOP - USER_IMAGE_VA == PT_L2_SPAN,
               "the image and the stack share one L1 table");
_Static_assert((USER_IMAGE_PAGES + USER_STACK_PAGES) * PAGE_SIZE < PT_L2_SPAN,
               "room for an unmapped guard between image and stack");
_Static_assert(USER_STACK_TOP <= KERNEL_VIRT_BASE, "user space below the kernel");

#define L3_SLOT_USER pt_l3_index(USER_IMAGE_VA)
#define L3_SLOT_KERNEL pt_l3_index(KERNEL_VIRT_BASE)
/* Present, writable, user, accessed and dirty set up front (as PTE_KERNEL_RW). */
#define PTE_USER_RW (PTE_P | PTE_RW | PTE_US | PTE_A | PTE_D)

enum { T_L3, T_L2_USER, T_L1_USER, T_L2_KERNEL, TABLE_PAGES };

struct addrspace {
    pte_t *table[TABLE_PAGES];
    void *image[USER_IMAGE_PAGES];
    void *stack[USER_STACK_PAGES];
    bool pinned;
};

/* The kernel's L2 for 3-4 GiB, in the L3 Xen's domain builder made. */
static const pte_t *kernel_l3(void)
{
    return (const pte_t *)boot_start_info->pt_base;
}

static const pte_t *kernel_l2(void)
{
    return pfn_to_virt(mfn_to_pfn((xen_pfn_t)pte_frame(kernel_l3()[L3_SLOT_KERNEL])));
}

static unsigned long stack_bottom(void)
{
    return USER_STACK_TOP - USER_STACK_PAGES * PAGE_SIZE;
}

/* The page holding user address va, through the kernel's mapping; NULL when
 * the process has none there. */
static void *page_of(const struct addrspace *as, unsigned long va)
{
    if (va >= USER_IMAGE_VA && va < USER_IMAGE_VA + USER_IMAGE_PAGES * PAGE_SIZE)
        return as->image[(va - USER_IMAGE_VA) / PAGE_SIZE];
    if (va >= stack_bottom() && va < USER_STACK_TOP)
        return as->stack[(va - stack_bottom()) / PAGE_SIZE];
    return NULL;
}

/* What goes back to the allocator: everything, the data pages only (the
 * tables may still be read-only), or nothing (Xen may still hold the
 * tables, whose L1 maps the data pages). */
enum give_back { GIVE_ALL, GIVE_DATA, GIVE_NONE };

static void free_pages(struct addrspace *as, enum give_back what)
{
    if (what == GIVE_NONE) {
        printk("addrspace: %u pages stay out of use\n",
               TABLE_PAGES + USER_IMAGE_PAGES + USER_STACK_PAGES);
        free(as);
        return;
    }
    for (unsigned i = 0; i < USER_IMAGE_PAGES; i++)
        if (as->image[i])
            page_free(as->image[i], 0);
    for (unsigned i = 0; i < USER_STACK_PAGES; i++)
        if (as->stack[i])
            page_free(as->stack[i], 0);
    for (unsigned i = 0; what == GIVE_ALL && i < TABLE_PAGES; i++)
        if (as->table[i])
            page_free(as->table[i], 0);
    free(as);
}

static void *zeroed_page(void)
{
    void *p = page_alloc(0);
    if (p)
        memset(p, 0, PAGE_SIZE);
    return p;
}

static xen_pfn_t mfn_of(const void *page)
{
    return pfn_to_mfn(virt_to_pfn(page));
}

static int tables_writable(struct addrspace *as, bool writable)
{
    return pt_tables_writable((void *const *)as->table, TABLE_PAGES, writable);
}

struct addrspace *addrspace_create(const uint8_t *image, size_t len)
{
    struct addrspace *as = calloc(1, sizeof(*as));
    /* Xen wrote the flags of its own L3 entries (with RW and US, which it
     * adds to every present one: adjust_guest_l3e): use the same. */
    uint64_t l3_flags = kernel_l3()[L3_SLOT_KERNEL] & ~PTE_ADDR_MASK;
    int rc;

    if (!as || len > USER_IMAGE_PAGES * PAGE_SIZE) {
        printk("addrspace: %s\n", as ? "image larger than USER_IMAGE_PAGES" : "no memory");
        if (as)
            free(as);
        return NULL;
    }
    for (unsigned i = 0; i < TABLE_PAGES; i++)
        if (!(as->table[i] = zeroed_page()))
            goto no_memory;
    for (unsigned i = 0; i < USER_IMAGE_PAGES; i++)
        if (!(as->image[i] = zeroed_page()))
            goto no_memory;
    for (unsigned i = 0; i < USER_STACK_PAGES; i++)
        if (!(as->stack[i] = zeroed_page()))
            goto no_memory;

    for (size_t off = 0; off < len; off += PAGE_SIZE)
        memcpy(as->image[off / PAGE_SIZE], image + off, len - off < PAGE_SIZE ? len - off : PAGE_SIZE);

    pte_t *l1 = as->table[T_L1_USER];
    for (unsigned i = 0; i < USER_IMAGE_PAGES; i++)
        l1[pt_l1_index(USER_IMAGE_VA + i * PAGE_SIZE)] = pte_make(mfn_of(as->image[i]), PTE_USER_RW);
    for (unsigned i = 0; i < USER_STACK_PAGES; i++)
        l1[pt_l1_index(stack_bottom() + i * PAGE_SIZE)] = pte_make(mfn_of(as->stack[i]), PTE_USER_RW);
    as->table[T_L2_USER][pt_l2_index(USER_IMAGE_VA)] = pte_make(mfn_of(l1), PDE_KERNEL);
    as->table[T_L3][L3_SLOT_USER] = pte_make(mfn_of(as->table[T_L2_USER]), l3_flags);
    pt_kernel_slot_copy(as->table[T_L3], as->table[T_L2_KERNEL]);

    if ((rc = tables_writable(as, false))) {
        printk("addrspace: cannot make the tables read-only: %s\n", xen_errname(rc));
        goto leak; /* some entries may be read-only already: keep the tables out of use */
    }
    if ((rc = mmuext_pin(MMUEXT_PIN_L3_TABLE, mfn_of(as->table[T_L3])))) {
        free_pages(as, tables_writable(as, true) ? GIVE_DATA : GIVE_ALL);
        return NULL;
    }
    as->pinned = true;
    return as;

no_memory:
    printk("addrspace: no memory for a process\n");
    free_pages(as, GIVE_ALL);
    return NULL;
leak:
    free_pages(as, GIVE_DATA);
    return NULL;
}

void addrspace_destroy(struct addrspace *as)
{
    if (pt_loaded_base() == addrspace_base(as))
        panic("addrspace_destroy: the address space is loaded");
    if (as->pinned && mmuext_unpin(mfn_of(as->table[T_L3]))) {
        free_pages(as, GIVE_NONE);
        return;
    }
    free_pages(as, tables_writable(as, true) ? GIVE_DATA : GIVE_ALL);
}

unsigned long addrspace_base(const struct addrspace *as)
{
    return virt_to_pfn(as->table[T_L3]);
}

bool addrspace_copy_from(const struct addrspace *as, void *dst, unsigned long va, size_t len)
{
    if (va + len < va)
        return false;
    for (size_t done = 0; done < len;) { /* check every page first */
        if (!page_of(as, va + done))
            return false;
        done += PAGE_SIZE - ((va + done) & ~PAGE_MASK);
    }
    for (size_t done = 0; done < len;) {
        unsigned long at = va + done, off = at & ~PAGE_MASK;
        size_t n = len - done < PAGE_SIZE - off ? len - done : PAGE_SIZE - off;
        memcpy((uint8_t *)dst + done, (const uint8_t *)page_of(as, at) + off, n);
        done += n;
    }
    return true;
}

xen_pfn_t addrspace_lookup(const struct addrspace *as, unsigned long va, bool *user)
{
    pte_t e = 0;

    if (va >= USER_IMAGE_VA && va < USER_STACK_TOP)
        e = as->table[T_L1_USER][pt_l1_index(va)]; /* its one user L1 */
    else if (va >= KERNEL_VIRT_BASE)
        e = pt_lookup(va); /* its slot 3 holds the kernel's L2 entries (addrspace_kernel_l2) */
    *user = (e & PTE_US) != 0;
    return (e & PTE_P) ? (xen_pfn_t)pte_frame(e) : 0;
}

xen_pfn_t addrspace_kernel_l2(const struct addrspace *as, unsigned *same, unsigned *total)
{
    *total = pt_l2_index(HYPERVISOR_VIRT_START);
    *same = 0;
    for (unsigned i = 0; i < *total; i++)
        *same += as->table[T_L2_KERNEL][i] == kernel_l2()[i];
    return mfn_of(as->table[T_L2_KERNEL]);
}

/* ---- the page-table base: which L3 is loaded ------------------------------- */

/* Bases are kept as the L3's pfn, not its frame: a restore gives every page
 * a new frame (and re-pins the tables), the pfn stays. */
static unsigned long loaded_base; /* 0: the kernel's, as Xen started us */

unsigned long pt_kernel_base(void)
{
    return virt_to_pfn(kernel_l3());
}

unsigned long pt_loaded_base(void)
{
    return loaded_base ? loaded_base : pt_kernel_base();
}

void pt_switch_prepare(struct multicall *mc, unsigned long base)
{
    /* Read by Xen during the multicall, which runs before the next switch
     * can build another: one is enough. */
    static struct mmuext_op op = {.cmd = MMUEXT_NEW_BASEPTR};

    if (!base)
        base = pt_kernel_base();
    if (base == pt_loaded_base())
        return;
    op.arg1.mfn = pfn_to_mfn(base); /* Xen takes the frame */
    struct multicall_entry *e = multicall_add(mc, __HYPERVISOR_mmuext_op);
    e->args[0] = (unsigned long)&op;
    e->args[1] = 1;    /* count */
    e->args[2] = 0;    /* no "done" count: the entry's result says it */
    e->args[3] = DOMID_SELF;
    loaded_base = base;
}
