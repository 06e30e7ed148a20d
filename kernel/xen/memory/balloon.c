/*
 * balloon.c — giving memory back to Xen and taking it again (interface
 * manual: "Memory reservations"; Xen 4.17 public/memory.h
 * XENMEM_decrease_reservation, XENMEM_populate_physmap) and the `balloon`
 * shell command.
 *
 * Giving back (release), per batch of pfns:
 *   1. remove them from the direct map (one mmu_update batch) and flush the
 *      TLB: Xen frees a frame only when nothing maps it any more;
 *   2. mark them P2M_INVALID in the p2m (the pfn now has no memory);
 *   3. XENMEM_decrease_reservation with their mfns: the current reservation
 *      drops, which `xl list` shows.
 * Taking again (populate): XENMEM_populate_physmap with the pfns; Xen picks
 * new frames, writes their mfns back into the same array and sets the m2p.
 * The guest records them in its p2m, sets the m2p itself too
 * (MMU_MACHPHYS_UPDATE, which is how a guest tells Xen "this frame is my pfn
 * N") and maps them again. The frames differ from the ones given back.
 */
#include "mm.h"
#include "shell.h"

#define BALLOON_BATCH 256          /* frames per memory_op */
#define BALLOON_MIN_FREE_PAGES 256 /* balloon never takes the last 1 MiB */

static xen_pfn_t frames[BALLOON_BATCH];
static unsigned long batch[BALLOON_BATCH];
static unsigned long pages_out;

unsigned long balloon_out_pages(void)
{
    return pages_out;
}

static long memory_op_frames(unsigned cmd, unsigned long n)
{
    struct xen_memory_reservation r = {
        .nr_extents = n, .extent_order = 0, .mem_flags = 0, .domid = DOMID_SELF};

    set_xen_guest_handle(r.extent_start, frames);
    return HYPERVISOR_memory_op(cmd, &r);
}

/* Map pfns (whose p2m entries are valid) in the direct map again. */
static void remap(const unsigned long *pfns, unsigned long n)
{
    int err;

    for (unsigned long i = 0; i < n; i++)
        if (pfns[i] < mm_direct_pfns())
            direct_map_queue_set(pfns[i], pfn_to_mfn(pfns[i]));
    if ((err = mmu_flush()))
        panic("balloon: cannot map pages that are still ours again (%d)", err);
}

static long release_batch(const unsigned long *pfns, unsigned long n)
{
    long rc;
    int err;

    for (unsigned long i = 0; i < n; i++) {
        frames[i] = pfn_to_mfn(pfns[i]);
        if (frames[i] == P2M_INVALID) {
            printk("balloon: pfn %#lx has no memory to give back\n", pfns[i]);
            return -XEN_EINVAL;
        }
        if (pfns[i] < mm_direct_pfns())
            direct_map_queue_clear(pfns[i]);
    }
    if ((err = mmu_flush()) || (err = tlb_flush_local())) {
        remap(pfns, n); /* put back whatever Xen did clear */
        return err;
    }
    for (unsigned long i = 0; i < n; i++)
        p2m_set(pfns[i], P2M_INVALID);
    rc = memory_op_frames(XENMEM_decrease_reservation, n);
    if (rc != (long)n) {
        /* The first rc frames went back; keep the others. */
        unsigned long kept = rc > 0 ? (unsigned long)rc : 0;
        printk("memory_op XENMEM_decrease_reservation: %ld of %lu\n", rc, n);
        for (unsigned long i = kept; i < n; i++)
            p2m_set(pfns[i], frames[i]);
        remap(pfns + kept, n - kept);
        pages_out += kept;
        return rc;
    }
    pages_out += n;
    return rc;
}

static long populate_batch(const unsigned long *pfns, unsigned long n)
{
    long rc;
    unsigned long got;
    int err;

    for (unsigned long i = 0; i < n; i++) {
        if (pfns[i] >= p2m_size() || pfn_to_mfn(pfns[i]) != P2M_INVALID) {
            printk("balloon: pfn %#lx is not a ballooned-out pfn\n", pfns[i]);
            return -XEN_EINVAL;
        }
        frames[i] = pfns[i]; /* in: the pfns; out: their new mfns */
    }
    rc = memory_op_frames(XENMEM_populate_physmap, n);
    got = rc > 0 ? (unsigned long)rc : 0;
    if (rc != (long)n)
        printk("memory_op XENMEM_populate_physmap: %ld of %lu\n", rc, n);
    for (unsigned long i = 0; i < got; i++) {
        p2m_set(pfns[i], frames[i]);
        mmu_queue_update(((uint64_t)frames[i] << PAGE_SHIFT) | MMU_MACHPHYS_UPDATE, pfns[i]);
        if (pfns[i] < mm_direct_pfns())
            direct_map_queue_set(pfns[i], frames[i]);
    }
    pages_out -= got;
    if ((err = mmu_flush()))
        return err;
    return rc;
}

/* Both in batches; stop at the first short batch. */
static long in_batches(long (*op)(const unsigned long *, unsigned long), const unsigned long *pfns,
                       unsigned long n)
{
    unsigned long done = 0;

    while (done < n) {
        unsigned long k = n - done < BALLOON_BATCH ? n - done : BALLOON_BATCH;
        long rc = op(pfns + done, k);
        if (rc > 0)
            done += (unsigned long)rc;
        if (rc != (long)k)
            return done ? (long)done : rc;
    }
    return (long)done;
}

long balloon_release(const unsigned long *pfns, unsigned long n)
{
    return in_batches(release_batch, pfns, n);
}

long balloon_populate(const unsigned long *pfns, unsigned long n)
{
    return in_batches(populate_batch, pfns, n);
}

/* Pages to give back: first pfns above the direct map (nothing uses them),
 * then pages from the allocator. Fills batch[], returns how many. */
static unsigned long pick_release(unsigned long want, unsigned long *high_cursor)
{
    unsigned long n = 0;

    while (n < want && *high_cursor > mm_direct_pfns()) {
        unsigned long pfn = --*high_cursor;
        if (pfn_to_mfn(pfn) != P2M_INVALID)
            batch[n++] = pfn;
    }
    while (n < want && page_free_count() > BALLOON_MIN_FREE_PAGES) {
        void *p = page_alloc(0);
        if (!p)
            break;
        batch[n++] = virt_to_pfn(p);
    }
    return n;
}

/* Pfns to fill again: direct-map ones first (they go back to the
 * allocator), lowest first. */
static unsigned long pick_populate(unsigned long want, unsigned long *cursor)
{
    unsigned long n = 0;

    for (; n < want && *cursor < p2m_size(); ++*cursor)
        if (pfn_to_mfn(*cursor) == P2M_INVALID)
            batch[n++] = *cursor;
    return n;
}

unsigned long balloon_floor_pages(void)
{
    long cur = mm_current_reservation();
    unsigned long spare = 0;
    for (unsigned long pfn = mm_direct_pfns(); pfn < p2m_size(); pfn++)
        if (pfn_to_mfn(pfn) != P2M_INVALID)
            spare++; /* above the direct map: populated, never used */
    if (page_free_count() > BALLOON_MIN_FREE_PAGES)
        spare += page_free_count() - BALLOON_MIN_FREE_PAGES;
    return cur > 0 && (unsigned long)cur > spare ? (unsigned long)cur - spare : 0;
}

static void give_to_allocator(const unsigned long *pfns, unsigned long n)
{
    for (unsigned long i = 0; i < n; i++)
        if (pfns[i] < mm_direct_pfns() && pfn_to_mfn(pfns[i]) != P2M_INVALID)
            page_free(pfn_to_virt(pfns[i]), 0);
}

long balloon_set_target(unsigned long target)
{
    long cur = mm_current_reservation();
    unsigned long high = p2m_size(), low = 0;

    while (cur >= 0 && (unsigned long)cur > target) {
        unsigned long want = (unsigned long)cur - target, n, done;
        long rc;
        n = pick_release(want < BALLOON_BATCH ? want : BALLOON_BATCH, &high);
        if (n == 0) {
            printk("balloon: nothing more to give back (%lu pages kept free)\n",
                   page_free_count());
            break;
        }
        rc = balloon_release(batch, n);
        done = rc > 0 ? (unsigned long)rc : 0;
        give_to_allocator(batch + done, n - done); /* those not given back */
        if (done < n)
            break;
        cur -= (long)done;
    }
    while (cur >= 0 && (unsigned long)cur < target) {
        unsigned long want = target - (unsigned long)cur, n, done;
        long rc;
        n = pick_populate(want < BALLOON_BATCH ? want : BALLOON_BATCH, &low);
        if (n == 0) {
            printk("balloon: no ballooned-out pfn left to fill (the p2m has %lu)\n", p2m_size());
            break;
        }
        rc = balloon_populate(batch, n);
        done = rc > 0 ? (unsigned long)rc : 0;
        give_to_allocator(batch, done);
        if (done < n)
            break;
        cur += (long)done;
    }
    return mm_current_reservation();
}

static int cmd_balloon(int argc, char **argv)
{
    unsigned long target_mib;
    long before, after;

    if (argc != 2 || !parse_ulong(argv[1], &target_mib) || target_mib == 0) {
        printk("usage: balloon <MiB>\n");
        return 1;
    }
    before = mm_current_reservation();
    if (before < 0)
        return 1;
    printk("balloon: before %ld pages (%ld MiB), target %lu MiB\n", before,
           before / (long)PAGES_PER_MIB, target_mib);
    after = balloon_set_target(target_mib * PAGES_PER_MIB);
    if (after < 0)
        return 1;
    printk("balloon: after %ld pages (%ld MiB), %lu pages given back to Xen, %lu free\n", after,
           after / (long)PAGES_PER_MIB, pages_out, page_free_count());
    return (unsigned long)after == target_mib * PAGES_PER_MIB ? 0 : 1;
}
SHELL_COMMAND(balloon, "balloon", "balloon <MiB>",
              "set the memory reservation: give pages back to Xen or take them again",
              cmd_balloon);
