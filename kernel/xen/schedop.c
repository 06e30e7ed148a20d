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
 *                  mask of the listed ports, so a masked port still ends the
 *                  poll. It must be called with events masked, or any pending
 *                  upcall makes it return at once; and even masked, an event
 *                  on some other (unmasked) port wakes it early: the VCPU is
 *                  simply unblocked when evtchn_upcall_pending goes 0 -> 1.
 *                  So xen_poll_ports() loops: poll, let the handlers of
 *                  other events run, check the ports and the clock, repeat.
 * With several vCPUs, a vCPU blocked or polling in Xen holds no kernel lock
 * (smp.h): both let it go before the hypercall and take it back after, so
 * that another vCPU can run while this one sleeps (the upcall on the way
 * back takes it for its handlers by itself).
 */
#include "kernel.h"
#include "events.h"
#include "sched.h"
#include "smp.h"
#include "time.h"

/* Xen's SCHEDOP_yield has no failure to report (it always returns 0), and
 * printing none keeps this usable where printk is not: in the console's own
 * write path and after a refused shutdown. */
void xen_sched_yield(void)
{
    (void)HYPERVISOR_sched_op(SCHEDOP_yield, NULL);
}

/* Around SCHEDOP_block and _poll: the kernel lock goes, if this vCPU
 * held it, and comes back after. */
static bool unlock_for_xen(void)
{
#if XENOLITH_SMP
    bool held = smp_several() && kernel_lock_held();
    if (held)
        kernel_unlock();
    return held;
#else
    return false;
#endif
}

static void relock_after_xen(bool held)
{
    if (held)
        kernel_lock();
}

void xen_sched_block(void)
{
    bool held = unlock_for_xen();
    long rc = HYPERVISOR_sched_op(SCHEDOP_block, NULL);
    relock_after_xen(held);
    if (rc)
        printk("sched: SCHEDOP_block failed: %ld\n", rc);
}

/* One SCHEDOP_poll: until a port in the list is pending or system time
 * passes timeout_ns (absolute; 0 = none). Call with events masked. Returns
 * early, too, when an event arrives on another port (see above). */
static int xen_sched_poll(evtchn_port_t *ports, unsigned nr_ports, uint64_t timeout_ns)
{
    struct sched_poll poll = {.nr_ports = nr_ports, .timeout = timeout_ns};
    set_xen_guest_handle(poll.ports, ports);
    bool held = unlock_for_xen();
    long rc = HYPERVISOR_sched_op(SCHEDOP_poll, &poll);
    relock_after_xen(held);
    if (rc)
        printk("sched: SCHEDOP_poll of %u ports failed: %ld\n", nr_ports, rc);
    return (int)rc;
}

int xen_poll_ports(evtchn_port_t *ports, unsigned nr_ports, uint64_t deadline_ns)
{
    for (;;) {
        for (unsigned i = 0; i < nr_ports; i++)
            if (evtchn_is_pending(ports[i]))
                return 1;
        if (deadline_ns && monotonic_ns() >= deadline_ns)
            return 0;
        unsigned long flags = irq_save();
        int rc = xen_sched_poll(ports, nr_ports, deadline_ns);
        irq_restore(flags); /* runs handlers of events on other ports */
        if (rc)
            return rc;
    }
}
