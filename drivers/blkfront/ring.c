/*
 * ring.c — blkfront's shared ring (interface manual: "Device drivers",
 * "Shared rings"; Xen 4.17 public/io/ring.h, public/io/blkif.h).
 *
 * One page holds a struct blkif_sring: we produce blkif_requests at
 * req_prod, the backend produces blkif_responses at rsp_prod, both in the
 * same array of RING_SIZE entries. A request names up to
 * BLKIF_MAX_SEGMENTS_PER_REQUEST granted pages, each with the first and
 * last 512-byte sector of the page to transfer.
 *
 * Responses are consumed in the event handler (upcall context, events
 * masked): it copies each response once out of the shared page, matches its
 * id to a slot, records the status and wakes the waiting thread. Threads
 * touch the ring and the slots only with events masked (irq_save), so the
 * two never interleave. What the backend writes is checked before use:
 *   - rsp_prod may never run ahead of the requests we produced: if it does,
 *     the ring is stopped (d->broken), every waiting request fails, and the
 *     ring is not read any further;
 *   - a response whose id is not a request in flight is reported and
 *     dropped;
 *   - a status other than BLKIF_RSP_OKAY fails that request.
 */
#include "kernel.h"
#include "blkfront_priv.h"
#include "events.h"
#include "grant.h"
#include "mm.h"
#include "time.h"

void blk_ring_init(struct blkdev *d, void *page)
{
    struct blkif_sring *s = page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&d->ring, s, PAGE_SIZE);
}

int blk_slots_alloc(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        memset(s, 0, sizeof(*s));
        for (unsigned j = 0; j < BLK_SEG_MAX; j++) {
            s->grefs[j] = -1;
            if (!(s->pages[j] = page_alloc(0)))
                return -XEN_ENOMEM;
        }
    }
    return 0;
}

void blk_slots_free(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        for (unsigned j = 0; j < BLK_SEG_MAX; j++) {
            gnttab_end_or_leak(&s->grefs[j], &s->pages[j],
                               "blkfront: %s: backend still maps a page of request 0x%llx",
                               d->name, (unsigned long long)s->id);
            if (s->pages[j])
                page_free(s->pages[j], 0);
            s->pages[j] = NULL;
        }
        s->waiter = NULL;
        s->state = SLOT_FREE;
    }
}

void blk_slots_forget(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        for (unsigned j = 0; j < BLK_SEG_MAX; j++) {
            s->grefs[j] = -1; /* the old domain's table: void, not ended */
            if (s->pages[j])
                page_free(s->pages[j], 0);
            s->pages[j] = NULL;
        }
        s->waiter = NULL;
        s->state = SLOT_FREE;
    }
}

/* End the grants of an answered slot (thread context). A grant the backend
 * still maps cannot be ended: that page stays the backend's for good (it
 * could still write it), the slot gets a fresh zeroed one, and false is
 * returned: what the page held is not the request's data. */
static bool slot_release(struct blkdev *d, struct blk_slot *s)
{
    bool revoked = true;
    for (unsigned j = 0; j < BLK_SEG_MAX; j++) {
        if (gnttab_end_or_leak(&s->grefs[j], &s->pages[j],
                               "blkfront: %s: backend still maps grant of request 0x%llx",
                               d->name, (unsigned long long)s->id)) {
            revoked = false;
            s->pages[j] = page_alloc(0);
            if (s->pages[j]) {
                memset(s->pages[j], 0, PAGE_SIZE);
            } else {
                printk("blkfront: %s: no page to replace it: disk stopped\n", d->name);
                d->broken = true;
            }
        }
    }
    s->waiter = NULL;
    s->state = SLOT_FREE;
    return revoked;
}

struct blk_slot *blk_slot_get(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        unsigned long flags = irq_save();
        uint8_t st = s->state;
        irq_restore(flags);
        if (st == SLOT_ORPHAN_DONE)
            (void)slot_release(d, s); /* answered at last: its pages are ours again */
        if (s->state == SLOT_FREE && !d->broken && !d->detached)
            return s;
    }
    return NULL;
}

int blk_slot_submit(struct blkdev *d, struct blk_slot *s, uint8_t op, uint64_t sector, size_t bytes)
{
    const size_t per_page = XEN_PAGE_SIZE;
    unsigned nseg = (unsigned)((bytes + per_page - 1) / per_page);
    if (nseg > BLK_SEG_MAX || bytes % XEN_BLKIF_SECTOR_SIZE)
        return -XEN_EINVAL;
    bool readonly_grant = op != BLKIF_OP_READ; /* the backend only reads our data */

    /* The backend sees whole pages: nothing but the request's bytes may be
     * in them (a read's pages are the backend's to fill; a write's last
     * page has room after the data). */
    if (op == BLKIF_OP_READ)
        for (unsigned j = 0; j < nseg; j++)
            memset(s->pages[j], 0, per_page);
    else if (nseg && bytes % per_page)
        memset((uint8_t *)s->pages[nseg - 1] + bytes % per_page, 0, per_page - bytes % per_page);

    for (unsigned j = 0; j < nseg; j++) {
        int ref = gnttab_grant_page(d->fe.backend_id, s->pages[j], readonly_grant);
        if (ref < 0) {
            printk("blkfront: %s: cannot grant a data page: %s\n", d->name, xen_errname(ref));
            /* Not announced yet, but a backend may guess a reference: end
             * them as any other (a page it mapped is not reused). */
            (void)slot_release(d, s);
            return ref;
        }
        s->grefs[j] = ref;
    }

    unsigned long flags = irq_save();
    if (d->detached || d->broken || RING_FULL(&d->ring)) {
        irq_restore(flags);
        (void)slot_release(d, s);
        if (d->detached) {
            printk("blkfront: %s is detached\n", d->name);
            return -XEN_ENODEV;
        }
        printk("blkfront: %s: ring %s: request refused\n", d->name,
               d->broken ? "stopped" : "full");
        return d->broken ? -XEN_EIO : -XEN_EBUSY;
    }
    s->gen++;
    s->id = ((uint64_t)s->gen << BLK_ID_SLOT_BITS) | (uint64_t)(s - d->slots);
    s->op = op;
    s->nseg = (uint8_t)nseg;
    s->status = BLKIF_RSP_ERROR;
    s->waiter = thread_current();
    s->state = SLOT_INFLIGHT;

    struct blkif_request *req = RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
    req->operation = op;
    req->nr_segments = (uint8_t)nseg;
    req->handle = (uint16_t)d->vdev;
    req->id = s->id;
    req->sector_number = sector;
    for (unsigned j = 0; j < nseg; j++) {
        size_t left = bytes - (size_t)j * per_page;
        size_t here = left < per_page ? left : per_page;
        req->seg[j].gref = (grant_ref_t)s->grefs[j];
        req->seg[j].first_sect = 0;
        req->seg[j].last_sect = (uint8_t)(here / XEN_BLKIF_SECTOR_SIZE - 1);
    }
    d->ring.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->ring, notify);
    d->requests++;
    irq_restore(flags);
    if (notify)
        (void)frontend_notify(&d->fe); /* a failure is printed by evtchn_send */
    return 0;
}

/* The ring can no longer be used: fail every request in flight; their
 * pages stay granted (the backend may still be using them). */
static void fail_in_flight(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        if (s->state == SLOT_INFLIGHT) {
            s->status = BLKIF_RSP_ERROR;
            s->state = SLOT_DONE;
            if (s->waiter)
                thread_wake(s->waiter);
        }
    }
}

/* Upcall context: the ring can no longer be trusted. */
static void ring_stop(struct blkdev *d)
{
    d->broken = true;
    fail_in_flight(d);
}

void blk_ring_detach(struct blkdev *d)
{
    unsigned long flags = irq_save();
    d->detached = true;
    fail_in_flight(d);
    irq_restore(flags);
}

static void complete(struct blkdev *d, const struct blkif_response *r)
{
    uint64_t id = r->id;
    unsigned idx = (unsigned)(id & ((1u << BLK_ID_SLOT_BITS) - 1));
    struct blk_slot *s = idx < BLK_SLOTS ? &d->slots[idx] : NULL;
    if (!s || s->id != id || (s->state != SLOT_INFLIGHT && s->state != SLOT_ORPHAN)) {
        d->bad_responses++;
        printk("blkfront: %s: backend sent a response with unknown id 0x%llx: dropped\n",
               d->name, (unsigned long long)id);
        return;
    }
    s->status = r->status;
    if (r->operation != s->op) {
        printk("blkfront: %s: backend sent operation %u for request 0x%llx (operation %u): failed\n",
               d->name, (unsigned)r->operation, (unsigned long long)id, (unsigned)s->op);
        s->status = BLKIF_RSP_ERROR;
    }
    if (s->state == SLOT_ORPHAN) {
        s->state = SLOT_ORPHAN_DONE;
        return;
    }
    s->state = SLOT_DONE;
    if (s->waiter)
        thread_wake(s->waiter);
}

void blk_ring_handler(evtchn_port_t port, void *arg)
{
    struct blkdev *d = arg;
    if (d->broken || d->detached || !d->ring.sring)
        return;
    for (;;) {
        RING_IDX prod = READ_ONCE(d->ring.sring->rsp_prod);
        rmb(); /* the responses up to prod, after reading prod */
        if (!RING_RSP_PROD_OK(&d->ring, prod)) {
            printk("blkfront: %s: backend sent rsp_prod %u with only %u requests outstanding "
                   "(rsp_cons %u): ring stopped\n", d->name, (unsigned)prod,
                   (unsigned)(d->ring.req_prod_pvt - d->ring.rsp_cons),
                   (unsigned)d->ring.rsp_cons);
            d->bad_responses++;
            ring_stop(d);
            return;
        }
        while (d->ring.rsp_cons != prod) {
            /* One copy out of the shared page: the backend may change it. */
            struct blkif_response r = *RING_GET_RESPONSE(&d->ring, d->ring.rsp_cons);
            barrier();
            d->ring.rsp_cons++;
            complete(d, &r);
        }
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
        if (!more)
            return;
    }
}

struct blk_waiter {
    struct timer timer; /* first: the timer callback gets its address */
    struct thread *thread;
    bool expired;
};

static void waiter_timeout(struct timer *t)
{
    struct blk_waiter *w = (struct blk_waiter *)t;
    w->expired = true;
    thread_wake(w->thread);
}

int blk_slot_wait(struct blkdev *d, struct blk_slot *s, unsigned long timeout_ms)
{
    struct blk_waiter w = {.timer = {.fn = waiter_timeout}, .thread = thread_current()};
    unsigned long flags = irq_save();
    timer_arm(&w.timer, monotonic_ns() + (uint64_t)timeout_ms * NSEC_PER_MSEC);
    while (s->state == SLOT_INFLIGHT && !w.expired)
        thread_block();
    timer_cancel(&w.timer);
    if (s->state == SLOT_INFLIGHT) {
        s->state = SLOT_ORPHAN; /* pages stay granted until it is answered */
        s->waiter = NULL;
        irq_restore(flags);
        d->errors++;
        printk("blkfront: %s: no answer to request 0x%llx in %lu ms\n", d->name,
               (unsigned long long)s->id, timeout_ms);
        return -XEN_ETIMEDOUT;
    }
    irq_restore(flags);
    if (d->detached) {
        /* Failed by the detach: the pages may still be in the backend's
         * hands, blk_slots_free decides after the close. */
        s->state = SLOT_ORPHAN;
        s->waiter = NULL;
        d->errors++;
        printk("blkfront: %s is detached: request 0x%llx failed\n", d->name,
               (unsigned long long)s->id);
        return -XEN_ENODEV;
    }

    int16_t status = s->status;
    int rc = 0;
    if (status != BLKIF_RSP_OKAY) {
        d->errors++;
        rc = status == BLKIF_RSP_EOPNOTSUPP ? -XEN_EOPNOTSUPP : -XEN_EIO;
        if (!d->broken)
            printk("blkfront: %s: backend sent status %d for request 0x%llx (operation %u)\n",
                   d->name, (int)status, (unsigned long long)s->id, (unsigned)s->op);
    }
    if (d->broken) {
        /* Stopped ring: the pages may still be in the backend's hands. */
        s->state = SLOT_ORPHAN;
        return -XEN_EIO;
    }
    if (!slot_release(d, s) && !rc) {
        d->errors++;
        printk("blkfront: %s: request 0x%llx failed: the backend kept a page mapped after "
               "answering, so its data cannot be trusted\n", d->name, (unsigned long long)s->id);
        rc = -XEN_EIO;
    }
    return rc;
}
