/*
 * thread_cmd.c — the `threads` shell command: every thread with its state,
 * switches, stack high-water mark (stack.c's marks) and FPU ownership
 * (interface manual: "Scheduling", "CPU state"); it checks each canary too.
 */
#include "sched_priv.h"
#include "shell.h"
#include "smp.h"

/* "13104/16384", or "<12288/16384" while the fill is untouched. */
static void stack_use(const struct thread *t, char *buf, size_t size)
{
    unsigned long total = t->stack_top - t->stack_lowest;
    unsigned long touched = stack_first_touched(t, STACK_FILL_BYTES);
    if (!t->stack_lowest)
        snprintf(buf, size, "-");
    else if (touched)
        snprintf(buf, size, "%lu/%lu", t->stack_top - touched, total);
    else
        snprintf(buf, size, "<%lu/%lu", total - STACK_FILL_BYTES, total);
}

/* Slot i of the listing: main, the pool, then the secondaries' idle
 * threads; NULL for a free or absent one. */
static const struct thread *listed(unsigned i)
{
    const struct thread *t = NULL;
    if (i < THREAD_MAX)
        t = thread_slot(i);
#if XENOLITH_SMP
    else
        t = sched_cpu_idle(i - THREAD_MAX + 1);
#endif
    return t && t->state != T_FREE ? t : NULL;
}

#if XENOLITH_SMP
#define LISTED (THREAD_MAX + SMP_MAX_VCPUS - 1)
#define VCPU_HEAD "    vcpu"
#define FPU_COL "%-5s  %4u"
#define VCPU_OF(t) , thread_cpu(t)
#else /* one vCPU: no column */
#define LISTED THREAD_MAX
#define VCPU_HEAD ""
#define FPU_COL "%s"
#define VCPU_OF(t)
#endif

static int cmd_threads(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char use[32];
    for (unsigned i = 0; i < LISTED; i++) { /* a damaged canary is fatal here too */
        const struct thread *t = listed(i);
        if (t)
            stack_check(t);
    }
    printk("  id  name              state     switches  stack high-water  fpu" VCPU_HEAD "\n");
    for (unsigned i = 0; i < LISTED; i++) {
        const struct thread *t = listed(i);
        if (!t)
            continue;
        stack_use(t, use, sizeof(use));
        printk("%4u  %-16s  %-8s  %8lu  %16s  " FPU_COL "%s\n", i, t->name,
               thread_state_names[t->state], t->switches, use,
               fpu_is_owner(&t->fpu) ? "owner" : (t->fpu.used ? "saved" : "-") VCPU_OF(t),
               t == thread_current() ? "  <- current" : "");
    }
    printk("%lu switches; #NM %lu, FPU state loads %lu\n", total_switches, fpu_nm_traps(),
           fpu_state_loads());
    printk("stack high-water: deepest use in bytes, exact within the lowest %u (filled at "
           "creation); canaries (lowest %u bytes) intact\n", STACK_FILL_BYTES, STACK_CANARY_BYTES);
    return 0;
}
SHELL_COMMAND(threads, "threads", "threads",
              "list threads: name, state, switches, stack high-water, FPU owner; checks canaries",
              cmd_threads);
