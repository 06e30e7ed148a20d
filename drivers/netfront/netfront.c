/*
 * netfront.c — netfront's data path and its API (interface manual: "Device
 * drivers"; Xen 4.17 public/io/netif.h). See netfront.h for the API,
 * netfront_priv.h for the shape.
 *
 * The rings of a connected vif are read in the stack's thread (net.h):
 * the event handler kicks that thread, which calls the vif's link poll: it
 * takes the tx responses, then the rx responses, handing each frame to the
 * stack as interface N. The stack sends through the vif's link (xmit),
 * which copies the frame into a free tx buffer.
 */
#include "kernel.h"
#include "mm.h"
#include "netfront_priv.h"

static struct netfront_dev devs[NETFRONT_MAX];

struct netfront_dev *nf_dev(unsigned index)
{
    if (index >= NETFRONT_MAX)
        return NULL;
    struct netfront_dev *nf = &devs[index];
    if (!nf->fe.driver) { /* first use: the fields that are not zero */
        nf->index = index;
        nf->fe.driver = "netfront";
        nf->state = NETFRONT_NO_VIF;
        nf->tx_ring_page.ref = nf->rx_ring_page.ref = -1;
        nf->drop_messages = (struct ratelimit)RATELIMIT_INIT("netfront", "drop", NF_MSG_BURST);
        snprintf(nf->link_name, sizeof(nf->link_name), "vif%u", index);
    }
    return nf;
}

/* ---- the data path ---------------------------------------------------------- */

void nf_event(evtchn_port_t port, void *data)
{
    struct netfront_dev *nf = data;
    (void)port;
    nf->stats.events++;
    net_kick();
}

static void deliver(struct netfront_dev *nf, const uint8_t *frame, unsigned len,
                    bool csum_blank)
{
    net_input(nf->index, frame, len, csum_blank);
}

static void poll(void *dev)
{
    struct netfront_dev *nf = dev;
    nf_tx_reclaim(nf);
    nf_rx_take(nf, deliver);
}

static int xmit(void *dev, const void *frame, size_t len)
{
    struct netfront_dev *nf = dev;
    if (nf->state != NETFRONT_CONNECTED) {
        bool gone = nf->state == NETFRONT_CLOSING || nf->state == NETFRONT_DETACHED;
        nf_drop(nf, NF_DROP_TX_NOT_READY, "%s: %u-byte frame not sent",
                gone ? "vif detached" : "vif not connected", (unsigned)len);
        return gone ? -XEN_ENODEV : -XEN_ENOTCONN;
    }
    if (len < ETH_HLEN || len > PAGE_SIZE) {
        nf_drop(nf, NF_DROP_TX_BAD_SIZE, "%u bytes", (unsigned)len);
        return -XEN_EINVAL;
    }
    nf_tx_reclaim(nf);
    int rc = nf_tx_put(nf, frame, len);
    if (rc) {
        nf_drop(nf, NF_DROP_TX_RING_FULL, "%u frames in flight", nf_tx_in_flight(nf));
        return rc;
    }
    nf->stats.tx_packets++;
    nf->stats.tx_bytes += len;
    return 0;
}

int nf_start(struct netfront_dev *nf)
{
    nf->link = (struct net_link){.name = nf->link_name, .xmit = xmit, .poll = poll, .dev = nf};
    memcpy(nf->link.mac, nf->mac, ETH_ALEN);
    nf->state = NETFRONT_CONNECTED;
    net_attach(nf->index, &nf->link);
    return 0;
}

void nf_stop(struct netfront_dev *nf)
{
    net_attach(nf->index, NULL); /* the stack polls and sends no more on it */
}

/* ---- the API ----------------------------------------------------------------- */

static const char *const state_names[] = {
    [NETFRONT_DOM0] = "dom0 mode", [NETFRONT_NO_VIF] = "no vif",
    [NETFRONT_CONNECTING] = "connecting", [NETFRONT_CONNECTED] = "connected",
    [NETFRONT_FAILED] = "failed", [NETFRONT_CLOSING] = "closing",
    [NETFRONT_DETACHED] = "no vif (detached)",
};

bool netfront_get_info(unsigned index, struct netfront_info *i)
{
    struct netfront_dev *nf = nf_dev(index);
    memset(i, 0, sizeof(*i));
    i->tx_ring_ref = i->rx_ring_ref = -1;
    if (!nf)
        return false;
    i->index = index;
    i->state = nf->state;
    i->state_name = state_names[nf->state];
    strlcpy(i->why, nf->why, sizeof(i->why));
    strlcpy(i->node, nf->fe.node, sizeof(i->node));
    strlcpy(i->backend, nf->fe.backend, sizeof(i->backend));
    i->backend_id = nf->fe.backend_id;
    memcpy(i->mac, nf->mac, ETH_ALEN);
    i->evtchn = nf->fe.evtchn;
    i->tx_ring_ref = nf->tx_ring_page.page ? nf->tx_ring_page.ref : -1;
    i->rx_ring_ref = nf->rx_ring_page.page ? nf->rx_ring_page.ref : -1;
    i->rx_posted = nf_rx_posted(nf);
    i->tx_in_flight = nf_tx_in_flight(nf);
    i->rx_ring_size = nf->rx.sring ? RING_SIZE(&nf->rx) : 0;
    i->tx_ring_size = nf->tx.sring ? RING_SIZE(&nf->tx) : 0;
    return nf->in_use;
}

void netfront_get_stats(unsigned index, struct netfront_stats *s)
{
    struct netfront_dev *nf = nf_dev(index);
    if (nf)
        *s = nf->stats;
    else
        memset(s, 0, sizeof(*s));
}
