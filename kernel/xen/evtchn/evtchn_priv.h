/*
 * evtchn_priv.h — what the event-channel files (kernel/xen/evtchn*.c) share
 * and nobody else uses: the per-port table the mechanism (evtchn.c) keeps,
 * read by the storm guard (evtchn_storm.c), the resume hook
 * (evtchn_resume.c) and the `events` command (evtchn_cmd.c).
 */
#ifndef XENOLITH_EVTCHN_PRIV_H
#define XENOLITH_EVTCHN_PRIV_H

#include "kernel.h"
#include "events.h"

#define EVTCHN_WORD_BITS (sizeof(xen_ulong_t) * 8)
#define EVTCHN_NR_PORTS (EVTCHN_WORD_BITS * EVTCHN_WORD_BITS) /* 2-level ABI */

enum port_kind { PORT_FREE, PORT_VIRQ, PORT_UNBOUND, PORT_INTERDOMAIN, PORT_EXTERNAL, PORT_IPI };

struct port {
    evtchn_handler_t handler;
    void *data;
    unsigned long count; /* events dispatched on this port */
    uint64_t window_start;  /* storm guard: this window's start (system time) */
    uint32_t window_events; /* ... and its events so far */
    uint32_t storms;        /* windows the port was masked for */
    bool storm_masked;
    uint8_t kind;        /* enum port_kind: how *we* got it */
    uint8_t vcpu;        /* the vCPU Xen notifies (bind_virq/bind_ipi, bind_vcpu) */
    bool unlocked;       /* its handler runs without the kernel lock (smp.h) */
    uint32_t virq;       /* PORT_VIRQ */
    domid_t remote;      /* PORT_UNBOUND, PORT_INTERDOMAIN */
    evtchn_port_t remote_port;
};
extern struct port evtchn_ports[EVTCHN_NR_PORTS];

/* evtchn.c's counters, for the `events` command. */
extern unsigned long evtchn_upcalls, evtchn_unhandled, evtchn_debug_virqs;

static inline bool evtchn_port_ok(evtchn_port_t port)
{
    return port < EVTCHN_NR_PORTS;
}

/* evtchn.c: register the upcall and failsafe entry points with Xen. */
int evtchn_register_callbacks(void);

/* evtchn_storm.c: count an event on port; true when the port is in a storm
 * (now masked: the event waits for the window's end, not dispatched). */
bool evtchn_storm_guard(evtchn_port_t port, struct port *p);
/* ... and the storms seen, all ports. */
extern unsigned long evtchn_storms;

#endif
