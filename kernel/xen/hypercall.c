/*
 * hypercall.c — hypercall accounting (interface manual: "Hypercalls").
 *
 * Hypercalls go through the hypercall page (entry.S, filled in by Xen) via
 * the generated HYPERVISOR_* wrappers in <abi/xen.h>; every wrapper first
 * increments xen_hypercall_count[N], defined here. The `hypercalls` shell
 * command shows the counts since boot with Xen's names.
 */
#include "kernel.h"
#include "shell.h"

unsigned long xen_hypercall_count[XEN_NR_HYPERCALLS];

/* The hypercalls architecture.md gives wrappers for; Xen's other numbers
 * are named only if the generated header defines them. */
#define NAME(op) [__HYPERVISOR_##op] = #op
static const char *const hypercall_names[XEN_NR_HYPERCALLS] = {
    NAME(set_trap_table), NAME(mmu_update), NAME(set_gdt), NAME(stack_switch),
    NAME(set_callbacks), NAME(fpu_taskswitch), NAME(set_debugreg),
    NAME(get_debugreg), NAME(update_descriptor), NAME(memory_op),
    NAME(multicall), NAME(update_va_mapping), NAME(set_timer_op),
    NAME(xen_version), NAME(console_io), NAME(grant_table_op), NAME(vm_assist),
    NAME(vcpu_op), NAME(mmuext_op), NAME(sched_op), NAME(callback_op),
    NAME(event_channel_op), NAME(physdev_op),
#ifdef __HYPERVISOR_iret
    NAME(iret),
#endif
#ifdef __HYPERVISOR_nmi_op
    NAME(nmi_op),
#endif
#ifdef __HYPERVISOR_platform_op
    NAME(platform_op),
#endif
};

const char *xen_hypercall_name(unsigned nr)
{
    if (nr < ARRAY_SIZE(hypercall_names) && hypercall_names[nr])
        return hypercall_names[nr];
    return "?";
}

static int cmd_hypercalls(int argc, char **argv)
{
    unsigned long total = 0;
    /* Snapshot first: printing makes hypercalls of its own. */
    unsigned long snap[XEN_NR_HYPERCALLS];
    memcpy(snap, xen_hypercall_count, sizeof(snap));

    printk("hypercalls since boot (nr name count):\n");
    for (unsigned i = 0; i < XEN_NR_HYPERCALLS; i++) {
        if (!snap[i])
            continue;
        printk("  %2u %-22s %lu\n", i, xen_hypercall_name(i), snap[i]);
        total += snap[i];
    }
    printk("  total %lu\n", total);
    return 0;
}
SHELL_COMMAND(hypercalls, "hypercalls", "hypercalls",
              "hypercalls made since boot, per hypercall", cmd_hypercalls);
