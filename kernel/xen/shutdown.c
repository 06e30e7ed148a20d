/*
 * shutdown.c — leaving (interface manual: "Scheduling": SCHEDOP_shutdown).
 *
 * SCHEDOP_shutdown with a reason (SHUTDOWN_poweroff, _reboot, _crash) stops
 * the domain; the toolstack then applies on_poweroff/on_reboot/on_crash
 * (`xl list -v` shows the reason while it is preserved). For dom0 Xen
 * prints "Hardware Dom0 halted|shutdown: rebooting|crashed" and acts on the
 * machine. The console ring is drained first so the last lines are not lost.
 */
#include "kernel.h"
#include "console.h"
#include "shell.h"

static const char *reason_name(unsigned reason)
{
    switch (reason) {
    case SHUTDOWN_poweroff: return "poweroff";
    case SHUTDOWN_reboot: return "reboot";
    case SHUTDOWN_crash: return "crash";
    default: return "unknown";
    }
}

_Noreturn void kernel_shutdown(unsigned reason)
{
    struct sched_shutdown sd = {.reason = reason};

    printk("shutdown: %s\n", reason_name(reason));
    console_flush();
    long rc = HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
    /* Only reached if Xen refused. Crash instead; if even that returns,
     * stay here without burning the CPU. */
    printk("*** FATAL sched_op(SCHEDOP_shutdown, %s) failed: %s\n", reason_name(reason), xen_errname(rc));
    console_flush();
    sd.reason = SHUTDOWN_crash;
    for (;;) {
        (void)HYPERVISOR_sched_op(SCHEDOP_shutdown, &sd);
        (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    }
}

static int cmd_shutdown(int argc, char **argv)
{
    static const struct {
        const char *name;
        unsigned reason;
    } reasons[] = {
        {"poweroff", SHUTDOWN_poweroff},
        {"reboot", SHUTDOWN_reboot},
        {"crash", SHUTDOWN_crash},
    };
    if (argc == 1)
        kernel_shutdown(SHUTDOWN_poweroff);
    if (argc == 2)
        for (size_t i = 0; i < ARRAY_SIZE(reasons); i++)
            if (!strcmp(argv[1], reasons[i].name))
                kernel_shutdown(reasons[i].reason);
    printk("usage: shutdown [poweroff|reboot|crash]\n");
    return 1;
}
SHELL_COMMAND(shutdown, "shutdown", "shutdown [poweroff|reboot|crash]",
              "stop the domain with SCHEDOP_shutdown (default poweroff)", cmd_shutdown);
