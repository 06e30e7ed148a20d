/*
 * time.h — time (interface manual: "Time"): system time from vcpu_time_info
 * with TSC scaling and the version protocol, wall clock from shared_info,
 * one-shot timers with set_timer_op. Owner: kernel/xen/time.c, kernel/timer.c
 * (events & time).
 */
#ifndef XENOLITH_TIME_H
#define XENOLITH_TIME_H

#include "kernel.h"

#define NSEC_PER_MSEC 1000000ULL
#define NSEC_PER_SEC 1000000000ULL

uint64_t monotonic_ns(void); /* Xen system time; never goes back */
uint64_t wallclock_ns(void); /* nanoseconds since 1970-01-01 UTC */

struct timer {
    uint64_t deadline;
    void (*fn)(struct timer *t);
    struct timer *next;
    bool armed;
};
void timer_arm(struct timer *t, uint64_t deadline_ns); /* absolute system time */
void timer_cancel(struct timer *t);

/* Blocks the calling thread (the VCPU sleeps in Xen when nothing runs). */
void sleep_ms(unsigned long ms);

#endif
