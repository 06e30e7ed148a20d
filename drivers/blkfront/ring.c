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
 * Only the disk's thread calls in here (blkfront.c: the event handler there
 * just wakes it), and nothing here calls back up but the function
 * blk_ring_take is given. What the backend writes is checked before use:
 *   - rsp_prod may never run ahead of the requests we produced: if it does,
 *     the ring is stopped (d->broken) and not read any further;
 *   - each response is copied once out of the shared page;
 *   - a response whose id is not a request in flight, or whose operation is
 *     not its request's, is reported; the first is dropped, the second
 *     fails its request.
 */
#include "kernel.h"
#include "blkfront_priv.h"
#include "events.h"
#include "grant.h"
#include "mm.h"

void blk_ring_init(struct blkdev *d, void *page)
{
    struct blkif_sring *s = page;
    SHARED_RING_INIT(s);
    FRONT_RING_INIT(&d->ring, s, PAGE_SIZE);
}

int blk_slot_pages(struct blk_slot *s, const void *data, size_t bytes)
{
    unsigned nseg = (unsigned)((bytes + XEN_PAGE_SIZE - 1) / XEN_PAGE_SIZE);
    for (unsigned j = 0; j < nseg; j++) {
        s->grefs[j] = -1;
        if (!(s->pages[j] = page_alloc(0))) {
            blk_slot_free(s);
            return -XEN_ENOMEM;
        }
        /* The backend sees whole pages: nothing but the request's bytes. */
        size_t off = (size_t)j * XEN_PAGE_SIZE, here = 0;
        if (data) {
            here = bytes - off < XEN_PAGE_SIZE ? bytes - off : XEN_PAGE_SIZE;
            memcpy(s->pages[j], (const uint8_t *)data + off, here);
        }
        memset((uint8_t *)s->pages[j] + here, 0, XEN_PAGE_SIZE - here);
    }
    s->nseg = (uint8_t)nseg;
    return 0;
}

void blk_slot_free(struct blk_slot *s)
{
    for (unsigned j = 0; j < BLK_SEG_MAX; j++) {
        if (s->pages[j])
            page_free(s->pages[j], 0);
        s->pages[j] = NULL;
        s->grefs[j] = -1;
    }
    s->nseg = 0;
    s->req = NULL;
    s->state = SLOT_FREE;
}

bool blk_slot_revoke(struct blkdev *d, struct blk_slot *s)
{
    bool revoked = true;
    for (unsigned j = 0; j < s->nseg; j++)
        if (gnttab_end_or_defer(&s->grefs[j], &s->pages[j],
                               "blkfront: %s: backend still maps a page of request 0x%llx",
                               d->name, (unsigned long long)s->id))
            revoked = false;
    return revoked;
}

int blk_slot_issue(struct blkdev *d, struct blk_slot *s, uint8_t op, uint64_t sector,
                   size_t bytes)
{
    bool readonly_grant = op != BLKIF_OP_READ; /* the backend only reads our data */
    for (unsigned j = 0; j < s->nseg; j++) {
        int ref = gnttab_grant_page(d->fe.backend_id, s->pages[j], readonly_grant);
        if (ref < 0) {
            printk("blkfront: %s: cannot grant a data page: %s\n", d->name, xen_errname(ref));
            /* Never announced, but a backend may guess a reference: end
             * them as any other (a page it mapped is not reused). */
            (void)blk_slot_revoke(d, s);
            blk_slot_free(s);
            return ref;
        }
        s->grefs[j] = ref;
    }
    s->gen++;
    s->id = ((uint64_t)s->gen << BLK_ID_SLOT_BITS) | (uint64_t)(s - d->slots);
    s->op = op;
    s->state = SLOT_INFLIGHT;

    struct blkif_request *req = RING_GET_REQUEST(&d->ring, d->ring.req_prod_pvt);
    req->operation = op;
    req->nr_segments = s->nseg;
    req->handle = (uint16_t)d->vdev;
    req->id = s->id;
    req->sector_number = sector;
    for (unsigned j = 0; j < s->nseg; j++) {
        size_t left = bytes - (size_t)j * XEN_PAGE_SIZE;
        size_t here = left < XEN_PAGE_SIZE ? left : XEN_PAGE_SIZE;
        req->seg[j].gref = (grant_ref_t)s->grefs[j];
        req->seg[j].first_sect = 0;
        req->seg[j].last_sect = (uint8_t)(here / XEN_BLKIF_SECTOR_SIZE - 1);
    }
    d->ring.req_prod_pvt++;
    int notify;
    RING_PUSH_REQUESTS_AND_CHECK_NOTIFY(&d->ring, notify);
    d->requests++;
    if (notify)
        (void)frontend_notify(&d->fe); /* a failure is printed by evtchn_send */
    return 0;
}

static struct blk_slot *slot_of(struct blkdev *d, const struct blkif_response *r)
{
    unsigned idx = (unsigned)(r->id & ((1u << BLK_ID_SLOT_BITS) - 1));
    struct blk_slot *s = idx < BLK_SLOTS ? &d->slots[idx] : NULL;
    if (!s || s->id != r->id || s->state == SLOT_FREE) {
        d->bad_responses++;
        printk("blkfront: %s: backend sent a response with unknown id 0x%llx: dropped\n",
               d->name, (unsigned long long)r->id);
        return NULL;
    }
    return s;
}

bool blk_ring_take(struct blkdev *d, void (*done)(struct blkdev *, struct blk_slot *, int16_t))
{
    if (d->broken || !d->ring.sring)
        return !d->broken;
    for (;;) {
        RING_IDX prod = READ_ONCE(d->ring.sring->rsp_prod);
        xen_rmb(); /* the responses up to prod, after reading prod */
        if (!RING_RSP_PROD_OK(&d->ring, prod)) {
            printk("blkfront: %s: backend sent rsp_prod %u with only %u requests outstanding "
                   "(rsp_cons %u): ring stopped\n", d->name, (unsigned)prod,
                   (unsigned)(d->ring.req_prod_pvt - d->ring.rsp_cons),
                   (unsigned)d->ring.rsp_cons);
            d->bad_responses++;
            d->broken = true;
            return false;
        }
        while (d->ring.rsp_cons != prod) {
            /* One copy out of the shared page: the backend may change it. */
            struct blkif_response r;
            memcpy(&r, RING_GET_RESPONSE(&d->ring, d->ring.rsp_cons), sizeof(r));
            d->ring.rsp_cons++;
            struct blk_slot *s = slot_of(d, &r);
            if (!s)
                continue;
            int16_t status = r.status;
            if (r.operation != s->op) {
                printk("blkfront: %s: backend sent operation %u for request 0x%llx (operation "
                       "%u): failed\n", d->name, (unsigned)r.operation,
                       (unsigned long long)r.id, (unsigned)s->op);
                status = BLKIF_RSP_ERROR;
            }
            done(d, s, status);
        }
        int more;
        RING_FINAL_CHECK_FOR_RESPONSES(&d->ring, more);
        if (!more)
            return true;
    }
}

int blk_slots_alloc(struct blkdev *d)
{
    if (!d->slots && !(d->slots = calloc(BLK_SLOTS, sizeof(*d->slots))))
        return -XEN_ENOMEM;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        blk_slot_free(&d->slots[i]);
    d->in_flight = 0;
    return 0;
}

void blk_slots_drop(struct blkdev *d)
{
    free(d->slots);
    d->slots = NULL;
}

void blk_slots_release(struct blkdev *d)
{
    if (!d->slots)
        return;
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        if (s->state == SLOT_FREE)
            continue;
        (void)blk_slot_revoke(d, s);
        blk_slot_free(s);
    }
    d->in_flight = 0;
}

void blk_slots_forget(struct blkdev *d)
{
    if (!d->slots)
        return;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        blk_slot_free(&d->slots[i]); /* the old domain's grants: void, not ended */
    d->in_flight = 0;
}
