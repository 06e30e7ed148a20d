/*
 * evtchn.c — interface manual "Event channels", the mechanism: the upcall,
 * per-port handlers, binding (VIRQs, unbound and interdomain ports), send,
 * close, mask/unmask, and the per-VCPU event mask used as "interrupts off".
 * Beside it: evtchn_storm.c (a port that floats us with events is masked
 * for a while), evtchn_resume.c (ports after suspend), evtchn_cmd.c (the
 * `events` and `evtchn` shell commands), evtchn_priv.h (the port table).
 *
 * How events reach us (2-level ABI, 32-bit guest: 32 x 32 = 1024 ports):
 * Xen sets the port's bit in shared_info->evtchn_pending[]; if the port's
 * bit in evtchn_mask[] is clear it also sets bit (port / 32) in this VCPU's
 * evtchn_pending_sel and evtchn_upcall_pending, and if evtchn_upcall_mask is
 * 0 it enters hypervisor_callback (upcall.S), which calls
 * evtchn_do_upcall() below with the mask set to 1. We clear
 * evtchn_upcall_pending first, then take the selector with an atomic
 * exchange, and for each selected word clear and dispatch the pending,
 * unmasked ports. Clearing in that order means an event that arrives while
 * we work sets the flags again and is seen by the exit path in upcall.S.
 *
 * Handlers run in upcall context, with events masked, on whatever stack was
 * interrupted: they must be short and must not block or switch threads
 * (thread_wake(), timer_arm() and a one-line printk are fine).
 */
#include <stddef.h>
#include "kernel.h"
#include "events.h"
#include "evtchn_priv.h"
#include "smp.h"

/* Entry points in upcall.S, registered with Xen below. */
extern char hypervisor_callback[], failsafe_callback[];
/* Set once the upcall is registered: irq_restore runs missed events only then. */
static bool upcall_ready;

struct port evtchn_ports[EVTCHN_NR_PORTS];

#if XENOLITH_SMP
unsigned long evtchn_events_handled[SMP_MAX_VCPUS]; /* see wait_for_event() */
#else
unsigned long evtchn_events_handled;
#endif
unsigned long evtchn_upcalls, evtchn_unhandled;

/* ---- the upcall --------------------------------------------------------- */

static void dispatch(evtchn_port_t port, unsigned cpu)
{
    struct port *p = &evtchn_ports[port];

    if (evtchn_storm_guard(port, p))
        return; /* masked: what comes now waits for the window's end */
    p->count++;
#if XENOLITH_SMP
    /* This vCPU's count: nobody else writes it. */
    WRITE_ONCE(evtchn_events_handled[cpu], evtchn_events_handled[cpu] + 1);
#else
    (void)cpu;
    evtchn_events_handled++;
#endif
    if (p->handler)
        p->handler(port, p->data);
    else
        evtchn_unhandled++;
}

/* Called by upcall.S (and by irq_restore) with events masked; returns the
 * vcpu_info it served, whose mask and pending flag upcall.S's exit touches.
 * Each vCPU takes its own selector (its vcpu_info) and dispatches only the
 * ports bound to it. With several vCPUs, a handler that is not marked
 * unlocked runs with the kernel lock: taken here, once, if the interrupted
 * code did not hold it (an idle thread woken from SCHEDOP_block, a thread
 * computing unlocked), and let go on the way out. */
__attribute__((used)) struct vcpu_info *evtchn_do_upcall(void)
{
    struct vcpu_info *v = this_vcpu();
    unsigned cpu = smp_cpu();
#if XENOLITH_SMP
    bool locked = kernel_lock_held(), took = false;
#endif

    evtchn_upcalls++;
    WRITE_ONCE(v->evtchn_upcall_pending, 0);
    /* The locked exchange orders the clear above before the reads below. */
    xen_ulong_t sel = __atomic_exchange_n(&v->evtchn_pending_sel, 0, __ATOMIC_SEQ_CST);
    while (sel) {
        unsigned word = (unsigned)__builtin_ctzl(sel);
        sel &= sel - 1;
        xen_ulong_t bits = READ_ONCE(shared_info->evtchn_pending[word]) &
                           ~READ_ONCE(shared_info->evtchn_mask[word]);
        while (bits) {
            unsigned bit = (unsigned)__builtin_ctzl(bits);
            bits &= bits - 1;
#if XENOLITH_SMP
            /* The word is shared by ports bound to every vCPU: the others'
             * are theirs to clear (Xen flagged the selector there too). */
            const struct port *p = &evtchn_ports[word * EVTCHN_WORD_BITS + bit];
            if (p->vcpu != cpu)
                continue;
            if (!locked && !p->unlocked) {
                kernel_lock();
                locked = took = true;
            }
#endif
            __atomic_fetch_and(&shared_info->evtchn_pending[word], ~((xen_ulong_t)1 << bit),
                               __ATOMIC_SEQ_CST);
            dispatch(word * EVTCHN_WORD_BITS + bit, cpu);
        }
    }
#if XENOLITH_SMP
    if (took)
        kernel_unlock();
#endif
    return v;
}

struct failsafe_frame {
    uint32_t ds, es, fs, gs, eip, cs, eflags;
};

__attribute__((used, noreturn)) void evtchn_failsafe(const struct failsafe_frame *f)
{
    panic("failsafe callback: Xen could not return to the kernel: ds=%04x es=%04x fs=%04x "
          "gs=%04x eip=%08x cs=%04x eflags=%08x",
          (unsigned)(f->ds & 0xffff), (unsigned)(f->es & 0xffff), (unsigned)(f->fs & 0xffff),
          (unsigned)(f->gs & 0xffff), (unsigned)f->eip, (unsigned)(f->cs & 0xffff),
          (unsigned)f->eflags);
}

/* ---- event delivery on/off --------------------------------------------- */

unsigned long irq_save(void)
{
    struct vcpu_info *v = this_vcpu();
    unsigned long old = READ_ONCE(v->evtchn_upcall_mask);

    WRITE_ONCE(v->evtchn_upcall_mask, 1);
    barrier();
    return old;
}

void irq_restore(unsigned long flags)
{
    struct vcpu_info *v = this_vcpu();

    if (flags) {
        (void)upcall_mask_restore(v, 1);
        return;
    }
    /*
     * Unmask, then look for events that came while we were masked: Xen does
     * not enter the upcall for those on its own (it only checks on its way
     * back to us). Run them here, masked, exactly as the upcall would. An
     * event arriving after the check finds the mask clear and is delivered
     * by Xen as usual.
     */
    for (;;) {
        if (!upcall_mask_restore(v, 0) || !upcall_ready)
            return;
        WRITE_ONCE(v->evtchn_upcall_mask, 1);
        barrier();
        evtchn_do_upcall();
    }
}

void irq_enable(void)
{
    irq_restore(0);
}

/* ---- ports ---------------------------------------------------------------- */

void evtchn_mask(evtchn_port_t port)
{
    if (!evtchn_port_ok(port))
        return;
    __atomic_fetch_or(&shared_info->evtchn_mask[port / EVTCHN_WORD_BITS],
                      (xen_ulong_t)1 << (port % EVTCHN_WORD_BITS), __ATOMIC_SEQ_CST);
}

void evtchn_unmask(evtchn_port_t port)
{
    if (!evtchn_port_ok(port))
        return;
    /* EVTCHNOP_unmask clears the mask bit and, if the port became pending
     * while masked, raises the upcall for it (the edge was lost). */
    struct evtchn_unmask op = {.port = port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_unmask, &op);
    if (rc)
        printk("evtchn: EVTCHNOP_unmask port %u failed: %ld\n", (unsigned)port, rc);
}

bool evtchn_is_pending(evtchn_port_t port)
{
    if (!evtchn_port_ok(port))
        return false;
    return (READ_ONCE(shared_info->evtchn_pending[port / EVTCHN_WORD_BITS]) >>
            (port % EVTCHN_WORD_BITS)) & 1;
}

void evtchn_clear_pending(evtchn_port_t port)
{
    if (!evtchn_port_ok(port))
        return;
    __atomic_fetch_and(&shared_info->evtchn_pending[port / EVTCHN_WORD_BITS],
                       ~((xen_ulong_t)1 << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
}

int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *data)
{
    if (!evtchn_port_ok(port))
        return -XEN_EINVAL;
    unsigned long flags = irq_save();
    evtchn_ports[port].handler = h;
    evtchn_ports[port].data = data;
    if (evtchn_ports[port].kind == PORT_FREE)
        evtchn_ports[port].kind = PORT_EXTERNAL; /* e.g. console/XenStore from start_info */
    irq_restore(flags);
    evtchn_unmask(port);
    return 0;
}

static void port_claim(evtchn_port_t port, enum port_kind kind, uint32_t virq, domid_t remote,
                       evtchn_port_t remote_port)
{
    struct port *p = &evtchn_ports[port];
    unsigned long flags = irq_save();
    p->handler = NULL;
    p->data = NULL;
    p->count = 0;
    p->kind = (uint8_t)kind;
#if XENOLITH_SMP
    p->vcpu = 0; /* Xen's default; bind_virq/bind_ipi/bind_vcpu say otherwise */
    p->unlocked = false;
#endif
    p->virq = virq;
    p->remote = remote;
    p->remote_port = remote_port;
    irq_restore(flags);
}

#if XENOLITH_SMP
int evtchn_bind_virq(unsigned virq, evtchn_handler_t h, void *data, evtchn_port_t *port)
{
    return evtchn_bind_virq_vcpu(virq, 0, h, data, port);
}

int evtchn_bind_virq_vcpu(unsigned virq, unsigned vcpu, evtchn_handler_t h, void *data,
                          evtchn_port_t *port)
#else
int evtchn_bind_virq(unsigned virq, evtchn_handler_t h, void *data, evtchn_port_t *port)
#endif
{
#if !XENOLITH_SMP
    const unsigned vcpu = 0;
#endif
    struct evtchn_bind_virq op = {.virq = virq, .vcpu = vcpu};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_bind_virq %u failed: %ld\n", virq, rc);
        return (int)rc;
    }
    if (!evtchn_port_ok(op.port)) {
        printk("evtchn: Xen gave port %u, beyond the 2-level ABI\n", (unsigned)op.port);
        return -XEN_ERANGE;
    }
    port_claim(op.port, PORT_VIRQ, virq, DOMID_SELF, 0);
#if XENOLITH_SMP
    evtchn_ports[op.port].vcpu = (uint8_t)vcpu;
#endif
    if (port)
        *port = op.port;
    return evtchn_set_handler(op.port, h, data);
}

#if XENOLITH_SMP
int evtchn_bind_ipi(unsigned vcpu, evtchn_handler_t h, void *data, evtchn_port_t *port)
{
    struct evtchn_bind_ipi op = {.vcpu = vcpu};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_ipi, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_bind_ipi for vCPU %u failed: %s\n", vcpu, xen_errname(rc));
        return (int)rc;
    }
    if (!evtchn_port_ok(op.port))
        return -XEN_ERANGE;
    port_claim(op.port, PORT_IPI, 0, DOMID_SELF, 0);
    evtchn_ports[op.port].vcpu = (uint8_t)vcpu;
    *port = op.port;
    return evtchn_set_handler(op.port, h, data);
}

void evtchn_set_unlocked(evtchn_port_t port)
{
    if (evtchn_port_ok(port))
        WRITE_ONCE(evtchn_ports[port].unlocked, true);
}

int evtchn_bind_vcpu(evtchn_port_t port, unsigned vcpu)
{
    if (!evtchn_port_ok(port))
        return -XEN_EINVAL;
    struct evtchn_bind_vcpu op = {.port = port, .vcpu = vcpu};
    /* Masked across the move: no vCPU dispatches the port while its owner
     * changes; an event that came meanwhile is delivered by the unmask, on
     * the new vCPU (Xen re-checks pending ports on unmask). */
    evtchn_mask(port);
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_vcpu, &op);
    if (rc == 0)
        WRITE_ONCE(evtchn_ports[port].vcpu, (uint8_t)vcpu);
    else
        printk("evtchn: EVTCHNOP_bind_vcpu port %u -> vCPU %u failed: %s\n", (unsigned)port, vcpu,
               xen_errname(rc));
    evtchn_unmask(port);
    return (int)rc;
}
#endif

int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = {.dom = DOMID_SELF, .remote_dom = remote};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_alloc_unbound for dom %u failed: %ld\n", (unsigned)remote, rc);
        return (int)rc;
    }
    if (!evtchn_port_ok(op.port))
        return -XEN_ERANGE;
    port_claim(op.port, PORT_UNBOUND, 0, remote, 0);
    *port = op.port;
    return 0;
}

int evtchn_bind_interdomain(domid_t remote, evtchn_port_t remote_port, evtchn_port_t *port)
{
    struct evtchn_bind_interdomain op = {.remote_dom = remote, .remote_port = remote_port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_interdomain, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_bind_interdomain dom %u port %u failed: %ld\n",
               (unsigned)remote, (unsigned)remote_port, rc);
        return (int)rc;
    }
    if (!evtchn_port_ok(op.local_port))
        return -XEN_ERANGE;
    port_claim(op.local_port, PORT_INTERDOMAIN, 0, remote, remote_port);
    /* A loopback binding turns our own unbound port into the other end. */
    if ((remote == DOMID_SELF) && evtchn_port_ok(remote_port) && evtchn_ports[remote_port].kind == PORT_UNBOUND) {
        evtchn_ports[remote_port].kind = PORT_INTERDOMAIN;
        evtchn_ports[remote_port].remote_port = op.local_port;
    }
    *port = op.local_port;
    return 0;
}

int evtchn_send(evtchn_port_t port)
{
    struct evtchn_send op = {.port = port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_send, &op);
    if (rc)
        printk("evtchn: EVTCHNOP_send port %u failed: %ld\n", (unsigned)port, rc);
    return (int)rc;
}

int evtchn_close(evtchn_port_t port)
{
    if (!evtchn_port_ok(port))
        return -XEN_EINVAL;
    evtchn_mask(port);
    struct evtchn_close op = {.port = port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_close, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_close port %u failed: %ld\n", (unsigned)port, rc);
        return (int)rc;
    }
    unsigned long flags = irq_save();
    evtchn_clear_pending(port);
    memset(&evtchn_ports[port], 0, sizeof(evtchn_ports[port]));
    irq_restore(flags);
    /* A freshly allocated port must start unmasked: leave the bit clear. */
    __atomic_fetch_and(&shared_info->evtchn_mask[port / EVTCHN_WORD_BITS],
                       ~((xen_ulong_t)1 << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
    return 0;
}

unsigned long evtchn_port_count(evtchn_port_t port)
{
    return evtchn_port_ok(port) ? READ_ONCE(evtchn_ports[port].count) : 0;
}

evtchn_port_t evtchn_virq_port(unsigned virq)
{
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++)
        if (evtchn_ports[port].kind == PORT_VIRQ && evtchn_ports[port].virq == virq)
            return port;
    return 0;
}

/* ---- VIRQ_DEBUG: Xen's 'q' debug key notifies every domain ---------------- */

/* One short line straight from the handler: printk formats on the stack
 * and the console write is safe with events masked (it never waits for an
 * event), so a debug key shows even while every thread is busy. */
unsigned long evtchn_debug_virqs;

static void debug_virq(evtchn_port_t port, void *data)
{
    (void)data;
    evtchn_debug_virqs++;
    printk("event: VIRQ_DEBUG received (n=%lu, port %u)\n", evtchn_debug_virqs, (unsigned)port);
}

/* ---- start of day ---------------------------------------------------------- */

static int register_callback(uint16_t type, uint16_t flags, const char *entry)
{
    struct callback_register cb = {
        .type = type,
        .flags = flags,
        .address = {.cs = FLAT_KERNEL_CS, .eip = (unsigned long)entry},
    };
    long rc = HYPERVISOR_callback_op(CALLBACKOP_register, &cb);
    if (rc)
        printk("evtchn: CALLBACKOP_register type %u failed: %ld\n", (unsigned)type, rc);
    return (int)rc;
}

/* The event callback always runs with events masked (Xen sets the mask
 * when it delivers); the failsafe callback should too: we only print. */
int evtchn_register_callbacks(void)
{
    int rc = register_callback(CALLBACKTYPE_event, 0, hypervisor_callback);
    return rc ? rc : register_callback(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, failsafe_callback);
}

int evtchn_init(void)
{
    upcall_ready = true;
    int rc = evtchn_register_callbacks();
    if (rc)
        return rc;
    evtchn_port_t port;
    rc = evtchn_bind_virq(VIRQ_DEBUG, debug_virq, NULL, &port);
    if (rc)
        return rc;
    /* Xen starts a PV guest with events masked; from here on they flow. */
    irq_enable();
    printk("events: upcall at %p, failsafe at %p, VIRQ_DEBUG on port %u\n",
           (void *)hypervisor_callback, (void *)failsafe_callback, (unsigned)port);
    return 0;
}

