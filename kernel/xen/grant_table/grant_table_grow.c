/*
 * grant_table_grow.c — the grant table's frames (interface manual "Grant
 * tables"; Xen 4.17 public/grant_table.h GNTTABOP_setup_table): asking Xen
 * for more, mapping them and giving their references to grant_table.c's
 * free list. Used at set-up, on resume, and when references run out.
 *
 * Growth: when the free list runs dry, GNTTABOP_setup_table is asked again
 * with GNTTAB_GROW_FRAMES more frames (never past max_nr_frames): Xen grows
 * the table and returns every frame's number; the new ones are mapped after
 * the old, the next[] array is replaced by a larger copy and the new
 * references join the free list. Only from a thread with events enabled
 * (it allocates and maps pages, which an event handler must not do); a
 * handler, or a table at Xen's maximum, gets -XEN_ENOSPC.
 *
 */
#include "grant_table_priv.h"
#include "../../arch/x86_32/pagetable.h"

unsigned gnttab_growths;

/* Table frames [gnttab_nr_frames, want): Xen grows the table, we map the new
 * frames and give their references to the free list. 0 or -errno. */
int gnttab_grow_to(unsigned want)
{
    xen_pfn_t *frames = malloc(want * sizeof(*frames));
    uint32_t *bigger = malloc(want * GREFS_PER_FRAME * sizeof(*bigger));
    int err = 0;
    if (!frames || !bigger) {
        err = -XEN_ENOMEM;
        goto out;
    }
    struct gnttab_setup_table s = {.dom = DOMID_SELF, .nr_frames = want};
    set_xen_guest_handle(s.frame_list, frames);
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_setup_table, &s, 1);
    if (rc || s.status != GNTST_okay) {
        printk("grant table: GNTTABOP_setup_table(%u frames): %s, status %d\n", want,
               xen_errname(rc), s.status);
        err = rc ? (int)rc : -XEN_EIO;
        goto out;
    }
    for (unsigned i = gnttab_nr_frames; i < want; i++) {
        err = map_page(MM_GRANT_VA + i * PAGE_SIZE, frames[i], PTE_KERNEL_RW);
        if (err) {
            while (i-- > gnttab_nr_frames)
                (void)unmap_page(MM_GRANT_VA + i * PAGE_SIZE);
            goto out; /* printed by map_page; Xen keeps the larger table, unused */
        }
    }

    unsigned long flags = irq_save(); /* handlers use gnttab_next[] and the free list */
    uint32_t old_entries = gnttab_nr_entries, new_entries = want * GREFS_PER_FRAME;
    if (old_entries)
        memcpy(bigger, gnttab_next, old_entries * sizeof(*bigger));
    for (uint32_t ref = 0; ref < GNTTAB_NR_RESERVED_ENTRIES && ref < new_entries; ref++)
        bigger[ref] = GREF_IN_USE; /* the toolstack's: never ours to give */
    uint32_t first = old_entries > GNTTAB_NR_RESERVED_ENTRIES ? old_entries
                                                               : GNTTAB_NR_RESERVED_ENTRIES;
    for (uint32_t ref = new_entries; ref-- > first;) {
        bigger[ref] = gnttab_free_head;
        gnttab_free_head = ref;
        gnttab_nr_free++;
    }
    uint32_t *old = gnttab_next;
    gnttab_next = bigger;
    bigger = old;
    gnttab_nr_frames = want;
    gnttab_nr_entries = new_entries;
    irq_restore(flags);
out:
    free(bigger); /* the old array, or the unused new one */
    free(frames);
    return err;
}

/* The free list is empty: grow the table if we may (see the top comment).
 * True when there are free references now. */
bool gnttab_grow(void)
{
    if (this_vcpu()->evtchn_upcall_mask || gnttab_nr_frames >= gnttab_max_frames)
        return false;
    unsigned want = gnttab_nr_frames + GNTTAB_GROW_FRAMES;
    if (want > gnttab_max_frames)
        want = gnttab_max_frames;
    if (gnttab_grow_to(want))
        return false;
    gnttab_growths++;
    return gnttab_free_head != GREF_END;
}
