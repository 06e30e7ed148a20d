/*
 * schedop.c — interface manual "Scheduling": the VCPU-level scheduler
 * operations other than shutdown (which is kernel/xen/shutdown.c):
 *   SCHEDOP_yield  give the physical CPU to another VCPU, stay runnable;
 *   SCHEDOP_block  sleep until an event is pending for this VCPU. Xen clears
 *                  evtchn_upcall_mask as part of the call and checks for
 *                  pending events only after that, so "mask; check there is
 *                  no work; block" cannot lose a wakeup. On return, any
 *                  pending upcall is delivered before the next instruction;
 *   SCHEDOP_poll   sleep until one of a list of ports is pending or an
 *                  absolute system time passes. Xen does not look at the
 *                  mask for the listed ports, so a masked port still ends the
 *                  poll; call it with events masked, or an unrelated pending
 *                  event makes it return at once.
 */
#include "kernel.h"
#include "sched.h"

void xen_sched_yield(void)
{
    long rc = HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
    if (rc)
        printk("sched: SCHEDOP_yield failed: %ld\n", rc);
}

void xen_sched_block(void)
{
    long rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    if (rc)
        printk("sched: SCHEDOP_block failed: %ld\n", rc);
}

int xen_sched_poll(evtchn_port_t *ports, unsigned nr_ports, uint64_t timeout_ns)
{
    struct sched_poll poll = {.nr_ports = nr_ports, .timeout = timeout_ns};
    set_xen_guest_handle(poll.ports, ports);
    long rc = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    if (rc)
        printk("sched: SCHEDOP_poll of %u ports failed: %ld\n", nr_ports, rc);
    return (int)rc;
}
