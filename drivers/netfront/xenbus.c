/*
 * xenbus.c — netfront's negotiation with netback (interface manual: "Device
 * drivers"; Xen 4.17 public/io/netif.h for the keys, io/xenbus.h for the
 * states), on top of the generic frontend steps (kernel/xen/frontend.c).
 *
 *   1. device/vif/<first id>: backend path and domain; our "mac".
 *   2. Wait for the backend's InitWait; it must offer feature-rx-copy.
 *   3. A tx ring page and an rx ring page (granted), one event channel for
 *      both, rx buffers granted and posted (rx.c), tx buffers (tx.c).
 *   4. In one transaction: tx-ring-ref, rx-ring-ref, event-channel,
 *      request-rx-copy=1, feature-rx-notify=1 (we notify after posting rx
 *      requests, so the backend may queue frames for us),
 *      feature-no-csum-offload=1 (frames come with full checksums), and our
 *      state Connected (Linux netback connects when it sees Connected).
 *   5. Wait for the backend's Connected; attach to the IPv4 stack, start
 *      the receive thread, and watch the backend (frontend.c).
 * On any failure everything is undone (frontend_close, grants ended, pages
 * freed) and `net` says why.
 *
 * Detach (nf_gone, in frontend.c's watch thread, when the backend is
 * Closing/Closed or gone): off the stack, the receive thread ended and
 * joined, the device closed with the backend, grants ended (pages the
 * backend still maps leaked on purpose), the vif forgotten. netfront_rescan
 * (`net rescan`) then connects whatever device/vif is there.
 */
#include "kernel.h"
#include "suspend.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "net.h"
#include "netfront_priv.h"
#include "sched.h"
#include "time.h"
#include "xenstore.h"

#define NF_CONNECT_TIMEOUT_MS 30000UL /* the hotplug script runs meanwhile */
#define NF_MSG_BURST 5

struct netfront nf = {.state = NETFRONT_CONNECTING, .fe = {.driver = "netfront"},
                       .tx_ring_page = {NULL, -1}, .rx_ring_page = {NULL, -1}};

static const char *const drop_names[NF_DROP_NR] = {
    [NF_DROP_RX_OVERRUN] = "rx-overrun",       [NF_DROP_RX_BAD_ID] = "rx-bad-id",
    [NF_DROP_RX_ERROR] = "rx-error-status",    [NF_DROP_RX_EMPTY] = "rx-empty",
    [NF_DROP_RX_BAD_LENGTH] = "rx-bad-length", [NF_DROP_RX_MORE_DATA] = "rx-more-data",
    [NF_DROP_RX_EXTRA] = "rx-extra-info",      [NF_DROP_TX_RING_FULL] = "tx-ring-full",
    [NF_DROP_TX_BAD_SIZE] = "tx-bad-size",     [NF_DROP_TX_NOT_READY] = "tx-not-connected",
    [NF_DROP_TX_OVERRUN] = "tx-overrun",       [NF_DROP_TX_BAD_ID] = "tx-bad-id",
    [NF_DROP_TX_ERROR] = "tx-error-status",
};

const char *netfront_drop_name(enum netfront_drop d)
{
    return (unsigned)d < NF_DROP_NR ? drop_names[d] : "?";
}

void nf_drop(enum netfront_drop reason, const char *fmt, ...)
{
    static struct ratelimit messages = RATELIMIT_INIT("netfront", "drop", NF_MSG_BURST);
    if ((unsigned)reason >= NF_DROP_NR)
        return;
    nf.stats.drops[reason]++;
    va_list ap;
    va_start(ap, fmt);
    ratelimit_vprintk(&messages, drop_names[reason], fmt, ap);
    va_end(ap);
}

void nf_broken(const char *fmt, ...)
{
    if (nf.broken)
        return;
    nf.broken = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nf.why, sizeof(nf.why), fmt, ap);
    va_end(ap);
    nf.state = NETFRONT_FAILED; /* netfront_xmit refuses from here on */
    net_attach(NULL);
    printk("netfront: %s: stopped: %s\n", nf.fe.node, nf.why);
}

int nf_buf_alloc(struct nf_buf *b, bool readonly)
{
    b->busy = false;
    b->ref = -1;
    b->used = 0;
    b->page = page_alloc(0);
    if (!b->page)
        return -XEN_ENOMEM;
    memset(b->page, 0, PAGE_SIZE);
    int ref = gnttab_grant_page(nf.fe.backend_id, b->page, readonly);
    if (ref < 0) {
        page_free(b->page, 0);
        b->page = NULL;
        return ref;
    }
    b->ref = ref;
    return 0;
}

void nf_buf_free(struct nf_buf *b)
{
    if (!b->page)
        return; /* never allocated (or already leaked on purpose) */
    gnttab_end_or_leak(&b->ref, &b->page, "netfront: buffer grant not ended");
    if (b->page)
        page_free(b->page, 0);
    b->page = NULL;
    b->busy = false;
}

int nf_bufs_alloc(struct nf_buf *bufs, unsigned n, bool readonly)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = nf_buf_alloc(&bufs[i], readonly);
        if (rc)
            return rc;
    }
    return 0;
}

void nf_bufs_free(struct nf_buf *bufs, unsigned n)
{
    for (unsigned i = 0; i < n; i++)
        nf_buf_free(&bufs[i]);
}

/* After a resume in a new domain: the grants were the old domain's. */
static void nf_bufs_forget(struct nf_buf *bufs, unsigned n)
{
    for (unsigned i = 0; i < n; i++) {
        bufs[i].ref = -1;
        if (bufs[i].page)
            page_free(bufs[i].page, 0);
        bufs[i].page = NULL;
        bufs[i].busy = false;
    }
}

unsigned nf_bufs_busy(const struct nf_buf *bufs, unsigned n)
{
    unsigned busy = 0;
    for (unsigned i = 0; i < n; i++)
        busy += bufs[i].busy;
    return busy;
}

static void nf_event(evtchn_port_t port, void *data)
{
    (void)port;
    (void)data;
    nf.stats.events++;
    if (nf.thread)
        thread_wake(nf.thread); /* all ring work is done by the thread */
}

static void nf_thread(void *arg)
{
    (void)arg;
    while (!nf.stopping) {
        nf_tx_reclaim();
        nf_rx_poll();
        thread_block();
    }
}

static const struct net_link nf_link = {"netfront", {0}, netfront_xmit};
static struct net_link link_with_mac;

static int fail(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int fail(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nf.why, sizeof(nf.why), fmt, ap);
    va_end(ap);
    nf.state = NETFRONT_FAILED;
    printk("netfront: %s: not connected: %s\n", nf.fe.node[0] ? nf.fe.node : "vif", nf.why);
    return -XEN_EIO;
}

static void teardown(bool published)
{
    if (published)
        (void)frontend_close(&nf.fe);
    else if (nf.fe.has_evtchn) {
        (void)evtchn_close(nf.fe.evtchn);
        nf.fe.has_evtchn = false;
    }
    nf_rx_release();
    nf_tx_release();
    (void)frontend_ring_free(&nf.fe, &nf.tx_ring_page);
    (void)frontend_ring_free(&nf.fe, &nf.rx_ring_page);
    nf.tx.sring = NULL;
    nf.rx.sring = NULL;
}

static int read_mac(void)
{
    char path[XENBUS_PATH_MAX + 8], val[32];
    int rc = xenbus_join(path, sizeof(path), nf.fe.node, "mac");
    if (!rc)
        rc = xs_read(XS_TX_NONE, path, val, sizeof(val));
    if (rc < 0)
        return fail("cannot read %s: %s", path, xen_errname(rc));
    if (!net_parse_mac(val, nf.mac))
        return fail("%s = '%s' is not a MAC address", path, val);
    return 0;
}

static int connect(void)
{
    XenbusState st;
    int rc;
    if (frontend_wait_backend(&nf.fe, XENBUS_STATE_BIT(XenbusStateInitWait), FRONTEND_TIMEOUT_MS,
                              &st))
        return fail("backend never reached InitWait (state %s)", xenbus_state_name(st));
    if (!frontend_backend_feature(&nf.fe, "feature-rx-copy", false))
        return fail("backend does not offer feature-rx-copy");
    if ((rc = frontend_ring_alloc(&nf.fe, &nf.tx_ring_page)) ||
        (rc = frontend_ring_alloc(&nf.fe, &nf.rx_ring_page)))
        return fail("ring pages: %s", xen_errname(rc));
    struct netif_tx_sring *txs = nf.tx_ring_page.page;
    struct netif_rx_sring *rxs = nf.rx_ring_page.page;
    SHARED_RING_INIT(txs);
    FRONT_RING_INIT(&nf.tx, txs, PAGE_SIZE);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&nf.rx, rxs, PAGE_SIZE);
    if ((rc = frontend_evtchn_alloc(&nf.fe, nf_event, NULL)))
        return fail("event channel: %s", xen_errname(rc));
    if ((rc = nf_tx_setup()) || (rc = nf_rx_setup()))
        return fail("buffers: %s", xen_errname(rc));
    const struct frontend_key keys[] = {
        {"tx-ring-ref", NULL, (unsigned long)nf.tx_ring_page.ref},
        {"rx-ring-ref", NULL, (unsigned long)nf.rx_ring_page.ref},
        {"event-channel", NULL, nf.fe.evtchn},
        {"request-rx-copy", "1", 0},
        {"feature-rx-notify", "1", 0},
        {"feature-no-csum-offload", "1", 0},
    };
    if ((rc = frontend_publish(&nf.fe, keys, ARRAY_SIZE(keys), XenbusStateConnected)))
        return fail("publishing the rings: %s", xen_errname(rc));
    if (frontend_wait_backend(&nf.fe, XENBUS_STATE_BIT(XenbusStateConnected),
                              NF_CONNECT_TIMEOUT_MS, &st)) {
        fail("backend did not connect (state %s)", xenbus_state_name(st));
        return 1; /* published: the caller closes */
    }
    return 0;
}

/* The receive thread, stopped and joined (it may be waiting to run). */
static void stop_thread(void)
{
    struct thread *t = nf.thread;
    nf.thread = NULL; /* the event handler wakes nobody now */
    if (t) {
        nf.stopping = true;
        thread_wake(t);
        thread_join(t);
        nf.stopping = false;
    }
}

/* frontend.c's watch thread: the backend is Closing/Closed, or gone. */
static void nf_gone(struct xenbus_frontend *fe, XenbusState st, void *arg)
{
    char node[XENBUS_PATH_MAX];
    const char *reason = frontend_gone_reason(st);
    (void)arg;
    strlcpy(node, fe->node, sizeof(node));
    printk("netfront: %s: backend %s: detaching\n", node, reason);
    nf.state = NETFRONT_CLOSING; /* netfront_xmit refuses from here on */
    net_attach(NULL);
    stop_thread();
    teardown(true);
    snprintf(nf.why, sizeof(nf.why), "%s detached (backend %s); `net rescan` looks again", node,
             reason);
    nf.fe.node[0] = '\0';
    nf.fe.backend[0] = '\0';
    memset(nf.mac, 0, sizeof(nf.mac));
    nf.state = NETFRONT_DETACHED;
    printk("netfront: vif detached (%s)\n", node);
}

/* Connect the first vif: INIT_LATE, and `net rescan`. */
static int probe(void)
{
    char ids[64];
    char macb[18];
    nf.state = NETFRONT_CONNECTING;
    nf.why[0] = '\0';
    nf.broken = false;
    int n = frontend_list("vif", ids, sizeof(ids));
    if (n <= 0) {
        nf.state = NETFRONT_NO_VIF;
        snprintf(nf.why, sizeof(nf.why), "device/vif %s",
                 n == 0 ? "is empty" : xen_errname(n));
        printk("netfront: no vif (%s)\n", nf.why);
        return 0;
    }
    if (n > 1)
        printk("netfront: %d vifs; only the first, %s, is used\n", n, ids);
    int rc = frontend_init(&nf.fe, "vif", ids);
    if (rc)
        return fail("%s", xen_errname(rc));
    if ((rc = read_mac()))
        return rc;
    rc = connect();
    if (rc) {
        teardown(rc > 0);
        return -XEN_EIO;
    }
    link_with_mac = nf_link;
    memcpy(link_with_mac.mac, nf.mac, ETH_ALEN);
    nf.thread = thread_create("netfront", nf_thread, NULL);
    if (!nf.thread) {
        fail("no receive thread");
        teardown(true);
        return -XEN_EIO;
    }
    nf.state = NETFRONT_CONNECTED;
    net_attach(&link_with_mac);
    printk("netfront: %s connected: mac %s, backend %s (dom %u), event channel %u\n",
           nf.fe.node, net_mac_str(nf.mac, macb), nf.fe.backend, (unsigned)nf.fe.backend_id,
           (unsigned)nf.fe.evtchn);
    /* Without the watch the vif still works; a detach is then not seen
     * (frontend.c printed why). */
    (void)frontend_watch_backend(&nf.fe, nf_gone, NULL);
    return 0;
}

int netfront_rescan(void)
{
    switch (nf.state) {
    case NETFRONT_DOM0:
        return -XEN_ENODEV;
    case NETFRONT_CONNECTED:
    case NETFRONT_CONNECTING:
        return 0;
    case NETFRONT_CLOSING:
        return -XEN_EBUSY;
    default:
        return probe();
    }
}

/* ---- suspend and resume (suspend.h) --------------------------------------- */

static bool nf_held;

/* The vif stops sending (the stack's link detached, xmit refused) and the
 * receive thread ends; frames the stack sends meanwhile are dropped, as a
 * wire would during a migration. */
static int nf_suspend(void)
{
    if (nf.state != NETFRONT_CONNECTED)
        return 0;
    nf.state = NETFRONT_CLOSING;
    net_attach(NULL);
    stop_thread();
    frontend_unwatch_backend(&nf.fe);
    nf_held = true;
    return 0;
}

static void nf_resume(bool new_domain)
{
    if (!nf_held)
        return;
    nf_held = false;
    if (!new_domain) {
        nf.thread = thread_create("netfront", nf_thread, NULL);
        nf.state = nf.thread ? NETFRONT_CONNECTED : NETFRONT_FAILED;
        if (nf.thread) {
            net_attach(&link_with_mac);
            (void)frontend_watch_backend(&nf.fe, nf_gone, NULL);
        }
        return;
    }
    /* A new domain: new backend, grants and port; the stack announces the
     * address again (gratuitous ARP) when the link comes back. */
    frontend_forget(&nf.fe, &nf.tx_ring_page);
    frontend_forget(&nf.fe, &nf.rx_ring_page);
    nf_bufs_forget(nf.rxb, NF_RX_BUFS);
    nf_bufs_forget(nf.txb, NF_TX_BUFS);
    nf.tx.sring = NULL;
    nf.rx.sring = NULL;
    nf.fe.node[0] = '\0';
    if (probe() == 0 && nf.state == NETFRONT_CONNECTED)
        printk("netfront: reconnected after resume\n");
}

static const struct suspend_hooks nf_hooks = {"netfront", nf_suspend, nf_resume};

int netfront_init(void)
{
    if (xen_is_dom0()) {
        nf.state = NETFRONT_DOM0;
        strlcpy(nf.why, "no XenStore in dom0 mode", sizeof(nf.why));
        return 0;
    }
    suspend_register(&nf_hooks);
    return probe();
}

static const char *const state_names[] = {
    [NETFRONT_DOM0] = "dom0 mode", [NETFRONT_NO_VIF] = "no vif",
    [NETFRONT_CONNECTING] = "connecting", [NETFRONT_CONNECTED] = "connected",
    [NETFRONT_FAILED] = "failed", [NETFRONT_CLOSING] = "closing",
    [NETFRONT_DETACHED] = "no vif (detached)",
};

void netfront_get_info(struct netfront_info *i)
{
    memset(i, 0, sizeof(*i));
    i->state = nf.state;
    i->state_name = state_names[nf.state];
    strlcpy(i->why, nf.why, sizeof(i->why));
    strlcpy(i->node, nf.fe.node, sizeof(i->node));
    strlcpy(i->backend, nf.fe.backend, sizeof(i->backend));
    i->backend_id = nf.fe.backend_id;
    memcpy(i->mac, nf.mac, ETH_ALEN);
    i->evtchn = nf.fe.evtchn;
    i->tx_ring_ref = nf.tx_ring_page.page ? nf.tx_ring_page.ref : -1;
    i->rx_ring_ref = nf.rx_ring_page.page ? nf.rx_ring_page.ref : -1;
    i->rx_posted = nf_rx_posted();
    i->tx_in_flight = nf_tx_in_flight();
    i->rx_ring_size = nf.rx.sring ? RING_SIZE(&nf.rx) : 0;
    i->tx_ring_size = nf.tx.sring ? RING_SIZE(&nf.tx) : 0;
}

void netfront_get_stats(struct netfront_stats *s)
{
    *s = nf.stats;
}
