/*
 * xenbus.c — netfront's negotiation with netback and each vif's life cycle
 * (interface manual: "Device drivers"; Xen 4.17 public/io/netif.h for the
 * keys, io/xenbus.h for the states), on top of the generic frontend steps
 * (kernel/xen/frontend.c). For each device/vif/<id>, in id order:
 *
 *   1. A free entry of the table (netfront_priv.h); backend path and
 *      domain; our "mac".
 *   2. Wait for the backend's InitWait; it must offer feature-rx-copy.
 *   3. A tx ring page and an rx ring page (granted), one event channel for
 *      both, rx buffers granted and posted, tx buffers (ring.c).
 *   4. In one transaction: tx-ring-ref, rx-ring-ref, event-channel,
 *      request-rx-copy=1, feature-rx-notify=1 (we notify after posting rx
 *      requests, so the backend may queue frames for us),
 *      feature-no-csum-offload=1 (frames come with full checksums), and our
 *      state Connected (Linux netback connects when it sees Connected).
 *   5. Wait for the backend's Connected; bring its
 *      interface up in the stack (netfront.c), and watch the backend.
 * On any failure everything of that vif is undone (frontend_close, grants
 * ended, pages freed) and `net` says why; the other vifs go on.
 *
 * Detach (vif_gone, in frontend.c's watch thread, when the backend is
 * Closing/Closed or gone): off the stack (its thread lets go of the vif), the
 * device closed with the backend, grants ended (pages the backend still
 * maps leaked on purpose), the entry free again. netfront_rescan
 * (`net rescan`) then connects whatever device/vif is new.
 */
#include "kernel.h"
#include "events.h"
#include "netfront_priv.h"
#include "suspend.h"
#include "xenstore.h"

#define NF_CONNECT_TIMEOUT_MS 30000UL /* the hotplug script runs meanwhile */
#define NF_LIST_MAX 128

static bool dom0_mode;

static int fail(struct netfront_dev *nf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(struct netfront_dev *nf, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nf->why, sizeof(nf->why), fmt, ap);
    va_end(ap);
    nf->state = NETFRONT_FAILED;
    printk("netfront: %s: not connected: %s\n", nf->fe.node[0] ? nf->fe.node : "vif", nf->why);
    return -XEN_EIO;
}

static void teardown(struct netfront_dev *nf, bool published)
{
    if (published)
        (void)frontend_close(&nf->fe);
    else if (nf->fe.has_evtchn) {
        (void)evtchn_close(nf->fe.evtchn);
        nf->fe.has_evtchn = false;
    }
    nf_bufs_release(nf);
    (void)frontend_ring_free(&nf->fe, &nf->tx_ring_page);
    (void)frontend_ring_free(&nf->fe, &nf->rx_ring_page);
    nf->tx.sring = NULL;
    nf->rx.sring = NULL;
}

static int read_mac(struct netfront_dev *nf)
{
    char path[XENBUS_PATH_MAX + 8], val[32];
    int rc = xenbus_join(path, sizeof(path), nf->fe.node, "mac");
    if (!rc)
        rc = xs_read(XS_TX_NONE, path, val, sizeof(val));
    if (rc < 0)
        return fail(nf, "cannot read %s: %s", path, xen_errname(rc));
    if (!net_parse_mac(val, nf->mac))
        return fail(nf, "%s = '%s' is not a MAC address", path, val);
    return 0;
}

/* 0, a negative error before anything was published, or 1 after (the
 * caller closes the device with the backend). */
static int connect(struct netfront_dev *nf)
{
    XenbusState st;
    int rc;
    if (frontend_wait_backend(&nf->fe, XENBUS_STATE_BIT(XenbusStateInitWait), FRONTEND_TIMEOUT_MS,
                              &st))
        return fail(nf, "backend never reached InitWait (state %s)", xenbus_state_name(st));
    if (!frontend_backend_feature(&nf->fe, "feature-rx-copy", false))
        return fail(nf, "backend does not offer feature-rx-copy");
    if ((rc = frontend_ring_alloc(&nf->fe, &nf->tx_ring_page)) ||
        (rc = frontend_ring_alloc(&nf->fe, &nf->rx_ring_page)))
        return fail(nf, "ring pages: %s", xen_errname(rc));
    nf_rings_init(nf);
    if ((rc = frontend_evtchn_alloc(&nf->fe, nf_event, nf)))
        return fail(nf, "event channel: %s", xen_errname(rc));
    if ((rc = nf_tx_setup(nf)) || (rc = nf_rx_setup(nf)))
        return fail(nf, "buffers: %s", xen_errname(rc));
    const struct frontend_key keys[] = {
        {"tx-ring-ref", NULL, (unsigned long)nf->tx_ring_page.ref},
        {"rx-ring-ref", NULL, (unsigned long)nf->rx_ring_page.ref},
        {"event-channel", NULL, nf->fe.evtchn},
        {"request-rx-copy", "1", 0},
        {"feature-rx-notify", "1", 0},
        {"feature-no-csum-offload", "1", 0},
    };
    if ((rc = frontend_publish(&nf->fe, keys, ARRAY_SIZE(keys), XenbusStateConnected)))
        return fail(nf, "publishing the rings: %s", xen_errname(rc));
    if (frontend_wait_backend(&nf->fe, XENBUS_STATE_BIT(XenbusStateConnected),
                              NF_CONNECT_TIMEOUT_MS, &st)) {
        fail(nf, "backend did not connect (state %s)", xenbus_state_name(st));
        return 1;
    }
    return 0;
}

static void vif_gone(struct xenbus_frontend *fe, XenbusState st, void *arg);

/* Connect device/vif/<id> in entry nf. */
static int probe_one(struct netfront_dev *nf, const char *id)
{
    char macb[18];
    nf->in_use = true;
    nf->state = NETFRONT_CONNECTING;
    nf->why[0] = '\0';
    nf->broken = false;
    strlcpy(nf->id, id, sizeof(nf->id));
    int rc = frontend_init(&nf->fe, "vif", id);
    if (rc)
        return fail(nf, "%s", xen_errname(rc));
    if ((rc = read_mac(nf)))
        return rc;
    rc = connect(nf);
    if (!rc && nf_start(nf)) {
        fail(nf, "no thread for the vif");
        rc = 1;
    }
    if (rc) {
        teardown(nf, rc > 0);
        return -XEN_EIO;
    }
    printk("netfront: %s connected: mac %s, backend %s (dom %u), event channel %u\n",
           nf->fe.node, net_mac_str(nf->mac, macb), nf->fe.backend, (unsigned)nf->fe.backend_id,
           (unsigned)nf->fe.evtchn);
    /* Without the watch the vif still works; a detach is then not seen
     * (frontend.c printed why). */
    (void)frontend_watch_backend(&nf->fe, vif_gone, nf);
    return 0;
}

/* frontend.c's watch thread: the backend is Closing/Closed, or gone. */
static void vif_gone(struct xenbus_frontend *fe, XenbusState st, void *arg)
{
    struct netfront_dev *nf = arg;
    char node[XENBUS_PATH_MAX];
    const char *reason = frontend_gone_reason(st);
    strlcpy(node, fe->node, sizeof(node));
    printk("netfront: %s: backend %s: detaching\n", node, reason);
    nf->state = NETFRONT_CLOSING; /* xmit refuses from here on */
    nf_stop(nf);
    teardown(nf, true);
    snprintf(nf->why, sizeof(nf->why), "%s detached (backend %s); `net rescan` looks again", node,
             reason);
    nf->fe.node[0] = '\0';
    nf->fe.backend[0] = '\0';
    nf->id[0] = '\0';
    memset(nf->mac, 0, sizeof(nf->mac));
    nf->state = NETFRONT_DETACHED;
    nf->in_use = false;
    printk("netfront: vif detached (%s)\n", node);
}

/* The entry that has device/vif/<id>, if any. */
static struct netfront_dev *entry_of(const char *id)
{
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_dev *nf = nf_dev(i);
        if (nf->in_use && nf->state != NETFRONT_FAILED && !strcmp(nf->id, id))
            return nf;
    }
    return NULL;
}

/* A free entry: never used, detached, or failed (a failed vif is tried again). */
static struct netfront_dev *free_entry(const char *id)
{
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_dev *nf = nf_dev(i);
        if (nf->in_use && nf->state == NETFRONT_FAILED && !strcmp(nf->id, id))
            return nf;
    }
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_dev *nf = nf_dev(i);
        if (!nf->in_use)
            return nf;
    }
    return NULL;
}

/* device/vif ids in numeric order: `ip=` numbers the vifs that way. */
static unsigned sorted_ids(char *list, int n, const char **ids, unsigned max)
{
    unsigned count = 0;
    for (const char *p = list; n-- > 0 && count < max; p += strlen(p) + 1) {
        unsigned long v, w;
        unsigned at = count++;
        bool num = parse_ulong(p, &v);
        while (at && num && parse_ulong(ids[at - 1], &w) && w > v) {
            ids[at] = ids[at - 1];
            at--;
        }
        ids[at] = p;
    }
    return count;
}

int netfront_rescan(void)
{
    static char list[NF_LIST_MAX];
    const char *ids[NETFRONT_MAX * 2];
    if (dom0_mode)
        return -XEN_ENODEV;
    for (unsigned i = 0; i < NETFRONT_MAX; i++)
        if (nf_dev(i)->state == NETFRONT_CLOSING)
            return -XEN_EBUSY;
    int n = frontend_list("vif", list, sizeof(list));
    if (n <= 0) {
        struct netfront_dev *nf0 = nf_dev(0);
        if (!nf0->in_use) {
            snprintf(nf0->why, sizeof(nf0->why), "device/vif %s",
                     n == 0 ? "is empty" : xen_errname(n));
            if (nf0->state != NETFRONT_DETACHED)
                nf0->state = NETFRONT_NO_VIF;
            printk("netfront: no vif (%s)\n", nf0->why);
        }
        return 0;
    }
    unsigned count = sorted_ids(list, n, ids, ARRAY_SIZE(ids));
    int rc = 0;
    for (unsigned i = 0; i < count; i++) {
        if (entry_of(ids[i]))
            continue;
        struct netfront_dev *nf = free_entry(ids[i]);
        if (!nf) {
            printk("netfront: device/vif/%s: more than %u vifs: skipped\n", ids[i], NETFRONT_MAX);
            continue;
        }
        if (probe_one(nf, ids[i]))
            rc = -XEN_EIO;
    }
    return rc;
}

/* ---- suspend and resume (suspend.h) --------------------------------------- */

/* Each vif stops sending (its interface's link down, xmit refused, the
 * stack's thread no longer polls it); frames the stack sends meanwhile are
 * dropped, as a wire would during a migration, and TCP retransmits them
 * after the resume. */
static int nf_suspend(void)
{
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_dev *nf = nf_dev(i);
        if (nf->state != NETFRONT_CONNECTED)
            continue;
        nf->state = NETFRONT_CLOSING;
        nf_stop(nf);
        frontend_unwatch_backend(&nf->fe);
        nf->held = true;
    }
    return 0;
}

static void nf_resume(bool new_domain)
{
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_dev *nf = nf_dev(i);
        if (!nf->held)
            continue;
        nf->held = false;
        if (!new_domain) {
            if (nf_start(nf) == 0)
                (void)frontend_watch_backend(&nf->fe, vif_gone, nf);
            else
                fail(nf, "no thread for the vif after the resume");
            continue;
        }
        /* A new domain: new backend, grants and port; the stack announces
         * the address again (gratuitous ARP) when the interface comes up. */
        char id[sizeof(nf->id)];
        strlcpy(id, nf->id, sizeof(id));
        frontend_forget(&nf->fe, &nf->tx_ring_page);
        frontend_forget(&nf->fe, &nf->rx_ring_page);
        nf_bufs_forget(nf);
        nf->tx.sring = NULL;
        nf->rx.sring = NULL;
        nf->fe.node[0] = '\0';
        if (probe_one(nf, id) == 0)
            printk("netfront: %s reconnected after resume\n", nf->fe.node);
    }
}

static const struct suspend_hooks nf_hooks = {"netfront", nf_suspend, nf_resume};

int netfront_init(void)
{
    if (xen_is_dom0()) {
        dom0_mode = true;
        struct netfront_dev *nf0 = nf_dev(0);
        nf0->state = NETFRONT_DOM0;
        strlcpy(nf0->why, "no XenStore in dom0 mode", sizeof(nf0->why));
        return 0;
    }
    suspend_register(&nf_hooks);
    return netfront_rescan();
}
