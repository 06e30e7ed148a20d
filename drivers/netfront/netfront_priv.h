/*
 * netfront_priv.h — the state the three parts of netfront share: the
 * xenbus negotiation (xenbus.c), the receive ring (rx.c) and the transmit
 * ring (tx.c). Public interface: kernel/include/netfront.h.
 *
 * Buffers: every rx and tx buffer is one page, granted to the backend once
 * at connect time and kept granted (rx: writable, the backend copies
 * frames into it with GNTTABOP_copy; tx: read-only). A buffer's index is
 * the `id` of the requests that carry it.
 *
 * Concurrency: the event handler only wakes the receive thread; the rings
 * are touched from threads only, which switch only when they block, so no
 * lock is needed (tx is also called by the shell thread's `ping`).
 */
#ifndef XENOLITH_NETFRONT_PRIV_H
#define XENOLITH_NETFRONT_PRIV_H

#include "kernel.h"
#include "frontend.h"
#include "netfront.h"

#define NF_RX_BUFS 64 /* frames the backend may have in flight to us */
#define NF_TX_BUFS 32 /* frames we may have in flight to the backend */
#define NF_NO_ID 0xffff

_Static_assert(NF_RX_BUFS <= NETIF_RX_RING_SIZE, "rx buffers fit the ring");
_Static_assert(NF_TX_BUFS <= NETIF_TX_RING_SIZE, "tx buffers fit the ring");

struct nf_buf {
    void *page;
    int ref;     /* grant reference, -1 when none */
    bool busy;   /* rx: posted to the backend; tx: in flight */
    unsigned used; /* tx: bytes of the page the last frame filled (the rest is zero) */
};

struct netfront {
    struct xenbus_frontend fe;
    enum netfront_state state;
    char why[96];
    uint8_t mac[ETH_ALEN];
    struct frontend_ring tx_ring_page, rx_ring_page;
    netif_tx_front_ring_t tx;
    netif_rx_front_ring_t rx;
    struct nf_buf rxb[NF_RX_BUFS], txb[NF_TX_BUFS];
    /* Which rx buffer was posted in each ring slot: netif.h requires the
     * response (or extra-info slot) to come in the slot of its request. */
    uint16_t rx_slot_id[NETIF_RX_RING_SIZE];
    struct thread *thread;
    volatile bool stopping; /* the receive thread is asked to end */
    bool broken; /* the backend broke the ring protocol: the rings are no longer read */
    struct netfront_stats stats;
};

extern struct netfront nf;

/* Count a drop and print "netfront: drop <reason>: ..." (rate-limited). */
void nf_drop(enum netfront_drop reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* The backend broke the ring protocol (e.g. a producer index beyond what we
 * produced): say so once, stop reading the rings, refuse to send; the rest
 * of the kernel runs on, and a detach or `net rescan` starts afresh. */
void nf_broken(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* rx.c */
int nf_rx_setup(void);    /* buffers allocated and granted, ring filled */
void nf_rx_poll(void);    /* take every response, refill, re-arm rsp_event */
void nf_rx_release(void); /* end grants and free buffers (after close) */
/* tx.c */
int nf_tx_setup(void);
void nf_tx_reclaim(void); /* take tx responses, free their buffers */
void nf_tx_release(void);
unsigned nf_tx_in_flight(void);
unsigned nf_rx_posted(void);

/* Allocate/free one granted buffer page for the backend. */
int nf_buf_alloc(struct nf_buf *b, bool readonly);
void nf_buf_free(struct nf_buf *b);
/* The same over an array of n buffers (the rx or the tx set). */
int nf_bufs_alloc(struct nf_buf *bufs, unsigned n, bool readonly);
void nf_bufs_free(struct nf_buf *bufs, unsigned n);
unsigned nf_bufs_busy(const struct nf_buf *bufs, unsigned n);

#endif
