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
 *     read-only into every PV guest (where: see below). Xen updates it
 *     when it gives the guest a frame (populate_physmap), and the guest may
 *     update its own frames' entries with mmu_update(MMU_MACHPHYS_UPDATE).
 *
 * Where the m2p is and how far it reaches is Xen's to say, once, through
 * XENMEM_machphys_mapping (public/memory.h): the header constants
 * MACH2PHYS_VIRT_START/END are 32-bit Xen's (16 MiB of table, 16 GiB of
 * frames); 64-bit Xen maps a 32-bit guest's table from its own
 * hv_start_low (0xF5800000 unless the guest moved it) up to 0xFFE00000
 * (xen/arch/x86/include/asm/config.h MACH2PHYS_COMPAT_VIRT_END), about 166
 * GiB of frames, and answers with that range (xen/arch/x86/x86_64/compat/
 * mm.c, XENMEM_machphys_mapping). Bounding by the header constant would
 * make every frame above 16 GiB "not ours" on a big host. The table is
 * filled only up to the machine's RAM, so XENMEM_maximum_ram_page bounds it
 * too. m2p_map() asks both, the first time any frame is looked up (the
 * console does before mm_init), and everyone reads the m2p through
 * mfn_to_pfn.
 */
#include "mm.h"

static xen_pfn_t *p2m;
static unsigned long p2m_entries;

/* The m2p as Xen placed it (NULL until Xen said); entries are 32 bits for a
 * 32-bit guest (the compat m2p on 64-bit Xen too). */
static const uint32_t *m2p;
static xen_pfn_t m2p_limit;

/* Ask Xen where the m2p is and how far it reaches; 0 or -errno (then m2p
 * stays NULL, mfn_to_pfn finds nothing and asks again next time). */
static long m2p_map(void)
{
    struct xen_machphys_mapping map;
    long rc = HYPERVISOR_memory_op(XENMEM_machphys_mapping, &map);
    long max_page = HYPERVISOR_memory_op(XENMEM_maximum_ram_page, NULL);

    if (rc < 0 || max_page <= 0)
        return rc < 0 ? rc : max_page < 0 ? max_page : -XEN_EINVAL;
    /* max_mfn is the last frame the range holds; max_page is one past the
     * highest frame of RAM. */
    m2p_limit = (xen_pfn_t)map.max_mfn + 1;
    if ((unsigned long)max_page < m2p_limit)
        m2p_limit = (xen_pfn_t)max_page;
    m2p = (const uint32_t *)map.v_start;
    return 0;
}

/* A restored domain may run on another host, with more RAM: ask again. */
void m2p_resume(void)
{
    (void)m2p_map();
}

int p2m_init(void)
{
    long rc = m2p ? 0 : m2p_map();

    p2m = (xen_pfn_t *)start_info->mfn_list;
    p2m_entries = start_info->nr_pages;
    if (rc)
        printk("m2p: Xen did not say where it is: %s\n", xen_errname(rc));
    return (int)rc;
}

unsigned long p2m_size(void)
{
    return p2m_entries;
}

xen_pfn_t m2p_max_mfn(void)
{
    return m2p_limit;
}

unsigned long m2p_va(void)
{
    return (unsigned long)m2p;
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
    if (!m2p)
        (void)m2p_map(); /* m2p_limit stays 0 if Xen did not answer */
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
