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
#include "sched.h"
#include "shell.h"

static const struct {
    const char *word;
    unsigned reason;
} words[] = {
    {"poweroff", SHUTDOWN_poweroff}, {"halt", SHUTDOWN_poweroff}, {"reboot", SHUTDOWN_reboot},
    {"crash", SHUTDOWN_crash},       {"suspend", SHUTDOWN_suspend},
};

bool shutdown_reason_of(const char *word, unsigned *reason)
{
    for (size_t i = 0; i < ARRAY_SIZE(words); i++)
        if (!strcmp(word, words[i].word)) {
            *reason = words[i].reason;
            return true;
        }
    return false;
}

static const char *reason_name(unsigned reason)
{
    for (size_t i = 0; i < ARRAY_SIZE(words); i++)
        if (words[i].reason == reason)
            return words[i].word;
    return "unknown";
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
        xen_sched_yield();
    }
}

static int cmd_shutdown(int argc, char **argv)
{
    unsigned reason = SHUTDOWN_poweroff;
    if (argc == 1 || (argc == 2 && shutdown_reason_of(argv[1], &reason) &&
                      reason != SHUTDOWN_suspend))
        kernel_shutdown(reason);
    printk("usage: shutdown [poweroff|halt|reboot|crash]\n");
    return 1;
}
SHELL_COMMAND(shutdown, "shutdown", "shutdown [poweroff|halt|reboot|crash]",
              "stop the domain with SCHEDOP_shutdown (default poweroff)", cmd_shutdown);
