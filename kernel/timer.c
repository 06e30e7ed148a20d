/*
 * timer.c — interface manual "Time" (one-shot timers): a queue of timers
 * sorted by deadline, with Xen's single-shot VCPU timer (set_timer_op, an
 * absolute system time in ns) always armed for the earliest one. When it
 * expires Xen raises VIRQ_TIMER; the handler runs every timer whose deadline
 * has passed and re-arms Xen for the next. sleep_ms() is wait_until (wait.c) with
 * a deadline alone, so a sleeping kernel spends its time blocked in Xen.
 *
 * Xen also gives a PV VCPU a 100 Hz periodic timer by default; we stop it
 * (VCPUOP_stop_periodic_timer) so that an idle guest really is idle.
 *
 * The queue is touched only with events masked (irq_save), because the
 * VIRQ_TIMER handler edits it from upcall context, and with the kernel
 * lock when there are several vCPUs (smp.h). It is one queue for all of
 * them, driven by vCPU 0's timer: set_timer_op sets the calling vCPU's,
 * so a thread on another vCPU that makes a new head asks vCPU 0 to re-arm
 * (timer_kick). One queue keeps hot-plug and suspend free of timer
 * hand-offs; the price is that a sleeper on another vCPU is woken through
 * vCPU 0 (an IPI from thread_wake).
 */
#include "kernel.h"
#include "smp.h"
#include "suspend.h"
#include "events.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "wait.h"

static struct timer *queue;           /* sorted by deadline, earliest first */
static evtchn_port_t timer_port;
static unsigned long timer_virqs, timers_fired, xen_arms;
static uint64_t xen_deadline;         /* what Xen's timer is set to; 0 = off */

/* Point Xen's one-shot timer at the head of the queue (events masked). */
static void program_xen(void)
{
    uint64_t want = queue ? queue->deadline : 0;
#if XENOLITH_SMP
    if (smp_cpu() != 0) {
        /* vCPU 0's timer drives the queue: a new, earlier head is its to arm. */
        if (want && (xen_deadline == 0 || want < xen_deadline))
            timer_kick();
        return;
    }
#endif
    if (want == 0 && queue)
        want = 1; /* 0 means "cancel" to set_timer_op; 1 ns is long past */
    if (want == xen_deadline)
        return;
    long rc = HYPERVISOR_set_timer_op(want > 1 ? xen_time_at(want) : want);
    if (rc) {
        printk("timer: HYPERVISOR_set_timer_op(%lu ms) failed: %ld\n",
               (unsigned long)udiv64_32(want, NSEC_PER_MSEC, NULL), rc);
        return;
    }
    xen_deadline = want;
    xen_arms++;
}

static void unlink_timer(struct timer *t)
{
    for (struct timer **pp = &queue; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
}

void timer_arm(struct timer *t, uint64_t deadline_ns)
{
    unsigned long flags = irq_save();
    if (t->armed)
        unlink_timer(t);
    t->deadline = deadline_ns;
    /* After every timer with the same or an earlier deadline: FIFO on ties. */
    struct timer **pp = &queue;
    while (*pp && (*pp)->deadline <= deadline_ns)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
    t->armed = true;
    program_xen();
    irq_restore(flags);
}

void timer_cancel(struct timer *t)
{
    unsigned long flags = irq_save();
    if (t->armed) {
        unlink_timer(t);
        program_xen();
    }
    irq_restore(flags);
}

/* VIRQ_TIMER, upcall context. */
static void timer_virq(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    timer_virqs++;
    /* Xen's one-shot timer is spent: forget it, so program_xen re-arms. */
    xen_deadline = 0;
    uint64_t now = monotonic_ns();
    while (queue && queue->deadline <= now) {
        struct timer *t = queue;
        queue = t->next;
        t->next = NULL;
        t->armed = false;
        timers_fired++;
        t->fn(t); /* may re-arm itself */
        now = monotonic_ns();
    }
    /* If our clock reads a hair behind Xen's, the head is still in the
     * future: arming it again makes Xen send VIRQ_TIMER right away. */
    program_xen();
}

#if XENOLITH_SMP
void timer_rearm(void)
{
    unsigned long flags = irq_save();
    xen_deadline = 0;
    program_xen();
    irq_restore(flags);
}
#endif

/* ---- sleeping ---------------------------------------------------------------- */

void sleep_ms(unsigned long ms)
{
    (void)wait_until(NULL, NULL, deadline_ms(ms));
}

/* ---- start of day ---------------------------------------------------------- */

int timer_init(void)
{
    long rc = HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    if (rc)
        printk("timer: VCPUOP_stop_periodic_timer failed: %ld (a 100 Hz tick stays)\n", rc);
    int err = evtchn_bind_virq(VIRQ_TIMER, timer_virq, NULL, &timer_port);
    if (err)
        return err;
    printk("timer: VIRQ_TIMER on port %u, periodic tick %s\n", (unsigned)timer_port,
           rc ? "on" : "off");
    return 0;
}

/* A new domain starts with the 100 Hz tick on and no timer armed; the same
 * domain keeps both, and arming again is harmless. */
void timer_resume(void)
{
    (void)HYPERVISOR_vcpu_op(VCPUOP_stop_periodic_timer, 0, NULL);
    timer_port = evtchn_virq_port(VIRQ_TIMER);
    unsigned long flags = irq_save();
    xen_deadline = 0;
    program_xen();
    irq_restore(flags);
}

evtchn_port_t timer_virq_port(void)
{
    return timer_port;
}

unsigned long timer_virq_count(void)
{
    return READ_ONCE(timer_virqs);
}

/* ---- shell --------------------------------------------------------------- */

static int cmd_timers(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    struct timer *copy[16];
    unsigned n = 0, total = 0;
    unsigned long flags = irq_save();
    uint64_t now = monotonic_ns(), armed_for = xen_deadline;
    for (struct timer *t = queue; t; t = t->next, total++)
        if (n < ARRAY_SIZE(copy))
            copy[n++] = t;
    irq_restore(flags);

    printk("%u armed; VIRQ_TIMER %lu, fired %lu, set_timer_op %lu; Xen timer %s\n", total,
           timer_virqs, timers_fired, xen_arms, armed_for ? "armed" : "off");
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = copy[i]->deadline;
        uint64_t in_us = d > now ? udiv64_32(d - now, NSEC_PER_USEC, NULL) : 0;
        unsigned long off;
        const char *fn = symbol_lookup((unsigned long)copy[i]->fn, &off);
        printk("  timer %p: in %lu us, calls %s\n", (void *)copy[i], (unsigned long)in_us,
               fn ? fn : "?");
    }
    return 0;
}
SHELL_COMMAND(timers, "timers", "timers", "armed one-shot timers and VIRQ_TIMER counts", cmd_timers);

static int cmd_sleep(int argc, char **argv)
{
    unsigned long secs;
    if (argc != 2 || !parse_ulong(argv[1], &secs) || secs > 3600) {
        printk("usage: sleep <seconds> (0-3600)\n");
        return 1;
    }
    sleep_ms(secs * MSEC_PER_SEC);
    return 0;
}
SHELL_COMMAND(sleep, "sleep", "sleep <seconds>", "block this thread for N seconds", cmd_sleep);
