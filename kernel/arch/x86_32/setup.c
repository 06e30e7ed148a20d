/*
 * setup.c — start of day (interface manual: "Booting a guest", "start_info",
 * "shared_info").
 *
 * Xen starts the kernel at _start (entry.S) with %esi pointing at
 * struct start_info, inside the region the domain builder mapped at
 * KERNEL_VIRT_BASE. arch_start:
 *   1. checks start_info->magic ("xen-3.0-x86_32p": Xen's ABI, 32-bit, PAE);
 *   2. maps the shared_info page: start_info->shared_info is its *machine*
 *      address; we point one page of our own image (shared_info_page,
 *      page-aligned, in .bss) at that frame with HYPERVISOR_update_va_mapping
 *      (the PTE value is the machine address plus the hardware PTE bits);
 *   3. copies the command line (start_info's copy is not guaranteed to be
 *      NUL-terminated, and the bootstrap region may be reclaimed later);
 *   4. calls kernel_main().
 * Until step 2 only console_io works (dom0): the domU console ring needs
 * nothing from shared_info, but the event mask the console uses lives there.
 */
#include "kernel.h"
#include "mm.h"
#include "smp.h"

/* Hardware PTE bits (Intel SDM vol. 3, 4.4 "PAE paging"). */
#define PTE_PRESENT (1u << 0)
#define PTE_RW (1u << 1)
#define PTE_ACCESSED (1u << 5)
#define PTE_DIRTY (1u << 6)

struct start_info *start_info;
const struct start_info *boot_start_info;
struct shared_info *shared_info;
const char *kernel_cmdline;

static char cmdline_copy[MAX_GUEST_CMDLINE];
static struct start_info start_info_copy;
static uint8_t shared_info_page[PAGE_SIZE]
    __attribute__((aligned(PAGE_SIZE), section(".bss.page_aligned")));

bool xen_is_dom0(void)
{
    return (start_info->flags & SIF_INITDOMAIN) != 0;
}

struct vcpu_info *this_vcpu(void)
{
#if XENOLITH_SMP
    if (smp_several())
        return &shared_info->vcpu_info[smp_cpu()];
#endif
    return &shared_info->vcpu_info[0];
}

/* Before the console exists: say what is wrong through console_io (seen in
 * dom0 mode, and in a domU on a debug Xen), then crash the domain. */
static _Noreturn void early_fatal(const char *msg)
{
    (void)HYPERVISOR_console_io(CONSOLEIO_write, (int)strlen(msg), (char *)msg);
    struct sched_shutdown sd = {.reason = SHUTDOWN_crash};
    for (;;)
        (void)HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
}

/*
 * For a suspend (suspend.c): the page goes back to its own frame, since the
 * save side refuses page tables that map a frame the domain does not own;
 * afterwards it maps start_info->shared_info, which names a new frame after
 * a restore or migration and the old one otherwise.
 */
int arch_shared_info_unmap(void)
{
    uint64_t own = virt_to_machine(shared_info_page) & ~(uint64_t)(PAGE_SIZE - 1);
    /* virt_to_machine goes by the p2m: the page's own frame, not Xen's. */
    return (int)HYPERVISOR_update_va_mapping((unsigned long)shared_info_page,
                                             own | PTE_PRESENT | PTE_RW | PTE_ACCESSED |
                                                 PTE_DIRTY, UVMF_INVLPG);
}

int arch_shared_info_map(void)
{
    uint64_t pte = (uint64_t)start_info->shared_info | PTE_PRESENT | PTE_RW | PTE_ACCESSED |
                   PTE_DIRTY;
    return (int)HYPERVISOR_update_va_mapping((unsigned long)shared_info_page, pte, UVMF_INVLPG);
}

_Noreturn void arch_start(struct start_info *si)
{
    start_info = si;
    start_info_copy = *si;
    boot_start_info = &start_info_copy;
    if (strncmp(si->magic, XEN_START_INFO_MAGIC, strlen(XEN_START_INFO_MAGIC)) != 0)
        early_fatal("*** FATAL start_info magic is not " XEN_START_INFO_MAGIC "\n");

    uint64_t pte = (uint64_t)si->shared_info | PTE_PRESENT | PTE_RW | PTE_ACCESSED | PTE_DIRTY;
    if (HYPERVISOR_update_va_mapping((unsigned long)shared_info_page, pte, UVMF_INVLPG) != 0)
        early_fatal("*** FATAL update_va_mapping of shared_info failed\n");
    shared_info = (struct shared_info *)shared_info_page;

    size_t n = strnlen((const char *)si->cmd_line, sizeof(si->cmd_line));
    if (n >= sizeof(cmdline_copy))
        n = sizeof(cmdline_copy) - 1;
    memcpy(cmdline_copy, si->cmd_line, n);
    cmdline_copy[n] = '\0';
    kernel_cmdline = cmdline_copy;

    kernel_main();
}
