/*
 * ring.c — netfront's two shared rings and their buffers (Xen 4.17
 * public/io/netif.h "Guest receive" / "Guest transmit", io/ring.h).
 *
 * Receive, copy mode: we post requests {id, gref} naming granted empty
 * pages; netback copies a frame into one and answers {id, offset, flags,
 * status = length or NETIF_RSP_*}. netif.h: a response (or an extra-info
 * slot) always lands in the ring slot of the request it consumed, so
 * rx_slot_id[] remembers which buffer went into each slot; that buffer is
 * the one consumed, whatever the response says. Each response is copied
 * once and checked before anything is read from the page
 * (netfront_rx_check): id equal to that buffer's id, status > 0, offset +
 * length within the page, no NETRXF_more_data (we did not offer feature-sg,
 * so a multi-slot frame is the backend's error: the whole chain is
 * dropped). NETRXF_extra_info means the next slot(s) are netif_extra_info,
 * skipped (XEN_NETIF_EXTRA_FLAG_MORE chains them). NETRXF_csum_blank goes
 * with the frame to the stack, which fills the checksum in on its copy
 * (we ask for full checksums, feature-no-csum-offload=1, so a backend that
 * honours it never sets it). The frame is copied out
 * of the page (by the stack, into its own buffer) before it is parsed: the
 * page stays writable to the backend. Every buffer goes back on the ring afterwards.
 *
 * Transmit: one frame = one request {gref, offset 0, flags 0, id, size}:
 * the frame is copied into a granted page (at most a page, so never
 * NETTXF_more_data; checksums are complete, so no NETTXF_csum_blank), and
 * the rest of the page is zero. The backend answers {id, status}; the
 * buffer `id` is free again after its response. We send no extra-info
 * slots, so every response answers a frame (NETIF_RSP_NULL too, as an
 * error); an id not in flight is counted and ignored.
 *
 * On both rings a producer index beyond what we produced stops the vif
 * (nf_broken): going on would loop for ever, since the final check reads
 * the same index again. Every response refused is a counted drop with a
 * rate-limited line naming the vif (nf_drop). Nothing here calls up into
 * netfront.c: frames go to the function nf_rx_take is given.
 */
#include "kernel.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "net.h"
#include "netfront_priv.h"

#define RX_MASK(r) (RING_SIZE(r) - 1)

/* ---- what the backend got wrong ---------------------------------------------- */

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

static void drop_message(struct netfront_dev *nf, const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ratelimit_vprintk(&nf->drop_messages, reason, fmt, ap);
    va_end(ap);
}

void nf_drop(struct netfront_dev *nf, enum netfront_drop reason, const char *fmt, ...)
{
    char text[128];
    if ((unsigned)reason >= NF_DROP_NR)
        return;
    nf->stats.drops[reason]++;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(text, sizeof(text), fmt, ap);
    va_end(ap);
    drop_message(nf, drop_names[reason], "%s: %s", nf->link_name, text); /* names the vif */
}

void nf_broken(struct netfront_dev *nf, const char *fmt, ...)
{
    if (nf->broken)
        return;
    nf->broken = true;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(nf->why, sizeof(nf->why), fmt, ap);
    va_end(ap);
    nf->state = NETFRONT_FAILED; /* xmit refuses from here on */
    net_attach(nf->index, NULL);
    printk("netfront: %s: stopped: %s\n", nf->fe.node, nf->why);
}


enum netfront_drop netfront_rx_check(const struct netif_rx_response *rsp, uint16_t slot_id,
                                     unsigned *off, unsigned *len)
{
    if (rsp->id != slot_id)
        return NF_DROP_RX_BAD_ID;
    if (rsp->status < 0)
        return NF_DROP_RX_ERROR;
    if (rsp->status == 0)
        return NF_DROP_RX_EMPTY;
    if ((unsigned)rsp->offset + (unsigned)rsp->status > PAGE_SIZE)
        return NF_DROP_RX_BAD_LENGTH;
    if (rsp->flags & NETRXF_more_data)
        return NF_DROP_RX_MORE_DATA;
    *off = rsp->offset;
    *len = (unsigned)rsp->status;
    return NF_DROP_NR;
}

/* ---- buffers ----------------------------------------------------------------- */

static int buf_alloc(struct netfront_dev *nf, struct nf_buf *b, bool readonly)
{
    b->busy = false;
    b->ref = -1;
    b->used = 0;
    b->page = page_alloc(0);
    if (!b->page)
        return -XEN_ENOMEM;
    memset(b->page, 0, PAGE_SIZE);
    int ref = gnttab_grant_page(nf->fe.backend_id, b->page, readonly);
    if (ref < 0) {
        page_free(b->page, 0);
        b->page = NULL;
        return ref;
    }
    b->ref = ref;
    return 0;
}

static int bufs_alloc(struct netfront_dev *nf, struct nf_buf *bufs, unsigned n, bool readonly)
{
    for (unsigned i = 0; i < n; i++) {
        int rc = buf_alloc(nf, &bufs[i], readonly);
        if (rc)
            return rc;
    }
    return 0;
}

static void bufs_free(struct nf_buf *bufs, unsigned n, bool end_grants)
{
    for (unsigned i = 0; i < n; i++) {
        struct nf_buf *b = &bufs[i];
        if (!b->page)
            continue; /* never allocated (or already leaked on purpose) */
        if (end_grants)
            gnttab_end_or_defer(&b->ref, &b->page, "netfront: buffer grant not ended");
        b->ref = -1; /* without end_grants: the old domain's table, void */
        if (b->page)
            page_free(b->page, 0);
        b->page = NULL;
        b->busy = false;
    }
}

static unsigned bufs_busy(const struct nf_buf *bufs, unsigned n)
{
    unsigned busy = 0;
    for (unsigned i = 0; i < n; i++)
        busy += bufs[i].busy;
    return busy;
}

void nf_bufs_release(struct netfront_dev *nf)
{
    bufs_free(nf->rxb, NF_RX_BUFS, true);
    bufs_free(nf->txb, NF_TX_BUFS, true);
}

void nf_bufs_forget(struct netfront_dev *nf)
{
    bufs_free(nf->rxb, NF_RX_BUFS, false);
    bufs_free(nf->txb, NF_TX_BUFS, false);
}

unsigned nf_rx_posted(const struct netfront_dev *nf)
{
    return bufs_busy(nf->rxb, NF_RX_BUFS);
}

unsigned nf_tx_in_flight(const struct netfront_dev *nf)
{
    return bufs_busy(nf->txb, NF_TX_BUFS);
}

int nf_rings_init(struct netfront_dev *nf)
{
    struct netif_tx_sring *txs = nf->tx_ring_page.page;
    struct netif_rx_sring *rxs = nf->rx_ring_page.page;
    SHARED_RING_INIT(txs);
    FRONT_RING_INIT(&nf->tx, txs, PAGE_SIZE);
    SHARED_RING_INIT(rxs);
    FRONT_RING_INIT(&nf->rx, rxs, PAGE_SIZE);
    return 0;
}

/* ---- receive ---------------------------------------------------------------- */

/* Post every idle buffer; notify the backend if it asked (req_event). */
static void refill(struct netfront_dev *nf)
{
    bool pushed = false;
    for (unsigned id = 0; id < NF_RX_BUFS && !RING_FULL(&nf->rx); id++) {
        struct nf_buf *b = &nf->rxb[id];
        if (b->busy || !b->page)
            continue;
        RING_IDX i = nf->rx.req_prod_pvt;
        struct netif_rx_request *req = RING_GET_REQUEST(&nf->rx, i);
        req->id = (uint16_t)id;
        req->gref = (grant_ref_t)b->ref;
        nf->rx_slot_id[i & RX_MASK(&nf->rx)] = (uint16_t)id;
        b->busy = true;
        nf->rx.req_prod_pvt = i + 1;
        pushed = true;
    }
    if (pushed) {
        int notify;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->rx, notify);
        if (notify)
            (void)frontend_notify(&nf->fe);
    }
}

int nf_rx_setup(struct netfront_dev *nf)
{
    int rc = bufs_alloc(nf, nf->rxb, NF_RX_BUFS, false);
    if (rc)
        return rc;
    for (unsigned i = 0; i < NETIF_RX_RING_SIZE; i++)
        nf->rx_slot_id[i] = NF_NO_ID;
    refill(nf);
    return 0;
}

int nf_tx_setup(struct netfront_dev *nf)
{
    return bufs_alloc(nf, nf->txb, NF_TX_BUFS, true);
}

/* Where the slot we are reading stands in a chain of slots: extra-info
 * slots to skip, then (if the first slot said NETRXF_more_data) data slots
 * of a multi-slot frame, dropped. */
struct chain {
    bool extra, more;
};

static struct chain take_one(struct netfront_dev *nf, const struct netif_rx_response *rsp,
                             uint16_t id, RING_IDX i,
                             void (*deliver)(struct netfront_dev *, const uint8_t *, unsigned,
                                             bool))
{
    unsigned off, len;
    enum netfront_drop why = netfront_rx_check(rsp, id, &off, &len);
    struct chain next = {rsp->flags & NETRXF_extra_info, rsp->flags & NETRXF_more_data};
    if (why != NF_DROP_NR) {
        nf_drop(nf, why, "slot %u: id %u (posted %u) offset %u status %d flags %#x", i, rsp->id,
                id, rsp->offset, rsp->status, rsp->flags);
        /* A wrong id says nothing trustworthy about the chain: end it here. */
        return why == NF_DROP_RX_BAD_ID ? (struct chain){false, false} : next;
    }
    /* deliver copies the frame (the stack, into a buffer of its own)
     * before anything parses it: the backend could change the page
     * between a check and a use. */
    nf->stats.rx_packets++;
    nf->stats.rx_bytes += len;
    deliver(nf, (const uint8_t *)nf->rxb[id].page + off, len, rsp->flags & NETRXF_csum_blank);
    return next;
}

void nf_rx_take(struct netfront_dev *nf,
                void (*deliver)(struct netfront_dev *nf, const uint8_t *frame, unsigned len,
                                bool csum_blank))
{
    struct chain chain = {false, false};
    int more;
    if (nf->broken || !nf->rx.sring)
        return;
    do {
        RING_IDX rp = READ_ONCE(nf->rx.sring->rsp_prod);
        xen_rmb(); /* responses are read after the index that covers them */
        if (!RING_RSP_PROD_OK(&nf->rx, rp)) {
            nf_drop(nf, NF_DROP_RX_OVERRUN, "rsp_prod %u but only %u requests after %u", rp,
                    nf->rx.req_prod_pvt - nf->rx.rsp_cons, nf->rx.rsp_cons);
            nf_broken(nf, "rx rsp_prod %u is beyond the %u requests outstanding", rp,
                      nf->rx.req_prod_pvt - nf->rx.rsp_cons);
            return;
        }
        for (RING_IDX i = nf->rx.rsp_cons; i != rp && !nf->broken; i++) {
            unsigned slot = i & RX_MASK(&nf->rx);
            uint16_t id = nf->rx_slot_id[slot];
            struct netif_rx_response rsp;
            memcpy(&rsp, RING_GET_RESPONSE(&nf->rx, i), sizeof(rsp)); /* read once */
            nf->rx_slot_id[slot] = NF_NO_ID;
            if (id >= NF_RX_BUFS) /* cannot happen: every outstanding slot was posted */
                continue;
            if (chain.extra) {
                struct netif_extra_info x;
                memcpy(&x, &rsp, sizeof(x));
                nf_drop(nf, NF_DROP_RX_EXTRA, "slot %u: extra info type %u skipped", i, x.type);
                chain.extra = x.flags & XEN_NETIF_EXTRA_FLAG_MORE;
            } else if (chain.more) {
                nf_drop(nf, NF_DROP_RX_MORE_DATA, "slot %u: rest of a multi-slot frame", i);
                chain.more = rsp.flags & NETRXF_more_data;
            } else {
                chain = take_one(nf, &rsp, id, i, deliver);
            }
            nf->rxb[id].busy = false;
        }
        if (nf->broken)
            return;
        nf->rx.rsp_cons = rp;
        refill(nf);
        RING_FINAL_CHECK_FOR_RESPONSES(&nf->rx, more);
    } while (more);
}

/* ---- transmit --------------------------------------------------------------- */

void nf_tx_reclaim(struct netfront_dev *nf)
{
    int more;
    if (!nf->tx.sring || nf->broken)
        return;
    do {
        RING_IDX rp = READ_ONCE(nf->tx.sring->rsp_prod);
        xen_rmb();
        if (!RING_RSP_PROD_OK(&nf->tx, rp)) {
            nf_drop(nf, NF_DROP_TX_OVERRUN, "rsp_prod %u but only %u requests after %u", rp,
                    nf->tx.req_prod_pvt - nf->tx.rsp_cons, nf->tx.rsp_cons);
            nf_broken(nf, "tx rsp_prod %u is beyond the %u requests outstanding", rp,
                      nf->tx.req_prod_pvt - nf->tx.rsp_cons);
            return;
        }
        for (RING_IDX i = nf->tx.rsp_cons; i != rp; i++) {
            struct netif_tx_response rsp;
            memcpy(&rsp, RING_GET_RESPONSE(&nf->tx, i), sizeof(rsp));
            if (rsp.id >= NF_TX_BUFS || !nf->txb[rsp.id].busy) {
                nf_drop(nf, NF_DROP_TX_BAD_ID, "slot %u: id %u is not in flight", i, rsp.id);
                continue;
            }
            nf->txb[rsp.id].busy = false;
            if (rsp.status != NETIF_RSP_OKAY)
                nf_drop(nf, NF_DROP_TX_ERROR, "id %u: status %d", rsp.id, rsp.status);
            else
                nf->stats.tx_completed++;
        }
        nf->tx.rsp_cons = rp;
        RING_FINAL_CHECK_FOR_RESPONSES(&nf->tx, more);
    } while (more);
}

int nf_tx_put(struct netfront_dev *nf, const void *frame, size_t len)
{
    unsigned id = 0;
    while (id < NF_TX_BUFS && nf->txb[id].busy)
        id++;
    if (id == NF_TX_BUFS || RING_FULL(&nf->tx))
        return -XEN_ENOBUFS;
    struct nf_buf *b = &nf->txb[id];
    memcpy(b->page, frame, len);
    if (b->used > len) /* the backend sees the whole page: no older frame's tail */
        memset((uint8_t *)b->page + len, 0, b->used - len);
    b->used = (unsigned)len;
    struct netif_tx_request *req = RING_GET_REQUEST(&nf->tx, nf->tx.req_prod_pvt);
    req->gref = (grant_ref_t)b->ref;
    req->offset = 0;
    req->flags = 0;
    req->id = (uint16_t)id;
    req->size = (uint16_t)len;
    b->busy = true;
    nf->tx.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf->tx, notify);
    if (notify)
        (void)frontend_notify(&nf->fe);
    return 0;
}
