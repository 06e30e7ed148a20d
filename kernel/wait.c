/*
 * wait.c — wait_until, the kernel's one wait primitive (interface manual:
 * "Scheduling": a thread that cannot go on blocks, and the VCPU blocks in
 * Xen when no thread can run; "Time": the deadline is a one-shot timer, so
 * the wait costs no polling). See wait.h.
 */
#include "kernel.h"
#include "sched.h"
#include "time.h"
#include "wait.h"

struct waiter {
    struct timer timer;
    struct thread *thread;
    volatile bool expired;
};

static void waiter_expired(struct timer *t) /* upcall context */
{
    struct waiter *w = container_of(t, struct waiter, timer);
    w->expired = true;
    thread_wake(w->thread);
}

uint64_t deadline_ms(unsigned long timeout_ms)
{
    return monotonic_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
}

int wait_until(bool (*cond)(void *), void *arg, uint64_t deadline_ns)
{
    struct waiter w = {.timer = {.fn = waiter_expired}, .thread = thread_current()};
    if (deadline_ns != WAIT_FOREVER)
        timer_arm(&w.timer, deadline_ns);
    bool ok;
    while (!(ok = cond && cond(arg)) && !w.expired)
        thread_block();
    if (deadline_ns != WAIT_FOREVER)
        timer_cancel(&w.timer);
    return ok ? 0 : -XEN_ETIMEDOUT;
}
