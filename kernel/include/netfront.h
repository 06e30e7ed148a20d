/*
 * netfront.h — the Xen network frontend (interface manual: "Device
 * drivers"; Xen 4.17 public/io/netif.h). Implemented in
 * drivers/netfront/. Not in `make tiny` (no drivers there).
 *
 * At boot every device/vif/<id> is connected, in id order, up to
 * NETFRONT_MAX: MAC from its "mac" key, one tx and one rx ring page granted
 * to the backend, one event channel for both, rx in copy mode
 * (request-rx-copy=1, the only mode Linux netback offers),
 * feature-rx-notify=1, full checksums asked for (feature-no-csum-offload=1),
 * state Connected, then the backend's Connected is awaited. Vif number i
 * (its index in netfront's table) is interface i of the IPv4 stack (net.h):
 * its thread hands every frame to net_input(i, ...), and the stack sends
 * through the vif's link.
 *
 * Once connected, each backend is watched (frontend_watch_backend): when it
 * closes (`xl network-detach`) or disappears, that vif leaves the stack,
 * its thread stops, the device is closed with the backend, its grants are
 * ended (a page the backend still maps is leaked on purpose) and the vif
 * forgotten: "netfront: vif detached", state NETFRONT_DETACHED; the other
 * vifs run on. netfront_rescan() (`net rescan`) connects every vif not
 * connected yet, e.g. after `xl network-attach`, into the first free entry.
 *
 * Nothing from the backend is trusted: every response is checked (id,
 * status, offset + length within the page, flags) and anything wrong is a
 * counted drop with a rate-limited "netfront: drop <reason>" line.
 */
#ifndef XENOLITH_NETFRONT_H
#define XENOLITH_NETFRONT_H

#include "kernel.h"
#include "netproto.h"
#include "xenbus.h"

enum netfront_state {
    NETFRONT_DOM0,        /* no XenStore in dom0 mode */
    NETFRONT_NO_VIF,      /* nothing under device/vif for us */
    NETFRONT_CONNECTING,
    NETFRONT_CONNECTED,
    NETFRONT_FAILED,      /* see netfront_info.why */
    NETFRONT_CLOSING,     /* the backend left: being torn down */
    NETFRONT_DETACHED,    /* the vif was detached: no vif until a rescan */
};

enum netfront_drop {
    NF_DROP_RX_OVERRUN,    /* backend produced more responses than requests */
    NF_DROP_RX_BAD_ID,     /* response id is not the buffer of its slot */
    NF_DROP_RX_ERROR,      /* status < 0 (NETIF_RSP_ERROR / _DROPPED / other) */
    NF_DROP_RX_EMPTY,      /* status 0: no data */
    NF_DROP_RX_BAD_LENGTH, /* offset + length beyond the page */
    NF_DROP_RX_MORE_DATA,  /* multi-slot frame: we did not offer feature-sg */
    NF_DROP_RX_EXTRA,      /* an extra-info slot (skipped, not a frame) */
    NF_DROP_TX_RING_FULL,  /* no free tx buffer */
    NF_DROP_TX_BAD_SIZE,   /* frame too short or longer than a page */
    NF_DROP_TX_NOT_READY,  /* not connected */
    NF_DROP_TX_OVERRUN,    /* backend produced more tx responses than requests */
    NF_DROP_TX_BAD_ID,     /* tx response for an id not in flight */
    NF_DROP_TX_ERROR,      /* tx response status not NETIF_RSP_OKAY */
    NF_DROP_NR
};
const char *netfront_drop_name(enum netfront_drop d);

struct netfront_stats {
    unsigned long rx_packets, rx_bytes, tx_packets, tx_bytes, tx_completed;
    unsigned long events, drops[NF_DROP_NR];
};

struct netfront_info {
    unsigned index;          /* the stack's interface number */
    enum netfront_state state;
    const char *state_name;
    char why[96];            /* NETFRONT_FAILED / NO_VIF: what happened */
    char node[XENBUS_PATH_MAX];          /* device/vif/<id> */
    char backend[XENBUS_PATH_MAX];
    domid_t backend_id;
    uint8_t mac[ETH_ALEN];
    evtchn_port_t evtchn;
    int tx_ring_ref, rx_ring_ref;
    unsigned rx_posted, tx_in_flight;
    unsigned rx_ring_size, tx_ring_size;
};

#define NETFRONT_MAX 4

/* Vif number index (0 .. NETFRONT_MAX-1): false when no vif has that entry
 * (info then says why, e.g. NETFRONT_NO_VIF). */
bool netfront_get_info(unsigned index, struct netfront_info *info);
void netfront_get_stats(unsigned index, struct netfront_stats *s);
/* Connect every device/vif/<id> not connected yet: 0, -XEN_EBUSY while a
 * detach runs, -XEN_ENODEV in dom0 mode, -XEN_EIO when one failed (see
 * netfront_get_info). From a thread. */
int netfront_rescan(void);
int netfront_init(void); /* start of day */

/*
 * The pure check of one rx response (for the self-test): given the id of
 * the buffer posted in its slot, returns NF_DROP_NR when the response is a
 * good single-slot frame (*off, *len set), else the drop reason.
 */
enum netfront_drop netfront_rx_check(const struct netif_rx_response *rsp, uint16_t slot_id,
                                     unsigned *off, unsigned *len);

#endif
