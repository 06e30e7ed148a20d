/*
 * grant_table.c — grant tables, version 1 (interface manual: "Grant
 * tables"; Xen 4.17 public/grant_table.h).
 *
 * Set-up: GNTTABOP_query_size says how many table frames we have and may
 * have (max_nr_frames); GNTTABOP_setup_table makes Xen allocate
 * GNTTAB_WANT_FRAMES (or its limit, if lower) and return their machine
 * frames, which a PV guest maps itself, here one after another in mm.h's
 * grant area (MM_GRANT_VA).
 *
 * Growth: when the free list runs dry, GNTTABOP_setup_table is asked again
 * with GNTTAB_GROW_FRAMES more frames (never past max_nr_frames): Xen grows
 * the table and returns every frame's number; the new ones are mapped after
 * the old, the next[] array is replaced by a larger copy and the new
 * references join the free list. Only from a thread with events enabled
 * (it allocates and maps pages, which an event handler must not do); a
 * handler, or a table at Xen's maximum, gets -XEN_ENOSPC.
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
#include "suspend.h"
#include "../arch/x86_32/pagetable.h"

#define GREFS_PER_FRAME (PAGE_SIZE / sizeof(struct grant_entry_v1))
#define GREF_IN_USE 0xffffffffu
#define GREF_END 0xfffffffeu

static struct grant_entry_v1 *const table = (struct grant_entry_v1 *)MM_GRANT_VA;
static uint32_t *next; /* nr_entries of them, malloc'd */
static uint32_t free_head = GREF_END;
static unsigned nr_frames, max_frames, nr_entries, nr_free, growths;
static bool ready, tried;

/* A grant whose page the peer still maps can neither be reused nor its
 * page freed: it waits here, with its page, and is tried again whenever a
 * thread grants or reads the table (gnttab_retry_deferred). Once the peer
 * has unmapped it, the reference and the page come back. */
#define GNTTAB_DEFER_MAX 256

static struct {
    grant_ref_t ref;
    void *page;
} deferred[GNTTAB_DEFER_MAX];
static unsigned nr_deferred;
static unsigned long deferrals, deferred_ended, deferred_lost;


/* Table frames [nr_frames, want): Xen grows the table, we map the new
 * frames and give their references to the free list. 0 or -errno. */
static int gnttab_grow_to(unsigned want)
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
    for (unsigned i = nr_frames; i < want; i++) {
        err = map_page(MM_GRANT_VA + i * PAGE_SIZE, frames[i], PTE_KERNEL_RW);
        if (err) {
            while (i-- > nr_frames)
                (void)unmap_page(MM_GRANT_VA + i * PAGE_SIZE);
            goto out; /* printed by map_page; Xen keeps the larger table, unused */
        }
    }

    unsigned long flags = irq_save(); /* handlers use next[] and the free list */
    uint32_t old_entries = nr_entries, new_entries = want * GREFS_PER_FRAME;
    if (old_entries)
        memcpy(bigger, next, old_entries * sizeof(*bigger));
    for (uint32_t ref = 0; ref < GNTTAB_NR_RESERVED_ENTRIES && ref < new_entries; ref++)
        bigger[ref] = GREF_IN_USE; /* the toolstack's: never ours to give */
    uint32_t first = old_entries > GNTTAB_NR_RESERVED_ENTRIES ? old_entries
                                                               : GNTTAB_NR_RESERVED_ENTRIES;
    for (uint32_t ref = new_entries; ref-- > first;) {
        bigger[ref] = free_head;
        free_head = ref;
        nr_free++;
    }
    uint32_t *old = next;
    next = bigger;
    bigger = old;
    nr_frames = want;
    nr_entries = new_entries;
    irq_restore(flags);
out:
    free(bigger); /* the old array, or the unused new one */
    free(frames);
    return err;
}

/* ---- suspend and resume (suspend.h) --------------------------------------- */

/* The table's frames are Xen's, not the domain's: the save side refuses page
 * tables that map them, so they are unmapped for the suspend. */
void gnttab_suspend(void)
{
    for (unsigned i = 0; i < nr_frames; i++)
        (void)unmap_page(MM_GRANT_VA + i * PAGE_SIZE);
}

int gnttab_resume(bool new_domain)
{
    if (!ready)
        return 0;
    unsigned frames = nr_frames;
    if (new_domain) { /* no peer maps a deferred page of the old domain's any more */
        for (unsigned i = 0; i < nr_deferred; i++)
            if (deferred[i].page)
                page_free(deferred[i].page, 0);
        nr_deferred = 0;
    }
    unsigned long flags = irq_save();
    if (new_domain) {
        /* A new, empty table: every reference we handed out is void (their
         * owners forget them without ending them) and all are free again. */
        free(next);
        next = NULL;
        free_head = GREF_END;
        nr_free = nr_entries = 0;
    }
    /* Map every frame again from the first; in the same domain the entries
     * and the free list stay as they were (gnttab_grow_to keeps them). */
    nr_frames = 0;
    irq_restore(flags);
    int rc = gnttab_grow_to(frames);
    if (rc)
        printk("grant table: cannot map the table again after resume: %s\n", xen_errname(rc));
    return rc;
}

static int gnttab_setup(void)
{
    struct gnttab_query_size q = {.dom = DOMID_SELF};
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_query_size, &q, 1);
    if (rc || q.status != GNTST_okay) {
        printk("grant table: GNTTABOP_query_size: %s, status %d\n", xen_errname(rc), q.status);
        return rc ? (int)rc : -XEN_EIO;
    }
    max_frames = q.max_nr_frames;
    if (max_frames > MM_GRANT_PAGES) {
        printk("grant table: Xen allows %u frames, the grant area holds %lu: using those\n",
               max_frames, MM_GRANT_PAGES);
        max_frames = MM_GRANT_PAGES;
    }
    unsigned want = GNTTAB_WANT_FRAMES < max_frames ? GNTTAB_WANT_FRAMES : max_frames;
    if (!want) {
        printk("grant table: Xen allows us no frames\n");
        return -XEN_ENOSPC;
    }
    return gnttab_grow_to(want);
}

/* The free list is empty: grow the table if we may (see the file comment).
 * True when there are free references now. */
static bool gnttab_grow(void)
{
    if (this_vcpu()->evtchn_upcall_mask || nr_frames >= max_frames)
        return false;
    unsigned want = nr_frames + GNTTAB_GROW_FRAMES;
    if (want > max_frames)
        want = max_frames;
    if (gnttab_grow_to(want))
        return false;
    growths++;
    return free_head != GREF_END;
}

bool gnttab_available(void)
{
    if (!tried) {
        tried = true;
        ready = gnttab_setup() == 0;
    }
    return ready;
}

int gnttab_init(void)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    printk("grant table: %u frames (Xen allows %u; grows on demand), %u entries, %u free\n",
           nr_frames, max_frames, nr_entries, nr_free);
    return 0;
}

int gnttab_grant_access(domid_t domid, xen_pfn_t mfn, bool readonly)
{
    if (!gnttab_available())
        return -XEN_ENODEV;
    (void)gnttab_retry_deferred();
    if (READ_ONCE(free_head) == GREF_END && !gnttab_grow())
        return -XEN_ENOSPC;
    unsigned long flags = irq_save();
    uint32_t ref = free_head;
    if (ref == GREF_END) { /* a handler took the last one meanwhile */
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

/* ---- grants the peer still maps --------------------------------------------- */

unsigned gnttab_retry_deferred(void)
{
    if (!nr_deferred || this_vcpu()->evtchn_upcall_mask)
        return 0; /* page_free is for threads with events enabled */
    unsigned ended = 0;
    for (unsigned i = 0; i < nr_deferred;) {
        if (gnttab_end_access(deferred[i].ref)) {
            i++;
            continue;
        }
        if (deferred[i].page)
            page_free(deferred[i].page, 0);
        deferred[i] = deferred[--nr_deferred];
        deferred_ended++;
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
    if (rc == -XEN_EBUSY && nr_deferred < GNTTAB_DEFER_MAX) {
        deferred[nr_deferred].ref = r;
        deferred[nr_deferred].page = *page;
        nr_deferred++;
        deferrals++;
        printk("%s (%s): page kept until the peer unmaps it\n", what, xen_errname(rc));
    } else {
        deferred_lost++;
        printk("%s (%s): page leaked on purpose\n", what, xen_errname(rc));
    }
    *page = NULL; /* not the caller's any more */
    return rc;
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
    info->growths = growths;
    info->deferred = nr_deferred;
}

static int cmd_grants(int argc, char **argv)
{
    struct gnttab_info i;
    if (!gnttab_available()) {
        printk("grants: no grant table (set-up failed, see the boot log)\n");
        return 1;
    }
    (void)gnttab_retry_deferred();
    gnttab_get_info(&i);
    printk("grant table v1: %u frames (max %u), %u entries, %u reserved, %u in use, %u free; "
           "grown %u times\n", i.frames, i.max_frames, i.entries,
           (unsigned)GNTTAB_NR_RESERVED_ENTRIES, i.in_use, i.free, i.growths);
    printk("still mapped by a peer: %u deferred now; %lu deferred in all, %lu ended since, "
           "%lu pages leaked\n", i.deferred, deferrals, deferred_ended, deferred_lost);
    for (uint32_t ref = GNTTAB_NR_RESERVED_ENTRIES; ref < nr_entries; ref++)
        if (next[ref] == GREF_IN_USE)
            printk("  ref %u: domid %u frame %#x flags %#x\n", ref, table[ref].domid,
                   table[ref].frame, table[ref].flags);
    return 0;
}
SHELL_COMMAND(grants, "grants", "grants", "grant table: size, references in use", cmd_grants);
