/*
 * balloon_target.c — following the toolstack's memory target (Xen 4.17
 * docs/misc/xenstore-paths: ~/memory/target and ~/memory/static-max, both
 * in KiB).
 *
 * `xl mem-set NAME 32` writes memory/target = 32768 and waits for `xl list`
 * to show the domain at that size; the guest moves its reservation there
 * with balloon.c. It never goes above memory/static-max nor above the p2m
 * (the pfns the domain builder made), and never below the floor: the pages
 * in use plus the free pages the balloon keeps. A target below the floor is
 * refused with one line and the reservation stays as it is: giving away a
 * page in use would crash us, and half-way would not be what was asked.
 *
 * The target is the whole domain's size, and not every page of the domain
 * need be ours: inside the PV shim (a PVH domain running a small Xen that
 * runs us), the shim keeps some of the domain's memory for itself, so we
 * start with fewer pages than memory/target says (Linux's balloon driver
 * meets the same in HVM guests, where firmware and video take their share).
 * So the pages the domain had at boot and are not ours (the target read at
 * boot less our reservation then; 0 for a classic PV guest) come off every
 * target, and `xl list` shows the size that was asked for.
 *
 * A thread "balloon" watches memory/target; domU only.
 */
#include "mm.h"
#include "sched.h"
#include "xenstore.h"

#define KIB_PER_PAGE (PAGE_SIZE / 1024)

static unsigned long target_pages;
static unsigned long not_ours_kib; /* the domain's pages that are not ours (the shim's) */

unsigned long balloon_toolstack_target(void)
{
    return target_pages;
}

static unsigned long kib_to_pages(unsigned long kib)
{
    return kib / KIB_PER_PAGE;
}

unsigned long balloon_not_ours_pages(void)
{
    return kib_to_pages(not_ours_kib);
}

/* The domain's size in KiB as our own reservation: less what is not ours. */
static unsigned long ours(unsigned long domain_kib)
{
    return domain_kib > not_ours_kib ? domain_kib - not_ours_kib : 0;
}

static void follow(unsigned long target_kib)
{
    unsigned long want = kib_to_pages(ours(target_kib)), max_kib;
    if (xs_read_ulong(XS_TX_NONE, "memory/static-max", &max_kib) == 0 &&
        want > kib_to_pages(ours(max_kib)))
        want = kib_to_pages(ours(max_kib));
    if (want > p2m_size())
        want = p2m_size();
    long cur = mm_current_reservation();
    if (cur < 0 || (unsigned long)cur == want)
        return;
    unsigned long floor = balloon_floor_pages();
    if (want < floor) {
        printk("balloon: memory/target %lu KiB refused: below the floor of %lu KiB (pages in "
               "use + free pages kept); staying at %ld KiB\n", target_kib,
               floor * KIB_PER_PAGE, cur * (long)KIB_PER_PAGE);
        return;
    }
    long reached = balloon_set_target(want);
    printk("balloon: memory/target %lu KiB: reservation %ld KiB -> %ld KiB\n", target_kib,
           cur * (long)KIB_PER_PAGE, reached * (long)KIB_PER_PAGE);
}

static void balloon_main(void *arg)
{
    struct xs_watch *w = arg;
    unsigned long last = 0;
    for (;;) {
        int rc = xs_watch_wait(w, NULL, 0, XS_TIMEOUT_MS);
        if (rc == -XEN_ETIMEDOUT)
            continue;
        unsigned long kib;
        rc = xs_read_ulong(XS_TX_NONE, "memory/target", &kib);
        if (rc || kib == 0)
            continue; /* not there yet, or not a number (xs_read_ulong said so) */
        target_pages = kib_to_pages(kib);
        if (kib != last)
            follow(kib);
        last = kib;
    }
}

/* At boot the toolstack's target is the domain's size, and our reservation is all
 * of it that is ours. */
static void measure_not_ours(void)
{
    unsigned long kib;
    long cur = mm_current_reservation();
    if (xs_read_ulong(XS_TX_NONE, "memory/target", &kib) || cur < 0 ||
        kib <= (unsigned long)cur * KIB_PER_PAGE)
        return;
    not_ours_kib = kib - (unsigned long)cur * KIB_PER_PAGE;
    printk("balloon: %lu KiB of the domain's %lu KiB are not ours (the PV shim's): "
           "memory/target less that is our reservation\n", not_ours_kib, kib);
}

int balloon_target_init(void)
{
    if (!xs_available())
        return 0;
    measure_not_ours();
    return xs_watch_thread("memory/target", "balloon", balloon_main,
                           "xl mem-set will not be followed");
}
