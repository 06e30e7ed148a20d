/*
 * evtchn_selftest.c — self-test of "Event channels" (evtchn.c, upcall.S):
 * a loopback pair (EVTCHNOP_alloc_unbound for DOMID_SELF, then
 * EVTCHNOP_bind_interdomain to it) carries events both ways; a masked port
 * holds its event until EVTCHNOP_unmask; masking all events (irq_save)
 * holds it until irq_restore; after EVTCHNOP_close sends fail.
 * evtchn_storm: sends without pause on such a pair (3 x EVTCHN_STORM_EVENTS,
 * within one window on an idle machine): the port is masked part-way,
 * counted as a storm, and once the window is over unmasked again, the held
 * event delivered, and a new one too (SKIP when the sends were too slow
 * for any window to see a storm).
 *
 * A send is a hypercall, and Xen delivers the upcall on the way back from
 * it, so the handler has run by the time evtchn_send() returns.
 */
#include "kernel.h"
#include "events.h"
#include "selftest.h"
#include "time.h"

struct counter {
    volatile unsigned long n;
    volatile evtchn_port_t last;
};

static void count_event(evtchn_port_t port, void *data)
{
    struct counter *c = data;
    c->n++;
    c->last = port;
}

static void events_checks(struct selftest_result *r, evtchn_port_t a, evtchn_port_t b,
                          struct counter *ca, struct counter *cb)
{
    int rc = evtchn_send(b);
    ST_EXPECT(r, rc == 0, "send on port %u: %d", (unsigned)b, rc);
    ST_EXPECT(r, ca->n == 1 && ca->last == a && cb->n == 0,
              "send on %u: expected 1 event on %u, got %lu (on %u: %lu)", (unsigned)b, (unsigned)a,
              ca->n, (unsigned)b, cb->n);
    rc = evtchn_send(a);
    ST_EXPECT(r, rc == 0 && cb->n == 1 && cb->last == b && ca->n == 1,
              "send on %u: rc %d, events %lu on %u, %lu on %u", (unsigned)a, rc, cb->n,
              (unsigned)b, ca->n, (unsigned)a);

    /* Port mask: the event waits, pending, until unmask. */
    evtchn_mask(a);
    evtchn_send(b);
    ST_EXPECT(r, ca->n == 1, "masked port %u ran its handler", (unsigned)a);
    ST_EXPECT(r, evtchn_is_pending(a), "masked port %u is not pending after a send", (unsigned)a);
    evtchn_unmask(a);
    ST_EXPECT(r, ca->n == 2, "unmask of %u did not deliver the held event (%lu)", (unsigned)a, ca->n);

    /* VCPU mask: nothing is delivered until irq_restore. */
    unsigned long flags = irq_save();
    evtchn_send(b);
    evtchn_send(a);
    bool held = ca->n == 2 && cb->n == 1;
    irq_restore(flags);
    ST_EXPECT(r, held, "events ran while delivery was masked");
    ST_EXPECT(r, ca->n == 3 && cb->n == 2, "irq_restore did not deliver: %lu on %u, %lu on %u",
              ca->n, (unsigned)a, cb->n, (unsigned)b);
    ST_EXPECT(r, evtchn_port_count(a) >= 3, "per-port count of %u is %lu", (unsigned)a,
              evtchn_port_count(a));
}

/* A loopback pair a <-> b, each counting its events in ca, cb. 0, or the
 * failing call's error (nothing left open). */
static int loopback_pair(evtchn_port_t *a, evtchn_port_t *b, struct counter *ca,
                         struct counter *cb)
{
    int rc = evtchn_alloc_unbound(DOMID_SELF, a);
    if (rc)
        return rc;
    /* Masked while wiring up: Xen marks a freshly bound interdomain port
     * pending once (in case the peer sent before the bind); drop that. */
    unsigned long flags = irq_save();
    rc = evtchn_bind_interdomain(DOMID_SELF, *a, b);
    if (rc == 0) {
        evtchn_set_handler(*a, count_event, ca);
        evtchn_set_handler(*b, count_event, cb);
        evtchn_clear_pending(*a);
        evtchn_clear_pending(*b);
    }
    irq_restore(flags);
    if (rc)
        evtchn_close(*a);
    ca->n = cb->n = 0;
    return rc;
}

SELFTEST(events)
{
    static struct counter ca, cb;
    evtchn_port_t a, b;

    int rc = loopback_pair(&a, &b, &ca, &cb);
    ST_EXPECT(r, rc == 0, "a loopback pair (alloc_unbound, bind_interdomain): %d", rc);

    events_checks(r, a, b, &ca, &cb);
    bool checks_ok = !r->failed;

    int rc_b = evtchn_close(b);
    int rc_send = evtchn_send(b); /* closed: Xen refuses (prints an error) */
    int rc_a = evtchn_close(a);
    if (!checks_ok)
        return;
    ST_EXPECT(r, rc_b == 0 && rc_a == 0, "close: %d, %d", rc_b, rc_a);
    ST_EXPECT(r, rc_send < 0, "send on closed port %u succeeded", (unsigned)b);
    ST_PASS(r, "loopback %u<->%u both ways, port mask and event mask hold then deliver, "
               "closed port refused (%d)", (unsigned)a, (unsigned)b, rc_send);
}

SELFTEST(evtchn_storm)
{
    static struct counter ca, cb;
    evtchn_port_t a, b;
    int rc = loopback_pair(&a, &b, &ca, &cb);
    ST_EXPECT(r, rc == 0, "a loopback pair (alloc_unbound, bind_interdomain): %d", rc);
    sleep_ms(EVTCHN_STORM_WINDOW_NS / NSEC_PER_MSEC); /* start in a fresh window */
    cb.n = 0;
    unsigned sends = 3 * EVTCHN_STORM_EVENTS;
    uint64_t start = monotonic_ns();
    for (unsigned i = 0; i < sends; i++)
        (void)evtchn_send(a); /* each delivered on the way back, unless masked */
    /* What the sends left, read with events masked: the storm timer (an
     * upcall) must not unmask the port and deliver its held event between
     * these reads, or `held` and `during` would disagree. */
    unsigned long flags = irq_save();
    uint64_t took = monotonic_ns() - start;
    unsigned long during = cb.n;
    unsigned storms = evtchn_port_storms(b);
    /* Pending now means masked with an event held (an unmasked port's event
     * was delivered on the way back from the last send). Sends that outlast
     * the window may end with the port unmasked again: then the held event
     * was delivered during the sends. */
    bool held = evtchn_is_pending(b);
    irq_restore(flags);
    sleep_ms(2 * EVTCHN_STORM_WINDOW_NS / NSEC_PER_MSEC);
    unsigned long after_window = cb.n;
    (void)evtchn_send(a);
    unsigned long after_send = cb.n;
    evtchn_close(b);
    evtchn_close(a);
    if (!storms && took >= EVTCHN_STORM_WINDOW_NS) {
        /* A slow or busy machine: too few sends in any one window to make a storm. */
        ST_SKIP(r, "%u sends took %llu ms, no window saw more than %u", sends,
                took / NSEC_PER_MSEC, EVTCHN_STORM_EVENTS);
    }
    ST_EXPECT(r, storms >= 1 && during < sends, "%u sends: %lu handled, %u storms", sends,
              during, storms);
    ST_EXPECT(r, !held || after_window > during, "the held event was not delivered after the "
              "window (%lu handled before and after)", during);
    ST_EXPECT(r, held || during > EVTCHN_STORM_EVENTS, "unmasked during the sends, yet only %lu "
              "handled", during);
    ST_EXPECT(r, after_send == after_window + 1, "a send after the window was not delivered");
    ST_PASS(r, "%u sends in %llu ms: %lu handled, then masked (storm %u); after the window "
               "the held one (%s) and a new one delivered", sends, took / NSEC_PER_MSEC, during,
            storms, held ? "after the sends" : "during them");
}
