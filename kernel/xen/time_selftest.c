/*
 * time_selftest.c — self-tests of "Time" (time.c, timer.c).
 *
 * time: monotonic_ns never goes back over many reads and across a sleep;
 *   the sleep took about as long as asked; system time and the TSC agree
 *   (the TSC ticks over the sleep, scaled with Xen's tsc_to_system_mul and
 *   tsc_shift, give the system time that passed); the wall clock moved with
 *   system time, and its year is plausible.
 * clock_absorb: raw readings that step back (as Xen's do when it recalibrates
 *   or moves the VCPU) give a clock that never goes back, never stands still
 *   for more than the one reading of the step, and rejoins Xen's time.
 * virq_timer: a one-shot timer arms Xen's timer (set_timer_op), VIRQ_TIMER
 *   comes, and its handler runs our timer, not before its deadline, while
 *   this thread waits blocked in Xen.
 */
#include "kernel.h"
#include "events.h"
#include "selftest.h"
#include "time.h"

#define MONOTONIC_READS 10000
#define SLEEP_MS 200
#define SLEEP_SLACK_MS 5000      /* TCG can be slow to wake us; not fast */
#define TSC_TOLERANCE_PERMILLE 20 /* 2% */
#define WALL_TOLERANCE_NS (2 * NSEC_PER_MSEC)
#define YEAR_MIN 2024
#define YEAR_MAX 2100
#define VIRQ_TIMER_DELAY_MS 20
#define VIRQ_TIMER_WAIT_MS 2000

static uint64_t absdiff(uint64_t a, uint64_t b)
{
    return a > b ? a - b : b - a;
}

static unsigned long ms_of(uint64_t ns)
{
    return (unsigned long)udiv64_32(ns, NSEC_PER_MSEC, NULL);
}

SELFTEST(time)
{
    uint64_t prev = monotonic_ns();
    for (unsigned i = 0; i < MONOTONIC_READS; i++) {
        uint64_t now = monotonic_ns();
        ST_EXPECT(r, now >= prev, "read %u went back: %llu -> %llu", i, prev, now);
        prev = now;
    }

    uint64_t tsc0 = rdtsc(), sys0 = xen_system_time_ns(), mono0 = monotonic_ns();
    uint64_t wall0 = wallclock_ns();
    sleep_ms(SLEEP_MS);
    uint64_t tsc1 = rdtsc(), sys1 = xen_system_time_ns(), mono1 = monotonic_ns();
    uint64_t wall1 = wallclock_ns();

    ST_EXPECT(r, mono1 >= mono0, "monotonic went back across a sleep: %llu -> %llu", mono0, mono1);
    uint64_t slept = mono1 - mono0;
    ST_EXPECT(r, slept >= SLEEP_MS * NSEC_PER_MSEC, "sleep_ms(%u) returned after %lu ms", SLEEP_MS,
              ms_of(slept));
    ST_EXPECT(r, slept < (SLEEP_MS + SLEEP_SLACK_MS) * NSEC_PER_MSEC,
              "sleep_ms(%u) took %lu ms", SLEEP_MS, ms_of(slept));

    uint64_t by_tsc = tsc_delta_to_ns(tsc1 - tsc0), by_sys = sys1 - sys0;
    uint64_t tolerance = udiv64_32(by_sys * TSC_TOLERANCE_PERMILLE, 1000, NULL);
    ST_EXPECT(r, absdiff(by_tsc, by_sys) <= tolerance,
              "TSC says %llu ns passed, system time %llu ns", by_tsc, by_sys);

    ST_EXPECT(r, absdiff(wall1 - wall0, slept) <= WALL_TOLERANCE_NS,
              "wall clock moved %llu ns while system time moved %llu ns", wall1 - wall0, slept);
    struct utc_time t;
    utc_from_unix(udiv64_32(wall1, NSEC_PER_SEC, NULL), &t);
    ST_EXPECT(r, t.year >= YEAR_MIN && t.year < YEAR_MAX, "wall clock year %u", t.year);

    ST_PASS(r, "%u reads monotonic; sleep %u ms took %lu ms; TSC %llu ns vs system %llu ns; "
               "wall %04u-%02u-%02u", MONOTONIC_READS, SLEEP_MS, ms_of(slept), by_tsc, by_sys,
            t.year, t.month, t.day);
}

SELFTEST(clock_absorb)
{
    /* Xen's time in ms: steady, then a second back, then steady again. */
    static const uint64_t raw_ms[] = {1000, 1010, 1020, 20, 30, 530, 1030, 1530, 2030, 2530,
                                      3030, 3040};
    struct clock_state c = {0};
    uint64_t prev = 0, now = 0;
    unsigned stood = 0;
    for (unsigned i = 0; i < sizeof(raw_ms) / sizeof(raw_ms[0]); i++) {
        now = clock_absorb(&c, raw_ms[i] * NSEC_PER_MSEC);
        ST_EXPECT(r, now >= prev, "reading %u went back: %llu -> %llu", i, prev, now);
        if (i > 0 && now == prev)
            stood++;
        prev = now;
    }
    ST_EXPECT(r, stood == 1, "the clock stood still for %u readings, not 1 (the step's own)",
              stood);
    ST_EXPECT(r, c.ahead == 0 && now == raw_ms[11] * NSEC_PER_MSEC,
              "not back on Xen's time: clock %llu, Xen %llu, ahead %llu", now,
              raw_ms[11] * NSEC_PER_MSEC, c.ahead);
    ST_EXPECT(r, c.steps_back == 1 && c.largest_back_ns == 1000 * NSEC_PER_MSEC,
              "%llu steps back, largest %llu ns", c.steps_back, c.largest_back_ns);
    ST_PASS(r, "a 1 s step back absorbed in %llu ns of Xen time", now - 20 * NSEC_PER_MSEC);
}

static volatile uint64_t virq_test_fired_at;

static void virq_test_fn(struct timer *t)
{
    (void)t;
    virq_test_fired_at = monotonic_ns();
}

SELFTEST(virq_timer)
{
    struct timer t = {.fn = virq_test_fn};
    unsigned long virqs0 = timer_virq_count();
    unsigned long port0 = evtchn_port_count(timer_virq_port());

    virq_test_fired_at = 0;
    uint64_t start = monotonic_ns(), deadline = start + VIRQ_TIMER_DELAY_MS * NSEC_PER_MSEC;
    timer_arm(&t, deadline);
    while (!virq_test_fired_at && monotonic_ns() - start < VIRQ_TIMER_WAIT_MS * NSEC_PER_MSEC)
        wait_for_event();
    uint64_t fired = virq_test_fired_at;
    timer_cancel(&t);

    ST_EXPECT(r, fired, "timer due in %u ms had not run after %u ms", VIRQ_TIMER_DELAY_MS,
              VIRQ_TIMER_WAIT_MS);
    ST_EXPECT(r, fired >= deadline, "timer ran %llu ns before its deadline", deadline - fired);
    unsigned long virqs = timer_virq_count() - virqs0;
    unsigned long port_events = evtchn_port_count(timer_virq_port()) - port0;
    ST_EXPECT(r, virqs >= 1 && port_events >= 1, "VIRQ_TIMER count +%lu, port %u count +%lu",
              virqs, (unsigned)timer_virq_port(), port_events);
    ST_PASS(r, "VIRQ_TIMER on port %u ran a %u ms timer %lu us late (%lu VIRQs)",
            (unsigned)timer_virq_port(), VIRQ_TIMER_DELAY_MS,
            (unsigned long)udiv64_32(fired - deadline, NSEC_PER_USEC, NULL), virqs);
}
