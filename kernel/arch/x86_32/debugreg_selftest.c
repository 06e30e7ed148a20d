/*
 * debugreg_selftest.c — the `debugreg` self-test (interface manual:
 * "Debugging Hypercalls"): a write watchpoint fires once, on the write, at
 * the right eip; a read and a disarmed watchpoint stay silent; values Xen
 * must refuse are refused (see kernel/arch/x86_32/debugreg.c).
 */
#include "debugreg.h"

#include "selftest.h"

/* Requests Xen must refuse; none of them changes a register. */
static bool st_refusals(struct selftest_result *r, unsigned *count)
{
    const struct {
        const char *what;
        int reg;
        unsigned long value;
    } bad[] = {
        {"DR7 with GD (general detect)", DR_CONTROL, DR7_GD},
        {"DR7 with an I/O breakpoint", DR_CONTROL, DR7_L(0) | (DR7_RW_IO << DR7_RW_SHIFT(0))},
        {"debug register 8", DR_BAD_NUMBER, 0},
    };

    for (unsigned i = 0; i < ARRAY_SIZE(bad); i++) {
        long rc = HYPERVISOR_set_debugreg(bad[i].reg, bad[i].value);
        if (rc >= 0) {
            selftest_fail(r, "Xen accepted %s", bad[i].what);
            return false;
        }
        printk("debugreg: Xen refused %s: %s\n", bad[i].what, xen_errname(rc));
        ++*count;
    }
    return true;
}

SELFTEST(debugreg)
{
    unsigned long got = 0, hole_ok;
    unsigned refused = 0;
    char sym[SYM_BUF];

    ST_EXPECT(r, watch_addr[0] == 0, "DR0 is busy");
    ST_EXPECT(r, watch_set(0, (unsigned long)&watched) == 0, "arming DR0 failed");
    ST_EXPECT(r, dr_read(0, &got) && got == (unsigned long)&watched,
              "DR0 reads back %#lx, want %p", got, (void *)&watched);

    unsigned h0 = watch_hits;
    uint32_t v = watched_read();
    unsigned after_read = watch_hits - h0;
    unsigned long want_eip = watched_write(v + 1);
    unsigned after_write = watch_hits - h0;
    unsigned long eip = watch_last_eip, dr6 = watch_last_dr6;
    (void)watch_set(0, 0);
    watched_write(v + 2); /* disarmed: must not fire */
    unsigned after_off = watch_hits - h0;

    ST_EXPECT(r, after_read == 0, "a read fired the write watchpoint");
    ST_EXPECT(r, after_write == 1, "one write gave %u hits", after_write);
    ST_EXPECT(r, dr6 & 1u, "DR6 %#lx does not name DR0", dr6);
    ST_EXPECT(r, eip == want_eip, "hit reported at eip %#lx, want %#lx", eip, want_eip);
    ST_EXPECT(r, after_off == 1, "the watchpoint fired after it was disarmed");

    if (!st_refusals(r, &refused))
        return;

    /* Informational: a write watchpoint in Xen's hole. 64-bit Xen accepts
     * it for a 32-bit guest (it never runs at those addresses of ours),
     * 32-bit Xen refused it. Nothing writes there, so it never fires. */
    hole_ok = watch_set(0, HYPERVISOR_VIRT_START) == 0;
    ST_EXPECT(r, watch_set(0, 0) == 0, "disarming DR0 failed");

    ST_PASS(r, "write hit once at %s (dr6 %#lx), read and disarmed silent; %u bad values refused; "
               "watch %#lx (Xen's hole) %s",
            debugreg_symbolize(eip, sym, sizeof(sym)), dr6, refused, (unsigned long)HYPERVISOR_VIRT_START,
            hole_ok ? "accepted" : "refused");
}
