/*
 * grant_table_selftest.c — self-test of grant tables v1 (interface manual:
 * "Grant tables"). Runs in both modes (dom0 has a grant table too).
 *   1. Grant a page read-write and read-only to dom0 (domid 0) and check the
 *      entries as Xen reads them: flags, domid, frame.
 *   2. Peer mapping, for real: grant a page to ourselves and map it with
 *      GNTTABOP_map_grant_ref at a free scratch-window address (a PV guest
 *      may map its own grants). The mapping shows the page's bytes, Xen
 *      marks the entry GTF_reading|GTF_writing, and end_access refuses with
 *      -EBUSY; after GNTTABOP_unmap_grant_ref it succeeds. Our domid comes
 *      from XenStore in a domU (0 as dom0); without it this step is skipped
 *      and the detail says so. So is it when Xen answers -EOPNOTSUPP: the PV
 *      shim forwards only GNTTABOP_setup_table and GNTTABOP_query_size to
 *      the Xen below it and refuses every other grant op
 *      (pv_shim_grant_table_op(), xen/arch/x86/pv/shim.c); a shim guest can
 *      grant, but neither map nor copy.
 *   3. Reserved, out-of-range and already-ended references are refused.
 *   4. Granting until the table is full makes it grow, frames at a time, up
 *      to Xen's maximum (grant.h: GNTTAB_GROW_FRAMES); there the next grant
 *      gets -ENOSPC, not a crash, and every reference comes back. A few
 *      dozen hypercalls and memory writes: fast even under TCG.
 */
#include "kernel.h"
#include "grant.h"
#include "mm.h"
#include "selftest.h"
#include "xenstore.h"

#define PEER_DOM0 0
#define MAP_SLOT (MM_SCRATCH_PAGES - 1) /* pagetable self-test uses the first ones */
#define PATTERN "grant-table-selftest"

static int self_domid(domid_t *id)
{
    if (xen_is_dom0()) {
        *id = 0;
        return 0;
    }
    return xs_domid(id);
}

/* Step 2; returns NULL or what went wrong or why it could not run (`*skipped`),
 * as static text or in the fmt buffer. */
static const char *map_own_grant(void *page, char *why, size_t size, bool *skipped)
{
    domid_t me;
    *skipped = false;
    if (self_domid(&me)) {
        *skipped = true;
        return "no domid";
    }
    unsigned long va = mm_scratch_va(MAP_SLOT);
    if (pt_lookup(va)) {
        snprintf(why, size, "scratch va %#lx is in use", va);
        return why;
    }
    memcpy(page, PATTERN, sizeof(PATTERN));
    int ref = gnttab_grant_page(me, page, false);
    if (ref < 0) {
        snprintf(why, size, "grant to self: %s", xen_errname(ref));
        return why;
    }
    struct gnttab_map_grant_ref map = {
        .host_addr = va, .flags = GNTMAP_host_map, .ref = (grant_ref_t)ref, .dom = me};
    long rc = HYPERVISOR_grant_table_op(GNTTABOP_map_grant_ref, &map, 1);
    if (rc || map.status != GNTST_okay) {
        *skipped = rc == -XEN_EOPNOTSUPP;
        snprintf(why, size, "GNTTABOP_map_grant_ref: %s%s, status %d", xen_errname(rc),
                 *skipped ? " (this Xen maps no grants for us: the PV shim?)" : "", map.status);
        (void)gnttab_end_access((grant_ref_t)ref);
        return why;
    }
    why[0] = '\0';
    uint16_t flags = gnttab_entry((grant_ref_t)ref).flags;
    if (memcmp((const void *)va, PATTERN, sizeof(PATTERN)))
        snprintf(why, size, "the mapping does not show the granted page");
    else if ((flags & (GTF_reading | GTF_writing)) != (GTF_reading | GTF_writing))
        snprintf(why, size, "mapped entry flags %#x lack GTF_reading|GTF_writing", flags);
    else if ((rc = gnttab_end_access((grant_ref_t)ref)) != -XEN_EBUSY)
        snprintf(why, size, "end_access while mapped: %s, want -EBUSY", xen_errname(rc));

    struct gnttab_unmap_grant_ref unmap = {.host_addr = va, .handle = map.handle};
    long urc = HYPERVISOR_grant_table_op(GNTTABOP_unmap_grant_ref, &unmap, 1);
    if ((urc || unmap.status != GNTST_okay) && !why[0])
        snprintf(why, size, "GNTTABOP_unmap_grant_ref: %s, status %d", xen_errname(urc),
                 unmap.status);
    if (!urc && unmap.status == GNTST_okay && (rc = gnttab_end_access((grant_ref_t)ref)) &&
        !why[0])
        snprintf(why, size, "end_access after unmap: %s", xen_errname(rc));
    return why[0] ? why : NULL;
}

SELFTEST(grant_table)
{
    ST_EXPECT(r, gnttab_available(), "no grant table");
    struct gnttab_info before, now;
    gnttab_get_info(&before);
    ST_EXPECT(r, before.entries > GNTTAB_NR_RESERVED_ENTRIES, "%u entries", before.entries);

    void *page = page_alloc(0);
    ST_EXPECT(r, page, "page_alloc failed");
    xen_pfn_t mfn = (xen_pfn_t)(virt_to_machine(page) >> PAGE_SHIFT);

    /* 1. Entries as Xen reads them. */
    int ref = gnttab_grant_page(PEER_DOM0, page, false);
    int ro = gnttab_grant_page(PEER_DOM0, page, true);
    struct grant_entry_v1 e = gnttab_entry((grant_ref_t)ref), e_ro = gnttab_entry((grant_ref_t)ro);
    gnttab_get_info(&now);
    int end_rw = ref >= 0 ? gnttab_end_access((grant_ref_t)ref) : 0;
    int end_ro = ro >= 0 ? gnttab_end_access((grant_ref_t)ro) : 0;
    if (ref < 0 || ro < 0)
        page_free(page, 0);
    ST_EXPECT(r, ref >= (int)GNTTAB_NR_RESERVED_ENTRIES && ro >= (int)GNTTAB_NR_RESERVED_ENTRIES,
              "grant: %d / %d", ref, ro);
    ST_EXPECT(r, e.flags == GTF_permit_access && e.domid == PEER_DOM0 && e.frame == mfn,
              "entry %d: flags %#x domid %u frame %#x (want %#x, 0, %#lx)", ref, e.flags,
              e.domid, e.frame, (unsigned)GTF_permit_access, (unsigned long)mfn);
    ST_EXPECT(r, e_ro.flags == (GTF_permit_access | GTF_readonly), "read-only entry flags %#x",
              e_ro.flags);
    ST_EXPECT(r, now.in_use == before.in_use + 2, "in use %u, was %u", now.in_use, before.in_use);
    ST_EXPECT(r, end_rw == 0 && end_ro == 0, "end_access: %s / %s", xen_errname(end_rw),
              xen_errname(end_ro));
    ST_EXPECT(r, gnttab_entry((grant_ref_t)ref).flags == 0, "entry not cleared");

    /* 2. A real mapping of our own grant. */
    static char why[120];
    bool map_skipped;
    const char *map_err = map_own_grant(page, why, sizeof(why), &map_skipped);
    page_free(page, 0);
    ST_EXPECT(r, !map_err || map_skipped, "%s", map_err);

    /* 3. References that are not ours to end. */
    ST_EXPECT(r, gnttab_end_access((grant_ref_t)ro) == -XEN_EINVAL, "double end not refused");
    ST_EXPECT(r, gnttab_end_access(GNTTAB_RESERVED_XENSTORE) == -XEN_EINVAL, "reserved ref ended");
    ST_EXPECT(r, gnttab_end_access(before.entries + 5) == -XEN_EINVAL, "ref past the table ended");

    /* 4. Growth, then exhaustion at the true maximum. */
    unsigned want = before.max_frames * (PAGE_SIZE / sizeof(struct grant_entry_v1)) -
                    GNTTAB_NR_RESERVED_ENTRIES - before.in_use;
    grant_ref_t *refs = malloc(want * sizeof(*refs));
    ST_EXPECT(r, refs, "malloc");
    unsigned got = 0;
    int last;
    while (got < want && (last = gnttab_grant_access(PEER_DOM0, mfn, true)) >= 0)
        refs[got++] = (grant_ref_t)last;
    last = gnttab_grant_access(PEER_DOM0, mfn, true);
    struct gnttab_info full;
    gnttab_get_info(&full);
    bool all_back = true;
    for (unsigned i = 0; i < got; i++)
        all_back &= gnttab_end_access(refs[i]) == 0;
    free(refs);
    if (last >= 0)
        (void)gnttab_end_access((grant_ref_t)last);
    ST_EXPECT(r, got == want && last == -XEN_ENOSPC, "exhaustion: %u of %u, then %s", got, want,
              xen_errname(last < 0 ? last : 0));
    ST_EXPECT(r, full.frames == before.max_frames && full.free == 0,
              "full table: %u of %u frames, %u free", full.frames, before.max_frames, full.free);
    ST_EXPECT(r, before.frames == before.max_frames || full.growths > before.growths,
              "the table never grew (%u frames)", before.frames);
    ST_EXPECT(r, all_back, "end_access failed while giving refs back");
    gnttab_get_info(&now);
    /* The table stays grown: more free than before, the same in use. */
    ST_EXPECT(r, now.in_use == before.in_use &&
                     now.free == now.entries - GNTTAB_NR_RESERVED_ENTRIES - now.in_use,
              "leak: %u in use (%u before), %u free of %u", now.in_use, before.in_use, now.free,
              now.entries);
    static char map_detail[sizeof(why) + 24];
    snprintf(map_detail, sizeof(map_detail), map_skipped ? "self-map skipped: %s"
                                                         : "self-map: EBUSY while mapped",
             map_err);
    ST_PASS(r, "rw/ro entries ok, %s; grew %u -> %u frames (%u growths) to the maximum, %u refs "
               "to ENOSPC and back", map_detail,
            before.frames, now.frames, full.growths - before.growths, got);
}
