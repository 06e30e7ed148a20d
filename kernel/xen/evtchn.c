/*
 * evtchn.c — interface manual "Event channels": the upcall, per-port
 * handlers, binding (VIRQs, unbound and interdomain ports), send, close,
 * mask/unmask, and the per-VCPU event mask used as "interrupts off".
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
#include "shell.h"
#include "suspend.h"
#include "time.h"

#define EVTCHN_WORD_BITS (sizeof(xen_ulong_t) * 8)
#define EVTCHN_NR_PORTS (EVTCHN_WORD_BITS * EVTCHN_WORD_BITS) /* 2-level ABI */

/* Entry points in upcall.S, registered with Xen below. */
extern char hypervisor_callback[], failsafe_callback[];
/* Read by upcall.S: the vcpu_info whose mask and pending flag it touches. */
struct vcpu_info *upcall_vcpu;

enum port_kind { PORT_FREE, PORT_VIRQ, PORT_UNBOUND, PORT_INTERDOMAIN, PORT_EXTERNAL };

struct port {
    evtchn_handler_t handler;
    void *data;
    unsigned long count; /* events dispatched on this port */
    uint64_t window_start;  /* storm guard: this window's start (system time) */
    uint32_t window_events; /* ... and its events so far */
    uint32_t storms;        /* windows the port was masked for */
    bool storm_masked;
    uint8_t kind;        /* enum port_kind: how *we* got it */
    uint32_t virq;       /* PORT_VIRQ */
    domid_t remote;      /* PORT_UNBOUND, PORT_INTERDOMAIN */
    evtchn_port_t remote_port;
};
static struct port ports[EVTCHN_NR_PORTS];

unsigned long evtchn_events_handled; /* all ports; see wait_for_event() */
static unsigned long upcalls, unhandled, storms;

/*
 * Event storms: a peer that notifies without pause (a hostile backend,
 * XSA-391) must cost bounded CPU. Each port counts its events in windows of
 * EVTCHN_STORM_WINDOW_NS; past EVTCHN_STORM_EVENTS in one window it is
 * masked until the window ends, when a timer unmasks it (EVTCHNOP_unmask
 * then delivers what came meanwhile, once). Counted per port (`events`)
 * and said once per storm.
 */
static struct timer storm_timer;

static void storm_end(struct timer *t);

static bool storm_guard(evtchn_port_t port, struct port *p)
{
    uint64_t now = monotonic_ns();
    if (now - p->window_start >= EVTCHN_STORM_WINDOW_NS) {
        p->window_start = now;
        p->window_events = 0;
    }
    if (++p->window_events <= EVTCHN_STORM_EVENTS)
        return false;
    if (!p->storm_masked) {
        p->storm_masked = true;
        p->storms++;
        storms++;
        evtchn_mask(port);
        /* This event's pending bit was cleared for dispatch: set it again,
         * so the unmask delivers it and its handler misses nothing. */
        __atomic_fetch_or(&shared_info->evtchn_pending[port / EVTCHN_WORD_BITS],
                          (xen_ulong_t)1 << (port % EVTCHN_WORD_BITS), __ATOMIC_SEQ_CST);
        static struct ratelimit storm_lines = RATELIMIT_INIT("evtchn", "storm", 2);
        if (ratelimit_ok(&storm_lines))
            printk("evtchn: port %u: more than %u events in %llu ms: masked for the rest of "
                   "the window (storm %u)\n", (unsigned)port, EVTCHN_STORM_EVENTS,
                   (unsigned long long)(EVTCHN_STORM_WINDOW_NS / NSEC_PER_MSEC), p->storms);
        storm_timer.fn = storm_end;
        if (!storm_timer.armed || storm_timer.deadline > p->window_start + EVTCHN_STORM_WINDOW_NS)
            timer_arm(&storm_timer, p->window_start + EVTCHN_STORM_WINDOW_NS);
    }
    return true;
}

/* ---- the upcall --------------------------------------------------------- */

static void dispatch(evtchn_port_t port)
{
    struct port *p = &ports[port];

    if (storm_guard(port, p))
        return; /* masked: what comes now waits for the window's end */
    p->count++;
    evtchn_events_handled++;
    if (p->handler)
        p->handler(port, p->data);
    else
        unhandled++;
}

/* Called by upcall.S (and by irq_restore) with events masked. */
__attribute__((used)) void evtchn_do_upcall(void)
{
    struct vcpu_info *v = upcall_vcpu;

    upcalls++;
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
            __atomic_fetch_and(&shared_info->evtchn_pending[word], ~((xen_ulong_t)1 << bit),
                               __ATOMIC_SEQ_CST);
            dispatch(word * EVTCHN_WORD_BITS + bit);
        }
    }
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
    struct vcpu_info *v = upcall_vcpu ? upcall_vcpu : this_vcpu();
    unsigned long old = READ_ONCE(v->evtchn_upcall_mask);

    WRITE_ONCE(v->evtchn_upcall_mask, 1);
    barrier();
    return old;
}

void irq_restore(unsigned long flags)
{
    struct vcpu_info *v = upcall_vcpu ? upcall_vcpu : this_vcpu();

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
        if (!upcall_mask_restore(v, 0) || !upcall_vcpu)
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

static bool port_ok(evtchn_port_t port)
{
    return port < EVTCHN_NR_PORTS;
}

void evtchn_mask(evtchn_port_t port)
{
    if (!port_ok(port))
        return;
    __atomic_fetch_or(&shared_info->evtchn_mask[port / EVTCHN_WORD_BITS],
                      (xen_ulong_t)1 << (port % EVTCHN_WORD_BITS), __ATOMIC_SEQ_CST);
}

void evtchn_unmask(evtchn_port_t port)
{
    if (!port_ok(port))
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
    if (!port_ok(port))
        return false;
    return (READ_ONCE(shared_info->evtchn_pending[port / EVTCHN_WORD_BITS]) >>
            (port % EVTCHN_WORD_BITS)) & 1;
}

void evtchn_clear_pending(evtchn_port_t port)
{
    if (!port_ok(port))
        return;
    __atomic_fetch_and(&shared_info->evtchn_pending[port / EVTCHN_WORD_BITS],
                       ~((xen_ulong_t)1 << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
}

int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *data)
{
    if (!port_ok(port))
        return -XEN_EINVAL;
    unsigned long flags = irq_save();
    ports[port].handler = h;
    ports[port].data = data;
    if (ports[port].kind == PORT_FREE)
        ports[port].kind = PORT_EXTERNAL; /* e.g. console/XenStore from start_info */
    irq_restore(flags);
    evtchn_unmask(port);
    return 0;
}

static void port_claim(evtchn_port_t port, enum port_kind kind, uint32_t virq, domid_t remote,
                       evtchn_port_t remote_port)
{
    struct port *p = &ports[port];
    unsigned long flags = irq_save();
    p->handler = NULL;
    p->data = NULL;
    p->count = 0;
    p->kind = (uint8_t)kind;
    p->virq = virq;
    p->remote = remote;
    p->remote_port = remote_port;
    irq_restore(flags);
}

int evtchn_bind_virq(unsigned virq, evtchn_handler_t h, void *data, evtchn_port_t *port)
{
    struct evtchn_bind_virq op = {.virq = virq, .vcpu = 0};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_bind_virq, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_bind_virq %u failed: %ld\n", virq, rc);
        return (int)rc;
    }
    if (!port_ok(op.port)) {
        printk("evtchn: Xen gave port %u, beyond the 2-level ABI\n", (unsigned)op.port);
        return -XEN_ERANGE;
    }
    port_claim(op.port, PORT_VIRQ, virq, DOMID_SELF, 0);
    if (port)
        *port = op.port;
    return evtchn_set_handler(op.port, h, data);
}

int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    struct evtchn_alloc_unbound op = {.dom = DOMID_SELF, .remote_dom = remote};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_alloc_unbound, &op);
    if (rc) {
        printk("evtchn: EVTCHNOP_alloc_unbound for dom %u failed: %ld\n", (unsigned)remote, rc);
        return (int)rc;
    }
    if (!port_ok(op.port))
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
    if (!port_ok(op.local_port))
        return -XEN_ERANGE;
    port_claim(op.local_port, PORT_INTERDOMAIN, 0, remote, remote_port);
    /* A loopback binding turns our own unbound port into the other end. */
    if ((remote == DOMID_SELF) && port_ok(remote_port) && ports[remote_port].kind == PORT_UNBOUND) {
        ports[remote_port].kind = PORT_INTERDOMAIN;
        ports[remote_port].remote_port = op.local_port;
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
    if (!port_ok(port))
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
    memset(&ports[port], 0, sizeof(ports[port]));
    irq_restore(flags);
    /* A freshly allocated port must start unmasked: leave the bit clear. */
    __atomic_fetch_and(&shared_info->evtchn_mask[port / EVTCHN_WORD_BITS],
                       ~((xen_ulong_t)1 << (port % EVTCHN_WORD_BITS)), __ATOMIC_SEQ_CST);
    return 0;
}

unsigned long evtchn_port_count(evtchn_port_t port)
{
    return port_ok(port) ? READ_ONCE(ports[port].count) : 0;
}

unsigned evtchn_port_storms(evtchn_port_t port)
{
    return port_ok(port) ? READ_ONCE(ports[port].storms) : 0;
}

evtchn_port_t evtchn_virq_port(unsigned virq)
{
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++)
        if (ports[port].kind == PORT_VIRQ && ports[port].virq == virq)
            return port;
    return 0;
}

/* The storm timer: unmask every port whose storm window is over (upcall
 * context); re-armed for the next one still masked. */
static void storm_end(struct timer *t)
{
    uint64_t now = monotonic_ns(), next = 0;
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++) {
        struct port *p = &ports[port];
        if (!p->storm_masked)
            continue;
        uint64_t end = p->window_start + EVTCHN_STORM_WINDOW_NS;
        if (end <= now) {
            p->storm_masked = false;
            p->window_start = now;
            p->window_events = 0;
            evtchn_unmask(port);
        } else if (!next || end < next) {
            next = end;
        }
    }
    if (next)
        timer_arm(t, next);
}

/* ---- VIRQ_DEBUG: Xen's 'q' debug key notifies every domain ---------------- */

/* One short line straight from the handler: printk formats on the stack
 * and the console write is safe with events masked (it never waits for an
 * event), so a debug key shows even while every thread is busy. */
static unsigned long debug_virqs;

static void debug_virq(evtchn_port_t port, void *data)
{
    (void)data;
    debug_virqs++;
    printk("event: VIRQ_DEBUG received (n=%lu, port %u)\n", debug_virqs, (unsigned)port);
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

int evtchn_init(void)
{
    upcall_vcpu = this_vcpu();
    /* The event callback always runs with events masked (Xen sets the mask
     * when it delivers); the failsafe callback should too: we only print. */
    int rc = register_callback(CALLBACKTYPE_event, 0, hypervisor_callback);
    if (rc)
        return rc;
    rc = register_callback(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, failsafe_callback);
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

/* A new domain has no event channel at all (and its shared_info every port
 * unmasked and idle): every port we knew is gone. VIRQs are ours alone, so
 * they are bound again here, to the same handlers, maybe on other ports;
 * the owners of the other ports (console, XenStore, frontends) make their
 * own. Called with events masked. */
void evtchn_resume(bool new_domain)
{
    if (!new_domain)
        return;
    struct virq_binding {
        uint32_t virq;
        evtchn_handler_t handler;
        void *data;
    } virqs[NR_VIRQS];
    unsigned n = 0;
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++)
        if (ports[port].kind == PORT_VIRQ && n < ARRAY_SIZE(virqs))
            virqs[n++] = (struct virq_binding){ports[port].virq, ports[port].handler,
                                               ports[port].data};
    memset(ports, 0, sizeof(ports));
    (void)register_callback(CALLBACKTYPE_event, 0, hypervisor_callback);
    (void)register_callback(CALLBACKTYPE_failsafe, CALLBACKF_mask_events, failsafe_callback);
    for (unsigned i = 0; i < n; i++)
        (void)evtchn_bind_virq(virqs[i].virq, virqs[i].handler, virqs[i].data, NULL);
}

/* ---- shell: events -------------------------------------------------------- */

static const char *virq_name(uint32_t virq)
{
    switch (virq) {
    case VIRQ_TIMER: return "VIRQ_TIMER";
    case VIRQ_DEBUG: return "VIRQ_DEBUG";
    case VIRQ_CONSOLE: return "VIRQ_CONSOLE";
    case VIRQ_DOM_EXC: return "VIRQ_DOM_EXC";
    default: return "VIRQ";
    }
}

static void describe_port(evtchn_port_t port, char *buf, size_t len)
{
    /* Ask Xen what the port is: that also covers ports we did not bind. */
    struct evtchn_status st = {.dom = DOMID_SELF, .port = port};
    long rc = HYPERVISOR_event_channel_op(EVTCHNOP_status, &st);
    if (rc) {
        snprintf(buf, len, "status failed: %ld", rc);
        return;
    }
    switch (st.status) {
    case EVTCHNSTAT_closed: snprintf(buf, len, "closed"); break;
    case EVTCHNSTAT_unbound: snprintf(buf, len, "unbound, for dom %u", (unsigned)st.u.unbound.dom); break;
    case EVTCHNSTAT_interdomain:
        snprintf(buf, len, "interdomain, dom %u port %u", (unsigned)st.u.interdomain.dom,
                 (unsigned)st.u.interdomain.port);
        break;
    case EVTCHNSTAT_pirq: snprintf(buf, len, "pirq %u", (unsigned)st.u.pirq); break;
    case EVTCHNSTAT_virq:
        snprintf(buf, len, "virq %u (%s) vcpu %u", (unsigned)st.u.virq, virq_name(st.u.virq),
                 (unsigned)st.vcpu);
        break;
    case EVTCHNSTAT_ipi: snprintf(buf, len, "ipi vcpu %u", (unsigned)st.vcpu); break;
    default: snprintf(buf, len, "status %u", (unsigned)st.status); break;
    }
}

static int cmd_events(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    char what[64];
    unsigned shown = 0;

    printk("port  bound to                            events  handler   flags\n");
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++) {
        const struct port *p = &ports[port];
        if (p->kind == PORT_FREE && p->count == 0)
            continue;
        describe_port(port, what, sizeof(what));
        printk("%4u  %-34s  %6lu  %-8s  %s%s", (unsigned)port, what, p->count,
               p->handler ? "yes" : "none", evtchn_is_pending(port) ? "pending " : "",
               (READ_ONCE(shared_info->evtchn_mask[port / EVTCHN_WORD_BITS]) >>
                (port % EVTCHN_WORD_BITS)) & 1 ? "masked" : "");
        if (p->storms)
            printk(" storms %u", p->storms);
        printk("\n");
        shown++;
    }
    printk("%u ports; %lu upcalls, %lu events, %lu without handler; VIRQ_DEBUG %lu; "
           "storms %lu\n", shown, upcalls, evtchn_events_handled, unhandled, debug_virqs, storms);
    return 0;
}
SHELL_COMMAND(events, "events", "events", "event channels: bound ports, what they are bound to, counts",
              cmd_events);
