/*
 * grant.h — grant tables, version 1 (interface manual: "Grant tables"; Xen
 * 4.17 public/grant_table.h). Implemented in kernel/xen/grant_table/grant_table.c.
 *
 * To let another domain (a backend) use one of our pages, we write an entry
 * in our grant table: "domain D may map/access frame F (read-only?)"; its
 * index, the grant reference, is what we pass to the backend (usually via
 * XenStore: ring-ref, or inside ring requests). Ending the access gives the
 * entry back; it fails while the peer still has the page mapped.
 *
 *   int ref = gnttab_grant_page(backend_id, ring_page, false);
 *   if (ref < 0) ...error...
 *   xs_printf(XS_TX_NONE, "device/vif/0/tx-ring-ref", "%d", ref);
 *   ...
 *   if (gnttab_end_access(ref) == -XEN_EBUSY) ...backend still maps it: try later...
 *
 * Any context (event handlers included) may grant and end access once the
 * table is set up (gnttab_init, or the first call, which must come from a
 * thread). Errors are negative Xen errno values. The first
 * GNTTAB_NR_RESERVED_ENTRIES references belong to the toolstack (console,
 * xenstore) and are never handed out.
 */
#ifndef XENOLITH_GRANT_H
#define XENOLITH_GRANT_H

#include "kernel.h"

#define GNTTAB_WANT_FRAMES 4 /* table frames at start (512 entries each) */
#define GNTTAB_GROW_FRAMES 4 /* frames added when references run out */

/* Start of day (main.c): the table set up and reported. */
int gnttab_init(void);
bool gnttab_available(void); /* the table is set up (sets it up if needed) */

/* Grant `domid` access to machine frame `mfn`. Returns the reference
 * (>= GNTTAB_NR_RESERVED_ENTRIES), or -XEN_ENOSPC when none is free. When
 * none is free, a caller on a thread with events enabled makes the table
 * grow (GNTTABOP_setup_table, up to Xen's max_nr_frames) first. */
int gnttab_grant_access(domid_t domid, xen_pfn_t mfn, bool readonly);
/* The same for the page holding kernel address `page` (direct map). */
int gnttab_grant_page(domid_t domid, const void *page, bool readonly);
/* Withdraw the grant and free the reference: 0; -XEN_EBUSY (nothing
 * changed) while the peer maps it (GTF_reading/GTF_writing); -XEN_EINVAL
 * for a reference that is not one we handed out. */
int gnttab_end_access(grant_ref_t ref);
/* End the grant *ref (when >= 0; *ref becomes -1). When the peer still
 * maps the page, the grant is deferred instead: reference and page wait in
 * grant_table.c, never reused nor freed while mapped, and are ended and
 * freed by a later gnttab_retry_deferred once the peer has unmapped them;
 * "<fmt...> (-EBUSY): page kept until the peer unmaps it" is printed. Either
 * way the page is no longer the caller's: *page becomes NULL. (With the
 * deferred list full, the page is leaked for good, and said so.) Returns 0
 * or gnttab_end_access's error. */
int gnttab_end_or_defer(int *ref, void **page, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* End the deferred grants the peer no longer maps and free their pages:
 * how many. From a thread with events enabled (gnttab_grant_access and
 * `grants` call it); a no-op otherwise. */
unsigned gnttab_retry_deferred(void);

/* The entry as it is now (for tests and the `grants` command). */
struct grant_entry_v1 gnttab_entry(grant_ref_t ref);

struct gnttab_info {
    unsigned frames, max_frames; /* in use / Xen's limit for us (capped by mm.h's area) */
    unsigned growths;            /* times the table grew */
    unsigned entries;            /* frames * entries per frame */
    unsigned in_use, free;       /* references handed out / available */
    unsigned deferred;           /* of in_use: ended by us, still mapped by the peer */
};
void gnttab_get_info(struct gnttab_info *info);

#endif
