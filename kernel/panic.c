/*
 * panic.c — the kernel's own fatal errors (interface manual: "Scheduling":
 * SCHEDOP_shutdown with SHUTDOWN_crash, so the toolstack's on_crash and
 * `xl list` see a crash, and for dom0 Xen prints "Hardware Dom0 crashed").
 * Same shape as a fatal trap: "*** FATAL <message>", a backtrace, the
 * shutdown.
 */
#include "kernel.h"
#include "console.h"
#include "traps.h"

static bool panicking;

_Noreturn void panic(const char *fmt, ...)
{
    char msg[256];
    va_list ap;

    if (panicking) {
        printk("*** FATAL panic while panicking\n");
        kernel_shutdown(SHUTDOWN_crash);
    }
    panicking = true;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof(msg), fmt, ap);
    va_end(ap);
    printk("*** FATAL panic: %s\n", msg);
    backtrace_here();
    kernel_shutdown(SHUTDOWN_crash);
}
