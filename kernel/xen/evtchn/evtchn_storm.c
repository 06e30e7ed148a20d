/*
 * evtchn_storm.c — the storm guard of the event upcall (interface manual
 * "Event channels": evtchn_mask[], EVTCHNOP_unmask). evtchn.c's dispatch
 * asks evtchn_storm_guard() before each handler runs; a port past its
 * budget is masked here and unmasked by a timer when its window ends.
 */
#include "evtchn_priv.h"
#include "time.h"

unsigned long evtchn_storms;

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

bool evtchn_storm_guard(evtchn_port_t port, struct port *p)
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
        evtchn_storms++;
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


/* The storm timer: unmask every port whose storm window is over (upcall
 * context); re-armed for the next one still masked. */
static void storm_end(struct timer *t)
{
    uint64_t now = monotonic_ns(), next = 0;
    for (evtchn_port_t port = 0; port < EVTCHN_NR_PORTS; port++) {
        struct port *p = &evtchn_ports[port];
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


unsigned evtchn_port_storms(evtchn_port_t port)
{
    return evtchn_port_ok(port) ? READ_ONCE(evtchn_ports[port].storms) : 0;
}
