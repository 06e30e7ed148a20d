/*
 * fakes.c — the kernel services the fuzzed parsers call, as host fakes:
 * pages from the host's allocator (so AddressSanitizer sees every byte
 * past a page; fuzz_pages_limit makes them short), grants that succeed
 * and end as grant_table.c ends them (fuzz_grants_held: the peer keeps
 * its mappings), threads that never block, a clock that stands still, a
 * hypercall page that crashes, and a console that drops what printk
 * writes (set FUZZ_PRINTK=1 to see it). The kernel's functions are weak:
 * a target that needs its own version of one defines it.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>

#include "rename.h"
#include "kernel.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "sched.h"
#include "time.h"
#include "wait.h"

#define WEAK __attribute__((weak))

WEAK void console_write(const char *s, size_t len)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_PRINTK") != NULL;
    if (verbose)
        fwrite(s, 1, len, stderr);
}

WEAK uint64_t monotonic_ns(void)
{
    return 0;
}

WEAK uint64_t deadline_ms(unsigned long timeout_ms)
{
    return timeout_ms;
}

/* Single pages are recycled (a fresh 4 KiB allocation per page per input
 * would be most of the time spent); fuzz_pages_out counts those not given
 * back, so a target can check that a scenario leaked none; beyond
 * fuzz_pages_limit pages out (-1: none), memory is short. */
#define PAGE_POOL 256
static void *pool[PAGE_POOL];
static unsigned pooled;
static long pages_out, pages_limit = -1;

long fuzz_pages_out(void)
{
    return pages_out;
}

void fuzz_pages_limit(long limit)
{
    pages_limit = limit;
}

WEAK void *page_alloc(unsigned order)
{
    if (pages_limit >= 0 && pages_out >= pages_limit)
        return NULL;
    pages_out++;
    if (order == 0 && pooled)
        return pool[--pooled];
    return aligned_alloc(PAGE_SIZE, (size_t)PAGE_SIZE << order);
}

WEAK void page_free(void *p, unsigned order)
{
    if (!p)
        return;
    pages_out--;
    if (order == 0 && pooled < PAGE_POOL)
        pool[pooled++] = p;
    else
        free(p);
}

/* References count up from 8 (Xen reserves the first few). */
WEAK int gnttab_grant_page(domid_t domid, const void *page, bool readonly)
{
    static int next = 8;
    return next++;
}

/* As grant_table.c: an ended grant leaves the page with the caller; one
 * the peer still maps (fuzz_grants_held) takes it away, into the deferred
 * list there, freed here at once (the peer's unmap is not modelled). */
static bool grants_held;

void fuzz_grants_held(bool held)
{
    grants_held = held;
}

WEAK int gnttab_end_or_defer(int *ref, void **page, const char *fmt, ...)
{
    if (*ref < 0)
        return 0;
    *ref = -1;
    if (!grants_held)
        return 0;
    page_free(*page, 0);
    *page = NULL;
    return -XEN_EBUSY;
}

WEAK int evtchn_send(evtchn_port_t port)
{
    return 0;
}

/* A thread that is never switched away from: every wake-up is a no-op,
 * and a wait is over at once, its condition read once. */
WEAK struct thread *thread_current(void)
{
    return (struct thread *)1;
}

WEAK void thread_wake(struct thread *t) {}

WEAK void thread_block(void) {}

WEAK void wait_for_event(void) {}

WEAK int wait_until(bool (*cond)(void *), void *arg, uint64_t deadline_ns)
{
    return cond && cond(arg) ? 0 : -XEN_ETIMEDOUT;
}

/* Start of day and suspend: what the targets' files reference outside the
 * code under test (clang's coverage sections keep unused functions in the
 * link), never called by a fuzzed path. */
WEAK struct start_info *start_info;

WEAK bool xen_is_dom0(void)
{
    return false;
}

WEAK void sleep_ms(unsigned long ms) {}

WEAK int evtchn_set_handler(evtchn_port_t port, evtchn_handler_t h, void *data)
{
    return 0;
}

WEAK struct thread *thread_create(const char *name, void (*fn)(void *), void *arg)
{
    return NULL;
}

WEAK unsigned long mm_direct_pfns(void)
{
    return 0;
}

WEAK unsigned long mfn_to_pfn(xen_pfn_t mfn)
{
    return M2P_INVALID;
}

/* Xen itself: a hypercall on a fuzzed path jumps into this page of zeros
 * (not executable) and crashes, which is what it should do here. */
WEAK char hypercall_page[PAGE_SIZE];
WEAK unsigned long xen_hypercall_count[XEN_NR_HYPERCALLS];

WEAK void xen_sched_yield(void) {}

WEAK void console_flush(void) {}

WEAK void thread_join(struct thread *t) {}

WEAK int evtchn_alloc_unbound(domid_t remote, evtchn_port_t *port)
{
    return -XEN_ENOSYS;
}
