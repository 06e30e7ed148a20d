/*
 * grant_status.c — fuzzes what the grant-table code makes of what Xen
 * writes (kernel/xen/grant_table/: grant_table.c, grant_table_grow.c,
 * grant_table_defer.c; Xen 4.17 public/grant_table.h): the GNTST_*
 * status and return code of GNTTABOP_query_size and GNTTABOP_setup_table,
 * max_nr_frames, frames that fail to map, and the entry flags read back
 * from the shared table (GTF_reading/GTF_writing while the peer maps a
 * page, or any other bits).
 *
 * The three files are included, not linked, so that each input starts
 * from a table never set up. The table lives where the kernel puts it
 * (mm.h's MM_GRANT_VA, here an area of the harness's), its frames readable only
 * once map_page has mapped them, so an entry read past the table's
 * frames crashes. The input is Xen's answers (the hypercall's return
 * code, status, max_nr_frames; whether each frame maps), then a script:
 * grant, end, end or defer a page, the peer mapping or unmapping (flags
 * written into an entry), retry the deferred grants, read an entry or the
 * counts, with events masked or not.
 * Checks: a reference handed out is no toolstack one, within the table and
 * not handed out twice, its entry says what was granted; ending succeeds
 * only for a reference in use whose entry the peer does not map, and
 * leaves flags 0; the counts add up and the free list holds exactly the
 * free references; Xen is never asked for more frames than the grant area
 * holds; once the peer unmaps everything, every grant ends and every page
 * comes back.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>

#include "fuzz_input.h"
#include "rename.h"
#include "mm.h"

/* The grant area, here in the harness's memory (the kernel's address is
 * the host's mmap area): frames not mapped are PROT_NONE. */
#define GRANT_AREA_SIZE (MM_GRANT_PAGES * PAGE_SIZE)
static char grant_area[GRANT_AREA_SIZE] __attribute__((aligned(PAGE_SIZE)));
#undef MM_GRANT_VA
#define MM_GRANT_VA ((unsigned long)grant_area)

#include "grant_table/grant_table_priv.h"

static long fuzz_grant_table_op(unsigned cmd, void *uop, unsigned count);
#define HYPERVISOR_grant_table_op fuzz_grant_table_op
#include "grant_table/grant_table.c"
#include "grant_table/grant_table_defer.c"
#include "grant_table/grant_table_grow.c"

enum op {
    GRANT, GRANT_MANY, END, END_OR_DEFER, DEFER_ALL, PEER_FLAGS, PEER_UNMAP, RETRY, ENTRY, INFO,
    OPS
};

#define MAX_OPS 48
#define HELD_MAX (GNTTAB_WANT_FRAMES * GREFS_PER_FRAME + 64) /* past the first growth */
#define BUSY (GTF_reading | GTF_writing)

static struct fuzz_in *xen; /* Xen's answers come off the input */
static struct vcpu_info vcpu;
static bool mapped[MM_GRANT_PAGES];

struct vcpu_info *this_vcpu(void)
{
    return &vcpu;
}

unsigned long irq_save(void)
{
    unsigned long old = vcpu.evtchn_upcall_mask;
    vcpu.evtchn_upcall_mask = 1;
    return old;
}

void irq_restore(unsigned long flags)
{
    vcpu.evtchn_upcall_mask = (uint8_t)flags;
}

uint64_t virt_to_machine(const void *v)
{
    return (uintptr_t)v;
}

/* A frame Xen gave for the table: mapped unless the input says the update
 * failed (as Xen's update_va_mapping can); its entries are Xen's zeroes. */
int map_page(unsigned long va, xen_pfn_t mfn, uint64_t pte_flags)
{
    unsigned long i = (va - MM_GRANT_VA) / PAGE_SIZE;
    FUZZ_ASSERT(va >= MM_GRANT_VA && i < MM_GRANT_PAGES && va % PAGE_SIZE == 0 && !mapped[i]);
    if (fin_u8(xen) == 0xff)
        return -XEN_EINVAL;
    FUZZ_ASSERT(!mprotect((void *)va, PAGE_SIZE, PROT_READ | PROT_WRITE));
    memset((void *)va, 0, PAGE_SIZE);
    mapped[i] = true;
    return 0;
}

int unmap_page(unsigned long va)
{
    unsigned long i = (va - MM_GRANT_VA) / PAGE_SIZE;
    FUZZ_ASSERT(va >= MM_GRANT_VA && i < MM_GRANT_PAGES && mapped[i]);
    FUZZ_ASSERT(!mprotect((void *)va, PAGE_SIZE, PROT_NONE));
    mapped[i] = false;
    return 0;
}

/* Xen's return code and status: mostly success, else any GNTST_* or
 * errno value, or any 16 bits. */
static void xen_answer(long *rc, int16_t *status)
{
    uint8_t k = fin_u8(xen);
    *rc = k == 1 ? -(long)(fin_u8(xen) % 64) : 0;
    *status = k == 2 ? (int16_t)-(fin_u8(xen) % 14) : k == 3 ? (int16_t)fin_u16(xen) : GNTST_okay;
}

static long fuzz_grant_table_op(unsigned cmd, void *uop, unsigned count)
{
    long rc;
    FUZZ_ASSERT(count == 1);
    if (cmd == GNTTABOP_query_size) {
        struct gnttab_query_size *q = uop;
        FUZZ_ASSERT(q->dom == DOMID_SELF);
        xen_answer(&rc, &q->status);
        q->max_nr_frames = fin_u8(xen) == 0xff ? fin_u32(xen) : fin_u8(xen) % 40;
        q->nr_frames = fin_u32(xen);
        return rc;
    }
    FUZZ_ASSERT(cmd == GNTTABOP_setup_table);
    struct gnttab_setup_table *s = uop;
    FUZZ_ASSERT(s->dom == DOMID_SELF && s->nr_frames > gnttab_nr_frames &&
                s->nr_frames <= MM_GRANT_PAGES);
    xen_answer(&rc, &s->status);
    for (uint32_t i = 0; i < s->nr_frames && !rc && s->status == GNTST_okay; i++)
        s->frame_list.p[i] = fin_u32(xen);
    return rc;
}

/* The table as it was before the first call: reserved, not mapped. */
static void table_reset(void)
{
    FUZZ_ASSERT(!mprotect(grant_area, GRANT_AREA_SIZE, PROT_NONE));
    memset(mapped, 0, sizeof(mapped));
    free(gnttab_next);
    gnttab_next = NULL;
    gnttab_free_head = GREF_END;
    gnttab_nr_frames = gnttab_max_frames = gnttab_nr_entries = gnttab_nr_free = 0;
    gnttab_ready = tried = false;
    gnttab_growths = 0;
    gnttab_nr_deferred = 0;
    gnttab_deferrals = gnttab_deferred_ended = gnttab_deferred_lost = 0;
    vcpu.evtchn_upcall_mask = 0;
}

/* The references the harness holds, in a list and by number. */
static int held[HELD_MAX];
static unsigned n_held;
static bool held_map[MM_GRANT_PAGES * GREFS_PER_FRAME];

static bool is_held(int ref)
{
    return ref >= 0 && (unsigned)ref < gnttab_nr_entries && held_map[ref];
}

static void hold(int ref)
{
    held[n_held++] = ref;
    held_map[ref] = true;
}

/* Grants ended while the deferred list was full: the kernel keeps their
 * references in use and their pages for good (gnttab_deferred_lost); the
 * harness gives the pages back at the end of an input. */
static void *lost_pages[MM_GRANT_PAGES * GREFS_PER_FRAME];
static unsigned n_lost, n_lost_pages;
static bool lost_map[MM_GRANT_PAGES * GREFS_PER_FRAME];

static bool is_deferred(grant_ref_t ref)
{
    for (unsigned i = 0; i < gnttab_nr_deferred; i++)
        if (deferred[i].ref == ref)
            return true;
    return false;
}

static void drop_held(unsigned i)
{
    held_map[held[i]] = false;
    held[i] = held[--n_held];
}

/* The counts add up, and (walk) the free list is exactly the references
 * that are neither reserved, ours, deferred nor lost. */
static void check_table(bool walk)
{
    struct gnttab_info info;
    gnttab_get_info(&info);
    if (!gnttab_ready) {
        FUZZ_ASSERT(!info.entries && !info.free && !n_held);
        return;
    }
    FUZZ_ASSERT(info.frames <= info.max_frames && info.max_frames <= MM_GRANT_PAGES);
    FUZZ_ASSERT(info.entries == info.frames * GREFS_PER_FRAME);
    for (unsigned i = 0; i < info.frames; i++)
        FUZZ_ASSERT(mapped[i]);
    FUZZ_ASSERT(info.in_use == n_held + gnttab_nr_deferred + n_lost);
    FUZZ_ASSERT(info.deferred == gnttab_nr_deferred && gnttab_deferred_lost == n_lost);
    if (!walk)
        return;
    static bool deferred_map[MM_GRANT_PAGES * GREFS_PER_FRAME];
    for (unsigned i = 0; i < gnttab_nr_deferred; i++) {
        FUZZ_ASSERT(!deferred_map[deferred[i].ref] && !is_held((int)deferred[i].ref));
        deferred_map[deferred[i].ref] = true;
    }
    unsigned walked = 0;
    for (uint32_t r = gnttab_free_head; r != GREF_END; r = gnttab_next[r]) {
        FUZZ_ASSERT(r >= GNTTAB_NR_RESERVED_ENTRIES && r < info.entries && walked < info.free);
        FUZZ_ASSERT(!is_held((int)r) && !deferred_map[r]);
        walked++;
    }
    for (unsigned i = 0; i < gnttab_nr_deferred; i++)
        deferred_map[deferred[i].ref] = false;
    FUZZ_ASSERT(walked == info.free);
}

static int pick_ref(struct fuzz_in *in)
{
    uint8_t k = fin_u8(in);
    if (n_held && k < 0xc0)
        return held[k % n_held];
    if (gnttab_nr_deferred && k < 0xe0)
        return (int)deferred[k % gnttab_nr_deferred].ref;
    return (int)(fin_u16(in) % (gnttab_nr_entries + 8));
}

/* Grant, check the entry, hold the reference; false when none was given. */
static bool grant_one(domid_t dom, xen_pfn_t mfn, bool ro)
{
    int ref = gnttab_grant_access(dom, mfn, ro);
    if (ref < 0) {
        FUZZ_ASSERT(ref == -XEN_ENOSPC || ref == -XEN_ENODEV);
        return false;
    }
    FUZZ_ASSERT(ref >= GNTTAB_NR_RESERVED_ENTRIES && (unsigned)ref < gnttab_nr_entries);
    FUZZ_ASSERT(!is_held(ref)); /* nor deferred: check_table */
    struct grant_entry_v1 e = gnttab_entry((grant_ref_t)ref);
    FUZZ_ASSERT(e.flags == (GTF_permit_access | (ro ? GTF_readonly : 0)));
    FUZZ_ASSERT(e.domid == dom && e.frame == (uint32_t)mfn);
    if (n_held < HELD_MAX)
        hold(ref);
    else
        FUZZ_ASSERT(!gnttab_end_access((grant_ref_t)ref)); /* nobody maps it */
    return true;
}

/* End (or defer) held[i] with a page, or none; the peer maps it if busy. */
static void end_or_defer(unsigned i, bool with_page)
{
    int ref = held[i];
    bool busy = gnttab_entry((grant_ref_t)ref).flags & BUSY;
    unsigned before = gnttab_nr_deferred;
    void *page = with_page ? page_alloc(0) : NULL, *given = page;
    FUZZ_ASSERT(page || !with_page);
    int r = ref;
    int rc = gnttab_end_or_defer(&r, &page, "grant %d", ref);
    FUZZ_ASSERT(r == -1);
    drop_held(i);
    if (!busy) {
        FUZZ_ASSERT(!rc && page == (with_page ? page : NULL));
        page_free(page, 0);
        return;
    }
    FUZZ_ASSERT(rc == -XEN_EBUSY && !page);
    if (before < GNTTAB_DEFER_MAX) {
        FUZZ_ASSERT(gnttab_nr_deferred == before + 1 && is_deferred((grant_ref_t)ref));
        return;
    }
    FUZZ_ASSERT(gnttab_nr_deferred == before);
    n_lost++;
    lost_map[ref] = true;
    if (given)
        lost_pages[n_lost_pages++] = given;
}

static void one(struct fuzz_in *in)
{
    uint8_t op = fin_u8(in);
    vcpu.evtchn_upcall_mask = op >> 7;
    switch (op % OPS) {
    case GRANT:
        (void)grant_one(fin_u16(in), fin_u32(in), fin_u8(in) & 1);
        break;
    case GRANT_MANY: { /* enough to run the free list dry */
        unsigned k = fin_u16(in) % HELD_MAX;
        domid_t dom = fin_u16(in);
        for (unsigned i = 0; i < k && grant_one(dom, i, false); i++)
            ;
        break;
    }
    case END: {
        int ref = pick_ref(in);
        if (is_deferred((grant_ref_t)ref) || ((unsigned)ref < gnttab_nr_entries && lost_map[ref]))
            break; /* the deferred list's to end, or the kernel's for good */
        bool ours = is_held(ref);
        uint16_t flags = ours ? gnttab_entry((grant_ref_t)ref).flags : 0;
        int rc = gnttab_end_access((grant_ref_t)ref);
        if (!ours) {
            FUZZ_ASSERT(rc == -XEN_EINVAL);
            break;
        }
        FUZZ_ASSERT(rc == ((flags & BUSY) ? -XEN_EBUSY : 0));
        if (!rc) {
            FUZZ_ASSERT(gnttab_entry((grant_ref_t)ref).flags == 0);
            for (unsigned i = 0; i < n_held; i++)
                if (held[i] == ref)
                    drop_held(i);
        }
        break;
    }
    case END_OR_DEFER: {
        uint8_t k = fin_u8(in);
        if (n_held)
            end_or_defer(fin_u16(in) % n_held, k & 1);
        else { /* no grant: nothing to end */
            int none = -1;
            void *page = NULL;
            FUZZ_ASSERT(!gnttab_end_or_defer(&none, &page, "no grant") && none == -1);
        }
        break;
    }
    case DEFER_ALL: { /* the peer maps every page: more than the deferred list holds */
        bool with_page = fin_u8(in) & 1;
        for (unsigned i = 0; i < n_held; i++)
            gnttab_table()[held[i]].flags |= GTF_writing;
        while (n_held)
            end_or_defer(n_held - 1, with_page);
        break;
    }
    case PEER_FLAGS: {
        int ref = pick_ref(in);
        uint16_t bits = fin_u16(in);
        if ((unsigned)ref >= gnttab_nr_entries)
            break;
        uint16_t *fp = &gnttab_table()[ref].flags;
        /* Mostly what Xen does to an entry the peer maps; sometimes any bits. */
        *fp = bits & 0x8000 ? bits : (uint16_t)(*fp | (bits & BUSY));
        break;
    }
    case PEER_UNMAP: {
        int ref = pick_ref(in);
        if ((unsigned)ref < gnttab_nr_entries)
            gnttab_table()[ref].flags &= (uint16_t)~BUSY;
        break;
    }
    case RETRY: {
        unsigned before = gnttab_nr_deferred;
        unsigned ended = gnttab_retry_deferred();
        FUZZ_ASSERT(gnttab_nr_deferred + ended == before);
        if (vcpu.evtchn_upcall_mask)
            FUZZ_ASSERT(!ended);
        break;
    }
    case ENTRY: {
        int ref = pick_ref(in);
        struct grant_entry_v1 e = gnttab_entry((grant_ref_t)ref);
        if ((unsigned)ref >= gnttab_nr_entries)
            FUZZ_ASSERT(!e.flags && !e.domid && !e.frame);
        break;
    }
    case INFO:
        check_table(true);
        break;
    }
    check_table(false);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    xen = &in;
    table_reset();
    n_held = 0;
    for (unsigned t = 0; t < MAX_OPS && in.n; t++)
        one(&in);
    /* The peer unmaps everything: every grant ends, every page comes back. */
    vcpu.evtchn_upcall_mask = 0;
    for (unsigned i = 0; gnttab_ready && i < gnttab_nr_entries; i++)
        gnttab_table()[i].flags &= (uint16_t)~BUSY;
    (void)gnttab_retry_deferred();
    FUZZ_ASSERT(gnttab_nr_deferred == 0);
    while (n_held) {
        FUZZ_ASSERT(!gnttab_end_access((grant_ref_t)held[n_held - 1]));
        drop_held(n_held - 1);
    }
    check_table(true);
    FUZZ_ASSERT(fuzz_pages_out() == (long)n_lost_pages);
    while (n_lost_pages)
        page_free(lost_pages[--n_lost_pages], 0);
    n_lost = 0;
    memset(lost_map, 0, sizeof(lost_map));
    xen = NULL;
    /* Readable between inputs: LeakSanitizer scans the harness's memory. */
    FUZZ_ASSERT(!mprotect(grant_area, GRANT_AREA_SIZE, PROT_READ | PROT_WRITE));
    return 0;
}
