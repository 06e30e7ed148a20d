/*
 * grant_table.c — grant tables, version 1 (interface manual: "Grant
 * tables"; Xen 4.17 public/grant_table.h), the mechanism: set-up, grant
 * and end access. Beside it: grant_table_grow.c (GNTTABOP_setup_table for
 * more frames, and mapping them), grant_table_defer.c (grants a peer still
 * maps), grant_table_suspend.c (suspend and resume), grant_table_cmd.c
 * (the `grants` command), grant_table_priv.h (the state they share).
 *
 * Set-up: GNTTABOP_query_size says how many table frames we have and may
 * have (max_nr_frames); GNTTABOP_setup_table makes Xen allocate
 * GNTTAB_WANT_FRAMES (or its limit, if lower) and return their machine
 * frames, which a PV guest maps itself, here one after another in mm.h's
 * grant area (MM_GRANT_VA).
 *
 * Entries (struct grant_entry_v1: flags, domid, frame): to grant, write
 * domid and frame, then — after a write barrier — flags =
 * GTF_permit_access (| GTF_readonly): Xen reads flags first, so it never
 * sees a half-written entry. To end access, flags go back to 0 with a
 * 16-bit compare-and-exchange that fails if Xen set GTF_reading or
 * GTF_writing meanwhile (the peer maps the page): then the grant stays and
 * the caller gets -XEN_EBUSY.
 *
 * Free references are a singly linked list threaded through gnttab_next[]; an
 * entry handed out holds GREF_IN_USE there, so a double end_access is
 * caught. The first GNTTAB_NR_RESERVED_ENTRIES are the toolstack's
 * (GNTTAB_RESERVED_CONSOLE, GNTTAB_RESERVED_XENSTORE) and never enter the
 * list. List operations mask events, so handlers may grant too.
 */
#include "grant_table_priv.h"
#include "mm.h"

static struct grant_entry_v1 *const table = (struct grant_entry_v1 *)MM_GRANT_VA;
uint32_t *gnttab_next;
uint32_t gnttab_free_head = GREF_END;
unsigned gnttab_nr_frames, gnttab_max_frames, gnttab_nr_entries, gnttab_nr_free;
bool gnttab_ready;
static bool tried;

static int gnttab_setup(void)
{
    struct gnttab_query_size q = {.dom = DOMID_SELF};
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc || q.status != GNTST_okay) {
        printk("grant table: GNTTABOP_query_size: %s, status %d\n", xen_errname(rc), q.status);
        return rc ? (int)rc : -XEN_EIO;
    }
    gnttab_max_frames = q.max_nr_frames;
    if (gnttab_max_frames > MM_GRANT_PAGES) {
        printk("grant table: Xen allows %u frames, the grant area holds %lu: using those\n",
               gnttab_max_frames, MM_GRANT_PAGES);
        gnttab_max_frames = MM_GRANT_PAGES;
    }
    unsigned want = GNTTAB_WANT_FRAMES < gnttab_max_frames ? GNTTAB_WANT_FRAMES : gnttab_max_frames;
    if (!want) {
        printk("grant table: Xen allows us no frames\n");
        return -XEN_ENOSPC;
    }
    return gnttab_grow_to(want);
}

bool gnttab_available(void)
{
    if (!tried) {
        tried = true;
        gnttab_ready = gnttab_setup() == 0;
    }
    return gnttab_ready;
}

int gnttab_init(void)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    printk("grant table: %u frames (Xen allows %u; grows on demand), %u entries, %u free\n",
           gnttab_nr_frames, gnttab_max_frames, gnttab_nr_entries, gnttab_nr_free);
    return 0;
}

int gnttab_grant_access(domid_t domid, xen_pfn_t mfn, bool readonly)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    (void)gnttab_retry_deferred();
    if (READ_ONCE(gnttab_free_head) == GREF_END && !gnttab_grow())
        return -XEN_ENOSPC;
    unsigned long flags = irq_save();
    uint32_t ref = gnttab_free_head;
    if (ref == GREF_END) { /* a handler took the last one meanwhile */
        irq_restore(flags);
        return -XEN_ENOSPC;
    }
    gnttab_free_head = gnttab_next[ref];
    gnttab_next[ref] = GREF_IN_USE;
    gnttab_nr_free--;
    irq_restore(flags);

    struct grant_entry_v1 *e = &table[ref];
    e->domid = domid;
    e->frame = (uint32_t)mfn;
    xen_wmb(); /* domid and frame before the flags that make them valid */
    WRITE_ONCE(e->flags, (uint16_t)(GTF_permit_access | (readonly ? GTF_readonly : 0)));
    return (int)ref;
}

int gnttab_grant_page(domid_t domid, const void *page, bool readonly)
{
    return gnttab_grant_access(domid, virt_to_mfn(page), readonly);
}

int gnttab_end_access(grant_ref_t ref)
{
    if (!gnttab_ready || ref < GNTTAB_NR_RESERVED_ENTRIES || ref >= gnttab_nr_entries ||
        gnttab_next[ref] != GREF_IN_USE)
        return -XEN_EINVAL;
    uint16_t *fp = &table[ref].flags;
    uint16_t old = READ_ONCE(*fp);
    do {
        if (old & (GTF_reading | GTF_writing))
            return -XEN_EBUSY;
    } while (!__atomic_compare_exchange_n(fp, &old, 0, false, __ATOMIC_SEQ_CST, __ATOMIC_SEQ_CST));

    unsigned long flags = irq_save();
    gnttab_next[ref] = gnttab_free_head;
    gnttab_free_head = ref;
    gnttab_nr_free++;
    irq_restore(flags);
    return 0;
}

struct grant_entry_v1 gnttab_entry(grant_ref_t ref)
{
    struct grant_entry_v1 e = {0};
    if (gnttab_ready && ref < gnttab_nr_entries) {
        e.flags = READ_ONCE(table[ref].flags);
        e.domid = READ_ONCE(table[ref].domid);
        e.frame = READ_ONCE(table[ref].frame);
    }
    return e;
}

void gnttab_get_info(struct gnttab_info *info)
{
    (void)gnttab_available();
    info->frames = gnttab_nr_frames;
    info->max_frames = gnttab_max_frames;
    info->entries = gnttab_nr_entries;
    info->free = gnttab_nr_free;
    info->in_use = gnttab_nr_entries ? gnttab_nr_entries - GNTTAB_NR_RESERVED_ENTRIES - gnttab_nr_free : 0;
    info->growths = gnttab_growths;
    info->deferred = gnttab_nr_deferred;
}

