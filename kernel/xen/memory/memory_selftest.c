/*
 * memory_selftest.c — self-tests for pseudo-physical memory and
 * reservations (interface manual: "Pseudo-physical memory", "Memory
 * reservations").
 *
 * mm_p2m: for every pfn, the p2m (ours) and the m2p (Xen's) agree, and the
 *   direct map's L1 entry holds that same frame.
 * mm_m2p: the m2p bound (p2m.c) is what XENMEM_machphys_mapping and
 *   XENMEM_maximum_ram_page say, asked here again, and reaches past 32-bit
 *   Xen's MACH2PHYS_NR_ENTRIES (16 GiB of frames), which 64-bit Xen always
 *   maps for a 32-bit guest; the last frame in bound can be read, and so
 *   can our own highest frame (past 16 GiB on a big host).
 * mm_balloon: give a few pages back to Xen, see the reservation drop and the
 *   p2m/direct map empty; take them again, see the reservation come back,
 *   new frames recorded both ways, and the pages usable.
 */
#include "mm.h"
#include "selftest.h"

#define BALLOON_TEST_PAGES 16u

extern char _end[]; /* kernel.ld: end of the kernel image */
#define FRAME_SHIFT PAGE_SHIFT

static xen_pfn_t mapped_frame(unsigned long pfn)
{
    return (xen_pfn_t)(pt_translate((unsigned long)pfn_to_virt(pfn)) >> FRAME_SHIFT);
}

SELFTEST(mm_p2m)
{
    unsigned long nr = p2m_size(), direct = mm_direct_pfns(), ballooned = 0, checked = 0;
    unsigned long remapped = 0;
    static const char probe[] = "p2m";

    ST_EXPECT(r, nr > 0 && direct > 0 && direct <= nr, "sizes: p2m %lu, direct map %lu", nr,
              direct);
    for (unsigned long pfn = 0; pfn < nr; pfn++) {
        xen_pfn_t mfn = pfn_to_mfn(pfn);
        if (mfn == P2M_INVALID) {
            ballooned++;
            ST_EXPECT(r, pfn >= direct || pt_lookup((unsigned long)pfn_to_virt(pfn)) == 0,
                      "ballooned pfn %#lx is still mapped", pfn);
            continue;
        }
        ST_EXPECT(r, mfn < m2p_max_mfn(), "pfn %#lx: mfn %#lx past the m2p (%#lx)", pfn,
                  (unsigned long)mfn, (unsigned long)m2p_max_mfn());
        ST_EXPECT(r, mfn_to_pfn(mfn) == pfn, "pfn %#lx -> mfn %#lx -> pfn %#lx", pfn,
                  (unsigned long)mfn, mfn_to_pfn(mfn));
        if (pfn < direct && mapped_frame(pfn) != mfn) {
            /* Allowed only for pages of the kernel image that another part
             * pointed at a frame that is not ours (shared_info, ...). */
            xen_pfn_t other = mapped_frame(pfn);
            ST_EXPECT(r, pfn < virt_to_pfn(_end) && other != 0 &&
                             pfn_to_mfn(mfn_to_pfn(other)) != other,
                      "direct map of pfn %#lx holds mfn %#lx, p2m %#lx", pfn,
                      (unsigned long)other, (unsigned long)mfn);
            remapped++;
        }
        checked++;
    }
    ST_EXPECT(r, virt_to_machine(probe) == pt_translate((unsigned long)probe),
              "virt_to_machine and the page tables disagree for %p", (const void *)probe);
    ST_PASS(r, "%lu pfns: p2m and m2p agree, %lu direct-map entries match, %lu kernel pages "
               "map foreign frames, %lu ballooned", checked, direct - ballooned - remapped,
            remapped, ballooned);
}

SELFTEST(mm_m2p)
{
    struct xen_machphys_mapping map;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &map);
    long max_page = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);

    ST_EXPECT(r, rc == 0, "XENMEM_machphys_mapping: error %s", xen_errname(rc));
    ST_EXPECT(r, max_page > 0, "XENMEM_maximum_ram_page: error %s", xen_errname(max_page));
    unsigned long table = (map.v_end - map.v_start) / sizeof(uint32_t);
    ST_EXPECT(r, m2p_va() == map.v_start, "m2p read at %#lx, Xen maps it at %#lx", m2p_va(),
              (unsigned long)map.v_start);
    ST_EXPECT(r, table == map.max_mfn + 1, "range %#lx-%#lx holds %lu entries, max_mfn %#lx",
              (unsigned long)map.v_start, (unsigned long)map.v_end, table,
              (unsigned long)map.max_mfn);
    xen_pfn_t want = (unsigned long)max_page < table ? (xen_pfn_t)max_page : (xen_pfn_t)table;
    ST_EXPECT(r, m2p_max_mfn() == want, "bound %#lx, Xen says %#lx (range %lu, RAM %ld)",
              (unsigned long)m2p_max_mfn(), (unsigned long)want, table, max_page);
    ST_EXPECT(r, table > MACH2PHYS_NR_ENTRIES, "Xen maps %lu entries, no more than 32-bit Xen's %lu",
              table, (unsigned long)MACH2PHYS_NR_ENTRIES);
    unsigned long last = mfn_to_pfn(m2p_max_mfn() - 1); /* faults if the bound is too high */
    xen_pfn_t highest = 0;
    for (unsigned long pfn = 0; pfn < p2m_size(); pfn++)
        if (pfn_to_mfn(pfn) != P2M_INVALID && pfn_to_mfn(pfn) > highest)
            highest = pfn_to_mfn(pfn);
    ST_EXPECT(r, highest < m2p_max_mfn() && mfn_to_pfn(highest) < p2m_size(),
              "our highest frame %#lx: m2p says %#lx", (unsigned long)highest, mfn_to_pfn(highest));
    ST_PASS(r, "m2p at %#lx-%#lx: %lu frames (%lu GiB; 32-bit Xen's %lu GiB), RAM ends at frame "
               "%#lx (m2p %#lx), our highest frame %#lx", (unsigned long)map.v_start,
            (unsigned long)map.v_end, table, table / (PAGES_PER_MIB * 1024),
            (unsigned long)MACH2PHYS_NR_ENTRIES / (PAGES_PER_MIB * 1024), (unsigned long)max_page,
            last, (unsigned long)highest);
}

static bool page_holds(const void *p, uint32_t seed)
{
    const uint32_t *w = p;
    for (unsigned i = 0; i < PAGE_SIZE / sizeof(*w); i++)
        if (w[i] != seed + i)
            return false;
    return true;
}

static void page_fill(void *p, uint32_t seed)
{
    uint32_t *w = p;
    for (unsigned i = 0; i < PAGE_SIZE / sizeof(*w); i++)
        w[i] = seed + i;
}

SELFTEST(mm_balloon)
{
    unsigned long pfns[BALLOON_TEST_PAGES];
    xen_pfn_t old[BALLOON_TEST_PAGES];
    long before = mm_current_reservation(), mid, after, rc;
    unsigned long changed = 0;

    ST_EXPECT(r, before > 0, "XENMEM_current_reservation failed (%ld)", before);
    for (unsigned i = 0; i < BALLOON_TEST_PAGES; i++) {
        void *p = page_alloc(0);
        ST_EXPECT(r, p != NULL, "no free page");
        pfns[i] = virt_to_pfn(p);
        old[i] = pfn_to_mfn(pfns[i]);
    }
    rc = balloon_release(pfns, BALLOON_TEST_PAGES);
    mid = mm_current_reservation();
    ST_EXPECT(r, rc == BALLOON_TEST_PAGES, "decrease_reservation gave back %ld of %u", rc,
              BALLOON_TEST_PAGES);
    for (unsigned i = 0; i < BALLOON_TEST_PAGES; i++)
        ST_EXPECT(r, pfn_to_mfn(pfns[i]) == P2M_INVALID && mapped_frame(pfns[i]) == 0,
                  "pfn %#lx still has a frame after release", pfns[i]);
    ST_EXPECT(r, mid == before - (long)BALLOON_TEST_PAGES, "reservation %ld -> %ld, wanted -%u",
              before, mid, BALLOON_TEST_PAGES);

    rc = balloon_populate(pfns, BALLOON_TEST_PAGES);
    after = mm_current_reservation();
    ST_EXPECT(r, rc == BALLOON_TEST_PAGES, "populate_physmap filled %ld of %u", rc,
              BALLOON_TEST_PAGES);
    ST_EXPECT(r, after == before, "reservation came back to %ld, wanted %ld", after, before);
    for (unsigned i = 0; i < BALLOON_TEST_PAGES; i++) {
        xen_pfn_t mfn = pfn_to_mfn(pfns[i]);
        ST_EXPECT(r, mfn != P2M_INVALID && mfn_to_pfn(mfn) == pfns[i] && mapped_frame(pfns[i]) == mfn,
                  "pfn %#lx: p2m %#lx, m2p %#lx, mapped %#lx", pfns[i], (unsigned long)mfn,
                  mfn_to_pfn(mfn), (unsigned long)mapped_frame(pfns[i]));
        changed += mfn != old[i];
        page_fill(pfn_to_virt(pfns[i]), (uint32_t)pfns[i]);
    }
    for (unsigned i = 0; i < BALLOON_TEST_PAGES; i++) {
        ST_EXPECT(r, page_holds(pfn_to_virt(pfns[i]), (uint32_t)pfns[i]),
                  "re-populated pfn %#lx does not keep data", pfns[i]);
        page_free(pfn_to_virt(pfns[i]), 0);
    }
    ST_PASS(r, "reservation %ld -> %ld -> %ld pages, %lu of %u pages got new frames, data kept",
            before, mid, after, changed, BALLOON_TEST_PAGES);
}
