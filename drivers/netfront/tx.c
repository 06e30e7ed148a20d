/*
 * tx.c — netfront's transmit ring (Xen 4.17 public/io/netif.h "Guest
 * transmit", io/ring.h). One frame = one request {gref, offset 0, flags 0,
 * id, size}: the frame is copied into a granted page (at most a page, so
 * never NETTXF_more_data; checksums are complete, so no NETTXF_csum_blank).
 * The backend answers {id, status}; the buffer `id` is free again after
 * its response. Responses are checked: the id must be a buffer in flight
 * (else counted and ignored), NETIF_RSP_NULL slots (answers to extra-info
 * requests, which we never send) are skipped, an error status is counted.
 */
#include "kernel.h"
#include "mm.h"
#include "netfront_priv.h"

int nf_tx_setup(void)
{
    return nf_bufs_alloc(nf.txb, NF_TX_BUFS, true);
}

void nf_tx_release(void)
{
    nf_bufs_free(nf.txb, NF_TX_BUFS);
}

unsigned nf_tx_in_flight(void)
{
    return nf_bufs_busy(nf.txb, NF_TX_BUFS);
}

void nf_tx_reclaim(void)
{
    int more;
    if (!nf.tx.sring || nf.broken)
        return;
    do {
        RING_IDX rp = READ_ONCE(nf.tx.sring->rsp_prod);
        xen_rmb();
        if (!RING_RSP_PROD_OK(&nf.tx, rp)) {
            nf_drop(NF_DROP_TX_OVERRUN, "rsp_prod %u but only %u requests after %u", rp,
                    nf.tx.req_prod_pvt - nf.tx.rsp_cons, nf.tx.rsp_cons);
            nf_broken("tx rsp_prod %u is beyond the %u requests outstanding", rp,
                      nf.tx.req_prod_pvt - nf.tx.rsp_cons);
            return;
        }
        for (RING_IDX i = nf.tx.rsp_cons; i != rp; i++) {
            struct netif_tx_response rsp;
            memcpy(&rsp, RING_GET_RESPONSE(&nf.tx, i), sizeof(rsp));
            /* We send no extra-info slots, so every response answers a frame:
             * NETIF_RSP_NULL too (as an error), or its buffer would stay busy. */
            if (rsp.id >= NF_TX_BUFS || !nf.txb[rsp.id].busy) {
                nf_drop(NF_DROP_TX_BAD_ID, "slot %u: id %u is not in flight", i, rsp.id);
                continue;
            }
            nf.txb[rsp.id].busy = false;
            if (rsp.status != NETIF_RSP_OKAY)
                nf_drop(NF_DROP_TX_ERROR, "id %u: status %d", rsp.id, rsp.status);
            else
                nf.stats.tx_completed++;
        }
        nf.tx.rsp_cons = rp;
        RING_FINAL_CHECK_FOR_RESPONSES(&nf.tx, more);
    } while (more);
}

int netfront_xmit(const void *frame, size_t len)
{
    if (nf.state != NETFRONT_CONNECTED) {
        bool gone = nf.state == NETFRONT_CLOSING || nf.state == NETFRONT_DETACHED;
        nf_drop(NF_DROP_TX_NOT_READY, "%s: %u-byte frame not sent",
                gone ? "vif detached" : "vif not connected", (unsigned)len);
        return gone ? -XEN_ENODEV : -XEN_ENOTCONN;
    }
    if (len < ETH_HLEN || len > PAGE_SIZE) {
        nf_drop(NF_DROP_TX_BAD_SIZE, "%u bytes", (unsigned)len);
        return -XEN_EINVAL;
    }
    nf_tx_reclaim();
    unsigned id = 0;
    while (id < NF_TX_BUFS && nf.txb[id].busy)
        id++;
    if (id == NF_TX_BUFS || RING_FULL(&nf.tx)) {
        nf_drop(NF_DROP_TX_RING_FULL, "%u frames in flight", nf_tx_in_flight());
        return -XEN_ENOBUFS;
    }
    struct nf_buf *b = &nf.txb[id];
    memcpy(b->page, frame, len);
    if (b->used > len) /* the backend sees the whole page: no older frame's tail */
        memset((uint8_t *)b->page + len, 0, b->used - len);
    b->used = (unsigned)len;
    struct netif_tx_request *req = RING_GET_REQUEST(&nf.tx, nf.tx.req_prod_pvt);
    req->gref = (grant_ref_t)b->ref;
    req->offset = 0;
    req->flags = 0;
    req->id = (uint16_t)id;
    req->size = (uint16_t)len;
    b->busy = true;
    nf.tx.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf.tx, notify);
    if (notify)
        (void)frontend_notify(&nf.fe);
    nf.stats.tx_packets++;
    nf.stats.tx_bytes += len;
    return 0;
}
