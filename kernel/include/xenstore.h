/*
 * xenstore.h — XenStore client (interface manual: "XenStore"; Xen 4.17
 * public/io/xs_wire.h), implemented in kernel/xen/xenstore/. Layer 1 of
 * the three a device is driven through: the XenStore protocol; XenBus
 * states (xenbus.h) and the frontend life cycle (frontend.h) are above it.
 *
 * A domU talks to xenstored through one shared page (start_info->store_mfn)
 * holding a request and a response ring, and one event channel
 * (start_info->store_evtchn). Xenolith as dom0 has no xenstored at all:
 * xs_available() is false and every call returns -XEN_ENODEV.
 *
 * Rules for callers (drivers):
 *   - Call from a thread, never from an event handler: every call blocks the
 *     calling thread until xenstored answers (or XS_TIMEOUT_MS passes).
 *   - Errors are negative Xen errno values (-XEN_ENOENT, -XEN_EACCES, ...),
 *     printable with xen_errname(). xenstored's error answers ("ENOENT") are
 *     mapped to the same values; -XEN_EIO means a broken answer (it is
 *     printed on the console), -XEN_ETIMEDOUT no answer in time.
 *   - Paths are absolute ("/local/domain/0/backend/vif/3/0") or relative to
 *     our home /local/domain/<domid> ("device/vif/0/state").
 *   - `tx` is XS_TX_NONE or a transaction from xs_transaction_start().
 *
 *   char be[64]; unsigned long id;
 *   if (xs_read(XS_TX_NONE, "device/vif/0/backend", be, sizeof(be)) < 0) ...
 *   if (xs_read_ulong(XS_TX_NONE, "device/vif/0/backend-id", &id)) ...
 *   xs_printf(XS_TX_NONE, "device/vif/0/ring-ref", "%u", ref);
 */
#ifndef XENOLITH_XENSTORE_H
#define XENOLITH_XENSTORE_H

#include "kernel.h"
#include "mm.h" /* free(), for xs_request_ack */

typedef uint32_t xs_tx_t;
#define XS_TX_NONE 0u
#define XS_TIMEOUT_MS 10000UL /* how long one request waits for its answer */
#define XS_TX_RETRIES 8       /* xs_transaction: attempts when xenstored says EAGAIN */

/* True in a domU once the ring is set up (xenstore_init, or the first call). */
/* Start of day (main.c): the ring and its event channel (domU). */
int xenstore_init(void);
bool xs_available(void);

/* Value of `path`, NUL-terminated in buf. Returns its length, -XEN_E2BIG if
 * it does not fit in size - 1 bytes, or an error. */
int xs_read(xs_tx_t tx, const char *path, char *buf, size_t size);
/* A decimal (or 0x hex) number. A value that is not one gives -XEN_EINVAL
 * and a console line naming the path and the value. */
int xs_read_ulong(xs_tx_t tx, const char *path, unsigned long *out);
int xs_write(xs_tx_t tx, const char *path, const char *value);
int xs_printf(xs_tx_t tx, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
int xs_mkdir(xs_tx_t tx, const char *path);
int xs_rm(xs_tx_t tx, const char *path); /* removes the subtree too */
/* Children of `path`: names one after another, each NUL-terminated, in buf.
 * Returns how many, or an error (-XEN_E2BIG when buf is too small). A list
 * longer than one message (XENSTORE_PAYLOAD_MAX) is read in parts with
 * XS_DIRECTORY_PART, again from the start if the directory changes
 * meanwhile (-XEN_EAGAIN if it keeps changing). Walk:
 *   for (const char *p = buf; n--; p += strlen(p) + 1) ... */
int xs_directory(xs_tx_t tx, const char *path, char *buf, size_t size);

/* Transactions: every request with `tx` sees one snapshot; the end commits
 * all or nothing. xs_transaction_end returns -XEN_EAGAIN when another writer
 * got in first: do it all again. xs_transaction() does that loop: fn's
 * non-zero return aborts the transaction and is returned. */
int xs_transaction_start(xs_tx_t *tx);
int xs_transaction_end(xs_tx_t tx, bool abort);
int xs_transaction(int (*fn)(xs_tx_t tx, void *arg), void *arg);

/* Watches. xs_watch_add registers one on `path` (and everything below);
 * xenstored fires it once at once, then at every change. Events are queued
 * (XS_WATCH_QUEUE; more are counted as lost) until xs_watch_wait takes one:
 * 0 and the changed path in buf (cut to fit), or -XEN_ETIMEDOUT after
 * timeout_ms. One thread waits on a watch at a time. xs_watch_remove
 * unregisters and frees it. */
#define XS_WATCH_QUEUE 16
struct xs_watch;
int xs_watch_add(const char *path, struct xs_watch **out);
int xs_watch_wait(struct xs_watch *w, char *buf, size_t size, unsigned long timeout_ms);
int xs_watch_remove(struct xs_watch *w);
unsigned long xs_watch_lost(const struct xs_watch *w); /* events dropped: queue full */
/* A thread `name` running fn(w), w a watch on `path` made for it (fn loops on
 * xs_watch_wait). 0, or an error, printed with `without`: what then does
 * not happen ("xl shutdown will not be answered"). */
int xs_watch_thread(const char *path, const char *name, void (*fn)(void *w),
                    const char *without);
/* Make the thread waiting on w (now or later) return -XEN_ENOENT at once;
 * it then removes the watch itself. */
void xs_watch_cancel(struct xs_watch *w);

/* Our domain id, read once from the "domid" key and cached. */
int xs_domid(domid_t *out);

/* Low level: one request of `type` (enum xsd_sockmsg_type) whose payload is
 * the n parts concatenated (each part as is: callers add the NULs the
 * operation wants). On success *reply is a malloc'd copy of the answer's
 * payload with a NUL added (free() it) and *len its length without that NUL. */
struct xs_part {
    const void *data;
    size_t len;
};
#define XS_MAX_PARTS 4 /* parts of one request */
int xs_request(uint32_t type, xs_tx_t tx, const struct xs_part *parts, unsigned n,
               char **reply, uint32_t *len);
/* The same for an operation whose answer carries nothing but "OK" (write,
 * watch, unwatch, transaction end): the answer is dropped. */
static inline int xs_request_ack(uint32_t type, xs_tx_t tx, const struct xs_part *parts,
                                 unsigned n)
{
    char *reply;
    uint32_t len;
    int rc = xs_request(type, tx, parts, n, &reply, &len);
    if (!rc)
        free(reply);
    return rc;
}

/* Counters for `xs stats` and tests: messages whose answer was thrown away
 * as malformed, answers nobody asked for, requests that timed out. */
struct xs_stats {
    unsigned long requests, replies, watch_events;
    unsigned long bad_messages, unexpected, timeouts, ring_resets;
};
void xs_get_stats(struct xs_stats *s);

#endif
