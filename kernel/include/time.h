/*
 * time.h — time (interface manual: "Time"): system time from vcpu_time_info
 * with TSC scaling and the version protocol, wall clock from shared_info,
 * one-shot timers with set_timer_op (kernel/xen/time.c, kernel/timer.c).
 */
#ifndef XENOLITH_TIME_H
#define XENOLITH_TIME_H

#include "kernel.h"

#define NSEC_PER_USEC 1000ULL
#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL
#define MSEC_PER_SEC 1000UL

/* Start of day (main.c): time_init reports the clocks (time.c);
 * timer_init binds VIRQ_TIMER and stops the periodic tick (timer.c). */
int time_init(void);
int timer_init(void);
uint64_t monotonic_ns(void); /* Xen system time; never goes back, never stands still */
uint64_t xen_time_at(uint64_t deadline); /* monotonic_ns() time -> Xen's, for set_timer_op */
uint64_t wallclock_ns(void); /* nanoseconds since 1970-01-01 UTC */

/* How monotonic_ns() makes Xen's readings monotonic without standing still
 * (time.c): feed it raw readings, it returns the clock. */
struct clock_state {
    uint64_t last_raw, last, ahead; /* ahead: how far the clock is ahead of Xen's */
    uint64_t steps_back, largest_back_ns;
};
uint64_t clock_absorb(struct clock_state *c, uint64_t raw);
void clock_state_get(struct clock_state *out); /* monotonic_ns()'s, now */

/* The VCPU's time record (vcpu_info->time) as read under its version
 * protocol, and the system time it gives for the TSC read with it. */
struct time_record {
    uint64_t tsc_timestamp;
    uint64_t system_time;
    uint32_t mul;
    int8_t shift;
};
uint64_t time_record_sample(struct time_record *r, uint32_t *version, uint64_t *tsc);

/* Raw pieces, for tests and tools: Xen system time as computed now (not
 * clamped), the TSC, and the TSC -> ns scaling Xen currently publishes. */
uint64_t xen_system_time_ns(void);
uint64_t rdtsc(void);
uint64_t tsc_delta_to_ns(uint64_t tsc_delta);

/*
 * 64-bit by 32-bit division without libgcc (-m32 has no 64-bit divide
 * instruction; gcc would call __udivdi3). Two 32-bit divl: high word, then
 * remainder:low word, which cannot overflow because remainder < d.
 */
static inline uint64_t udiv64_32(uint64_t n, uint32_t d, uint32_t *rem)
{
    uint32_t hi = (uint32_t)(n >> 32), lo = (uint32_t)n;
    uint32_t q_hi = hi / d, r = hi % d, q_lo;
    __asm__("divl %4" : "=a"(q_lo), "=d"(r) : "a"(lo), "d"(r), "rm"(d));
    if (rem)
        *rem = r;
    return ((uint64_t)q_hi << 32) | q_lo;
}

/* The calendar (kernel/calendar.c): Xen's wall clock counts seconds since
 * 1970-01-01 00:00 UTC (shared_info wc_sec); the CMOS RTC gives a date.
 * Proleptic Gregorian, no leap seconds (neither Xen nor the RTC has any). */
#define SECS_PER_MIN 60u
#define MINS_PER_HOUR 60u
#define HOURS_PER_DAY 24u
#define SECS_PER_HOUR (SECS_PER_MIN * MINS_PER_HOUR)
#define SECS_PER_DAY (SECS_PER_HOUR * HOURS_PER_DAY)
#define UNIX_EPOCH_YEAR 1970u
struct utc_time {
    unsigned year, month, day, hour, min, sec; /* month 1-12, day 1-31 */
};
void utc_from_unix(uint64_t unix_sec, struct utc_time *out);
/* The reverse, for a date utc_valid accepts. */
uint64_t unix_from_utc(const struct utc_time *t);
/* A real date from UNIX_EPOCH_YEAR on: month, day of that month, time of day. */
bool utc_valid(const struct utc_time *t);

struct timer {
    uint64_t deadline;
    void (*fn)(struct timer *t); /* runs in upcall context (see events.h) */
    struct timer *next;
    bool armed;
#if XENOLITH_SMP
    uint8_t cpu; /* whose queue it is on: the vCPU that armed it */
#endif
};
void timer_arm(struct timer *t, uint64_t deadline_ns); /* absolute system time */
void timer_cancel(struct timer *t);
#if XENOLITH_SMP
/* Several vCPUs: a timer goes on the queue of the vCPU that arms it, run
 * by that vCPU's own one-shot timer and VIRQ_TIMER (timer_virq, bound on
 * each by smp.c). A vCPU going down hands its timers to vCPU 0
 * (timer_hand_off, on itself, events masked, kernel lock held; how many),
 * which is then asked to point its timer at its head again: timer_kick
 * (smp.c) is an IPI on vCPU 0's timer-kick port, whose handler calls
 * timer_rearm. */
void timer_virq(evtchn_port_t port, void *data);
unsigned timer_hand_off(unsigned from);
void timer_rearm(void);
void timer_kick(void);
#endif

/* vCPU 0's VIRQ_TIMER: its port and how many times it fired (for tests). */
evtchn_port_t timer_virq_port(void);
unsigned long timer_virq_count(void);

/* Blocks the calling thread (the VCPU sleeps in Xen when nothing runs). */
void sleep_ms(unsigned long ms);

#endif
