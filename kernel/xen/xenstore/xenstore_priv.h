/*
 * xenstore_priv.h — what the XenStore files (kernel/xen/xenstore*.c) share
 * and nobody else uses: the transport (xenstore.c) hands watch events to the
 * watch table (xenstore_watch.c), and both block threads with a timeout.
 */
#ifndef XENOLITH_XENSTORE_PRIV_H
#define XENOLITH_XENSTORE_PRIV_H

#include "kernel.h"
#include "xenstore.h"

/* xenstore.c: set up the ring on first use (domU only); false in dom0 mode
 * or when the page cannot be found. Call from a thread. */
bool xs_ensure_ready(void);

/* xenstore_watch.c: an XS_WATCH_EVENT payload (len bytes, NUL added after
 * them), from the transport's reader thread. Returns false when malformed. */
bool xs_watch_deliver(const char *body, uint32_t len);

/* Messages the transport gives up on, for its counters. */
void xs_count_bad(void);

/* xenstore.c: one complete message as it came off the ring (header checked
 * for length already), dispatched to its waiter or the watch table. Exposed
 * so the self-test can feed it crafted answers without touching the ring. */
void xs_handle_message(const struct xsd_sockmsg *h, const char *body);
/* Map an XS_ERROR payload ("ENOENT") to -XEN_ENOENT; unknown: -XEN_EIO. */
int xs_error_code(const char *body, uint32_t len);

#endif
