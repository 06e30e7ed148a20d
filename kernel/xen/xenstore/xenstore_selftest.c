/*
 * xenstore_selftest.c — self-tests of the XenStore client (interface
 * manual: "XenStore"): xenstore (a round trip under our own
 * /local/domain/<id>/data, a committed and an aborted transaction, a watch
 * that fires on our own write, ENOENT for a missing key, EINVAL for a
 * non-number), xenbus (wait for a state another thread sets, and a timeout),
 * xenstore_robust (crafted answers through the same dispatch code as the
 * ring's: unknown req_id, malformed watch event, unknown error name —
 * dropped with a line, counted, nothing crashes). In dom0 mode there is no
 * xenstored: the first two are domU-only (SKIP in dom0).
 */
#include "kernel.h"
#include "sched.h"
#include "selftest.h"
#include "time.h"
#include "xenbus.h"
#include "xenstore.h"
#include "xenstore_priv.h"

#define ST_PATH_MAX 96
#define WATCH_MS 5000
#define XENBUS_SETTER_DELAY_MS 200
#define XENBUS_SHORT_MS 300

static char base[ST_PATH_MAX];

static void path(char *buf, const char *leaf)
{
    snprintf(buf, ST_PATH_MAX, "%s/%s", base, leaf);
}

static int tx_write_two(xs_tx_t tx, void *arg)
{
    char p[ST_PATH_MAX];
    int rc;
    (void)arg;
    path(p, "tx1");
    if ((rc = xs_write(tx, p, "one")))
        return rc;
    path(p, "tx2");
    return xs_write(tx, p, "two");
}

SELFTEST_IN(xenstore, ST_DOMU)
{
    ST_EXPECT(r, xs_available(), "xenstore is not set up");
    domid_t id;
    int rc = xs_domid(&id);
    ST_EXPECT(r, rc == 0, "xs_domid: %s", xen_errname(rc));
    snprintf(base, sizeof(base), "/local/domain/%u/data/selftest", id);
    char p[ST_PATH_MAX], buf[64];
    unsigned long num;

    path(p, "a");
    ST_EXPECT(r, (rc = xs_write(XS_TX_NONE, p, "hello")) == 0, "write %s: %s", p, xen_errname(rc));
    rc = xs_read(XS_TX_NONE, p, buf, sizeof(buf));
    ST_EXPECT(r, rc == 5 && !strcmp(buf, "hello"), "read %s: %d '%s'", p, rc, rc >= 0 ? buf : "");
    ST_EXPECT(r, xs_read(XS_TX_NONE, p, buf, 3) == -XEN_E2BIG, "short buffer not refused");
    ST_EXPECT(r, xs_read_ulong(XS_TX_NONE, p, &num) == -XEN_EINVAL, "'hello' read as a number");
    path(p, "n");
    ST_EXPECT(r, xs_printf(XS_TX_NONE, p, "%u", 42u) == 0, "write %s", p);
    ST_EXPECT(r, xs_read_ulong(XS_TX_NONE, p, &num) == 0 && num == 42, "number read back %lu", num);

    char list[128];
    int n = xs_directory(XS_TX_NONE, base, list, sizeof(list));
    ST_EXPECT(r, n == 2, "ls %s: %d entries (want a, n)", base, n);
    ST_EXPECT(r, (!strcmp(list, "a") || !strcmp(list, "n")), "ls: first entry '%s'", list);

    path(p, "a");
    ST_EXPECT(r, (rc = xs_rm(XS_TX_NONE, p)) == 0, "rm %s: %s", p, xen_errname(rc));
    rc = xs_read(XS_TX_NONE, p, buf, sizeof(buf));
    ST_EXPECT(r, rc == -XEN_ENOENT, "read of removed key: %s", xen_errname(rc));
    path(p, "never-written");
    rc = xs_read(XS_TX_NONE, p, buf, sizeof(buf));
    ST_EXPECT(r, rc == -XEN_ENOENT, "read of missing key: %s", xen_errname(rc));

    /* Transactions: one committed (with the EAGAIN loop), one aborted. */
    ST_EXPECT(r, (rc = xs_transaction(tx_write_two, NULL)) == 0, "transaction: %s", xen_errname(rc));
    path(p, "tx2");
    rc = xs_read(XS_TX_NONE, p, buf, sizeof(buf));
    ST_EXPECT(r, rc == 3 && !strcmp(buf, "two"), "committed value: %d", rc);
    xs_tx_t tx;
    ST_EXPECT(r, (rc = xs_transaction_start(&tx)) == 0, "transaction start: %s", xen_errname(rc));
    path(p, "tx3");
    ST_EXPECT(r, (rc = xs_write(tx, p, "x")) == 0, "write in transaction: %s", xen_errname(rc));
    ST_EXPECT(r, (rc = xs_transaction_end(tx, true)) == 0, "abort: %s", xen_errname(rc));
    rc = xs_read(XS_TX_NONE, p, buf, sizeof(buf));
    ST_EXPECT(r, rc == -XEN_ENOENT, "aborted write is visible: %s", xen_errname(rc));

    /* Watch: the first event comes at once; then our own write fires it. */
    struct xs_watch *w;
    char wp[ST_PATH_MAX], seen[ST_PATH_MAX];
    path(wp, "w");
    ST_EXPECT(r, (rc = xs_watch_add(wp, &w)) == 0, "watch %s: %s", wp, xen_errname(rc));
    rc = xs_watch_wait(w, seen, sizeof(seen), WATCH_MS);
    if (rc == 0)
        rc = xs_write(XS_TX_NONE, wp, "1");
    if (rc == 0)
        rc = xs_watch_wait(w, seen, sizeof(seen), WATCH_MS);
    int rm = xs_watch_remove(w);
    ST_EXPECT(r, rc == 0, "watch did not fire: %s", xen_errname(rc));
    ST_EXPECT(r, !strcmp(seen, wp), "watch event for '%s', want '%s'", seen, wp);
    ST_EXPECT(r, rm == 0, "unwatch: %s", xen_errname(rm));

    ST_EXPECT(r, (rc = xs_rm(XS_TX_NONE, base)) == 0, "rm %s: %s", base, xen_errname(rc));
    ST_PASS(r, "domid %u: write/read/ls/rm, ENOENT, EINVAL for non-number, tx commit+abort, "
               "watch fired", id);
}

static void xenbus_setter(void *arg)
{
    sleep_ms(XENBUS_SETTER_DELAY_MS);
    (void)xenbus_switch_state(arg, XenbusStateConnected);
    thread_exit();
}

SELFTEST_IN(xenbus, ST_DOMU)
{
    domid_t id;
    int rc = xs_domid(&id);
    ST_EXPECT(r, rc == 0, "xs_domid: %s", xen_errname(rc));
    static char dev[ST_PATH_MAX];
    snprintf(dev, sizeof(dev), "/local/domain/%u/data/xbtest", id);
    XenbusState st;
    ST_EXPECT(r, xenbus_read_state(dev, &st) == 0 && st == XenbusStateUnknown,
              "missing state should read Unknown");
    ST_EXPECT(r, (rc = xenbus_switch_state(dev, XenbusStateInitialising)) == 0, "switch: %s",
              xen_errname(rc));
    struct thread *t = thread_create("xbtest", xenbus_setter, dev);
    ST_EXPECT(r, t, "thread_create failed");
    uint64_t t0 = monotonic_ns();
    rc = xenbus_wait_state(dev, XENBUS_STATE_BIT(XenbusStateConnected), WATCH_MS, &st);
    uint64_t waited_ms = udiv64_32(monotonic_ns() - t0, NSEC_PER_MSEC, NULL);
    thread_join(t);
    ST_EXPECT(r, rc == 0 && st == XenbusStateConnected, "wait for Connected: %s, state %s",
              xen_errname(rc), xenbus_state_name(st));
    rc = xenbus_wait_state(dev, XENBUS_STATE_BIT(XenbusStateClosed), XENBUS_SHORT_MS, &st);
    ST_EXPECT(r, rc == -XEN_ETIMEDOUT && st == XenbusStateConnected,
              "wait for Closed should time out: %s", xen_errname(rc));
    char key[ST_PATH_MAX + 8];
    snprintf(key, sizeof(key), "%s/state", dev);
    ST_EXPECT(r, xs_write(XS_TX_NONE, key, "banana") == 0, "write bad state");
    ST_EXPECT(r, xenbus_read_state(dev, &st) == -XEN_EINVAL, "'banana' read as a state");
    ST_EXPECT(r, xs_write(XS_TX_NONE, key, "99") == 0, "write bad state");
    ST_EXPECT(r, xenbus_read_state(dev, &st) == -XEN_EINVAL, "99 read as a state");
    (void)xs_rm(XS_TX_NONE, dev);
    ST_PASS(r, "Connected seen after %llu ms via watch, timeout for Closed, bad states refused",
            (unsigned long long)waited_ms);
}

SELFTEST(xenstore_robust)
{
    struct xs_stats before, after;
    xs_get_stats(&before);
    /* An answer nobody asked for. */
    struct xsd_sockmsg h = {.type = XS_READ, .req_id = 0x7eadbeefu, .len = 3};
    xs_handle_message(&h, "abc");
    /* Watch events that are not "path\0token\0". */
    static const char no_nul[] = {'a', 'b', 'c'};
    h = (struct xsd_sockmsg){.type = XS_WATCH_EVENT, .len = sizeof(no_nul)};
    xs_handle_message(&h, no_nul);
    static const char one_str[] = "path";
    h.len = sizeof(one_str);
    xs_handle_message(&h, one_str);
    xs_get_stats(&after);
    ST_EXPECT(r, after.unexpected == before.unexpected + 1, "unknown req_id not counted");
    ST_EXPECT(r, after.bad_messages == before.bad_messages + 2, "bad watch events: %lu counted",
              after.bad_messages - before.bad_messages);
    /* Error answers. */
    ST_EXPECT(r, xs_error_code("ENOENT", 7) == -XEN_ENOENT, "ENOENT");
    ST_EXPECT(r, xs_error_code("EAGAIN", 7) == -XEN_EAGAIN, "EAGAIN");
    ST_EXPECT(r, xs_error_code("EACCES", 7) == -XEN_EACCES, "EACCES");
    ST_EXPECT(r, xs_error_code("EBOGUS", 7) == -XEN_EIO, "unknown error name");
    ST_EXPECT(r, xs_error_code("", 0) == -XEN_EIO, "empty error");
    ST_PASS(r, "unknown req_id, 2 malformed watch events and a bogus error name dropped "
               "and counted");
}
