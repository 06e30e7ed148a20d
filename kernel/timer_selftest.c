/*
 * timer_selftest.c — self-test of the one-shot timer queue (timer.c):
 * timers armed out of order run in deadline order, none before its
 * deadline; a cancelled timer never runs; re-arming an armed timer moves it.
 */
#include "kernel.h"
#include "events.h"
#include "selftest.h"
#include "time.h"

#define TIMER_COUNT 4
#define TIMER_STEP_MS 10
#define TIMERS_SLEEP_MS 100

struct test_timer {
    struct timer t;
    unsigned id;
    uint64_t ran_at;
};

static unsigned ran_order[TIMER_COUNT + 2];
static volatile unsigned ran_count;

static void test_timer_fn(struct timer *t)
{
    struct test_timer *tt = container_of(t, struct test_timer, t);
    tt->ran_at = monotonic_ns();
    if (ran_count < ARRAY_SIZE(ran_order))
        ran_order[ran_count] = tt->id;
    ran_count++;
}

SELFTEST(timers)
{
    /* Armed in this order; ids are the order they must run in. */
    static const unsigned arm_order[TIMER_COUNT] = {3, 0, 2, 1};
    static struct test_timer timers[TIMER_COUNT], cancelled, moved;
    uint64_t now = monotonic_ns();

    ran_count = 0;
    for (unsigned i = 0; i < TIMER_COUNT; i++) {
        unsigned id = arm_order[i];
        timers[id] = (struct test_timer){.t = {.fn = test_timer_fn}, .id = id};
        timer_arm(&timers[id].t, now + (id + 1) * TIMER_STEP_MS * NSEC_PER_MSEC);
    }
    /* With events masked no VIRQ_TIMER can run a timer between these calls
     * (a deadline in the past makes Xen raise VIRQ_TIMER at once). */
    unsigned long flags = irq_save();
    cancelled = (struct test_timer){.t = {.fn = test_timer_fn}, .id = 100};
    timer_arm(&cancelled.t, now + 1);
    timer_cancel(&cancelled.t);
    /* Armed first for the past, then moved after the others. */
    moved = (struct test_timer){.t = {.fn = test_timer_fn}, .id = TIMER_COUNT};
    timer_arm(&moved.t, now + 1);
    timer_arm(&moved.t, now + (TIMER_COUNT + 1) * TIMER_STEP_MS * NSEC_PER_MSEC);
    irq_restore(flags);

    sleep_ms(TIMERS_SLEEP_MS);
    unsigned n = ran_count;
    for (unsigned i = 0; i < TIMER_COUNT; i++)
        timer_cancel(&timers[i].t);
    timer_cancel(&moved.t);

    ST_EXPECT(r, n == TIMER_COUNT + 1, "%u timers ran, expected %u", n, TIMER_COUNT + 1);
    for (unsigned i = 0; i < n; i++) {
        ST_EXPECT(r, ran_order[i] == i, "run %u was timer %u (order %u %u %u %u %u)", i,
                  ran_order[i], ran_order[0], ran_order[1], ran_order[2], ran_order[3],
                  ran_order[4]);
    }
    for (unsigned id = 0; id < TIMER_COUNT; id++)
        ST_EXPECT(r, timers[id].ran_at >= timers[id].t.deadline, "timer %u ran %llu ns early", id,
                  timers[id].t.deadline - timers[id].ran_at);
    ST_EXPECT(r, !cancelled.ran_at, "the cancelled timer ran");
    ST_PASS(r, "%u timers armed out of order ran in deadline order, cancel and re-arm held", n);
}
