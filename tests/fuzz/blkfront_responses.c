/*
 * blkfront_responses.c — fuzzes what blkfront makes of its backend's
 * answers (drivers/blkfront/ring.c and blkfront.c; Xen 4.17
 * public/io/blkif.h, io/ring.h): responses {id, operation, status}, the
 * producer index, answers that never come (timeouts), a backend that goes
 * away, on a disk whose requests go through blkfront's own queue
 * (blk_submit, issue_one, cut into ring requests).
 *
 * blkfront.c is included, not linked, to run its thread's turn
 * (disk_turn) without the thread. The input picks the disk (sector size,
 * size, read-only, flush, start index), then is a script of turns, each
 * followed by one disk_turn: submit a read, write or flush; write raw
 * responses; answer a request in flight (its id; an operation and status
 * off the input); move rsp_prod anywhere; let BLK_IO_TIMEOUT_MS pass;
 * detach; have the backend keep (or not) the pages it answered for; run
 * short of pages. Checks: a request's done() runs once, with 0 or an error the
 * API names; in_flight counts the slots in flight, and while any is, the
 * thread has a deadline to wake for (a backend may never notify); when the disk stops,
 * every request submitted is over; every page is freed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "mm.h"
#include "blkfront.c"

enum turn {
    SUBMIT, RESPONSES, ANSWER, ANY_PROD, TIME_PASSES, DETACH, GRANTS_HELD, PAGES_SHORT, TURNS
};

#define MAX_TURNS 32
#define MAX_REQUESTS 8
#define MAX_SECTORS 64 /* with 4 KiB sectors, 8 requests more than fill the ring */

struct box {
    struct blk_request r;
    unsigned done_calls;
    bool submitted;
};

static struct box boxes[MAX_REQUESTS];
static uint64_t now;

uint64_t monotonic_ns(void)
{
    return now;
}

uint64_t deadline_ms(unsigned long timeout_ms)
{
    return now + (uint64_t)timeout_ms * NSEC_PER_MSEC;
}

int frontend_notify(struct xenbus_frontend *fe)
{
    return 0;
}

static void on_done(struct blk_request *r)
{
    struct box *b = r->arg;
    b->done_calls++;
    FUZZ_ASSERT(b->done_calls == 1 && r->over);
    FUZZ_ASSERT(r->rc == 0 || r->rc == -XEN_EIO || r->rc == -XEN_EOPNOTSUPP ||
                r->rc == -XEN_ETIMEDOUT || r->rc == -XEN_ENODEV || r->rc == -XEN_ENOMEM);
}

static void submit(struct blkdev *d, struct fuzz_in *in)
{
    struct box *b = &boxes[fin_u8(in) % MAX_REQUESTS];
    if (b->submitted)
        return;
    struct blk_request *r = &b->r;
    *r = (struct blk_request){.op = (enum blk_op)(fin_u8(in) % 3), .done = on_done, .arg = b};
    r->sector = fin_u16(in) % (d->sectors + 2);
    r->count = fin_u8(in) % (MAX_SECTORS + 1);
    if (r->op != BLK_FLUSH && r->count)
        r->buf = calloc(r->count, d->sector_size);
    int rc = blk_submit(d, r);
    if (rc) {
        FUZZ_ASSERT(rc == -XEN_ERANGE || rc == -XEN_EROFS || (rc == -XEN_ENODEV && d->detached) ||
                    (rc == -XEN_EIO && d->broken));
        free(r->buf);
        r->buf = NULL;
        return;
    }
    b->submitted = true;
}

/* The backend answers slot i (if it is the backend's). */
static void answer(struct blkdev *d, struct fuzz_in *in)
{
    static const int16_t statuses[] = {BLKIF_RSP_OKAY, BLKIF_RSP_ERROR, BLKIF_RSP_EOPNOTSUPP};
    struct blk_slot *s = &d->slots[fin_u8(in) % BLK_SLOTS];
    uint8_t how = fin_u8(in);
    if (s->state == SLOT_FREE || RING_RSP_PROD_OK(&d->ring, d->ring.sring->rsp_prod + 1) == 0)
        return;
    struct blkif_response *rsp = RING_GET_RESPONSE(&d->ring, d->ring.sring->rsp_prod);
    rsp->id = s->id;
    rsp->operation = how & 0x80 ? fin_u8(in) : s->op;
    rsp->status = how & 0x40 ? (int16_t)fin_u16(in) : statuses[how % 3];
    d->ring.sring->rsp_prod++;
}

static unsigned slots_in_flight(const struct blkdev *d)
{
    unsigned n = 0;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        n += d->slots[i].state == SLOT_INFLIGHT;
    return n;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct blkdev d;
    memset(&d, 0, sizeof(d));
    memset(boxes, 0, sizeof(boxes));
    now = 0;
    fuzz_grants_held(false);
    fuzz_pages_limit(-1);
    uint8_t shape = fin_u8(&in);
    strlcpy(d.name, "xvda", sizeof(d.name));
    d.sector_size = shape & 1 ? PAGE_SIZE : XEN_BLKIF_SECTOR_SIZE;
    d.readonly = shape & 2;
    d.flush = shape & 4;
    d.sectors = fin_u16(&in) + 1u;
    d.connected = true;
    d.thread = thread_current();
    d.queue_tail = &d.queue;
    d.rpage.page = page_alloc(0);
    blk_ring_init(&d, d.rpage.page);
    RING_IDX start = fin_u32(&in);
    d.ring.sring->req_prod = d.ring.sring->rsp_prod = start;
    d.ring.sring->req_event = d.ring.sring->rsp_event = start + 1;
    d.ring.req_prod_pvt = d.ring.rsp_cons = start;
    FUZZ_ASSERT(blk_slots_alloc(&d) == 0);

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        switch (fin_u8(&in) % TURNS) {
        case SUBMIT:
            submit(&d, &in);
            break;
        case RESPONSES:
            FIN_RESPONSES(&in, &d.ring, BLK_SLOTS + 1);
            break;
        case ANSWER:
            answer(&d, &in);
            break;
        case ANY_PROD:
            d.ring.sring->rsp_prod = fin_u32(&in);
            break;
        case TIME_PASSES:
            now += BLK_IO_TIMEOUT_MS * NSEC_PER_MSEC + 1;
            break;
        case DETACH:
            d.detached = true;
            break;
        case GRANTS_HELD:
            fuzz_grants_held(fin_u8(&in) & 1);
            break;
        case PAGES_SHORT: {
            uint8_t n = fin_u8(&in);
            fuzz_pages_limit(n & 0x80 ? -1 : fuzz_pages_out() + n % 16);
            break;
        }
        }
        RING_IDX cons = d.ring.rsp_cons;
        bool was_broken = d.broken;
        uint64_t next = disk_turn(&d);
        if (was_broken)
            FUZZ_ASSERT(d.ring.rsp_cons == cons);
        FUZZ_ASSERT(d.in_flight == slots_in_flight(&d));
        /* A request in flight has a deadline the thread wakes for, whether
         * or not the backend ever sends an event. */
        FUZZ_ASSERT(!d.in_flight || next != WAIT_FOREVER);
        FUZZ_ASSERT(d.ring.req_prod_pvt - d.ring.rsp_cons <= RING_SIZE(&d.ring));
    }
    d.stopping = true;
    fuzz_pages_limit(-1);
    (void)disk_turn(&d);
    for (unsigned i = 0; i < MAX_REQUESTS; i++) {
        FUZZ_ASSERT(!boxes[i].submitted || boxes[i].done_calls == 1);
        free(boxes[i].r.buf);
    }
    blk_slots_release(&d);
    blk_slots_drop(&d);
    page_free(d.rpage.page, 0);
    FUZZ_ASSERT(fuzz_pages_out() == 0);
    return 0;
}
