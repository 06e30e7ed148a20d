/*
 * frontend.h — the frontend life cycle: the steps every split-driver
 * frontend takes (interface manual: "Device drivers" / "XenStore"; Xen 4.17
 * public/io/xenbus.h for the states, public/io/blkif.h and io/netif.h for
 * the keys of each kind). Layer 3 of 3: over the XenBus states (xenbus.h)
 * and the XenStore protocol (xenstore.h); each driver's negotiation
 * (drivers/<driver>/xenbus.c) is its user. Implemented in
 * kernel/xen/frontend.c.
 *
 * The toolstack creates, for each virtual device of ours, the frontend
 * directory device/<type>/<id> (relative to /local/domain/<our id>) with
 * "backend" (absolute path of the backend's directory) and "backend-id"
 * (its domain), and the backend's directory with its own keys and "state".
 * A frontend then:
 *   1. frontend_list("vbd", ...)        ids under device/vbd
 *   2. frontend_init(&fe, "vbd", id)    backend path and domain
 *   3. frontend_ring_alloc(&fe, &ring)  a zeroed page granted to the backend;
 *      SHARED_RING_INIT / FRONT_RING_INIT on ring.page (the caller knows the
 *      ring type: <abi/rings.h>)
 *   4. frontend_evtchn_alloc(&fe, handler, data)  an unbound port for it
 *   5. frontend_wait_backend(&fe, InitWait|..., ...)  the backend is ready
 *   6. frontend_publish(&fe, keys, n, XenbusStateInitialised)  ring-ref,
 *      event-channel, ... and our state, in one transaction
 *   7. frontend_wait_backend(&fe, Connected, ...), read the backend's keys
 *      (frontend_backend_ulong ...), frontend_switch(&fe, Connected)
 *   8. frontend_watch_backend(&fe, gone, arg)  a thread of ours watches the
 *      backend's state; gone() runs (in that thread) when the backend leaves
 *   ...
 *   frontend_close(&fe) (Closing/Closed with the backend, port closed), then
 *   frontend_ring_free(&ring) once the backend has unmapped it.
 *
 * Detach. `xl block-detach` / `xl network-detach` write the backend's state
 * Closing (and "online" 0) and wait for the backend to reach Closed, which
 * it does only after the frontend has said Closed (and it has unmapped the
 * rings). So a frontend must notice the backend's Closing: gone() stops new
 * I/O, ends the in-flight requests, calls frontend_close, ends its grants
 * (frontend_ring_free; a grant the backend still maps is never reused: its
 * page is leaked on purpose) and forgets the device. The toolstack then
 * removes both directories. A backend whose directory vanishes (its state
 * reads as Unknown) is handled the same way.
 *
 * Everything here blocks on XenStore: call it from a thread, never from an
 * event handler. Errors are negative Xen errno values (xen_errname()); every
 * failure is also printed, prefixed with fe->driver. Nothing read from the
 * backend's directory is trusted: numbers are parsed and range-checked.
 */
#ifndef XENOLITH_FRONTEND_H
#define XENOLITH_FRONTEND_H

#include "kernel.h"
#include "events.h"
#include "xenbus.h"

#define FRONTEND_TIMEOUT_MS 10000UL /* default wait for a backend state */

struct xenbus_frontend {
    const char *driver;            /* "blkfront": prefix of our messages */
    char node[XENBUS_PATH_MAX];    /* "device/vbd/768" (relative to our home) */
    char backend[XENBUS_PATH_MAX]; /* "/local/domain/0/backend/vbd/3/768" */
    domid_t backend_id;
    evtchn_port_t evtchn; /* valid when has_evtchn */
    bool has_evtchn;
};

/* One shared ring page granted to the backend (read-write). */
struct frontend_ring {
    void *page; /* direct-map address, zeroed by frontend_ring_alloc */
    int ref;    /* grant reference, -1 when none */
};

/* One key for frontend_publish: written as "<node>/<key>" = str, or, when
 * str is NULL, = num in decimal. */
struct frontend_key {
    const char *key;
    const char *str;
    unsigned long num;
};

/* Ids under device/<type>: NUL-separated names in buf (walk as with
 * xs_directory). Returns how many (0 when the directory does not exist),
 * -XEN_ENODEV without XenStore (dom0 mode), or an error. Ids whose own state
 * is Closing or Closed are left out: a device being detached, which the
 * toolstack removes soon (a new device starts at Initialising). */
int frontend_list(const char *type, char *buf, size_t size);

/* Fill fe for device/<type>/<id>: node, backend path (must be absolute) and
 * backend-id. fe->driver should be set by the caller first (NULL: "frontend"). */
int frontend_init(struct xenbus_frontend *fe, const char *type, const char *id);

/* A zeroed page, granted read-write to fe->backend_id. ring_free ends the
 * grant and frees the page; if the backend still maps it (-XEN_EBUSY), the
 * page is leaked on purpose (reusing it would let the backend scribble on
 * it) and a message says so. Both are safe on a ring that is not allocated. */
int frontend_ring_alloc(struct xenbus_frontend *fe, struct frontend_ring *ring);
int frontend_ring_free(struct xenbus_frontend *fe, struct frontend_ring *ring);

/* After a resume in a new domain (suspend.h): the ring's grant and the
 * event channel belonged to the old domain, whose grant table and ports are
 * gone. Drop them without ending or closing them (that would hit the new
 * domain's entries of the same numbers) and free the page (no backend maps
 * it: the old backend mapped the old domain's frames). ring may be NULL. */
void frontend_forget(struct xenbus_frontend *fe, struct frontend_ring *ring);

/* An unbound event channel for the backend, bound to handler (runs in upcall
 * context: see events.h) and unmasked; fe->evtchn / fe->has_evtchn. */
int frontend_evtchn_alloc(struct xenbus_frontend *fe, evtchn_handler_t handler, void *data);
int frontend_notify(struct xenbus_frontend *fe); /* evtchn_send on fe->evtchn */

/* Write keys[0..n) under fe->node and then "<node>/state" = state, in one
 * XenStore transaction (retried when xenstored says EAGAIN). */
int frontend_publish(struct xenbus_frontend *fe, const struct frontend_key *keys, unsigned n,
                     XenbusState state);
int frontend_switch(struct xenbus_frontend *fe, XenbusState state); /* our state alone */

/* Wait for the backend's state to be one of mask (XENBUS_STATE_BIT(...));
 * -XEN_ETIMEDOUT (printed, with the state seen) after timeout_ms. */
int frontend_wait_backend(struct xenbus_frontend *fe, uint32_t mask, unsigned long timeout_ms,
                          XenbusState *reached);

/* Keys in the backend's directory. backend_read: the string (xs_read's
 * return). backend_ulong: a number; junk prints "<driver>: backend sent
 * <path> = '<value>', not a number" and gives -XEN_EINVAL. backend_u64 the
 * same for 64-bit values (e.g. blkif "sectors"). backend_feature: a missing
 * key is `dflt`, "0"/"1" the value, anything else false with a message. */
int frontend_backend_read(struct xenbus_frontend *fe, const char *key, char *buf, size_t size);
int frontend_backend_ulong(struct xenbus_frontend *fe, const char *key, unsigned long *out);
int frontend_backend_u64(struct xenbus_frontend *fe, const char *key, uint64_t *out);
bool frontend_backend_feature(struct xenbus_frontend *fe, const char *key, bool dflt);

/* Teardown: our state Closing, wait (briefly) for the backend to follow,
 * Closed, wait (briefly) for the backend's Closed, and close the event
 * channel. Rings are freed by the caller with frontend_ring_free afterwards
 * (the backend unmaps them when it closes). When our own directory is gone
 * already (the toolstack removed it) only the port is closed. Returns the
 * first error, but always goes through every step. */
int frontend_close(struct xenbus_frontend *fe);

/* Watch the backend of a connected device: a thread ("<driver>-watch")
 * waits on a XenStore watch of "<backend>/state" (re-reading it every
 * FRONTEND_WATCH_POLL_MS too, in case an event was lost). When the state is
 * Closing or Closed, or the key is gone (XenbusStateUnknown), it calls
 * gone(fe, state, arg) once, in that thread, so gone may block (XenStore,
 * thread_join, sleep_ms); then the watch is removed and the thread ends.
 * frontend.c joins ended watch threads itself (at the next frontend_list or
 * frontend_watch_backend). fe must stay valid until gone returns; the
 * thread does not touch it afterwards. 0, or an error (printed). */
#define FRONTEND_WATCH_POLL_MS 10000UL
typedef void (*frontend_gone_fn)(struct xenbus_frontend *fe, XenbusState backend_state,
                                 void *arg);
int frontend_watch_backend(struct xenbus_frontend *fe, frontend_gone_fn gone, void *arg);
/* Stop watching fe's backend without calling gone (for a suspend: a new
 * domain's backend lives elsewhere, and the driver watches it anew after
 * reconnecting). The thread ends at its next wake-up, touching fe no more. */
void frontend_unwatch_backend(struct xenbus_frontend *fe);
/* "Closing", "Closed", or "gone" for a state gone() was given (messages). */
const char *frontend_gone_reason(XenbusState backend_state);

#endif
