/*
 * blkfront_selftest.c — the `blkfront` suite (Xen 4.17 public/io/blkif.h,
 * public/io/ring.h).
 *
 * 1. Protocol checks on a ring of our own (no backend): a response with an
 *    unknown id is dropped, a failed status or the wrong operation is handed
 *    on as an error, an rsp_prod that runs ahead of our requests stops the
 *    ring without reading it.
 * 2. With a disk (the first connected one): the last sector written with a
 *    pattern, read back and restored; a transfer of several requests of
 *    several pages each (more than BLKIF_MAX_SEGMENTS_PER_REQUEST pages)
 *    the same way; a read past the end refused; on a read-only disk a write
 *    refused before any request.
 * Without a disk only part 1 runs (a PASS that says so); in dom0 mode the
 * suite is a SKIP (it runs in a domU only).
 */
#include "kernel.h"
#include "blkfront_priv.h"
#include "events.h"
#include "mm.h"
#include "selftest.h"
#include "xenstore.h"

/* Part 1: a fake disk whose ring page we fill in as a backend would. */
static struct {
    struct blk_slot *slot;
    int16_t status;
    unsigned calls;
} answered;

static void collect(struct blkdev *d, struct blk_slot *s, int16_t status)
{
    (void)d;
    answered.slot = s;
    answered.status = status;
    answered.calls++;
}

static const char *fake_ring_checks(void)
{
    static const char *why;
    struct blkdev *d = calloc(1, sizeof(*d));
    void *page = page_alloc(0);
    why = NULL;
    if (!d || !page || blk_slots_alloc(d)) {
        why = "no memory";
        goto out;
    }
    strlcpy(d->name, "selftest-fake", sizeof(d->name));
    memset(page, 0, PAGE_SIZE);
    memset(&answered, 0, sizeof(answered));
    blk_ring_init(d, page);
    struct blkif_sring *sr = d->ring.sring;
    struct blk_slot *s = &d->slots[0];
    s->id = 0x100;
    s->op = BLKIF_OP_READ;
    s->state = SLOT_INFLIGHT;

    /* a) an id nobody asked for */
    d->ring.req_prod_pvt = 1;
    sr->ring[0].rsp = (struct blkif_response){.id = 0x1234567, .operation = BLKIF_OP_READ};
    sr->rsp_prod = 1;
    bool ok = blk_ring_take(d, collect);
    if (!ok || d->bad_responses != 1 || answered.calls || d->ring.rsp_cons != 1)
        why = "unknown id not dropped";
    /* b) our id, status error */
    d->ring.req_prod_pvt = 2;
    sr->ring[1].rsp = (struct blkif_response){
        .id = s->id, .operation = BLKIF_OP_READ, .status = BLKIF_RSP_ERROR};
    sr->rsp_prod = 2;
    ok = blk_ring_take(d, collect);
    if (!why && (!ok || answered.calls != 1 || answered.slot != s ||
                 answered.status != BLKIF_RSP_ERROR))
        why = "error status not handed on";
    /* c) the wrong operation for our id: handed on as an error */
    d->ring.req_prod_pvt = 3;
    sr->ring[2].rsp = (struct blkif_response){
        .id = s->id, .operation = BLKIF_OP_WRITE, .status = BLKIF_RSP_OKAY};
    sr->rsp_prod = 3;
    ok = blk_ring_take(d, collect);
    if (!why && (!ok || answered.calls != 2 || answered.status != BLKIF_RSP_ERROR))
        why = "wrong operation not failed";
    /* d) rsp_prod 5 beyond the one request outstanding */
    d->ring.req_prod_pvt = 4;
    sr->rsp_prod = 4 + 5;
    ok = blk_ring_take(d, collect);
    if (!why && (ok || !d->broken || answered.calls != 2 || d->ring.rsp_cons != 3))
        why = "runaway rsp_prod not caught";
out:
    if (page)
        page_free(page, 0);
    if (d)
        blk_slots_drop(d);
    free(d);
    return why;
}

static struct blkdev *pick_disk(void)
{
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blk_info in;
        blk_get_info(blk_get(i), &in);
        if (in.connected && !in.broken)
            return blk_get(i);
    }
    return NULL;
}

static void fill(uint8_t *p, size_t n, uint32_t seed)
{
    for (size_t i = 0; i < n; i++) {
        seed = seed * 1103515245u + 12345u;
        p[i] = (uint8_t)(seed >> 16);
    }
}

/* Write a pattern over [first, first+count), read it back, restore. */
static const char *round_trip(struct blkdev *d, uint64_t first, unsigned count, unsigned ss,
                              uint32_t seed)
{
    size_t bytes = (size_t)count * ss;
    uint8_t *saved = malloc(bytes), *pat = malloc(bytes), *back = malloc(bytes);
    const char *why = NULL;
    if (!saved || !pat || !back)
        why = "no memory";
    else if (blk_read(d, first, count, saved))
        why = "reading the original data failed";
    else {
        fill(pat, bytes, seed);
        if (blk_write(d, first, count, pat))
            why = "writing the pattern failed";
        else if (blk_read(d, first, count, back))
            why = "reading the pattern back failed";
        else if (memcmp(pat, back, bytes))
            why = "pattern read back differs";
        if (blk_write(d, first, count, saved) && !why)
            why = "restoring the original data failed";
        else if (!why && (blk_read(d, first, count, back) || memcmp(saved, back, bytes)))
            why = "restored data differs";
    }
    free(saved);
    free(pat);
    free(back);
    return why;
}

SELFTEST_IN(blkfront, ST_DOMU)
{
    const char *why = fake_ring_checks();
    ST_EXPECT(r, !why, "fake ring: %s", why);

    struct blkdev *d = pick_disk();
    if (!d) {
        ST_PASS(r, "fake-ring protocol checks passed; no disk for the rest");
        return;
    }
    struct blk_info in;
    blk_get_info(d, &in);
    uint8_t *one = malloc(in.sector_size);
    ST_EXPECT(r, one, "no memory");
    int rc = blk_read(d, in.sectors, 1, one);
    free(one);
    ST_EXPECT(r, rc == -XEN_ERANGE, "%s: read past the end gave %s, not -ERANGE", in.name,
              xen_errname(rc));

    if (in.readonly) {
        uint8_t buf[XEN_BLKIF_SECTOR_SIZE] = {0};
        unsigned long before = in.requests;
        rc = blk_write(d, 0, 1, buf);
        blk_get_info(d, &in);
        ST_EXPECT(r, rc == -XEN_EROFS && in.requests == before,
                  "%s: write to read-only disk gave %s after %lu requests", in.name,
                  xen_errname(rc), in.requests - before);
        ST_PASS(r, "%s read-only: write refused, no request sent", in.name);
        return;
    }

    why = round_trip(d, in.sectors - 1, 1, in.sector_size, 0x1234);
    ST_EXPECT(r, !why, "%s last sector: %s", in.name, why);

    /* Two full requests and a bit: 2 * 11 pages + one sector. */
    unsigned per_req = (unsigned)(BLK_REQ_MAX_BYTES / in.sector_size);
    uint64_t count = 2ULL * per_req + 1;
    if (count > in.sectors)
        count = in.sectors;
    blk_get_info(d, &in);
    unsigned long before = in.requests;
    why = round_trip(d, in.sectors - count, (unsigned)count, in.sector_size, 0xbeef);
    ST_EXPECT(r, !why, "%s %llu sectors: %s", in.name, (unsigned long long)count, why);
    blk_get_info(d, &in);
    ST_PASS(r, "%s: last sector and %llu sectors (%lu requests of up to %u segments) written, "
            "read back, restored", in.name, (unsigned long long)count, in.requests - before,
            (unsigned)BLK_SEG_MAX);
}
