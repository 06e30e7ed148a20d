/*
 * multicall_selftest.c — self-test of multicall.c ("Multicalls"): a batch
 * of three calls whose middle one must fail (EVTCHNOP_send on a port that
 * was never allocated) is issued as one HYPERVISOR_multicall; the helper
 * reports that entry (index 1, Xen's error) while the entries around it
 * still ran and succeeded: Xen does not stop a batch at a failure.
 */
#include "kernel.h"
#include "multicall.h"
#include "selftest.h"

#define UNUSED_PORT 1000 /* below the 2-level limit (1024), never allocated here */
#define BAD_ENTRY 1

SELFTEST(multicall)
{
    static struct evtchn_send bad_send = {.port = UNUSED_PORT};
    struct multicall mc;
    multicall_init(&mc);

    struct multicall_entry *e = multicall_add(&mc, __HYPERVISOR_xen_version);
    e->args[0] = XENVER_version;
    e->args[1] = 0;
    e = multicall_add(&mc, __HYPERVISOR_event_channel_op);
    e->args[0] = EVTCHNOP_send;
    e->args[1] = (unsigned long)&bad_send;
    e = multicall_add(&mc, __HYPERVISOR_xen_version);
    e->args[0] = XENVER_version;
    e->args[1] = 0;

    printk("multicall test: entry %u is meant to fail:\n", BAD_ENTRY);
    unsigned bad;
    long rc = multicall_run(&mc, "multicall test", &bad);
    long first = (long)mc.entry[0].result, last = (long)mc.entry[2].result;
    ST_EXPECT(r, rc < 0, "the failing entry was not reported (rc %ld)", rc);
    ST_EXPECT(r, bad == BAD_ENTRY, "reported entry %u, expected %u", bad, BAD_ENTRY);
    ST_EXPECT(r, first > 0 && last == first, "entries 0 and 2 gave %#lx and %#lx", first, last);
    ST_PASS(r, "3-entry batch: entry %u reported with %ld, entries 0 and 2 ran (XENVER_version %#lx)",
            bad, rc, (unsigned long)first);
}
