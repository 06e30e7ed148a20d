/*
 * rx.c — netfront's receive ring (Xen 4.17 public/io/netif.h "Guest
 * receive", io/ring.h), copy mode: we post requests {id, gref} naming
 * granted empty pages; netback copies a frame into one and answers
 * {id, offset, flags, status = length or NETIF_RSP_*}.
 *
 * netif.h: a response (or an extra-info slot) always lands in the ring
 * slot of the request it consumed, so rx_slot_id[] remembers which buffer
 * went into each slot; that buffer is the one consumed, whatever the
 * response says. Each response is then checked before anything is read
 * from the page (netfront_rx_check): id equal to that buffer's id, status
 * > 0, offset + length within the page, no NETRXF_more_data (we did not
 * offer feature-sg, so a multi-slot frame is the backend's error: the whole
 * chain is dropped). NETRXF_extra_info means the next slot(s) are
 * netif_extra_info, skipped (their XEN_NETIF_EXTRA_FLAG_MORE chains them).
 * A backend that claims more responses than we made requests is clamped.
 * Every buffer goes back on the ring once the stack has read the frame.
 */
#include "kernel.h"
#include "events.h"
#include "mm.h"
#include "net.h"
#include "netfront_priv.h"

#define RX_MASK(r) (RING_SIZE(r) - 1)

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

int nf_rx_setup(void)
{
    int rc = nf_bufs_alloc(nf.rxb, NF_RX_BUFS, false);
    if (rc)
        return rc;
    for (unsigned i = 0; i < NETIF_RX_RING_SIZE; i++)
        nf.rx_slot_id[i] = NF_NO_ID;
    nf_rx_poll(); /* posts every buffer */
    return 0;
}

void nf_rx_release(void)
{
    nf_bufs_free(nf.rxb, NF_RX_BUFS);
}

unsigned nf_rx_posted(void)
{
    return nf_bufs_busy(nf.rxb, NF_RX_BUFS);
}

/* Post every idle buffer; notify the backend if it asked (req_event). */
static void refill(void)
{
    bool pushed = false;
    for (unsigned id = 0; id < NF_RX_BUFS && !RING_FULL(&nf.rx); id++) {
        struct nf_buf *b = &nf.rxb[id];
        if (b->busy || !b->page)
            continue;
        RING_IDX i = nf.rx.req_prod_pvt;
        struct netif_rx_request *req = RING_GET_REQUEST(&nf.rx, i);
        req->id = (uint16_t)id;
        req->gref = (grant_ref_t)b->ref;
        nf.rx_slot_id[i & RX_MASK(&nf.rx)] = (uint16_t)id;
        b->busy = true;
        nf.rx.req_prod_pvt = i + 1;
        pushed = true;
    }
    if (pushed) {
        int notify;
        RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&nf.rx, notify);
        if (notify)
            (void)frontend_notify(&nf.fe);
    }
}

/* Where the slot we are reading stands in a chain of slots: extra-info
 * slots to skip, then (if the first slot said NETRXF_more_data) data slots
 * of a multi-slot frame, dropped. */
struct chain {
    bool extra, more;
};

static struct chain deliver(const struct netif_rx_response *rsp, uint16_t id, RING_IDX i)
{
    unsigned off, len;
    enum netfront_drop why = netfront_rx_check(rsp, id, &off, &len);
    struct chain next = {rsp->flags & NETRXF_extra_info, rsp->flags & NETRXF_more_data};
    if (why != NF_DROP_NR) {
        nf_drop(why, "slot %u: id %u (posted %u) offset %u status %d flags %#x", i,
                rsp->id, id, rsp->offset, rsp->status, rsp->flags);
        /* A wrong id says nothing trustworthy about the chain: end it here. */
        return why == NF_DROP_RX_BAD_ID ? (struct chain){false, false} : next;
    }
    nf.stats.rx_packets++;
    nf.stats.rx_bytes += len;
    /* The page stays granted to the backend, which could change the frame
     * under the stack's feet (between a checksum and the use): the stack
     * parses a private copy. One thread receives, so one buffer will do. */
    static uint8_t frame[PAGE_SIZE];
    memcpy(frame, (const uint8_t *)nf.rxb[id].page + off, len);
    net_input(frame, len);
    return next;
}

void nf_rx_poll(void)
{
    struct chain chain = {false, false};
    int more;
    if (nf.broken || !nf.rx.sring)
        return;
    do {
        RING_IDX rp = READ_ONCE(nf.rx.sring->rsp_prod);
        xen_rmb(); /* responses are read after the index that covers them */
        if (!RING_RSP_PROD_OK(&nf.rx, rp)) {
            /* Going on would loop for ever (the final check below reads the
             * same index again): the ring is stopped instead. */
            nf_drop(NF_DROP_RX_OVERRUN, "rsp_prod %u but only %u requests after %u", rp,
                    nf.rx.req_prod_pvt - nf.rx.rsp_cons, nf.rx.rsp_cons);
            nf_broken("rx rsp_prod %u is beyond the %u requests outstanding", rp,
                      nf.rx.req_prod_pvt - nf.rx.rsp_cons);
            return;
        }
        for (RING_IDX i = nf.rx.rsp_cons; i != rp; i++) {
            unsigned slot = i & RX_MASK(&nf.rx);
            uint16_t id = nf.rx_slot_id[slot];
            struct netif_rx_response rsp;
            memcpy(&rsp, RING_GET_RESPONSE(&nf.rx, i), sizeof(rsp)); /* read once */
            nf.rx_slot_id[slot] = NF_NO_ID;
            if (id >= NF_RX_BUFS) /* cannot happen: every outstanding slot was posted */
                continue;
            if (chain.extra) {
                struct netif_extra_info x;
                memcpy(&x, &rsp, sizeof(x));
                nf_drop(NF_DROP_RX_EXTRA, "slot %u: extra info type %u skipped", i, x.type);
                chain.extra = x.flags & XEN_NETIF_EXTRA_FLAG_MORE;
            } else if (chain.more) {
                nf_drop(NF_DROP_RX_MORE_DATA, "slot %u: rest of a multi-slot frame", i);
                chain.more = rsp.flags & NETRXF_more_data;
            } else {
                chain = deliver(&rsp, id, i);
            }
            nf.rxb[id].busy = false;
        }
        nf.rx.rsp_cons = rp;
        refill();
        RING_FINAL_CHECK_FOR_RESPONSES(&nf.rx, more);
    } while (more);
}
