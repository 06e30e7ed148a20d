/*
 * xenbus.h — XenBus states, layer 2 of 3 between XenStore and a driver
 * (interface manual: "XenStore" / "Device drivers"; Xen 4.17
 * public/io/xenbus.h for the XenbusState values): above the XenStore
 * protocol (xenstore.h), below the frontend life cycle (frontend.h) that
 * drivers use. Implemented in kernel/xen/xenstore/xenbus_state.c.
 *
 * A frontend lives at device/<type>/<id> (e.g. "device/vif/0", relative to
 * our /local/domain/<domid>); its "backend" key holds the backend's
 * absolute path and "backend-id" its domain. Each end publishes its
 * XenbusState in "<path>/state". The usual frontend sequence:
 *
 *   char be[XENBUS_PATH_MAX]; domid_t be_id; XenbusState st;
 *   xenbus_read_peer("device/vif/0", "backend", be, sizeof(be), &be_id);
 *   xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateInitWait), 5000, &st);
 *   ... grant rings, write ring-ref / event-channel (xs_printf) ...
 *   xenbus_switch_state("device/vif/0", XenbusStateInitialised);   (or Connected)
 *   xenbus_wait_state(be, XENBUS_STATE_BIT(XenbusStateConnected), 5000, &st);
 *
 * All of it blocks the calling thread (XenStore calls): threads only.
 * Errors are negative Xen errno values (xen_errname()).
 */
#ifndef XENOLITH_XENBUS_H
#define XENOLITH_XENBUS_H

#include "kernel.h"

#define XENBUS_PATH_MAX 128 /* room for any device path we build or read */
#define XENBUS_STATE_BIT(s) (1u << (s))

const char *xenbus_state_name(XenbusState s); /* "Connected", or "?" */

/* "<path>/<key>" into buf: 0, or -XEN_ENAMETOOLONG when it does not fit. */
int xenbus_join(char *buf, size_t size, const char *path, const char *key);

/* "<path>/state". A missing key reads as XenbusStateUnknown (0 returned);
 * a value that is not a XenbusState gives -XEN_EINVAL. */
int xenbus_read_state(const char *path, XenbusState *out);
/* Write "<path>/state" (our own end). */
int xenbus_switch_state(const char *path, XenbusState s);
/* Wait until "<path>/state" is one of the states in `mask`
 * (XENBUS_STATE_BIT(...) | ...): 0 and *reached set; -XEN_ETIMEDOUT after
 * timeout_ms (*reached holds the last state seen). Uses a watch, so it
 * sleeps between changes. */
int xenbus_wait_state(const char *path, uint32_t mask, unsigned long timeout_ms,
                      XenbusState *reached);
/* The other end of device `dev`: reads "<dev>/<key>" (a path, into buf) and
 * "<dev>/<key>-id" (a domid). key is "backend" for a frontend, "frontend"
 * for a backend. */
int xenbus_read_peer(const char *dev, const char *key, char *buf, size_t size, domid_t *id);

#endif
