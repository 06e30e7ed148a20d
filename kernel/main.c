/*
 * main.c — the start of day after the arch part (interface manual:
 * "Booting a guest"), as one list of calls in the manual's order: traps,
 * memory, segments and events, time and timers, threads, grant table,
 * XenStore, console input; then the toolstack's side (control/, suspend,
 * the memory target) and the drivers.
 *
 * arch_start (setup.c) has checked start_info and mapped shared_info.
 * kernel_main: console, banner "Xenolith <ver> booting as dom0|domU" (the
 * marker tests wait for), a start_info summary, the command-line report,
 * start_of_day(), then either the self-tests asked for with
 * selftest=NAME[,NAME...]|all|list (and a shutdown: poweroff when none
 * failed, crash otherwise) or the shell. A step that fails is reported as
 * "init: NAME failed: RC" and boot goes on: the parts after it check what
 * they need (xs_available, gnttab_available) and say what they lack.
 */
#include "kernel.h"
#include "blkfront.h"
#include "console.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "net.h"
#include "netfront.h"
#include "sched.h"
#include "selftest.h"
#include "smp.h"
#include "shell.h"
#include "suspend.h"
#include "time.h"
#include "traps.h"
#include "xenstore.h"
#include "arch/x86_32/debugreg.h"
#include "arch/x86_32/gdt.h"

uint64_t kernel_banner_ns; /* Xen system time when the banner was printed */

static void print_start_info(void)
{
    const struct start_info *si = start_info;
    printk("start_info: %.32s, %lu pages (%lu MiB), flags 0x%x\n", si->magic,
           (unsigned long)si->nr_pages, (unsigned long)si->nr_pages >> (20 - PAGE_SHIFT),
           (unsigned)si->flags);
    printk("start_info: shared_info ma 0x%lx, pt_base 0x%lx (%lu frames), mfn_list 0x%lx\n",
           (unsigned long)si->shared_info, (unsigned long)si->pt_base,
           (unsigned long)si->nr_pt_frames, (unsigned long)si->mfn_list);
    if (xen_is_dom0())
        printk("start_info: console via console_io, no xenstore\n");
    else
        printk("start_info: console mfn 0x%lx evtchn %u, store mfn 0x%lx evtchn %u\n",
               (unsigned long)si->console.domU.mfn, (unsigned)si->console.domU.evtchn,
               (unsigned long)si->store_mfn, (unsigned)si->store_evtchn);
}

/* One step of the start of day. A failure is named from the symbol table
 * (the tiny kernel has none: its address then, for addr2line). */
static void start(int (*init)(void))
{
    int rc = init();
    if (rc < 0) {
        unsigned long off;
        const char *name = symbol_lookup((unsigned long)init, &off);
        if (name)
            printk("init: %s failed: %d\n", name, rc);
        else
            printk("init: %p failed: %d\n", (void *)init, rc);
    }
}

static void start_of_day(void)
{
    start(traps_init);
    start(debugreg_init);
    start(mm_init);
    start(gdt_init);
    start(evtchn_init);
    start(time_init);
    start(timer_init);
    start(sched_init);
    start(gnttab_init);
    start(xenstore_init);
    start(console_input_init);
#if XENOLITH_SMP /* make tiny runs on vCPU 0 alone (mk/kernel.mk) */
    start(smp_init);
#endif
    /* Late: what answers the toolstack, once XenStore and threads exist. */
    start(control_init);
    start(suspend_init);
    start(balloon_target_init);
#if XENOLITH_DRIVERS /* make tiny leaves drivers/ out (mk/kernel.mk) */
    start(net_init);
    start(netfront_init);
    start(blkfront_init);
#endif
}

_Noreturn void kernel_main(void)
{
    console_init();
    uint64_t banner_ns = monotonic_ns(); /* Xen system time: usable at once */
    kernel_banner_ns = banner_ns;
    printk("Xenolith %s booting as %s\n", XENOLITH_VERSION, xen_is_dom0() ? "dom0" : "domU");
    if (!cmdline_get("quiet"))
        print_start_info();
    cmdline_init();
    start_of_day();

    const char *which = cmdline_get("selftest");
    if (which) {
        int failed = selftest_run(*which ? which : "all");
        kernel_shutdown(failed == 0 ? SHUTDOWN_poweroff : SHUTDOWN_crash);
    }
    uint64_t boot_us = (monotonic_ns() - banner_ns) / NSEC_PER_USEC;
    printk("boot: banner to shell in %lu.%03lu ms\n", (unsigned long)(boot_us / 1000),
           (unsigned long)(boot_us % 1000));
    shell_run();
}
