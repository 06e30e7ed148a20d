/*
 * events.h — event channels (interface manual: "Event channels"). The upcall
 * registered with CALLBACKOP_register walks the two-level pending bitmaps in
 * shared_info and calls the handler bound to each port.
 * Implemented in kernel/xen/evtchn/evtchn.c and kernel/arch/x86_32/upcall.S.
 *
 * Handlers run in upcall context: events masked, on the interrupted stack.
 * They must be short, must not block, wait or switch threads; thread_wake(),
 * timer_arm() and a one-line printk are fine. Errors are Xen's (-XEN_Exxx).
 */
#ifndef XENOLITH_EVENTS_H
#define XENOLITH_EVENTS_H

#include "kernel.h"
#include "smp.h"

typedef void (*evtchn_handler_t)(evtchn_port_t port, void *data);

/* Start of day (main.c): the upcall and failsafe callbacks, VIRQ_DEBUG,
 * then events unmasked. */
int evtchn_init(void);
/* Bind a handler to a port we already own and unmask it. */
int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *data);
int evtchn_bind_virq(unsigned virq, evtchn_handler_t h, void *data, evtchn_port_t *port);
#if XENOLITH_SMP
/* Several vCPUs (smp.h): a VIRQ bound to one vCPU (VIRQ_TIMER is per vCPU),
 * an IPI port whose events go to `vcpu` (EVTCHNOP_bind_ipi: any vCPU
 * sends, evtchn_send), and an interdomain or unbound port moved to `vcpu`
 * (EVTCHNOP_bind_vcpu). The upcall on each vCPU dispatches only the ports
 * bound to it. */
int evtchn_bind_virq_vcpu(unsigned virq, unsigned vcpu, evtchn_handler_t h, void *data,
                          evtchn_port_t *port);
int evtchn_bind_ipi(unsigned vcpu, evtchn_handler_t h, void *data, evtchn_port_t *port);
int evtchn_bind_vcpu(evtchn_port_t port, unsigned vcpu);
/* The port's handler touches only atomics and its own vCPU's words: the
 * upcall runs it without taking the kernel lock (smp.h), so a vCPU that
 * waits for the lock still answers it. Every other handler runs with the
 * lock. */
void evtchn_set_unlocked(evtchn_port_t port);
#endif
int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port);
/* Note: Xen marks the new local port pending once (lost-notification fixup). */
int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port);
evtchn_port_t evtchn_virq_port(unsigned virq); /* the port VIRQ virq is bound to, or 0 */
int evtchn_send(evtchn_port_t port);
int evtchn_close(evtchn_port_t port);
void evtchn_mask(evtchn_port_t port);
void evtchn_unmask(evtchn_port_t port); /* delivers an event that came while masked */
bool evtchn_is_pending(evtchn_port_t port);
void evtchn_clear_pending(evtchn_port_t port);
unsigned long evtchn_port_count(evtchn_port_t port); /* events dispatched on port */
/* Storm guard (evtchn.c): a port with more than EVTCHN_STORM_EVENTS events in
 * one EVTCHN_STORM_WINDOW_NS is masked until the window ends; how often. */
#define EVTCHN_STORM_EVENTS 1000
#define EVTCHN_STORM_WINDOW_NS (100 * 1000000ULL)
unsigned evtchn_port_storms(evtchn_port_t port);
/* Events handled on the calling vCPU's ports (all of them), for
 * wait_for_event. */
#if XENOLITH_SMP
extern unsigned long evtchn_events_handled[SMP_MAX_VCPUS];
static inline unsigned long evtchn_events_here(void)
{
    return READ_ONCE(evtchn_events_handled[smp_cpu()]);
}
#else
extern unsigned long evtchn_events_handled;
static inline unsigned long evtchn_events_here(void)
{
    return evtchn_events_handled;
}
#endif

/* Event delivery on/off (vcpu_info->evtchn_upcall_mask). irq_restore and
 * irq_enable run any event that arrived while masked before returning. */
unsigned long irq_save(void);       /* masks, returns the old mask */
void irq_restore(unsigned long flags);
void irq_enable(void);

/* The building block of the above, for code that runs before event channels
 * are up too (the console, the page-fault entry): set v's upcall mask back to
 * `mask`; true when that unmasked events and one is already pending (Xen does
 * not deliver it on its own: have it run, e.g. by upcall_mask_restore_kick). */
static inline bool upcall_mask_restore(struct vcpu_info *v, uint8_t mask)
{
    barrier();
    WRITE_ONCE(v->evtchn_upcall_mask, mask);
    barrier();
    return !mask && READ_ONCE(v->evtchn_upcall_pending);
}

/* upcall_mask_restore, then any hypercall to let Xen deliver a pending event. */
static inline void upcall_mask_restore_kick(struct vcpu_info *v, uint8_t mask)
{
    if (upcall_mask_restore(v, mask))
        (void)HYPERVISOR_xen_version(XENVER_version, NULL);
}

/*
 * Wait for something to happen: lets other runnable threads run, or blocks
 * the VCPU in Xen (SCHEDOP_block) when none can, then returns after the
 * handlers of the events that woke it have run. Meant for loops
 *     while (!condition()) wait_for_event();
 * and safe for them without masking: it returns at once if any event was
 * handled since this thread last returned from it, so an event that lands
 * between the check and the call is never slept through. Spurious returns
 * are allowed. Implemented in kernel/sched.c. Used by the idle loop and
 * console input.
 */
void wait_for_event(void);

#endif
