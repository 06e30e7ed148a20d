/*
 * grant_table.c — grant tables, version 1 (interface manual: "Grant
 * tables"; Xen 4.17 public/grant_table.h).
 *
 * Set-up: GNTTABOP_query_size says how many table frames we have and may
 * have; GNTTABOP_setup_table makes Xen allocate GNTTAB_WANT_FRAMES (or its
 * limit, if lower) and return their machine frames, which a PV guest maps
 * itself. We map them over a page-aligned area of our own .bss (the way
 * shared_info is mapped, so the direct map of those pfns points at Xen's
 * frames; mm_p2m's self-test accepts that for kernel-image pages).
 *
 * Entries (struct grant_entry_v1: flags, domid, frame): to grant, write
 * domid and frame, then — after a write barrier — flags =
 * GTF_permit_access (| GTF_readonly): Xen reads flags first, so it never
 * sees a half-written entry. To end access, flags go back to 0 with a
 * 16-bit compare-and-exchange that fails if Xen set GTF_reading or
 * GTF_writing meanwhile (the peer maps the page): then the grant stays and
 * the caller gets -XEN_EBUSY.
 *
 * Free references are a singly linked list threaded through next[]; an
 * entry handed out holds GREF_IN_USE there, so a double end_access is
 * caught. The first GNTTAB_NR_RESERVED_ENTRIES are the toolstack's
 * (GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE) and never enter the
 * list. List operations mask events, so handlers may grant too.
 */
#include "kernel.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "shell.h"
#include "../arch/x86_32/pagetable.h"

#define GREFS_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GREF_IN_USE 0xffffffffu
#define GREF_END 0xfffffffeu

static uint8_t area[GNTTAB_WANT_FRAMES][PAGE_SIZE] __attribute__((aligned(PAGE_SIZE)));
static struct grant_entry_v1 *table;
static uint32_t next[GNTTAB_WANT_FRAMES * GREFS_PER_FRAME];
static uint32_t free_head = GREF_END;
static unsigned nr_frames, max_frames, nr_entries, nr_free;
static bool ready, tried;

static int gnttab_setup(void)
{
    struct gnttab_query_size q = {.dom = DOMID_SELF};
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc || q.status != GNTST_okay) {
        printk("grant table: GNTTABOP_query_size: %s, status %d\n", xen_errname(rc), q.status);
        return rc ? (int)rc : -XEN_EIO;
    }
    max_frames = q.max_nr_frames;
    unsigned want = GNTTAB_WANT_FRAMES < max_frames ? GNTTAB_WANT_FRAMES : max_frames;
    if (!want) {
        printk("grant table: Xen allows us no frames\n");
        return -XEN_ENOSPC;
    }

    xen_pfn_t frames[GNTTAB_WANT_FRAMES];
    struct gnttab_setup_table s = {.dom = DOMID_SELF, .nr_frames = want};
    set_xen_guest_handle(s.frame_list, frames);
    rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
    if (rc || s.status != GNTST_okay) {
        printk("grant table: GNTTABOP_setup_table(%u frames): %s, status %d\n", want,
               xen_errname(rc), s.status);
        return rc ? (int)rc : -XEN_EIO;
    }
    for (unsigned i = 0; i < want; i++) {
        int err = map_page((unsigned long)area[i], frames[i], PTE_KERNEL_RW);
        if (err)
            return err; /* printed by map_page; the frames stay Xen's */
    }
    table = (struct grant_entry_v1 *)area;
    nr_frames = want;
    nr_entries = want * GREFS_PER_FRAME;
    for (uint32_t ref = 0; ref < GNTTAB_NR_RESERVED_ENTRIES; ref++)
        next[ref] = GREF_IN_USE; /* the toolstack's: never ours to give */
    for (uint32_t ref = nr_entries; ref-- > GNTTAB_NR_RESERVED_ENTRIES;) {
        next[ref] = free_head;
        free_head = ref;
        nr_free++;
    }
    return 0;
}

bool gnttab_available(void)
{
    if (!tried) {
        tried = true;
        ready = gnttab_setup() == 0;
    }
    return ready;
}

static int gnttab_init(void)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    printk("grant table: %u frames (Xen allows %u), %u entries, %u free\n", nr_frames,
           max_frames, nr_entries, nr_free);
    return 0;
}
INITCALL(INIT_DEVICES, gnttab_init);

int gnttab_grant_access(domid_t domid, xen_pfn_t mfn, bool readonly)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    unsigned long flags = irq_save();
    uint32_t ref = free_head;
    if (ref == GREF_END) {
        irq_restore(flags);
        return -XEN_ENOSPC;
    }
    free_head = next[ref];
    next[ref] = GREF_IN_USE;
    nr_free--;
    irq_restore(flags);

    struct grant_entry_v1 *e = &table[ref];
    e->domid = domid;
    e->frame = (uint32_t)mfn;
    wmb(); /* domid and frame before the flags that make them valid */
    WRITE_ONCE(e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    return (int)ref;
}

int gnttab_grant_page(domid_t domid, const void *page, bool readonly)
{
    return gnttab_grant_access(domid, (xen_pfn_t)(virt_to_machine(page) >> PAGE_SHIFT), readonly);
}

int gnttab_end_access(grant_ref_t ref)
{
    if (!ready || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= nr_entries ||
        next[ref] != GREF_IN_USE)
        return -XEN_EINVAL;
    uint16_t *fp = &table[ref].flags;
    uint16_t old = READ_ONCE(*fp);
    do {
        if (old & (GTF_reading | GTF_writing))
            return -XEN_EBUSY;
    } while (!__atomic_compare_exchange_n(fp, &old, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));

    unsigned long flags = irq_save();
    next[ref] = free_head;
    free_head = ref;
    nr_free++;
    irq_restore(flags);
    return 0;
}

struct grant_entry_v1 gnttab_entry(grant_ref_t ref)
{
    struct grant_entry_v1 e = {0};
    if (ready && ref < nr_entries) {
        e.flags = READ_ONCE(table[ref].flags);
        e.domid = READ_ONCE(table[ref].domid);
        e.frame = READ_ONCE(table[ref].frame);
    }
    return e;
}

void gnttab_get_info(struct gnttab_info *info)
{
    (void)gnttab_available();
    info->frames = nr_frames;
    info->max_frames = max_frames;
    info->entries = nr_entries;
    info->free = nr_free;
    info->in_use = nr_entries ? nr_entries - GNTTAB_NR_RESERVED_ENTRIES - nr_free : 0;
}

static int cmd_grants(int argc, char **argv)
{
    struct gnttab_info i;
    gnttab_get_info(&i);
    if (!ready) {
        printk("grants: no grant table (set-up failed, see the boot log)\n");
        return 1;
    }
    printk("grant table v1: %u frames (max %u), %u entries, %u reserved, %u in use, %u free\n",
           i.frames, i.max_frames, i.entries, (unsigned)GNTTAB_NR_RESERVED_ENTRIES, i.in_use,
           i.free);
    for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < nr_entries; ref++)
        if (next[ref] == GREF_IN_USE)
            printk("  ref %u: domid %u frame %#x flags %#x\n", ref, table[ref].domid,
                   table[ref].frame, table[ref].flags);
    return 0;
}
SHELL_COMMAND(grants, "grants", "grants", "grant table: size, references in use", cmd_grants);
