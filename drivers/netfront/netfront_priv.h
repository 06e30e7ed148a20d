/*
 * netfront_priv.h — what the files of drivers/netfront/ share (Xen 4.17
 * public/io/netif.h, io/ring.h). Other parts use kernel/include/netfront.h.
 * The driver has the shape every frontend of Xenolith has, dependencies
 * going one way:
 *
 *   xenbus.c      negotiation with netback and each vif's life cycle
 *                 (probe, connect, watch, detach, suspend/resume)
 *     netfront.c  the data path: the event handler, the link's poll,
 *                 frames to and from the IPv4 stack (net.h), the API
 *       ring.c    the rx and tx rings and their granted buffers: requests
 *                 out, responses in (copied once, checked; each bad one a
 *                 counted drop, a broken ring the vif stopped)
 *   netfront_cmd.c, netfront_selftest.c  users of the API
 *
 * Several vifs: one struct netfront_dev each, in a table whose index is the
 * interface's number in the IPv4 stack (net.h), so `ip=` gives addresses
 * in vif order. A detached vif's entry is free for the next one found.
 *
 * Concurrency: the event handler only kicks the stack's thread (net.h),
 * which drains both rings (the link's poll) and hands frames to the stack;
 * the stack sends from that thread too. Other threads (the watch, suspend)
 * take a vif off the stack with net_attach, which returns once the stack's
 * thread has let go of it; threads switch only when they block, so no lock
 * is needed.
 *
 * Buffers: every rx and tx buffer is one page, granted to the backend once
 * at connect time and kept granted (rx: writable, the backend copies frames
 * into it with GNTTABOP_copy; tx: read-only). A buffer's index is the `id`
 * of the requests that carry it.
 */
#ifndef XENOLITH_NETFRONT_PRIV_H
#define XENOLITH_NETFRONT_PRIV_H

#include "kernel.h"
#include "frontend.h"
#include "net.h"
#include "netfront.h"

#define NF_RX_BUFS 64 /* frames the backend may have in flight to us */
#define NF_TX_BUFS 32 /* frames we may have in flight to the backend */
#define NF_NO_ID 0xffff
#define NF_MSG_BURST 5 /* drop lines a second, per vif */

_Static_assert(NF_RX_BUFS <= NETIF_RX_RING_SIZE, "rx buffers fit the ring");
_Static_assert(NF_TX_BUFS <= NETIF_TX_RING_SIZE, "tx buffers fit the ring");
_Static_assert(NETFRONT_MAX <= NET_IF_MAX, "each vif is an interface of the stack");

struct nf_buf {
    void *page;
    int ref;       /* grant reference, -1 when none */
    bool busy;     /* rx: posted to the backend; tx: in flight */
    unsigned used; /* tx: bytes of the page the last frame filled (the rest is zero) */
};

struct netfront_dev {
    unsigned index; /* in the table, and the stack's interface number */
    bool in_use;    /* a vif has this entry (connected, failed, or being torn down) */
    struct xenbus_frontend fe;
    char id[16];    /* <id> of device/vif/<id> */
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
    bool broken;        /* the backend broke the ring protocol: rings not read */
    bool held;          /* stopped by a suspend, until the resume */
    char link_name[16]; /* "vif0" */
    struct net_link link;
    struct netfront_stats stats;
    struct ratelimit drop_messages;
};

/* netfront.c */
struct netfront_dev *nf_dev(unsigned index); /* NULL past NETFRONT_MAX */
void nf_event(evtchn_port_t port, void *data); /* the event handler: kicks the stack */
int nf_start(struct netfront_dev *nf);  /* interface up in the stack */
void nf_stop(struct netfront_dev *nf);  /* interface down: the stack lets go of the vif */

/* ring.c */
/* Count a drop and print "netfront: drop <reason>: vifN: ..." (rate-limited). */
void nf_drop(struct netfront_dev *nf, enum netfront_drop reason, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* The backend broke the ring protocol (e.g. a producer index beyond what we
 * produced): say so once, stop reading the rings, refuse to send; the rest
 * of the kernel (other vifs too) runs on, and a detach or `net rescan`
 * starts afresh. */
void nf_broken(struct netfront_dev *nf, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int nf_rings_init(struct netfront_dev *nf); /* SHARED_RING_INIT / FRONT_RING_INIT of both */
int nf_rx_setup(struct netfront_dev *nf);   /* buffers allocated and granted, ring filled */
int nf_tx_setup(struct netfront_dev *nf);
/* Take every rx response (copied once, checked), hand each good frame to
 * deliver, refill, re-arm rsp_event. */
void nf_rx_take(struct netfront_dev *nf,
                void (*deliver)(struct netfront_dev *nf, const uint8_t *frame, unsigned len,
                                bool csum_blank));
void nf_tx_reclaim(struct netfront_dev *nf); /* take tx responses, free their buffers */
/* Copy a frame into a free tx buffer and put it on the ring: 0, or
 * -XEN_ENOBUFS when every buffer is in flight. */
int nf_tx_put(struct netfront_dev *nf, const void *frame, size_t len);
void nf_bufs_release(struct netfront_dev *nf); /* end grants, free buffers (after close) */
void nf_bufs_forget(struct netfront_dev *nf);  /* after a resume in a new domain */
unsigned nf_rx_posted(const struct netfront_dev *nf);
unsigned nf_tx_in_flight(const struct netfront_dev *nf);

#endif
