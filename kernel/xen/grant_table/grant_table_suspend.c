/*
 * grant_table_suspend.c — the grant table across suspend and resume
 * (interface manual "Grant tables"; Xen 4.17 public/sched.h
 * SHUTDOWN_suspend). Called by suspend.c; the mechanism is grant_table.c's.
 */
#include "grant_table_priv.h"
#include "suspend.h"
#include "../../arch/x86_32/pagetable.h"

/* The table's frames are Xen's, not the domain's: the save side refuses page
 * tables that map them, so they are unmapped for the suspend. */
void gnttab_suspend(void)
{
    for (unsigned i = 0; i < gnttab_nr_frames; i++)
        (void)unmap_page(MM_GRANT_VA + i * PAGE_SIZE);
}

int gnttab_resume(bool new_domain)
{
    if (!gnttab_ready)
        return 0;
    unsigned frames = gnttab_nr_frames;
    if (new_domain)
        gnttab_deferred_forget();
    unsigned long flags = irq_save();
    if (new_domain) {
        /* A new, empty table: every reference we handed out is void (their
         * owners forget them without ending them) and all are free again. */
        free(gnttab_next);
        gnttab_next = NULL;
        gnttab_free_head = GREF_END;
        gnttab_nr_free = gnttab_nr_entries = 0;
    }
    /* Map every frame again from the first; in the same domain the entries
     * and the free list stay as they were (gnttab_grow_to keeps them). */
    gnttab_nr_frames = 0;
    irq_restore(flags);
    int rc = gnttab_grow_to(frames);
    if (rc)
        printk("grant table: cannot map the table again after resume: %s\n", xen_errname(rc));
    return rc;
}
