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

static int cmd_threads(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char use[32];
    for (unsigned i = 0; i < THREAD_MAX; i++) { /* a damaged canary is fatal here too */
        const struct thread *t = i == 0 ? &main_thread : &thread_pool[i - 1];
        if (t->state != T_FREE)
            stack_check(t);
    }
    printk("  id  name              state     switches  stack high-water  fpu\n");
    for (unsigned i = 0; i < THREAD_MAX; i++) {
        const struct thread *t = i == 0 ? &main_thread : &thread_pool[i - 1];
        if (t->state == T_FREE)
            continue;
        stack_use(t, use, sizeof(use));
        printk("%4u  %-16s  %-8s  %8lu  %16s  %s%s\n", i, t->name, thread_state_names[t->state],
               t->switches, use,
               fpu_is_owner(&t->fpu) ? "owner" : (t->fpu.used ? "saved" : "-"),
               t == current_thread ? "  <- current" : "");
    }
    printk("%lu switches; #NM %lu, FPU state loads %lu\n", total_switches, fpu_nm_traps(),
           fpu_state_loads());
    printk("stack high-water: deepest use in bytes, exact within the lowest %u (filled at "
           "creation); canaries (lowest %u bytes) intact\n", STACK_FILL_BYTES, STACK_CANARY_BYTES);
#if XENOLITH_SMP
    if (smp_nr_vcpus() > 1) /* the secondaries run no thread (smp.h): `cpus` shows them */
        printk("vcpu: every thread runs on vCPU 0; vCPUs 1-%u serve calls and IPIs (cpus)\n",
               smp_nr_vcpus() - 1);
#endif
    return 0;
}
SHELL_COMMAND(threads, "threads", "threads",
              "list threads: name, state, switches, stack high-water, FPU owner; checks canaries",
              cmd_threads);
