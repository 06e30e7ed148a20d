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
 * watchpoint on any address); the `debugreg` self-test is debugreg_selftest.c.
 */
#include "debugreg.h"

#include "shell.h"
#include "traps.h"

/* What the handler saw, for the self-test and the shell. */
volatile unsigned watch_hits;
volatile unsigned long watch_last_eip, watch_last_dr6;
unsigned long watch_addr[DR_ADDR_COUNT]; /* 0 = slot free */

const char *debugreg_symbolize(unsigned long addr, char *buf, size_t size)
{
    unsigned long off = 0;
    const char *name = symbol_lookup(addr, &off);

    if (!name)
        return "?";
    snprintf(buf, size, "%s+%#lx", name, off);
    return buf;
}

/* get_debugreg returns the value itself; Xen's errors are -4095..-1. */
#define XEN_ERR_MAX 4095ul
bool dr_read(int reg, unsigned long *val)
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

long watch_set(unsigned n, unsigned long addr)
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
               (unsigned long)f->eip, debugreg_symbolize(f->eip, sym, sizeof(sym)), n,
               watch_addr[n], dr6);
    }
    watch_last_eip = f->eip;
    watch_last_dr6 = dr6;
    watch_hits++;
    (void)dr_write(DR_STATUS, 0); /* B0..B3 stay set until cleared */
    return true;
}

int debugreg_init(void)
{
    trap_set_handler(TRAP_DB, debugreg_trap);
    return 0;
}

/* ---- the watched variable and its writers (separate functions, so the
 * reported symbol says which one wrote) ---- */

volatile uint32_t watched;

__attribute__((noinline)) unsigned long watched_write(uint32_t v)
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

__attribute__((noinline)) uint32_t watched_read(void)
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
