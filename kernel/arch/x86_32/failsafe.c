/*
 * failsafe.c — the `failsafe` shell command: the failsafe callback
 * (upcall.S, registered by kernel/xen/evtchn/evtchn.c as CALLBACKTYPE_failsafe),
 * entered as Xen would (`failsafe`) and for real (`failsafe real`).
 * Interface manual: "Callbacks"; Xen 4.17 xen/arch/x86/domain.c,
 * load_segments().
 *
 * When does Xen call it? Only from load_segments() (domain.c:1662-1718 in
 * the lab's 4.17.5 source: the compat frame, then eip = the callback),
 * which reloads a PV
 * VCPU's DS, ES, FS and GS from the selectors it saved when the VCPU was
 * switched out. A selector whose descriptor no longer loads (not present,
 * wrong type, beyond the GDT/LDT limit) makes Xen load the null selector
 * instead and build the failsafe frame (DS ES FS GS EIP CS EFLAGS) on our
 * kernel stack. Xen's other ways back to the guest never call it (a fault
 * on its iret is bounced to us as an ordinary exception).
 *
 * load_segments() runs only on a full context switch (context_switch(),
 * domain.c:2055-2068: skipped when the CPU still holds our state). Xen
 * switches lazily: when our VCPU blocks and the CPU goes idle, our
 * registers stay loaded and nothing is reloaded when we wake on the same
 * CPU. A full switch happens when another VCPU runs on that CPU in between,
 * when we move to another CPU, or when Xen saves our state to pause us:
 * `xl pause` (common/domain.c _domain_pause -> vcpu_sleep_sync ->
 * sync_vcpu_execstate), after which `xl unpause` makes the next run a full
 * switch. That is what the test does (a domU). As the lab's dom0 we are
 * the only domain and nothing does that: the wait ends in "disarmed".
 *
 * `failsafe real [SECONDS]` arms it: a flat data descriptor in the GDT's
 * scratch slot, its selector loaded into %gs (nothing else uses %gs), then
 * the descriptor made not present with update_descriptor. The CPU keeps
 * the loaded copy, so nothing happens until Xen reloads %gs. Xen accepts a
 * not-present descriptor ("will always fault, so is safe",
 * pv/descriptor-tables.c check_descriptor). The command then sleeps (the
 * VCPU blocks in Xen) until the failsafe callback crashes the domain, or
 * gives up after SECONDS, puts %gs and the slot back and fails.
 */
#include "gdt.h"

#include "shell.h"
#include "time.h"

#define FAILSAFE_WAIT_S 60     /* default wait for a full context switch */
#define FAILSAFE_POLL_MS 100   /* sleep slices while waiting */

/* Enter the failsafe callback with the frame Xen would build (here our own
 * current segment registers, a return address and flags). */
static _Noreturn void failsafe_simulated(void)
{
    printk("failsafe: entering the failsafe callback as Xen would\n");
    __asm__ __volatile__("pushfl\n\t"
                         "pushl %%cs\n\t"
                         "pushl $1f\n\t"
                         "pushl %%gs\n\t"
                         "pushl %%fs\n\t"
                         "pushl %%es\n\t"
                         "pushl %%ds\n\t"
                         "jmp failsafe_callback\n"
                         "1:\tud2"
                         :
                         :
                         : "memory");
    __builtin_unreachable();
}

static int failsafe_real(unsigned long seconds)
{
    uint64_t present = desc_flat(DESC_TYPE_DATA_RW);

    if (!gdt_installed()) {
        printk("failsafe: needs our own GDT (%s)\n", gdt_state());
        return 1;
    }
    if (gdt_update(GDT_ENTRY_SCRATCH, present) < 0)
        return 1;
    load_gs(SCRATCH_SEL);
    if (gdt_update(GDT_ENTRY_SCRATCH, present & ~DESC_P) < 0) {
        load_gs(0);
        return 1;
    }
    printk("failsafe: armed: %%gs = %#x, GDT slot %u now not present; waiting up to %lu s "
           "for Xen to reload our segment registers (a full context switch, e.g. "
           "`xl pause` + `xl unpause`)\n",
           SCRATCH_SEL, GDT_ENTRY_SCRATCH, seconds);

    uint64_t deadline = monotonic_ns() + (uint64_t)seconds * NSEC_PER_SEC;
    while (monotonic_ns() < deadline)
        sleep_ms(FAILSAFE_POLL_MS);

    /* No full context switch came: put things back. */
    load_gs(0);
    (void)gdt_update(GDT_ENTRY_SCRATCH, 0);
    printk("failsafe: Xen did not reload our segments in %lu s; disarmed\n", seconds);
    return 1;
}

static int cmd_failsafe(int argc, char **argv)
{
    unsigned long seconds = FAILSAFE_WAIT_S;

    if (argc == 1)
        failsafe_simulated();
    if (argc <= 3 && strcmp(argv[1], "real") == 0 &&
        (argc == 2 || (parse_ulong(argv[2], &seconds) && seconds > 0)))
        return failsafe_real(seconds);
    printk("usage: failsafe [real [SECONDS]]\n");
    return 1;
}
SHELL_COMMAND(failsafe, "failsafe", "failsafe [real [SECONDS]]",
              "enter the failsafe callback: as Xen would, or for real with a bad %gs "
              "(fatal: the domain crashes)",
              cmd_failsafe);
