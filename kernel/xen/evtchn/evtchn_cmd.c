/*
 * evtchn_cmd.c — the shell's event channels: `events` lists every port
 * (EVTCHNOP_status says what each is bound to), and `evtchn` works them by hand
 * (interface manual "Event channels": EVTCHNOP_alloc_unbound,
 * bind_interdomain, send, close). With it another domain can be wired to us
 * from its side: `evtchn alloc 0` offers a port to dom0, which binds to it
 * (Linux: /dev/xen/evtchn, IOCTL_EVTCHN_BIND_INTERDOMAIN) and notifies us;
 * `evtchn send PORT` notifies it back. Each event on a port made here
 * prints one line `event: port P (n=N)`, at most EVENT_LINES_PER_S a second
 * (a peer may notify without pause: evtchn_storm.c).
 */
#include <stddef.h>
#include "evtchn_priv.h"
#include "shell.h"

#define EVENT_LINES_PER_S 10

static void print_event(evtchn_port_t port, void *data)
{
    static struct ratelimit lines = RATELIMIT_INIT("evtchn", "event", EVENT_LINES_PER_S);
    (void)data;
    if (ratelimit_ok(&lines))
        printk("event: port %u (n=%lu)\n", (unsigned)port, evtchn_port_count(port));
}

static bool arg_u32(const char *s, const char *what, uint32_t max, uint32_t *out)
{
    unsigned long v;
    if (!parse_ulong(s, &v) || v > max) {
        printk("evtchn: bad %s '%s'\n", what, s);
        return false;
    }
    *out = (uint32_t)v;
    return true;
}

static int cmd_evtchn(int argc, char **argv)
{
    uint32_t dom, port;
    evtchn_port_t local;
    const uint32_t max_port = 1u << 20; /* checked again by Xen */

    if (argc == 3 && !strcmp(argv[1], "alloc")) {
        if (!arg_u32(argv[2], "domain", DOMID_FIRST_RESERVED - 1, &dom))
            return 1;
        if (evtchn_alloc_unbound((domid_t)dom, &local))
            return 1;
        evtchn_set_handler(local, print_event, NULL);
        printk("evtchn: port %u unbound, for dom %u\n", (unsigned)local, (unsigned)dom);
        return 0;
    }
    if (argc == 4 && !strcmp(argv[1], "bind")) {
        if (!arg_u32(argv[2], "domain", DOMID_FIRST_RESERVED - 1, &dom) ||
            !arg_u32(argv[3], "port", max_port, &port))
            return 1;
        if (evtchn_bind_interdomain((domid_t)dom, port, &local))
            return 1;
        evtchn_set_handler(local, print_event, NULL);
        printk("evtchn: port %u bound to dom %u port %u\n", (unsigned)local, (unsigned)dom,
               (unsigned)port);
        return 0;
    }
    if (argc == 3 && (!strcmp(argv[1], "send") || !strcmp(argv[1], "close"))) {
        if (!arg_u32(argv[2], "port", max_port, &port))
            return 1;
        int rc = argv[1][0] == 's' ? evtchn_send(port) : evtchn_close(port);
        if (rc)
            return 1;
        printk("evtchn: %s port %u ok\n", argv[1], (unsigned)port);
        return 0;
    }
    printk("usage: evtchn alloc <domid> | bind <domid> <port> | send <port> | close <port>\n");
    return 1;
}
SHELL_COMMAND(evtchn, "evtchn", "evtchn alloc <dom> | bind <dom> <port> | send <port> | close <port>",
              "event channels by hand: offer a port to a domain, bind, notify, close", cmd_evtchn);

/* ---- events: every port ------------------------------------------------- */

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
#if XENOLITH_SMP
        if (st.vcpu) /* moved with bind_vcpu; vCPU 0 is every port's default */
            snprintf(buf + strlen(buf), len - strlen(buf), " vcpu %u", (unsigned)st.vcpu);
#endif
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
        const struct port *p = &evtchn_ports[port];
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
#if XENOLITH_SMP
    unsigned long events = 0;
    for (unsigned i = 0; i < SMP_MAX_VCPUS; i++)
        events += READ_ONCE(evtchn_events_handled[i]);
#else
    unsigned long events = evtchn_events_handled;
#endif
    printk("%u ports; %lu upcalls, %lu events, %lu without handler; VIRQ_DEBUG %lu; "
           "storms %lu\n", shown, evtchn_upcalls, events, evtchn_unhandled, evtchn_debug_virqs,
           evtchn_storms);
    return 0;
}
SHELL_COMMAND(events, "events", "events", "event channels: bound ports, what they are bound to, counts",
              cmd_events);
