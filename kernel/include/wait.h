/*
 * wait.h — the one way a thread waits (interface manual: "Scheduling"; the
 * deadline is Xen system time, armed with set_timer_op through timer.c).
 * Implemented in kernel/wait.c.
 *
 * A thread waits until a condition holds or a deadline passes:
 *
 *     if (wait_until(reply_arrived, req, deadline_ns(XS_TIMEOUT_MS)))
 *         ... timed out ...
 *
 * Whoever makes the condition true wakes the waiter with thread_wake (an
 * event handler may: it is safe in upcall context). The condition is
 * checked before each block and after each wake, so a wake that comes early
 * or for another reason costs one check, and one that comes between the
 * check and the block is not lost (thread_block remembers it).
 */
#ifndef XENOLITH_WAIT_H
#define XENOLITH_WAIT_H

#include "kernel.h"

#define WAIT_FOREVER 0 /* deadline: none */

/* Block until cond(arg) (0) or system time reaches deadline_ns
 * (-XEN_ETIMEDOUT); cond NULL waits for the deadline alone. Threads only. */
int wait_until(bool (*cond)(void *), void *arg, uint64_t deadline_ns);

/* The deadline timeout_ms from now. */
uint64_t deadline_ms(unsigned long timeout_ms);

#endif
