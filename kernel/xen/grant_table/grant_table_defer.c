/*
 * grant_table_defer.c — ending a grant the peer still maps (interface manual
 * "Grant tables": GTF_reading/GTF_writing in the entry's flags). Such a
 * grant can neither be reused nor its page freed; gnttab_end_or_defer keeps
 * it here, and gnttab_retry_deferred ends it once the peer has unmapped it.
 */
#include "grant_table_priv.h"

/* A grant whose page the peer still maps can neither be reused nor its
 * page freed: it waits here, with its page, and is tried again whenever a
 * thread grants or reads the table (gnttab_retry_deferred). Once the peer
 * has unmapped it, the reference and the page come back. */
#define GNTTAB_DEFER_MAX 256

static struct {
    grant_ref_t ref;
    void *page;
} deferred[GNTTAB_DEFER_MAX];
unsigned gnttab_nr_deferred;
unsigned long gnttab_deferrals, gnttab_deferred_ended, gnttab_deferred_lost;

unsigned gnttab_retry_deferred(void)
{
    if (!gnttab_nr_deferred || this_vcpu()->evtchn_upcall_mask)
        return 0; /* page_free is for threads with events enabled */
    unsigned ended = 0;
    for (unsigned i = 0; i < gnttab_nr_deferred;) {
        if (gnttab_end_access(deferred[i].ref)) {
            i++;
            continue;
        }
        if (deferred[i].page)
            page_free(deferred[i].page, 0);
        deferred[i] = deferred[--gnttab_nr_deferred];
        gnttab_deferred_ended++;
        ended++;
    }
    return ended;
}

int gnttab_end_or_defer(int *ref, void **page, const char *fmt, ...)
{
    if (*ref < 0)
        return 0;
    grant_ref_t r = (grant_ref_t)*ref;
    int rc = gnttab_end_access(r);
    *ref = -1;
    if (!rc)
        return 0;
    char what[160];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof(what), fmt, ap);
    va_end(ap);
    if (rc == -XEN_EBUSY && gnttab_nr_deferred < GNTTAB_DEFER_MAX) {
        deferred[gnttab_nr_deferred].ref = r;
        deferred[gnttab_nr_deferred].page = *page;
        gnttab_nr_deferred++;
        gnttab_deferrals++;
        printk("%s (%s): page kept until the peer unmaps it\n", what, xen_errname(rc));
    } else {
        gnttab_deferred_lost++;
        printk("%s (%s): page leaked on purpose\n", what, xen_errname(rc));
    }
    *page = NULL; /* not the caller's any more */
    return rc;
}

/* A new domain: no peer maps a page of the old one's any more. */
void gnttab_deferred_forget(void)
{
    for (unsigned i = 0; i < gnttab_nr_deferred; i++)
        if (deferred[i].page)
            page_free(deferred[i].page, 0);
    gnttab_nr_deferred = 0;
}
