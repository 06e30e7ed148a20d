/*
 * blkfront_ring.c — fuzzes what blkfront reads of its ring
 * (drivers/blkfront/ring.c; Xen 4.17 public/io/blkif.h, io/ring.h): the
 * backend's responses {id, operation, status} and its producer index.
 *
 * The input is a script of turns on a disk whose ring and slots ring.c
 * sets up itself (blk_ring_init, blk_slots_alloc; indexes start where the
 * input says): issue a read, write or flush of some sectors
 * (blk_slot_pages, blk_slot_issue), write responses and move rsp_prod by
 * their count, or move it anywhere. Each turn ends with blk_ring_take,
 * whose completion callback frees the slot as blkfront.c does. The harness
 * checks what the kernel promised: only a slot in flight is completed,
 * with its own operation or an error; a stopped ring is not read again;
 * a ring read to its end has rsp_cons == rsp_prod; at the end every page
 * is freed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "mm.h"
#include "blkfront_priv.h"

enum turn { ISSUE, RESPONSES, ANY_PROD, TURNS };

#define MAX_TURNS 24
#define SECTOR XEN_BLKIF_SECTOR_SIZE

static const uint8_t ops[] = {BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE};

int frontend_notify(struct xenbus_frontend *fe)
{
    return 0;
}

static void done(struct blkdev *d, struct blk_slot *s, int16_t status)
{
    FUZZ_ASSERT(s >= d->slots && s < d->slots + BLK_SLOTS);
    FUZZ_ASSERT(s->state == SLOT_INFLIGHT);
    (void)blk_slot_revoke(d, s);
    blk_slot_free(s);
    d->in_flight--;
}

static void issue(struct blkdev *d, struct fuzz_in *in)
{
    uint8_t op = ops[fin_u8(in) % sizeof(ops)];
    size_t bytes = op == BLKIF_OP_FLUSH_DISKCACHE ? 0
                   : (size_t)(fin_u8(in) % (BLK_REQ_MAX_BYTES / SECTOR) + 1) * SECTOR;
    uint64_t sector = fin_u32(in);
    if (RING_FULL(&d->ring))
        return;
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        if (s->state != SLOT_FREE)
            continue;
        FUZZ_ASSERT(blk_slot_pages(s, NULL, bytes) == 0);
        FUZZ_ASSERT(blk_slot_issue(d, s, op, sector, bytes) == 0);
        d->in_flight++;
        return;
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    static struct blkdev d;
    memset(&d, 0, sizeof(d));
    strlcpy(d.name, "xvda", sizeof(d.name));
    d.rpage.page = page_alloc(0);
    blk_ring_init(&d, d.rpage.page);
    RING_IDX start = fin_u32(&in);
    d.ring.sring->req_prod = d.ring.sring->rsp_prod = start;
    d.ring.sring->req_event = d.ring.sring->rsp_event = start + 1;
    d.ring.req_prod_pvt = d.ring.rsp_cons = start;
    FUZZ_ASSERT(blk_slots_alloc(&d) == 0);

    for (unsigned t = 0; t < MAX_TURNS && in.n; t++) {
        switch (fin_u8(&in) % TURNS) {
        case ISSUE:
            issue(&d, &in);
            continue;
        case RESPONSES: {
            unsigned k = fin_u8(&in) % (BLK_SLOTS + 2);
            for (unsigned i = 0; i < k; i++)
                fin_bytes(&in, RING_GET_RESPONSE(&d.ring, d.ring.rsp_cons + i),
                          sizeof(struct blkif_response));
            d.ring.sring->rsp_prod = d.ring.rsp_cons + k;
            break;
        }
        case ANY_PROD:
            d.ring.sring->rsp_prod = fin_u32(&in);
            break;
        }
        bool was_broken = d.broken;
        RING_IDX cons = d.ring.rsp_cons;
        bool ok = blk_ring_take(&d, done);
        FUZZ_ASSERT(ok == !d.broken);
        if (was_broken)
            FUZZ_ASSERT(d.ring.rsp_cons == cons);
        else if (ok)
            FUZZ_ASSERT(d.ring.rsp_cons == d.ring.sring->rsp_prod);
        FUZZ_ASSERT(d.ring.req_prod_pvt - d.ring.rsp_cons <= RING_SIZE(&d.ring));
        FUZZ_ASSERT(d.in_flight <= BLK_SLOTS);
    }
    blk_slots_release(&d);
    blk_slots_drop(&d);
    page_free(d.rpage.page, 0);
    FUZZ_ASSERT(fuzz_pages_out() == 0);
    return 0;
}
