/*
 * p2m.c — pseudo-physical <-> machine frames (interface manual:
 * "Pseudo-physical memory"; Xen 4.17 public/xen.h start_info.mfn_list,
 * public/arch-x86/xen-x86_32.h machine_to_phys_mapping).
 *
 * A PV guest sees its memory as pfns 0 .. nr_pages-1, but its page tables
 * hold machine frames (mfns), so it keeps both directions:
 *   - p2m: start_info->mfn_list, an array the domain builder fills with the
 *     mfn of each pfn. It is the guest's own (writable) memory and only the
 *     guest changes it (ballooning sets entries to P2M_INVALID and back).
 *   - m2p: one table for all machine frames, owned by Xen and mapped
 *     read-only into every PV guest at MACH2PHYS_VIRT_START. Xen updates it
 *     when it gives the guest a frame (populate_physmap), and the guest may
 *     update its own frames' entries with mmu_update(MMU_MACHPHYS_UPDATE).
 *     Its size follows the machine's RAM: XENMEM_maximum_ram_page bounds it.
 */
#include "mm.h"

static xen_pfn_t *p2m;
static unsigned long p2m_entries;
static xen_pfn_t m2p_limit;
/* Entries are 32 bits for a 32-bit guest (compat m2p on 64-bit Xen too). */
static const uint32_t *const m2p = (const uint32_t *)MACH2PHYS_VIRT_START;

int p2m_init(void)
{
    long max_page = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);
    unsigned long table = (MACH2PHYS_VIRT_END - MACH2PHYS_VIRT_START) / sizeof(m2p[0]);

    p2m = (xen_pfn_t *)start_info->mfn_list;
    p2m_entries = start_info->nr_pages;
    if (max_page <= 0) {
        printk("memory_op XENMEM_maximum_ram_page: error %s\n", xen_errname(max_page));
        return max_page < 0 ? (int)max_page : -XEN_EINVAL;
    }
    /* max_page is one past the highest machine frame of RAM. */
    m2p_limit = (xen_pfn_t)((unsigned long)max_page < table ? (unsigned long)max_page : table);
    return 0;
}

unsigned long p2m_size(void)
{
    return p2m_entries;
}

xen_pfn_t m2p_max_mfn(void)
{
    return m2p_limit;
}

xen_pfn_t pfn_to_mfn(unsigned long pfn)
{
    return pfn < p2m_entries ? p2m[pfn] : P2M_INVALID;
}

void p2m_set(unsigned long pfn, xen_pfn_t mfn)
{
    if (pfn < p2m_entries)
        p2m[pfn] = mfn;
}

/* The m2p says what the frame's owner recorded: for a frame that is not
 * ours, check pfn_to_mfn(result) == mfn before trusting it. */
unsigned long mfn_to_pfn(xen_pfn_t mfn)
{
    return mfn < m2p_limit ? m2p[mfn] : M2P_INVALID;
}

uint64_t virt_to_machine(const void *v)
{
    unsigned long va = (unsigned long)v;
    unsigned long pfn = virt_to_pfn(v);
    uint64_t offset = va & ~PAGE_MASK;

    if (va >= KERNEL_VIRT_BASE && pfn < mm_direct_pfns() && pfn_to_mfn(pfn) != P2M_INVALID)
        return ((uint64_t)pfn_to_mfn(pfn) << PAGE_SHIFT) | offset;
    /* Not in the direct map (the scratch window, say): ask the page tables. */
    return pt_translate(va);
}

/*
 * The p2m for the toolstack (public/arch-x86/xen.h, arch_shared_info): to
 * save or migrate a PV domain, the toolstack reads our p2m, and finds it
 * through a three-level list of machine frames: shared_info's
 * pfn_to_mfn_frame_list_list names one page of frame numbers of pages of
 * frame numbers of the p2m's own pages; max_pfn says how many p2m entries
 * there are. Ballooning changes entries in place, so the lists stay right;
 * a restore gives every page a new frame, so after one they are written
 * again (suspend.c).
 */
#define P2M_PER_PAGE (PAGE_SIZE / sizeof(xen_pfn_t))

static xen_pfn_t *frame_list_list, **frame_lists;
static unsigned long nr_frame_lists;

static int frame_lists_alloc(unsigned long lists)
{
    frame_list_list = page_alloc(0);
    frame_lists = calloc(lists, sizeof(*frame_lists));
    if (!frame_list_list || !frame_lists)
        return -XEN_ENOMEM;
    for (unsigned long i = 0; i < lists; i++)
        if (!(frame_lists[i] = page_alloc(0)))
            return -XEN_ENOMEM;
    nr_frame_lists = lists;
    return 0;
}

int p2m_publish(void)
{
    unsigned long pages = (p2m_entries + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
    unsigned long lists = (pages + P2M_PER_PAGE - 1) / P2M_PER_PAGE;
    if (lists > P2M_PER_PAGE) {
        printk("p2m: %lu entries need more than one frame list list\n", p2m_entries);
        return -XEN_E2BIG;
    }
    if (!frame_list_list) {
        int rc = frame_lists_alloc(lists);
        if (rc) {
            printk("p2m: no memory for the frame lists: xl save will fail\n");
            return rc;
        }
    }
    memset(frame_list_list, 0, PAGE_SIZE);
    for (unsigned long l = 0; l < nr_frame_lists; l++) {
        memset(frame_lists[l], 0, PAGE_SIZE);
        for (unsigned long i = 0; i < P2M_PER_PAGE && l * P2M_PER_PAGE + i < pages; i++)
            frame_lists[l][i] = virt_to_mfn(p2m + (l * P2M_PER_PAGE + i) * P2M_PER_PAGE);
        frame_list_list[l] = virt_to_mfn(frame_lists[l]);
    }
    shared_info->arch.max_pfn = p2m_entries;
    xen_wmb(); /* the lists are complete before the toolstack is told where they are */
    shared_info->arch.pfn_to_mfn_frame_list_list = virt_to_mfn(frame_list_list);
    return 0;
}
