/*
 * netfront_ring.c — fuzzes what netfront reads of its two rings
 * (drivers/netfront/ring.c; Xen 4.17 public/io/netif.h, io/ring.h): the
 * backend's receive responses {id, offset, flags, status} and extra-info
 * slots, its transmit responses {id, status}, and both producer indexes.
 *
 * The input is a script of backend turns on a vif set up by ring.c itself
 * (nf_rings_init, nf_rx_setup, nf_tx_setup; indexes start at a value the
 * input picks, so wrap-around is reachable): write rx responses and move
 * rsp_prod (by the count written, or to any value), send a frame, write
 * tx responses and move rsp_prod. After each turn the harness checks what
 * the kernel promised: a delivered frame lies within one page, buffers
 * posted never exceed those that exist, a ring read to its end has
 * rsp_cons == rsp_prod, a broken vif is never read again, and every page
 * is freed at the end.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "mm.h"
#include "netfront_priv.h"

enum turn { RX_RESPONSES, RX_ANY_PROD, TX_SEND, TX_RESPONSES, TX_ANY_PROD, TURNS };

#define MAX_TURNS 16

static unsigned delivered;
static struct fuzz_in *meanwhile; /* what happens while a frame is delivered */

/* Stands in for the stack: reads the whole frame, so a frame past its
 * page is an AddressSanitizer report. Meanwhile, as the input says, the
 * backend writes more rx responses (the ring is read again before the
 * take ends), or the stack answers with a frame and reclaims tx
 * responses, which may stop the vif in the middle of the rx ring. */
static void deliver(struct netfront_dev *nf, const uint8_t *frame, unsigned len,
                    bool csum_blank)
{
    (void)csum_blank; /* any flags a backend sets: the stack's to act on */
    FUZZ_ASSERT(len > 0 && len <= PAGE_SIZE);
    unsigned sum = 0;
    for (unsigned i = 0; i < len; i++)
        sum += frame[i];
    delivered += sum & 1;
    switch (fin_u8(meanwhile) % 4) {
    case 1: { /* after those published: the take is still reading them */
        RING_IDX prod = nf->rx.sring->rsp_prod;
        unsigned k = fin_u8(meanwhile) % 4;
        for (unsigned i = 0; i < k; i++)
            fin_bytes(meanwhile, RING_GET_RESPONSE(&nf->rx, prod + i),
                      sizeof(struct netif_rx_response));
        nf->rx.sring->rsp_prod = prod + k;
        break;
    }
    case 2:
        (void)nf_tx_put(nf, frame, len);
        if (fin_u8(meanwhile) & 1)
            nf->tx.sring->rsp_prod = fin_u32(meanwhile);
        nf_tx_reclaim(nf);
        break;
    }
}

void net_attach(unsigned index, const struct net_link *link) {}

int frontend_notify(struct xenbus_frontend *fe)
{
    return 0;
}

static void start_at(RING_IDX start, struct netif_rx_sring *rxs, struct netif_tx_sring *txs,
                     struct netfront_dev *nf)
{
    rxs->req_prod = rxs->rsp_prod = txs->req_prod = txs->rsp_prod = start;
    rxs->req_event = rxs->rsp_event = txs->req_event = txs->rsp_event = start + 1;
    nf->rx.req_prod_pvt = nf->rx.rsp_cons = start;
    nf->tx.req_prod_pvt = nf->tx.rsp_cons = start;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    meanwhile = &in;
    fuzz_grants_held(false);
    static struct netfront_dev nf;
    memset(&nf, 0, sizeof(nf));
    strlcpy(nf.link_name, "vif0", sizeof(nf.link_name));
    strlcpy(nf.fe.node, "device/vif/0", sizeof(nf.fe.node));
    nf.drop_messages = (struct ratelimit)RATELIMIT_INIT("netfront", "drop", NF_MSG_BURST);
    nf.rx_ring_page.page = page_alloc(0);
    nf.tx_ring_page.page = page_alloc(0);
    FUZZ_ASSERT(nf_rings_init(&nf) == 0);
    start_at(fin_u32(&in), nf.rx_ring_page.page, nf.tx_ring_page.page, &nf);
    FUZZ_ASSERT(nf_rx_setup(&nf) == 0 && nf_tx_setup(&nf) == 0);

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        bool rx = true;
        switch (fin_u8(&in) % TURNS) {
        case RX_RESPONSES:
            FIN_RESPONSES(&in, &nf.rx, NF_RX_BUFS + 1);
            break;
        case RX_ANY_PROD:
            nf.rx.sring->rsp_prod = fin_u32(&in);
            break;
        case TX_SEND: {
            static uint8_t frame[PAGE_SIZE];
            unsigned len = fin_u16(&in) % (PAGE_SIZE + 1);
            int rc = nf_tx_put(&nf, frame, len);
            FUZZ_ASSERT(rc == 0 || rc == -XEN_ENOBUFS);
            rx = false;
            break;
        }
        case TX_RESPONSES:
            FIN_RESPONSES(&in, &nf.tx, NF_TX_BUFS + 1);
            rx = false;
            break;
        case TX_ANY_PROD:
            nf.tx.sring->rsp_prod = fin_u32(&in);
            rx = false;
            break;
        }
        bool was_broken = nf.broken;
        RING_IDX rx_cons = nf.rx.rsp_cons, tx_cons = nf.tx.rsp_cons;
        if (rx)
            nf_rx_take(&nf, deliver);
        else
            nf_tx_reclaim(&nf);
        if (was_broken) {
            FUZZ_ASSERT(nf.rx.rsp_cons == rx_cons && nf.tx.rsp_cons == tx_cons);
        } else if (!nf.broken) {
            FUZZ_ASSERT(nf.rx.rsp_cons == nf.rx.sring->rsp_prod || !rx);
            FUZZ_ASSERT(nf.tx.rsp_cons == nf.tx.sring->rsp_prod || rx);
        }
        FUZZ_ASSERT(nf_rx_posted(&nf) <= NF_RX_BUFS);
        FUZZ_ASSERT(nf_tx_in_flight(&nf) <= NF_TX_BUFS);
        FUZZ_ASSERT(nf.rx.req_prod_pvt - nf.rx.rsp_cons <= RING_SIZE(&nf.rx));
        FUZZ_ASSERT(nf.tx.req_prod_pvt - nf.tx.rsp_cons <= RING_SIZE(&nf.tx));
    }
    fuzz_grants_held(fin_u8(&in) & 1); /* the backend may keep pages mapped at the close */
    nf_bufs_release(&nf);
    page_free(nf.rx_ring_page.page, 0);
    page_free(nf.tx_ring_page.page, 0);
    FUZZ_ASSERT(fuzz_pages_out() == 0);
    return 0;
}
