/*
 * evtchn_cmd.c — the `evtchn` shell command: event channels by hand
 * (interface manual "Event channels": EVTCHNOP_alloc_unbound,
 * bind_interdomain, send, close). With it another domain can be wired to us
 * from its side: `evtchn alloc 0` offers a port to dom0, which binds to it
 * (Linux: /dev/xen/evtchn, IOCTL_EVTCHN_BIND_INTERDOMAIN) and notifies us;
 * `evtchn send PORT` notifies it back. Each event on a port made here
 * prints one line `event: port P (n=N)`, at most EVENT_LINES_PER_S a second
 * (a peer may notify without pause: evtchn.c's storm guard).
 */
#include "kernel.h"
#include "events.h"
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
