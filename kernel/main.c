/*
 * main.c — the kernel's start of day after the arch part (interface manual:
 * "Booting a guest"; the order follows the manual: console, start_info,
 * then each part of the interface by level).
 *
 * arch_start (setup.c) has checked start_info and mapped shared_info.
 * kernel_main: console, banner "Xenolith <ver> booting as dom0|domU" (the
 * marker tests wait for), a start_info summary, the command-line report,
 * the initcalls in level order (INITCALL, kernel.h; the linker keeps
 * .initcall1 .. .initcall7 in that order), then either the self-tests asked
 * for with selftest=NAME[,NAME...]|all (and a shutdown: poweroff when all
 * passed, crash otherwise) or the shell.
 */
#include "kernel.h"
#include "console.h"
#include "mm.h"
#include "selftest.h"
#include "shell.h"
#include "time.h"

extern const initcall_t __initcall_start[], __initcall_end[];

uint64_t kernel_banner_ns; /* Xen system time when the banner was printed */

CMDLINE_PARAM(quiet, "quiet", "shorter boot messages");

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

static void run_initcalls(void)
{
    for (const initcall_t *call = __initcall_start; call < __initcall_end; call++) {
        int rc = (*call)();
        if (rc < 0) {
            unsigned long off;
            const char *name = symbol_lookup((unsigned long)*call, &off);
            printk("init: %s failed: %d\n", name ? name : "?", rc);
        }
    }
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
    run_initcalls();

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
