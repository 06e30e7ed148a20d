/*
 * toolstack_values.c — fuzzes what the kernel makes of the toolstack's
 * requests in XenStore (Xen 4.17 docs/misc/xenstore-paths):
 * control/shutdown and control/sysrq (kernel/xen/control.c: the word read
 * and cleared in one transaction, unknown words left alone, shutdown.c's
 * words) and memory/target with memory/static-max (balloon_target.c: KiB
 * to pages, clamped to static-max and the p2m, refused below the floor).
 *
 * control.c and balloon_target.c are included, not linked, to reach their
 * static readers (next_request, follow): the threads around them loop for
 * ever. xenstored's answers come off the input (xs_fake.c); so do the
 * p2m's size, the reservation and the floor (within what a PAE guest can
 * have: those are Xen's figures, not the toolstack's). Checks: a request taken is
 * one the kernel answers (a shutdown word but "crash", a sysrq key it
 * has); the balloon is asked for a target within static-max, the p2m and
 * not below the floor.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "xs_fake.h"
#include "control.c"
#include "memory/balloon_target.c"

enum op { SHUTDOWN, SYSRQ, MEMORY, OPS };

#define MAX_OPS 8
#define PAE_MAX_PAGES (1ul << (36 - PAGE_SHIFT)) /* 64 GiB, PAE's physical address width */

static struct fuzz_in *in;
static unsigned long p2m_pages, floor_pages, max_kib;
static bool max_known;
static long reservation;

unsigned long p2m_size(void)
{
    return p2m_pages;
}

long mm_current_reservation(void)
{
    return reservation;
}

unsigned long balloon_floor_pages(void)
{
    return floor_pages;
}

long balloon_set_target(unsigned long pages)
{
    FUZZ_ASSERT(pages <= p2m_pages && pages >= floor_pages);
    FUZZ_ASSERT(!max_known || pages <= kib_to_pages(max_kib));
    reservation = (long)pages;
    return reservation;
}

/* Never reached: a request the kernel acts on is checked, not carried out. */
int shell_exec(const char *line)
{
    abort();
}

int kernel_suspend(void)
{
    abort();
}

static void memory(void)
{
    unsigned long kib;
    /* Xen's figures, not the toolstack's: within what a PAE guest has. */
    p2m_pages = fin_u32(in) % (PAE_MAX_PAGES + 1);
    floor_pages = fin_u32(in) % (p2m_pages + 1);
    reservation = (long)(fin_u32(in) % (p2m_pages + 1));
    if (xs_read_ulong(XS_TX_NONE, "memory/target", &kib) || kib == 0)
        return;
    /* follow reads memory/static-max next: its answer is the following one
     * on the input; peek at it to know the bound. */
    struct fuzz_in peek = *in;
    max_known = false;
    xs_fake_feed(&peek);
    max_known = xs_read_ulong(XS_TX_NONE, "memory/static-max", &max_kib) == 0;
    xs_fake_feed(in);
    follow(kib);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in input = {data, size};
    in = &input;
    xs_fake_feed(in);
    struct request shutdown_rq = {"control/shutdown", "", known_shutdown};
    struct request sysrq_rq = {"control/sysrq", "", known_sysrq};
    char unknown_shutdown[CONTROL_WORD_MAX] = "", unknown_sysrq[CONTROL_WORD_MAX] = "";
    for (unsigned i = 0; i < MAX_OPS && in->n; i++) {
        unsigned reason;
        switch (fin_u8(in) % OPS) {
        case SHUTDOWN:
            if (next_request(&shutdown_rq, unknown_shutdown, sizeof(unknown_shutdown)))
                FUZZ_ASSERT(shutdown_reason_of(shutdown_rq.value, &reason) &&
                            reason != SHUTDOWN_crash);
            break;
        case SYSRQ:
            if (next_request(&sysrq_rq, unknown_sysrq, sizeof(unknown_sysrq)))
                FUZZ_ASSERT(strlen(sysrq_rq.value) == 1 && strchr("tme", sysrq_rq.value[0]));
            break;
        case MEMORY:
            memory();
            break;
        }
    }
    xs_fake_feed(NULL);
    return 0;
}
