/*
 * frontend.c — the frontend life cycle, layer 3 of 3 between XenStore and
 * a driver (interface manual: "Device drivers"; Xen 4.17
 * public/io/xenbus.h, public/io/ring.h): the generic half of a split-driver
 * frontend, over the XenBus states (xenbus_state.c) and the XenStore
 * protocol (xenstore*.c). A driver's own negotiation
 * (drivers/<driver>/xenbus.c) calls it. See kernel/include/frontend.h for
 * the sequence a driver follows.
 *
 * What is the same for every device kind: where the device lives in
 * XenStore (device/<type>/<id>, with "backend" and "backend-id"), one page
 * per shared ring granted to the backend, one unbound event channel whose
 * remote end the backend binds, the keys that announce both written in one
 * transaction together with our XenbusState (so the backend never sees half
 * of them), the wait for the backend's state, watching the backend once
 * connected (so a detach by the toolstack is noticed), and the orderly
 * close. What differs — the ring type, the key names, what the backend
 * publishes, how the driver stops its I/O — is the driver's.
 */
#include "kernel.h"
#include "events.h"
#include "frontend.h"
#include "grant.h"
#include "mm.h"
#include "sched.h"
#include "xenbus.h"
#include "xenstore.h"

#define FRONTEND_CLOSE_TIMEOUT_MS 2000UL
#define FRONTEND_VALUE_MAX 32 /* any number or flag a backend publishes */

static const char *drv(const struct xenbus_frontend *fe)
{
    return fe->driver ? fe->driver : "frontend";
}

/* Watch threads that have ended (frontend_watch_backend): a thread cannot
 * join itself, so the next caller of frontend_list or frontend_watch_backend
 * does. A thread puts itself here just before thread_exit, with no switch in
 * between, so joining one never waits. */
static struct thread *ended_watchers[THREAD_MAX];
static unsigned n_ended_watchers;

static void reap_watchers(void)
{
    while (n_ended_watchers)
        thread_join(ended_watchers[--n_ended_watchers]);
}

static bool closing_or_closed(XenbusState st)
{
    return st == XenbusStateClosing || st == XenbusStateClosed;
}

int frontend_list(const char *type, char *buf, size_t size)
{
    char dir[XENBUS_PATH_MAX], node[XENBUS_PATH_MAX];
    if (!xs_available())
        return -XEN_ENODEV;
    reap_watchers();
    if (xenbus_join(dir, sizeof(dir), "device", type))
        return -XEN_ENAMETOOLONG;
    int n = xs_directory(XS_TX_NONE, dir, buf, size);
    if (n < 0)
        return n == -XEN_ENOENT ? 0 : n; /* no such directory: no devices */
    /* Keep the ids in place, leaving out devices on their way out. */
    char *out = buf;
    const char *p = buf;
    int kept = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(p) + 1;
        XenbusState st;
        bool leaving = !xenbus_join(node, sizeof(node), dir, p) &&
                       !xenbus_read_state(node, &st) && closing_or_closed(st);
        if (!leaving) {
            memmove(out, p, len);
            out += len;
            kept++;
        }
        p += len;
    }
    return kept;
}

int frontend_init(struct xenbus_frontend *fe, const char *type, const char *id)
{
    const char *d = fe->driver;
    memset(fe, 0, sizeof(*fe));
    fe->driver = d;
    char dir[XENBUS_PATH_MAX];
    int rc = xenbus_join(dir, sizeof(dir), "device", type);
    if (!rc)
        rc = xenbus_join(fe->node, sizeof(fe->node), dir, id);
    if (rc)
        return rc;
    rc = xenbus_read_peer(fe->node, "backend", fe->backend, sizeof(fe->backend), &fe->backend_id);
    if (rc < 0) {
        printk("%s: %s: cannot read backend/backend-id: %s\n", drv(fe), fe->node,
               xen_errname(rc));
        return rc;
    }
    if (fe->backend[0] != '/') {
        printk("%s: %s: backend path '%s' is not absolute\n", drv(fe), fe->node, fe->backend);
        return -XEN_EINVAL;
    }
    return 0;
}

int frontend_ring_alloc(struct xenbus_frontend *fe, struct frontend_ring *ring)
{
    ring->ref = -1;
    ring->page = page_alloc(0);
    if (!ring->page) {
        printk("%s: %s: no memory for a ring page\n", drv(fe), fe->node);
        return -XEN_ENOMEM;
    }
    memset(ring->page, 0, PAGE_SIZE);
    int ref = gnttab_grant_page(fe->backend_id, ring->page, false);
    if (ref < 0) {
        printk("%s: %s: cannot grant the ring page: %s\n", drv(fe), fe->node, xen_errname(ref));
        page_free(ring->page, 0);
        ring->page = NULL;
        return ref;
    }
    ring->ref = ref;
    return 0;
}

int frontend_ring_free(struct xenbus_frontend *fe, struct frontend_ring *ring)
{
    int rc = gnttab_end_or_defer(&ring->ref, &ring->page, "%s: %s: ring grant %d not ended",
                                drv(fe), fe->node, ring->ref);
    if (ring->page)
        page_free(ring->page, 0);
    ring->page = NULL;
    return rc;
}

void frontend_forget(struct xenbus_frontend *fe, struct frontend_ring *ring)
{
    if (ring) {
        ring->ref = -1; /* a reference of the old domain's table: void, not ended */
        if (ring->page)
            page_free(ring->page, 0);
        ring->page = NULL;
    }
    fe->has_evtchn = false; /* the old domain's port: gone with it */
}

int frontend_evtchn_alloc(struct xenbus_frontend *fe, evtchn_handler_t handler, void *data)
{
    evtchn_port_t port;
    int rc = evtchn_alloc_unbound(fe->backend_id, &port);
    if (rc) {
        printk("%s: %s: no event channel: %s\n", drv(fe), fe->node, xen_errname(rc));
        return rc;
    }
    fe->evtchn = port;
    fe->has_evtchn = true;
    rc = evtchn_set_handler(port, handler, data);
    if (rc)
        printk("%s: %s: cannot bind port %u: %s\n", drv(fe), fe->node, (unsigned)port,
               xen_errname(rc));
    return rc;
}

int frontend_notify(struct xenbus_frontend *fe)
{
    return fe->has_evtchn ? evtchn_send(fe->evtchn) : -XEN_EINVAL;
}

struct publish_args {
    struct xenbus_frontend *fe;
    const struct frontend_key *keys;
    unsigned n;
    XenbusState state;
};

static int publish_tx(xs_tx_t tx, void *arg)
{
    struct publish_args *a = arg;
    char path[XENBUS_PATH_MAX];
    int rc;
    for (unsigned i = 0; i < a->n; i++) {
        const struct frontend_key *k = &a->keys[i];
        if ((rc = xenbus_join(path, sizeof(path), a->fe->node, k->key)))
            return rc;
        rc = k->str ? xs_write(tx, path, k->str) : xs_printf(tx, path, "%lu", k->num);
        if (rc)
            return rc;
    }
    if ((rc = xenbus_join(path, sizeof(path), a->fe->node, "state")))
        return rc;
    return xs_printf(tx, path, "%u", (unsigned)a->state);
}

int frontend_publish(struct xenbus_frontend *fe, const struct frontend_key *keys, unsigned n,
                     XenbusState state)
{
    struct publish_args a = {fe, keys, n, state};
    int rc = xs_transaction(publish_tx, &a);
    if (rc)
        printk("%s: %s: publishing %u keys + state %s failed: %s\n", drv(fe), fe->node, n,
               xenbus_state_name(state), xen_errname(rc));
    return rc;
}

int frontend_switch(struct xenbus_frontend *fe, XenbusState state)
{
    int rc = xenbus_switch_state(fe->node, state);
    if (rc)
        printk("%s: %s: cannot switch to %s: %s\n", drv(fe), fe->node, xenbus_state_name(state),
               xen_errname(rc));
    return rc;
}

int frontend_wait_backend(struct xenbus_frontend *fe, uint32_t mask, unsigned long timeout_ms,
                          XenbusState *reached)
{
    XenbusState st = XenbusStateUnknown;
    int rc = xenbus_wait_state(fe->backend, mask, timeout_ms, &st);
    if (rc)
        printk("%s: %s: backend %s: %s (state %s after %lu ms)\n", drv(fe), fe->node,
               fe->backend, xen_errname(rc), xenbus_state_name(st), timeout_ms);
    if (reached)
        *reached = st;
    return rc;
}

int frontend_backend_read(struct xenbus_frontend *fe, const char *key, char *buf, size_t size)
{
    char path[XENBUS_PATH_MAX];
    int rc = xenbus_join(path, sizeof(path), fe->backend, key);
    return rc ? rc : xs_read(XS_TX_NONE, path, buf, size);
}

int frontend_backend_u64(struct xenbus_frontend *fe, const char *key, uint64_t *out)
{
    char val[FRONTEND_VALUE_MAX];
    int rc = frontend_backend_read(fe, key, val, sizeof(val));
    if (rc == -XEN_E2BIG) {
        printk("%s: backend sent %s/%s longer than %u bytes, not a number\n", drv(fe),
               fe->backend, key, (unsigned)sizeof(val) - 1);
        return -XEN_EINVAL;
    }
    if (rc < 0)
        return rc;
    /* Decimal only: XenStore numbers from backends are written with %u/%llu. */
    if (!parse_u64(val, 10, out)) {
        printk("%s: backend sent %s/%s = '%s', not a number\n", drv(fe), fe->backend, key, val);
        return -XEN_EINVAL;
    }
    return 0;
}

int frontend_backend_ulong(struct xenbus_frontend *fe, const char *key, unsigned long *out)
{
    uint64_t v;
    int rc = frontend_backend_u64(fe, key, &v);
    if (rc)
        return rc;
    if (v > (unsigned long)-1) {
        printk("%s: backend sent %s/%s = %llu, out of range\n", drv(fe), fe->backend, key,
               (unsigned long long)v);
        return -XEN_ERANGE;
    }
    *out = (unsigned long)v;
    return 0;
}

bool frontend_backend_feature(struct xenbus_frontend *fe, const char *key, bool dflt)
{
    char val[FRONTEND_VALUE_MAX];
    int rc = frontend_backend_read(fe, key, val, sizeof(val));
    if (rc == -XEN_ENOENT)
        return dflt;
    if (rc >= 0 && (!strcmp(val, "0") || !strcmp(val, "1")))
        return val[0] == '1';
    if (rc >= 0)
        printk("%s: backend sent %s/%s = '%s', not 0 or 1: taken as 0\n", drv(fe), fe->backend,
               key, val);
    else
        printk("%s: cannot read %s/%s: %s: taken as 0\n", drv(fe), fe->backend, key,
               xen_errname(rc));
    return false;
}

/* The backend's state; a backend whose directory is gone reads as Unknown.
 * Gone shows as ENOENT, or as EACCES: xenstored checks a missing node's
 * nearest existing parent, and the backend's parent is not ours to read. */
static int backend_state(struct xenbus_frontend *fe, XenbusState *st)
{
    int rc = xenbus_read_state(fe->backend, st);
    if (rc == -XEN_EACCES) {
        *st = XenbusStateUnknown;
        rc = 0;
    }
    return rc;
}

/* Wait for the backend to reach a state in mask (or to vanish). */
static int wait_backend_quietly(struct xenbus_frontend *fe, uint32_t mask, XenbusState *st)
{
    int rc = xenbus_wait_state(fe->backend, mask | XENBUS_STATE_BIT(XenbusStateUnknown),
                               FRONTEND_CLOSE_TIMEOUT_MS, st);
    if (rc == -XEN_EACCES) { /* gone meanwhile (see backend_state) */
        *st = XenbusStateUnknown;
        rc = 0;
    }
    return rc;
}

int frontend_close(struct xenbus_frontend *fe)
{
    char key[XENBUS_PATH_MAX], val[FRONTEND_VALUE_MAX];
    XenbusState st = XenbusStateUnknown;
    int first = 0, rc;
    /* Our directory removed already: nobody to tell (and writing "state"
     * would only fail: the parent is the toolstack's). */
    bool ours = !xenbus_join(key, sizeof(key), fe->node, "state") &&
                xs_read(XS_TX_NONE, key, val, sizeof(val)) != -XEN_ENOENT;
    bool backend = !backend_state(fe, &st) && st != XenbusStateUnknown;
    if (ours) {
        first = frontend_switch(fe, XenbusStateClosing);
        if (backend) {
            rc = wait_backend_quietly(fe, XENBUS_STATE_BIT(XenbusStateClosing) |
                                              XENBUS_STATE_BIT(XenbusStateClosed), &st);
            if (rc && !first) {
                printk("%s: %s: backend did not close: %s (state %s)\n", drv(fe), fe->node,
                       xen_errname(rc), xenbus_state_name(st));
                first = rc;
            }
        }
        rc = frontend_switch(fe, XenbusStateClosed);
        if (rc && !first)
            first = rc;
        /* The backend unmaps the ring and unbinds when it reaches Closed. */
        if (backend)
            (void)wait_backend_quietly(fe, XENBUS_STATE_BIT(XenbusStateClosed) |
                                               XENBUS_STATE_BIT(XenbusStateInitWait), &st);
    }
    if (fe->has_evtchn) {
        rc = evtchn_close(fe->evtchn);
        if (rc && !first)
            first = rc;
        fe->has_evtchn = false;
    }
    return first;
}

/* ---- watching the backend ------------------------------------------------ */

struct backend_watch {
    struct xenbus_frontend *fe;
    frontend_gone_fn gone;
    void *arg;
    struct xs_watch *w;
    volatile bool stop; /* frontend_unwatch_backend: end without calling gone */
    struct backend_watch *next;
};

static struct backend_watch *watching; /* every watch thread that has not ended */

static void unlist(struct backend_watch *bw)
{
    for (struct backend_watch **pp = &watching; *pp; pp = &(*pp)->next)
        if (*pp == bw) {
            *pp = bw->next;
            return;
        }
}

void frontend_unwatch_backend(struct xenbus_frontend *fe)
{
    for (struct backend_watch *bw = watching; bw; bw = bw->next)
        if (bw->fe == fe) {
            bw->stop = true; /* seen when it wakes; it never touches fe again */
            xs_watch_cancel(bw->w);
        }
}

const char *frontend_gone_reason(XenbusState st)
{
    return closing_or_closed(st) ? xenbus_state_name(st) : "gone from XenStore";
}

static void watch_main(void *arg)
{
    struct backend_watch *bw = arg;
    struct xenbus_frontend *fe = bw->fe;
    XenbusState st = XenbusStateUnknown;
    int reported = 0;
    for (;;) {
        /* An event, or the poll interval: either way, read the state. */
        (void)xs_watch_wait(bw->w, NULL, 0, FRONTEND_WATCH_POLL_MS);
        if (bw->stop)
            break;
        int rc = backend_state(fe, &st);
        if (bw->stop)
            break;
        if (rc) {
            if (rc != reported) /* say it once, keep watching */
                printk("%s: %s: cannot read %s/state: %s\n", drv(fe), fe->node, fe->backend,
                       xen_errname(rc));
            reported = rc;
            continue;
        }
        reported = 0;
        if (st == XenbusStateUnknown || closing_or_closed(st))
            break;
    }
    (void)xs_watch_remove(bw->w);
    unlist(bw);
    if (!bw->stop)
        bw->gone(fe, st, bw->arg);
    free(bw);
    ended_watchers[n_ended_watchers++] = thread_current(); /* then no switch: */
    thread_exit();
}

int frontend_watch_backend(struct xenbus_frontend *fe, frontend_gone_fn gone, void *arg)
{
    char key[XENBUS_PATH_MAX], name[16];
    reap_watchers();
    struct backend_watch *bw = calloc(1, sizeof(*bw));
    if (!bw) {
        printk("%s: %s: no memory to watch the backend\n", drv(fe), fe->node);
        return -XEN_ENOMEM;
    }
    *bw = (struct backend_watch){fe, gone, arg, NULL, false, NULL};
    int rc = xenbus_join(key, sizeof(key), fe->backend, "state");
    if (!rc)
        rc = xs_watch_add(key, &bw->w);
    if (rc) {
        printk("%s: %s: cannot watch %s/state: %s\n", drv(fe), fe->node, fe->backend,
               xen_errname(rc));
        free(bw);
        return rc;
    }
    snprintf(name, sizeof(name), "%s-watch", drv(fe));
    if (!thread_create(name, watch_main, bw)) {
        printk("%s: %s: no thread to watch the backend\n", drv(fe), fe->node);
        (void)xs_watch_remove(bw->w);
        free(bw);
        return -XEN_ENOMEM;
    }
    bw->next = watching;
    watching = bw;
    return 0;
}
