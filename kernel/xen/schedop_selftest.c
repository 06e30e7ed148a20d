/*
 * schedop_selftest.c — self-test of SCHEDOP_poll and SCHEDOP_yield
 * (schedop.c, interface manual "Scheduling").
 *
 * poll (xen_poll_ports: SCHEDOP_poll in a loop, because other events end a
 * single poll early), three ways, on a masked loopback port and on
 * VIRQ_TIMER's port:
 *   1. nothing pending: returns when the timeout passes, not before;
 *   2. already pending (we sent on the peer first): returns at once;
 *   3. VIRQ_TIMER's port, masked, with a timer due in 20 ms and a 2 s
 *      timeout: Xen marks the port pending while we are blocked, and the
 *      poll ends early. Unmasking then delivers the held VIRQ_TIMER to the
 *      timer code, which runs the timer and re-arms Xen for the next.
 * Ports are masked so that the upcall does not consume the pending bit,
 * and events are masked around the call as schedop.c asks.
 */
#include "kernel.h"
#include "events.h"
#include "sched.h"
#include "selftest.h"
#include "time.h"

#define POLL_TIMEOUT_MS 50
#define POLL_EARLY_MS 20
#define POLL_LONG_MS 2000

/* Poll one port for up to timeout_ms; returns the milliseconds it took. */
static int64_t poll_ms(evtchn_port_t port, unsigned timeout_ms, int *rc)
{
    uint64_t t0 = monotonic_ns();
    *rc = xen_poll_ports(&port, 1, t0 + timeout_ms * NSEC_PER_MSEC);
    return (int64_t)udiv64_32(monotonic_ns() - t0, NSEC_PER_MSEC, NULL);
}

static void poll_loopback(struct selftest_result *r, evtchn_port_t a, evtchn_port_t b)
{
    int rc;
    evtchn_mask(a);
    evtchn_clear_pending(a);

    int64_t ms = poll_ms(a, POLL_TIMEOUT_MS, &rc);
    ST_EXPECT(r, rc == 0, "poll with timeout: %d", rc);
    ST_EXPECT(r, !evtchn_is_pending(a), "port %u pending with nobody sending", (unsigned)a);
    ST_EXPECT(r, ms >= POLL_TIMEOUT_MS, "poll returned after %lld ms, timeout %u ms",
              (long long)ms, POLL_TIMEOUT_MS);

    evtchn_send(b);
    ms = poll_ms(a, POLL_LONG_MS, &rc);
    ST_EXPECT(r, rc == 1 && evtchn_is_pending(a), "poll on a pending port: rc %d", rc);
    ST_EXPECT(r, ms < POLL_LONG_MS / 2, "poll on a pending port took %lld ms", (long long)ms);
    evtchn_clear_pending(a);
}

static void poll_timer_fn(struct timer *t)
{
    (void)t;
}

static void poll_timer_port(struct selftest_result *r)
{
    evtchn_port_t tp = timer_virq_port();
    struct timer t = {.fn = poll_timer_fn};
    int rc;
    evtchn_mask(tp);
    timer_arm(&t, monotonic_ns() + POLL_EARLY_MS * NSEC_PER_MSEC); /* Xen's timer: +20 ms */
    int64_t ms = poll_ms(tp, POLL_LONG_MS, &rc);
    bool pending = evtchn_is_pending(tp);
    evtchn_unmask(tp); /* delivers the held VIRQ_TIMER: the timer code runs t */
    timer_cancel(&t);
    ST_EXPECT(r, rc == 1 && pending, "poll on VIRQ_TIMER's port %u: rc %d, pending %d",
              (unsigned)tp, rc, pending);
    /* Xen's one timer is set for the kernel's earliest one, which may be
     * another thread's (lwIP's, a sleep's) due before ours: the VIRQ may come
     * sooner than 20 ms. What must hold is that it ended the poll, long
     * before the poll's own timeout. */
    ST_EXPECT(r, ms < POLL_LONG_MS / 2,
              "poll ended after %lld ms; the timer was due at %u ms, the timeout at %u ms",
              (long long)ms, POLL_EARLY_MS, POLL_LONG_MS);
}

SELFTEST(schedop)
{
    evtchn_port_t a, b;
    int rc = evtchn_alloc_unbound(DOMID_SELF, &a);
    ST_EXPECT(r, rc == 0, "alloc_unbound: %d", rc);
    rc = evtchn_bind_interdomain(DOMID_SELF, a, &b);
    if (rc) {
        evtchn_close(a);
        ST_EXPECT(r, false, "bind_interdomain: %d", rc);
    }
    poll_loopback(r, a, b);
    evtchn_close(b);
    evtchn_close(a);
    if (r->failed)
        return;
    poll_timer_port(r);
    if (r->failed)
        return;
    xen_sched_yield();
    ST_PASS(r, "timeout %u ms held, pending port at once, VIRQ_TIMER ended a %u ms poll early; "
               "SCHEDOP_yield ok", POLL_TIMEOUT_MS, POLL_LONG_MS);
}
