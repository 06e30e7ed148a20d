/*
 * xenstore.c — the XenStore transport (interface manual: "XenStore"; Xen
 * 4.17 public/io/xs_wire.h, docs/misc/xenstore.txt and xenstore-ring.txt).
 *
 * The page at start_info->store_mfn (a machine frame: m2p gives its pfn, the
 * direct map its address) holds two 1 KiB byte rings with free-running
 * 32-bit indexes: we produce requests (req, advance req_prod) and consume
 * answers and watch events (rsp, advance rsp_cons); after either we notify
 * xenstored on start_info->store_evtchn. Every message is a struct
 * xsd_sockmsg header (type, req_id, tx_id, len) and `len` payload bytes;
 * messages may be longer than a ring, so both sides copy them in pieces.
 *
 * Who does what:
 *   - a caller (any thread) takes a slot in a small table of requests in
 *     flight, gives it a fresh req_id, writes its message into the request
 *     ring and sleeps (thread_block) until the slot is answered or
 *     XS_TIMEOUT_MS pass;
 *   - the event handler only wakes the reader thread ("xenstore"): handlers
 *     must not block or allocate (events.h, mm.h);
 *   - the reader copies messages off the response ring and hands each one to
 *     its waiter by req_id, or to the watch table (xenstore_watch.c).
 *
 * Nothing from the ring is trusted. Index distances larger than the ring,
 * a header whose len exceeds XENSTORE_PAYLOAD_MAX: the ring is resynced
 * (what it holds is dropped), affected waiters get -XEN_EIO, a line says why.
 * An answer with a req_id nobody waits for, or of the wrong type, is dropped
 * with a line. Our own copies of the indexes we own (req_prod, rsp_cons) are
 * the ones used, so a page scribbled on cannot move them.
 */
#include "kernel.h"
#include "events.h"
#include "mm.h"
#include "sched.h"
#include "suspend.h"
#include "time.h"
#include "xenstore.h"
#include "xenstore_priv.h"
#include "wait.h"

#define XS_MAX_PENDING 8 /* requests in flight at once (threads waiting) */
#define XS_HDR_LEN ((uint32_t)sizeof(struct xsd_sockmsg))

struct pending {
    bool used, done;
    uint32_t req_id, type;
    struct thread *waiter;
    int err;          /* set with done: 0 or -XEN_E* */
    uint32_t rtype;   /* answer's type */
    char *body;       /* malloc'd, NUL added */
    uint32_t len;
};

static struct pending pending[XS_MAX_PENDING];
static struct xenstore_domain_interface *ring;
static evtchn_port_t store_port;
static struct thread *reader;
static bool ready, init_tried, writing;
static uint32_t next_req_id = 1;
static XENSTORE_RING_IDX req_prod, rsp_cons; /* ours: never re-read from the page */
static struct xs_stats stats;

/* The message being assembled by the reader. */
static struct xsd_sockmsg in_hdr;
static char in_body[XENSTORE_PAYLOAD_MAX + 1];
static uint32_t in_got; /* bytes of header + body so far */

void xs_count_bad(void) { stats.bad_messages++; }

void xs_get_stats(struct xs_stats *s)
{
    *s = stats;
}

bool xs_available(void)
{
    return ready;
}

static void notify(void)
{
    int rc = evtchn_send(store_port);
    if (rc)
        printk("xenstore: notify port %u: %s\n", store_port, xen_errname(rc));
}

/* ---- answers: from the reader thread ------------------------------------ */

static struct pending *find_pending(uint32_t req_id)
{
    for (unsigned i = 0; i < XS_MAX_PENDING; i++)
        if (pending[i].used && !pending[i].done && pending[i].req_id == req_id)
            return &pending[i];
    return NULL;
}

static void complete(struct pending *p, int err)
{
    p->err = err;
    p->done = true;
    thread_wake(p->waiter);
}

void xs_handle_message(const struct xsd_sockmsg *h, const char *body)
{
    if (h->type == XS_WATCH_EVENT) {
        stats.watch_events++;
        if (!xs_watch_deliver(body, h->len)) {
            stats.bad_messages++;
            printk("xenstore: malformed watch event (%u bytes) dropped\n", h->len);
        }
        return;
    }
    struct pending *p = find_pending(h->req_id);
    if (!p) {
        stats.unexpected++;
        printk("xenstore: answer for unknown req_id %u (type %u, %u bytes) dropped\n",
               h->req_id, h->type, h->len);
        return;
    }
    stats.replies++;
    if (h->type != p->type && h->type != XS_ERROR) {
        stats.bad_messages++;
        printk("xenstore: req_id %u: answer of type %u to a request of type %u\n",
               h->req_id, h->type, p->type);
        complete(p, -XEN_EIO);
        return;
    }
    char *copy = malloc(h->len + 1);
    if (!copy) {
        complete(p, -XEN_ENOMEM);
        return;
    }
    memcpy(copy, body, h->len);
    copy[h->len] = '\0';
    p->body = copy;
    p->len = h->len;
    p->rtype = h->type;
    complete(p, 0);
}

/* Drop whatever the response ring holds (indexes or a header we cannot
 * trust: the next message boundary is unknown). Waiters whose answer may
 * have been in it get -XEN_EIO. */
static void resync(const char *why, bool fail_all)
{
    stats.ring_resets++;
    stats.bad_messages++;
    printk("xenstore: %s; dropping what the response ring holds\n", why);
    rsp_cons = READ_ONCE(ring->rsp_prod);
    WRITE_ONCE(ring->rsp_cons, rsp_cons);
    for (unsigned i = 0; i < XS_MAX_PENDING; i++) {
        struct pending *p = &pending[i];
        if (p->used && !p->done && (fail_all || p->req_id == in_hdr.req_id))
            complete(p, -XEN_EIO);
    }
    in_got = 0;
    notify();
}

/* Copy up to `want` bytes off the response ring; -1 if the indexes are
 * impossible. */
static int rsp_take(char *dst, uint32_t want)
{
    XENSTORE_RING_IDX prod = READ_ONCE(ring->rsp_prod);
    xen_rmb(); /* the index before the data it covers */
    uint32_t avail = prod - rsp_cons;
    if (avail > XENSTORE_RING_SIZE)
        return -1;
    if (avail > want)
        avail = want;
    for (uint32_t i = 0; i < avail; i++)
        dst[i] = READ_ONCE(ring->rsp[MASK_XENSTORE_IDX(rsp_cons + i)]);
    xen_mb(); /* done reading before the space is given back */
    rsp_cons += avail;
    WRITE_ONCE(ring->rsp_cons, rsp_cons);
    return (int)avail;
}

/* Take everything the ring holds; true if anything was consumed. */
static bool reader_poll(void)
{
    bool consumed = false;
    for (;;) {
        int n;
        if (in_got < XS_HDR_LEN)
            n = rsp_take((char *)&in_hdr + in_got, XS_HDR_LEN - in_got);
        else
            n = rsp_take(in_body + (in_got - XS_HDR_LEN), in_hdr.len - (in_got - XS_HDR_LEN));
        if (n < 0) {
            char why[80];
            snprintf(why, sizeof(why), "impossible response indexes (prod %u, cons %u)",
                     READ_ONCE(ring->rsp_prod), rsp_cons);
            resync(why, true);
            return true;
        }
        in_got += (uint32_t)n;
        consumed |= n > 0;
        if (in_got == XS_HDR_LEN && in_hdr.len > XENSTORE_PAYLOAD_MAX) {
            char why[96];
            snprintf(why, sizeof(why), "answer req_id %u claims %u bytes (max %u)",
                     in_hdr.req_id, in_hdr.len, XENSTORE_PAYLOAD_MAX);
            resync(why, false);
            return true;
        }
        if (in_got >= XS_HDR_LEN && in_got - XS_HDR_LEN == in_hdr.len) {
            in_body[in_hdr.len] = '\0';
            in_got = 0;
            xs_handle_message(&in_hdr, in_body);
            continue;
        }
        if (n == 0) {
            if (consumed)
                notify(); /* xenstored may be waiting for room */
            return consumed;
        }
    }
}

static void reader_main(void *arg)
{
    uint32_t reported = XENSTORE_ERROR_NONE;
    (void)arg;
    for (;;) {
        uint32_t err = READ_ONCE(ring->error); /* set by xenstored, if it has the feature */
        if (err != reported) {
            printk("xenstore: xenstored reports ring error %u\n", err);
            reported = err;
        }
        if (!reader_poll())
            thread_block(); /* until store_event; an early wake is kept */
    }
}

static void store_event(evtchn_port_t port, void *data) /* upcall context */
{
    (void)port;
    (void)data;
    if (reader)
        thread_wake(reader);
}

/* ---- requests ------------------------------------------------------------ */

static bool slot_free(void *arg)
{
    struct pending **out = arg;
    for (unsigned i = 0; i < XS_MAX_PENDING; i++)
        if (!pending[i].used) {
            *out = &pending[i];
            return true;
        }
    return false;
}

/* Copy into the request ring, waiting (bounded) for room; *put counts the
 * bytes that went in (all of them, unless an error is returned). */
static int req_put(const void *src, size_t len, uint64_t deadline, size_t *put)
{
    const char *s = src;
    *put = 0;
    while (len) {
        XENSTORE_RING_IDX cons = READ_ONCE(ring->req_cons);
        xen_mb(); /* read cons before writing into the space it frees */
        uint32_t used = req_prod - cons;
        if (used > XENSTORE_RING_SIZE) {
            stats.bad_messages++;
            printk("xenstore: impossible request indexes (prod %u, cons %u)\n", req_prod, cons);
            return -XEN_EIO;
        }
        uint32_t room = XENSTORE_RING_SIZE - used;
        if (!room) {
            notify();
            if (monotonic_ns() > deadline)
                return -XEN_ETIMEDOUT;
            wait_for_event();
            continue;
        }
        uint32_t chunk = len < room ? (uint32_t)len : room;
        for (uint32_t i = 0; i < chunk; i++)
            ring->req[MASK_XENSTORE_IDX(req_prod + i)] = s[i];
        xen_wmb(); /* data before the index that publishes it */
        req_prod += chunk;
        WRITE_ONCE(ring->req_prod, req_prod);
        s += chunk;
        len -= chunk;
        *put += chunk;
    }
    return 0;
}

/*
 * A message is never left half-written: xenstored would read the next one's
 * bytes as its rest, and the stream would stay misframed for good. When the
 * ring stays full past the deadline in the middle of a message, what is
 * left of it is kept here and goes out first, before the next message (the
 * caller of the cut one has its -XEN_ETIMEDOUT, and its late answer finds
 * no waiter).
 */
static char backlog[XS_HDR_LEN + XENSTORE_PAYLOAD_MAX];
static size_t backlog_len, backlog_off;

static int flush_backlog(uint64_t deadline)
{
    size_t put;
    int rc = req_put(backlog + backlog_off, backlog_len - backlog_off, deadline, &put);
    backlog_off += put;
    if (backlog_off == backlog_len)
        backlog_off = backlog_len = 0;
    return rc;
}

static int send_message(const struct xsd_sockmsg *h, const struct xs_part *parts, unsigned n)
{
    uint64_t deadline = monotonic_ns() + XS_TIMEOUT_MS * NSEC_PER_MSEC;
    while (writing) /* another thread is half-way through a long message */
        wait_for_event();
    writing = true;
    int rc = backlog_len ? flush_backlog(deadline) : 0;
    if (rc) { /* still stuck in the earlier message: this one is not begun */
        writing = false;
        return rc;
    }
    struct xs_part all[1 + XS_MAX_PARTS];
    unsigned count = 0;
    all[count++] = (struct xs_part){h, sizeof(*h)};
    for (unsigned i = 0; i < n && count < ARRAY_SIZE(all); i++)
        all[count++] = parts[i];
    size_t sent = 0;
    for (unsigned i = 0; !rc && i < count; i++) {
        size_t put;
        rc = req_put(all[i].data, all[i].len, deadline, &put);
        sent += put;
        if (rc && sent) { /* cut mid-message: keep the rest for later */
            size_t at = 0;
            for (unsigned j = i; j < count; j++) {
                size_t from = j == i ? put : 0;
                memcpy(backlog + at, (const char *)all[j].data + from, all[j].len - from);
                at += all[j].len - from;
            }
            backlog_len = at;
            backlog_off = 0;
            printk("xenstore: request ring full for %lu ms mid-message; %u bytes held back "
                   "to keep the stream framed\n", XS_TIMEOUT_MS, (unsigned)at);
        }
    }
    writing = false;
    notify();
    return rc;
}

static bool slot_done(void *arg)
{
    return READ_ONCE(((struct pending *)arg)->done);
}

int xs_request(uint32_t type, xs_tx_t tx, const struct xs_part *parts, unsigned n,
               char **reply, uint32_t *len)
{
    if (!xs_ensure_ready())
        return -XEN_ENODEV;
    size_t total = 0;
    for (unsigned i = 0; i < n; i++)
        total += parts[i].len;
    if (total > XENSTORE_PAYLOAD_MAX || n > XS_MAX_PARTS)
        return -XEN_E2BIG;

    /* All slots busy: other threads' answers free them; poll on events. */
    struct pending *p = NULL;
    uint64_t deadline = monotonic_ns() + XS_TIMEOUT_MS * NSEC_PER_MSEC;
    while (!slot_free(&p)) {
        if (monotonic_ns() > deadline)
            return -XEN_EBUSY;
        wait_for_event();
    }
    *p = (struct pending){.used = true, .req_id = next_req_id++, .type = type,
                          .waiter = thread_current()};
    if (!next_req_id)
        next_req_id = 1;
    stats.requests++;

    struct xsd_sockmsg h = {.type = type, .req_id = p->req_id, .tx_id = tx, .len = (uint32_t)total};
    int rc = send_message(&h, parts, n);
    if (!rc && wait_until(slot_done, p, deadline_ms(XS_TIMEOUT_MS))) {
        stats.timeouts++;
        printk("xenstore: no answer to request type %u (req_id %u) in %lu ms\n", type,
               p->req_id, XS_TIMEOUT_MS);
        rc = -XEN_ETIMEDOUT;
    }
    if (!rc)
        rc = p->err;
    if (!rc && p->rtype == XS_ERROR)
        rc = xs_error_code(p->body, p->len);
    if (!rc) {
        *reply = p->body;
        *len = p->len;
    } else {
        free(p->body);
    }
    p->used = false; /* a late answer now finds no slot: dropped with a line */
    return rc;
}

/* xenstored's error names are errno names ("ENOENT"); Xen's errno.h has the
 * same names. */
int xs_error_code(const char *body, uint32_t len)
{
    if (len > 0 && len < 32) { /* body[len] is a NUL we added */
        int e = xen_errno_from_name(body);
        if (e)
            return e;
    }
    stats.bad_messages++;
    printk("xenstore: error answer '%.*s' is not an errno name\n", (int)(len < 32 ? len : 32),
           body);
    return -XEN_EIO;
}

/* ---- start of day ---------------------------------------------------------- */

bool xs_ensure_ready(void)
{
    if (ready || init_tried)
        return ready;
    init_tried = true;
    if (xen_is_dom0())
        return false; /* Xenolith is dom0: there is no xenstored to talk to */

    unsigned long pfn = mfn_to_pfn(start_info->store_mfn);
    if (pfn == M2P_INVALID || pfn >= mm_direct_pfns()) {
        printk("xenstore: store mfn %#lx is not one of our pages\n",
               (unsigned long)start_info->store_mfn);
        return false;
    }
    ring = pfn_to_virt(pfn);
    store_port = start_info->store_evtchn;
    if (READ_ONCE(ring->connection) != XENSTORE_CONNECTED)
        printk("xenstore: ring says connection %u (not connected yet)\n", ring->connection);
    req_prod = READ_ONCE(ring->req_prod);
    rsp_cons = READ_ONCE(ring->rsp_cons);

    reader = thread_create("xenstore", reader_main, NULL);
    if (!reader) {
        printk("xenstore: cannot create the reader thread\n");
        return false;
    }
    int rc = evtchn_set_handler(store_port, store_event, NULL);
    if (rc) {
        printk("xenstore: event channel %u: %s\n", store_port, xen_errname(rc));
        return false; /* the reader stays blocked forever: harmless */
    }
    ready = true;
    return true;
}

/* ---- suspend and resume (suspend.h) --------------------------------------- */

static bool idle(void *arg)
{
    (void)arg;
    for (unsigned i = 0; i < XS_MAX_PENDING; i++)
        if (pending[i].used)
            return false;
    return true;
}

int xs_suspend(void)
{
    if (!ready)
        return 0;
    /* A request half-way through xenstored would be answered to nobody (a
     * new domain) or cut in two: let those in flight finish. No thread
     * starts a new one meanwhile: the caller does not switch threads
     * between this and the suspend. */
    for (unsigned waited = 0; !idle(NULL); waited++) {
        if (waited * 10 >= XS_TIMEOUT_MS) {
            printk("xenstore: requests still in flight after %lu ms\n", XS_TIMEOUT_MS);
            return -XEN_EBUSY;
        }
        sleep_ms(10);
    }
    return 0;
}

void xs_resume(bool new_domain)
{
    if (!ready || !new_domain)
        return;
    /* The ring is our page (same pfn); a new xenstored connection on a new
     * port. Whatever the old xenstored left unread in it is not for us. */
    store_port = start_info->store_evtchn;
    rsp_cons = READ_ONCE(ring->rsp_prod);
    WRITE_ONCE(ring->rsp_cons, rsp_cons);
    req_prod = READ_ONCE(ring->req_prod);
    in_got = 0;
    int rc = evtchn_set_handler(store_port, store_event, NULL);
    if (rc)
        printk("xenstore: event channel %u after resume: %s\n", store_port, xen_errname(rc));
}

int xenstore_init(void)
{
    if (xen_is_dom0()) {
        printk("xenstore: none in dom0 mode (Xenolith is dom0, no xenstored)\n");
        return 0;
    }
    if (!xs_ensure_ready())
        return -XEN_ENODEV;
    printk("xenstore: ring at pfn %#lx, event channel %u, features %#x\n", virt_to_pfn(ring),
           store_port, READ_ONCE(ring->server_features));
    return 0;
}
