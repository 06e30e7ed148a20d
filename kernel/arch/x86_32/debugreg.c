/*
 * debugreg.c — hardware watchpoints (interface manual, hypercall appendix:
 * "Debugging Hypercalls": set_debugreg, get_debugreg; "Exceptions" for the
 * #DB it raises).
 *
 * A ring-1 guest cannot execute `mov %drN`, so it asks Xen:
 * HYPERVISOR_set_debugreg(reg, value) and HYPERVISOR_get_debugreg(reg).
 * Xen keeps the values per VCPU, loads them into the real registers while
 * the VCPU runs and checks them first:
 *   - DR0..DR3 (addresses): any address a 32-bit guest can name is
 *     accepted by 64-bit Xen, even one in the hypervisor hole above
 *     HYPERVISOR_VIRT_START (Xen lives outside the guest's 4 GiB and does
 *     not police compat breakpoint addresses);
 *   - DR7 (control): GD (general detect, bit 13) is Xen's own and refused
 *     with -EPERM, and so is an I/O breakpoint (R/W = 10b) unless the guest
 *     set CR4.DE, which ours does not;
 *   - a register number above 7: refused.
 * When a watchpoint fires the CPU raises #DB (a trap: eip is already past
 * the instruction that wrote); Xen saves DR6 for the guest and bounces
 * vector 1 to the handler in our trap table. DR6's B0..B3 bits are sticky:
 * the handler clears them (set_debugreg(6, 0)) before returning.
 *
 * Since 2.0: same two hypercalls. get_debugreg returns the register's
 * value, so an error (-EINVAL/-ENODEV for a bad register number) can only
 * be told apart by its value, as Xen's header admits ("this interface is
 * defective").
 *
 * Here: a #DB handler that reports "debugreg: watchpoint hit at eip ...
 * (symbol)" and resumes, the `watch` shell command (a demo, or a write
 * watchpoint on any address), and the `debugreg` self-test.
 */
#include "kernel.h"
#include "selftest.h"
#include "shell.h"
#include "traps.h"

/* Debug registers (Intel SDM Vol. 3B, 17.2 "Debug Registers"). */
#define DR_ADDR_FIRST 0 /* DR0..DR3 hold linear addresses */
#define DR_ADDR_COUNT 4
#define DR_STATUS 6     /* DR6 */
#define DR_CONTROL 7    /* DR7 */
#define DR_BAD_NUMBER 8 /* no such register */

#define DR6_B_MASK 0xFu             /* B0..B3: which breakpoint fired */
#define DR7_L(n) (1u << ((n) * 2))  /* local enable of breakpoint n */
#define DR7_GD (1u << 13)           /* general detect: trap on any mov %dr */
#define DR7_RW_SHIFT(n) (16 + (n) * 4)
#define DR7_LEN_SHIFT(n) (18 + (n) * 4)
#define DR7_RW_WRITE 1u /* R/W field: break on data writes */
#define DR7_RW_IO 2u    /* break on I/O (needs CR4.DE) */
#define DR7_LEN_4 3u    /* LEN field: 4 bytes (address 4-aligned) */
#define WATCH_ALIGN 4u

/* What the handler saw, for the self-test and the shell. */
static volatile unsigned watch_hits;
static volatile unsigned long watch_last_eip, watch_last_dr6;
static unsigned long watch_addr[DR_ADDR_COUNT]; /* 0 = slot free */

/* "name+0xoff" for a code address, in buf. */
static const char *symbolize(unsigned long addr, char *buf, size_t size)
{
    unsigned long off = 0;
    const char *name = symbol_lookup(addr, &off);

    if (!name)
        return "?";
    snprintf(buf, size, "%s+%#lx", name, off);
    return buf;
}
#define SYM_BUF 64

/* get_debugreg returns the value itself; Xen's errors are -4095..-1. */
#define XEN_ERR_MAX 4095ul
static bool dr_read(int reg, unsigned long *val)
{
    unsigned long v = (unsigned long)HYPERVISOR_get_debugreg(reg);
    if (v >= -XEN_ERR_MAX)
        return false;
    *val = v;
    return true;
}

static long dr_write(int reg, unsigned long val)
{
    long rc = HYPERVISOR_set_debugreg(reg, val);
    if (rc < 0)
        printk("debugreg: Xen refused DR%d = %#lx: %s\n", reg, val, xen_errname(rc));
    return rc;
}

/* DR7 for the slots armed in watch_addr[] (all of ours are 4-byte write
 * watchpoints). */
static unsigned long dr7_value(void)
{
    unsigned long v = 0;
    for (unsigned n = 0; n < DR_ADDR_COUNT; n++)
        if (watch_addr[n])
            v |= DR7_L(n) | (DR7_RW_WRITE << DR7_RW_SHIFT(n)) | (DR7_LEN_4 << DR7_LEN_SHIFT(n));
    return v;
}

/* Arm breakpoint slot n on writes to the 4 bytes at addr (0 disarms). */
static long watch_set(unsigned n, unsigned long addr)
{
    long rc;

    watch_addr[n] = 0;
    rc = dr_write(DR_CONTROL, dr7_value()); /* off while DRn changes */
    if (rc == 0)
        rc = dr_write(DR_ADDR_FIRST + (int)n, addr);
    if (rc == 0 && addr) {
        watch_addr[n] = addr;
        rc = dr_write(DR_CONTROL, dr7_value());
        if (rc < 0)
            watch_addr[n] = 0;
    }
    return rc;
}

/* #DB: our watchpoints, or not ours (single step, int1): then fatal. */
static bool debugreg_trap(struct trap_frame *f)
{
    unsigned long dr6;
    char sym[SYM_BUF];

    if (!dr_read(DR_STATUS, &dr6) || !(dr6 & DR6_B_MASK))
        return false;
    for (unsigned n = 0; n < DR_ADDR_COUNT; n++) {
        if (!(dr6 & (1u << n)))
            continue;
        printk("debugreg: watchpoint hit at eip %#lx (%s) DR%u write of %#lx, dr6 %#lx\n",
               (unsigned long)f->eip, symbolize(f->eip, sym, sizeof(sym)), n, watch_addr[n], dr6);
    }
    watch_last_eip = f->eip;
    watch_last_dr6 = dr6;
    watch_hits++;
    (void)dr_write(DR_STATUS, 0); /* B0..B3 stay set until cleared */
    return true;
}

static int debugreg_init(void)
{
    trap_set_handler(TRAP_DB, debugreg_trap);
    return 0;
}
INITCALL(INIT_ARCH, debugreg_init);

/* ---- the watched variable and its writers (separate functions, so the
 * reported symbol says which one wrote) ---- */

static volatile uint32_t watched;

/* Write `v` and give the address of the next instruction: the eip a data
 * breakpoint reports (it traps after the write). */
static __attribute__((noinline)) unsigned long watched_write(uint32_t v)
{
    unsigned long after;
    __asm__ __volatile__("movl %[v], %[t]\n"
                         "1:\n\t"
                         "movl $1b, %[after]"
                         : [t] "=m"(watched), [after] "=r"(after)
                         : [v] "r"(v)
                         : "memory");
    return after;
}

static __attribute__((noinline)) uint32_t watched_read(void)
{
    return watched;
}

/* ---- shell: `watch` ---- */

static int watch_demo(void)
{
    unsigned before = watch_hits;

    printk("watch: DR0 = &watched (%p), DR7: write, 4 bytes; then read, write, write\n",
           (void *)&watched);
    if (watch_set(0, (unsigned long)&watched) < 0)
        return 1;
    uint32_t v = watched_read();
    watched_write(v + 1);
    watched_write(v + 2);
    (void)watch_set(0, 0);
    printk("watch: %u hits for 2 writes and 1 read (watchpoint now off)\n", watch_hits - before);
    return watch_hits - before == 2 ? 0 : 1;
}

static int cmd_watch(int argc, char **argv)
{
    unsigned long addr;

    if (argc < 2 || strcmp(argv[1], "demo") == 0)
        return watch_demo();
    if (strcmp(argv[1], "off") == 0) {
        for (unsigned n = 1; n < DR_ADDR_COUNT; n++)
            if (watch_addr[n] && watch_set(n, 0) < 0)
                return 1;
        printk("watch: all watchpoints off\n");
        return 0;
    }
    if (!parse_ulong(argv[1], &addr) || addr == 0 || addr % WATCH_ALIGN) {
        printk("watch: %s is not a 4-byte aligned address\n", argv[1]);
        return 1;
    }
    /* Slot 0 is the demo's and the self-test's; 1..3 are the user's. */
    for (unsigned n = 1; n < DR_ADDR_COUNT; n++) {
        if (!watch_addr[n]) {
            if (watch_set(n, addr) < 0)
                return 1;
            printk("watch: DR%u watches writes to %#lx\n", n, addr);
            return 0;
        }
    }
    printk("watch: all of DR1..DR3 are in use (`watch off` frees them)\n");
    return 1;
}
SHELL_COMMAND(watch, "watch", "watch [demo|off|ADDRESS]",
              "hardware write watchpoint: the demo, or on a 4-byte aligned address", cmd_watch);

/* ---- self-test ---- */

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
            symbolize(eip, sym, sizeof(sym)), dr6, refused, (unsigned long)HYPERVISOR_VIRT_START,
            hole_ok ? "accepted" : "refused");
}
