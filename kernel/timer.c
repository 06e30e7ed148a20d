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
 * VIRQ_TIMER handler edits it from upcall context.
 *
 * Several vCPUs (smp.h): one queue per vCPU, driven by that vCPU's own
 * timer (set_timer_op sets the calling vCPU's) and its own VIRQ_TIMER
 * (bound on each, smp.c), all under the kernel lock. A timer is armed on
 * the calling vCPU's queue, so a thread sleeping on vCPU 2 is woken by
 * vCPU 2's timer, with no IPI. Cancelling one that sits on another vCPU's
 * queue unlinks it and leaves that vCPU's Xen timer alone: it fires early
 * once and re-arms for its head. A vCPU going down hands its timers to
 * vCPU 0 (timer_hand_off) and asks it to re-arm with an IPI on vCPU 0's
 * timer-kick port (timer_kick); suspending takes the secondaries down
 * first, so timer_resume has only vCPU 0's queue to arm again.
 */
#include "kernel.h"
#include "smp.h"
#include "suspend.h"
#include "events.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "wait.h"

#if XENOLITH_SMP
#define TIMER_CPUS SMP_MAX_VCPUS
#else
#define TIMER_CPUS 1
#endif

/* One vCPU's queue and Xen timer. */
struct timer_cpu {
    struct timer *queue;  /* sorted by deadline, earliest first */
    uint64_t xen_deadline; /* what its Xen timer is set to; 0 = off */
    unsigned long virqs, fired, arms;
};
static struct timer_cpu timer_cpus[TIMER_CPUS];
static evtchn_port_t timer_port; /* vCPU 0's VIRQ_TIMER */

static inline struct timer_cpu *here(void)
{
    return &timer_cpus[smp_cpu()];
}

static inline struct timer_cpu *queue_of(const struct timer *t)
{
#if XENOLITH_SMP
    return &timer_cpus[t->cpu];
#else
    (void)t;
    return &timer_cpus[0];
#endif
}

/* Point the calling vCPU's one-shot timer at the head of its queue, tc
 * (events masked). */
static void program_xen(struct timer_cpu *tc)
{
    uint64_t want = tc->queue ? tc->queue->deadline : 0;
    if (want == 0 && tc->queue)
        want = 1; /* 0 means "cancel" to set_timer_op; 1 ns is long past */
    if (want == tc->xen_deadline)
        return;
    long rc = HYPERVISOR_set_timer_op(want > 1 ? xen_time_at(want) : want);
    if (rc) {
        printk("timer: HYPERVISOR_set_timer_op(%lu ms) failed: %ld\n",
               (unsigned long)udiv64_32(want, NSEC_PER_MSEC, NULL), rc);
        return;
    }
    tc->xen_deadline = want;
    tc->arms++;
}

static void unlink_timer(struct timer *t)
{
    for (struct timer **pp = &queue_of(t)->queue; *pp; pp = &(*pp)->next) {
        if (*pp == t) {
            *pp = t->next;
            break;
        }
    }
    t->next = NULL;
    t->armed = false;
}

/* Into tc's queue: after every timer with the same or an earlier deadline
 * (FIFO on ties). */
static void enqueue(struct timer_cpu *tc, struct timer *t)
{
    struct timer **pp = &tc->queue;
    while (*pp && (*pp)->deadline <= t->deadline)
        pp = &(*pp)->next;
    t->next = *pp;
    *pp = t;
#if XENOLITH_SMP
    t->cpu = (uint8_t)(tc - timer_cpus);
#endif
    t->armed = true;
}

void timer_arm(struct timer *t, uint64_t deadline_ns)
{
    unsigned long flags = irq_save();
    struct timer_cpu *tc = here();
    if (t->armed)
        unlink_timer(t);
    t->deadline = deadline_ns;
    enqueue(tc, t);
    program_xen(tc);
    irq_restore(flags);
}

void timer_cancel(struct timer *t)
{
    unsigned long flags = irq_save();
    if (t->armed) {
        struct timer_cpu *tc = queue_of(t);
        unlink_timer(t);
        if (tc == here())
            program_xen(tc);
    }
    irq_restore(flags);
}

/* VIRQ_TIMER of the calling vCPU, upcall context. */
void timer_virq(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    struct timer_cpu *tc = here();
    tc->virqs++;
    /* Xen's one-shot timer is spent: forget it, so program_xen re-arms. */
    tc->xen_deadline = 0;
    uint64_t now = monotonic_ns();
    while (tc->queue && tc->queue->deadline <= now) {
        struct timer *t = tc->queue;
        tc->queue = t->next;
        t->next = NULL;
        t->armed = false;
        tc->fired++;
        t->fn(t); /* may re-arm itself */
        now = monotonic_ns();
    }
    /* If our clock reads a hair behind Xen's, the head is still in the
     * future: arming it again makes Xen send VIRQ_TIMER right away. */
    program_xen(tc);
}

#if XENOLITH_SMP
void timer_rearm(void)
{
    unsigned long flags = irq_save();
    struct timer_cpu *tc = here();
    tc->xen_deadline = 0;
    program_xen(tc);
    irq_restore(flags);
}

unsigned timer_hand_off(unsigned from)
{
    struct timer_cpu *src = &timer_cpus[from], *dst = &timer_cpus[0];
    unsigned moved = 0;
    while (src->queue) {
        struct timer *t = src->queue;
        src->queue = t->next;
        enqueue(dst, t);
        moved++;
    }
    src->xen_deadline = 0;
    if (smp_cpu() == from)
        (void)HYPERVISOR_set_timer_op(0); /* its own: nothing left to fire */
    if (moved)
        timer_kick();
    return moved;
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
    timer_cpus[0].xen_deadline = 0;
    program_xen(&timer_cpus[0]);
    irq_restore(flags);
}

evtchn_port_t timer_virq_port(void)
{
    return timer_port;
}

unsigned long timer_virq_count(void)
{
    return READ_ONCE(timer_cpus[0].virqs);
}

/* ---- shell --------------------------------------------------------------- */

/* One vCPU's line and its first timers. */
static void timers_show(unsigned cpu, unsigned total, const struct timer_cpu *tc,
                        uint64_t armed_for, struct timer *const *copy, unsigned n, uint64_t now)
{
#if XENOLITH_SMP
    printk("vCPU %u: ", cpu);
#else
    (void)cpu;
#endif
    printk("%u armed; VIRQ_TIMER %lu, fired %lu, set_timer_op %lu; Xen timer %s\n", total,
           tc->virqs, tc->fired, tc->arms, armed_for ? "armed" : "off");
    for (unsigned i = 0; i < n; i++) {
        uint64_t d = copy[i]->deadline;
        uint64_t in_us = d > now ? udiv64_32(d - now, NSEC_PER_USEC, NULL) : 0;
        unsigned long off;
        const char *fn = symbol_lookup((unsigned long)copy[i]->fn, &off);
        printk("  timer %p: in %lu us, calls %s\n", (void *)copy[i], (unsigned long)in_us,
               fn ? fn : "?");
    }
}
static int cmd_timers(int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (unsigned cpu = 0; cpu < TIMER_CPUS; cpu++) {
        struct timer *copy[16];
        unsigned n = 0, total = 0;
        unsigned long flags = irq_save();
        const struct timer_cpu *tc = &timer_cpus[cpu];
        uint64_t now = monotonic_ns(), armed_for = tc->xen_deadline;
        for (struct timer *t = tc->queue; t; t = t->next, total++)
            if (n < ARRAY_SIZE(copy))
                copy[n++] = t;
        irq_restore(flags);
        if (cpu && !tc->virqs && !total)
            continue; /* a vCPU that never had a timer */
        timers_show(cpu, total, tc, armed_for, copy, n, now);
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
