/*
 * xenbus_state.c — XenBus states, the middle of the three layers a device
 * is driven through (interface manual: "XenStore" / "Device drivers"; Xen
 * 4.17 public/io/xenbus.h):
 *   1. the XenStore protocol: requests on the shared ring (xenstore*.c);
 *   2. XenBus states (this file, xenbus.h): the XenbusState each end of a
 *      device publishes, read, written and waited for, and the path of the
 *      other end: XenStore keys only, nothing of any device kind;
 *   3. the frontend life cycle (frontend.c, frontend.h): rings, event
 *      channel, publishing, watching the backend, closing; each driver's
 *      own negotiation (drivers/<driver>/xenbus.c) is built on it.
 *
 * Frontend and backend each publish a XenbusState under "<their
 * path>/state" and move through Initialising -> InitWait / Initialised ->
 * Connected -> Closing -> Closed. These helpers are XenStore reads and
 * writes plus one watch: xenbus_wait_state re-reads the state after every
 * watch event (and once at first, since the watch fires when set), until
 * one of the wanted states or the deadline.
 */
#include "kernel.h"
#include "time.h"
#include "xenbus.h"
#include "xenstore.h"

static const char *const state_names[] = {
    [XenbusStateUnknown] = "Unknown",           [XenbusStateInitialising] = "Initialising",
    [XenbusStateInitWait] = "InitWait",         [XenbusStateInitialised] = "Initialised",
    [XenbusStateConnected] = "Connected",       [XenbusStateClosing] = "Closing",
    [XenbusStateClosed] = "Closed",             [XenbusStateReconfiguring] = "Reconfiguring",
    [XenbusStateReconfigured] = "Reconfigured",
};

const char *xenbus_state_name(XenbusState s)
{
    return (unsigned)s < ARRAY_SIZE(state_names) && state_names[s] ? state_names[s] : "?";
}

int xenbus_join(char *buf, size_t size, const char *path, const char *key)
{
    int n = snprintf(buf, size, "%s/%s", path, key);
    return n < 0 || (size_t)n >= size ? -XEN_ENAMETOOLONG : 0;
}

int xenbus_read_state(const char *path, XenbusState *out)
{
    char key[XENBUS_PATH_MAX];
    unsigned long v;
    int rc = xenbus_join(key, sizeof(key), path, "state");
    if (!rc)
        rc = xs_read_ulong(XS_TX_NONE, key, &v);
    if (rc == -XEN_ENOENT) {
        *out = XenbusStateUnknown;
        return 0;
    }
    if (rc)
        return rc;
    if (v >= ARRAY_SIZE(state_names)) {
        printk("xenbus: %s is %lu, not a XenbusState\n", key, v);
        return -XEN_EINVAL;
    }
    *out = (XenbusState)v;
    return 0;
}

int xenbus_switch_state(const char *path, XenbusState s)
{
    char key[XENBUS_PATH_MAX];
    int rc = xenbus_join(key, sizeof(key), path, "state");
    return rc ? rc : xs_printf(XS_TX_NONE, key, "%u", (unsigned)s);
}

int xenbus_wait_state(const char *path, uint32_t mask, unsigned long timeout_ms,
                      XenbusState *reached)
{
    char key[XENBUS_PATH_MAX];
    struct xs_watch *w;
    int rc = xenbus_join(key, sizeof(key), path, "state");
    if (rc || (rc = xs_watch_add(key, &w)))
        return rc;
    uint64_t deadline = monotonic_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC;
    *reached = XenbusStateUnknown;
    for (;;) {
        if ((rc = xenbus_read_state(path, reached)))
            break;
        if (mask & XENBUS_STATE_BIT(*reached))
            break;
        uint64_t now = monotonic_ns();
        if (now >= deadline) {
            rc = -XEN_ETIMEDOUT;
            break;
        }
        unsigned long left_ms = (unsigned long)udiv64_32(deadline - now, NSEC_PER_MSEC, NULL) + 1;
        rc = xs_watch_wait(w, NULL, 0, left_ms);
        if (rc && rc != -XEN_ETIMEDOUT)
            break;
    }
    (void)xs_watch_remove(w);
    return rc;
}

int xenbus_read_peer(const char *dev, const char *key, char *buf, size_t size, domid_t *id)
{
    char k[XENBUS_PATH_MAX], idkey[XENBUS_PATH_MAX / 4];
    unsigned long v;
    int rc = xenbus_join(k, sizeof(k), dev, key);
    if (rc || (rc = xs_read(XS_TX_NONE, k, buf, size)) < 0)
        return rc;
    if (snprintf(idkey, sizeof(idkey), "%s-id", key) >= (int)sizeof(idkey) ||
        xenbus_join(k, sizeof(k), dev, idkey))
        return -XEN_ENAMETOOLONG;
    if ((rc = xs_read_ulong(XS_TX_NONE, k, &v)))
        return rc;
    if (v >= DOMID_FIRST_RESERVED) {
        printk("xenbus: %s is %lu, not a domain id\n", k, v);
        return -XEN_EINVAL;
    }
    *id = (domid_t)v;
    return 0;
}
