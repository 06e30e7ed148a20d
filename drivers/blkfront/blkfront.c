/*
 * blkfront.c — blkfront's data path and its API (interface manual: "Device
 * drivers"; Xen 4.17 public/io/blkif.h: BLKIF_OP_READ, BLKIF_OP_WRITE,
 * BLKIF_OP_FLUSH_DISKCACHE). See blkfront.h for the API, blkfront_priv.h
 * for the shape.
 *
 * Each connected disk has a thread ("blk-<name>") that owns its ring. It
 * loops: take the responses (ring.c) and complete the slots they answer,
 * fail slots whose answer is overdue, then issue queued requests while the
 * ring has room, cutting each blk_request into ring requests of at most
 * BLK_REQ_MAX_BYTES; then it waits (wait_until) for a kick (the event
 * handler, a submitter, a detach) or the next slot's deadline.
 *
 * Data reaches the caller only from pages the backend can no longer write:
 * a read's slot is revoked before its pages are copied out, and a slot
 * whose grant the backend still holds fails its request with -XEN_EIO.
 * Offsets on the wire are in XEN_BLKIF_SECTOR_SIZE units (we do not offer
 * feature-large-sector-size), the API's in the disk's sector size.
 */
#include "kernel.h"
#include "blkfront_priv.h"
#include "time.h"
#include "wait.h"

static struct blkdev *disks[BLK_MAX_DISKS];
static unsigned ndisks;
static struct blkdev *detached_disks; /* newest first, never freed */

/* ---- the disk list --------------------------------------------------------- */

void blk_list_add(struct blkdev *d)
{
    disks[ndisks++] = d;
}

void blk_list_detach(struct blkdev *d)
{
    for (unsigned i = 0; i < ndisks; i++) {
        if (disks[i] != d)
            continue;
        memmove(&disks[i], &disks[i + 1], (ndisks - i - 1) * sizeof(disks[0]));
        disks[--ndisks] = NULL;
        break;
    }
    d->next_detached = detached_disks;
    detached_disks = d;
}

struct blkdev *blk_list_revive(const char *id)
{
    for (struct blkdev **pp = &detached_disks; *pp; pp = &(*pp)->next_detached) {
        struct blkdev *d = *pp;
        if (strcmp(d->id, id))
            continue;
        *pp = d->next_detached;
        d->next_detached = NULL;
        return d;
    }
    return NULL;
}

struct blkdev *blk_list_find_id(const char *id)
{
    for (unsigned i = 0; i < ndisks; i++)
        if (!strcmp(disks[i]->id, id))
            return disks[i];
    return NULL;
}

unsigned blk_count(void)
{
    return ndisks;
}

struct blkdev *blk_get(unsigned index)
{
    return index < ndisks ? disks[index] : NULL;
}

static bool named(const struct blkdev *d, const char *name)
{
    return !strcmp(d->name, name) || !strcmp(d->id, name);
}

struct blkdev *blk_find(const char *name)
{
    for (unsigned i = 0; i < ndisks; i++)
        if (named(disks[i], name))
            return disks[i];
    /* A detached disk: its I/O fails with "blkfront: <name> is detached". */
    for (struct blkdev *d = detached_disks; d; d = d->next_detached)
        if (named(d, name))
            return d;
    return NULL;
}

void blk_get_info(const struct blkdev *d, struct blk_info *out)
{
    memset(out, 0, sizeof(*out));
    strlcpy(out->name, d->name, sizeof(out->name));
    out->vdev = d->vdev;
    out->sectors = d->sectors;
    out->sector_size = d->sector_size;
    out->readonly = d->readonly;
    out->flush = d->flush;
    out->connected = d->connected;
    out->broken = d->broken;
    out->detached = d->detached;
    out->state = d->state;
    out->requests = d->requests;
    out->errors = d->errors;
    out->bad_responses = d->bad_responses;
    out->in_flight = d->in_flight;
}

/* ---- the disk's thread ------------------------------------------------------ */

void blk_kick(struct blkdev *d)
{
    d->kick = true;
    if (d->thread)
        thread_wake(d->thread);
}

void blk_event(evtchn_port_t port, void *arg)
{
    (void)port;
    blk_kick(arg);
}

/* The last touch of r: done() may reuse it. */
static void finish(struct blkdev *d, struct blk_request *r)
{
    if (r->rc)
        d->errors++;
    struct thread *waiter = r->waiter;
    void (*done)(struct blk_request *) = r->done;
    r->over = true;
    if (waiter)
        thread_wake(waiter);
    if (done)
        done(r);
}

static void dequeue_head(struct blkdev *d)
{
    d->queue = d->queue->next;
    if (!d->queue)
        d->queue_tail = &d->queue;
}

/* A part of r is over with rc; r ends when nothing of it is in flight and
 * nothing more is to be issued. */
static void part_over(struct blkdev *d, struct blk_request *r, int rc)
{
    if (rc) {
        if (!r->rc)
            r->rc = rc;
        r->aborted = true;
    }
    if (--r->parts || (r->issued < r->total && !r->aborted))
        return;
    if (d->queue == r) /* aborted before it was issued in full */
        dequeue_head(d);
    finish(d, r);
}

static int status_error(struct blkdev *d, struct blk_slot *s, int16_t status)
{
    if (status == BLKIF_RSP_OKAY)
        return 0;
    if (status == BLKIF_RSP_EOPNOTSUPP && s->op == BLKIF_OP_FLUSH_DISKCACHE) {
        printk("blkfront: %s: backend offered flush but refused it: not asking again\n", d->name);
        d->flush = false;
        return 0;
    }
    printk("blkfront: %s: backend sent status %d for request 0x%llx (operation %u)\n", d->name,
           (int)status, (unsigned long long)s->id, (unsigned)s->op);
    return status == BLKIF_RSP_EOPNOTSUPP ? -XEN_EOPNOTSUPP : -XEN_EIO;
}

/* ring.c: the response to slot s came. */
static void slot_answered(struct blkdev *d, struct blk_slot *s, int16_t status)
{
    struct blk_request *r = s->req;
    bool was_orphan = s->state == SLOT_ORPHAN;
    bool revoked = blk_slot_revoke(d, s);
    if (was_orphan) { /* its request is over already: only its pages come back */
        blk_slot_free(s);
        return;
    }
    d->in_flight--;
    int rc = status_error(d, s, status);
    if (!rc && !revoked) {
        printk("blkfront: %s: request 0x%llx failed: the backend kept a page mapped after "
               "answering, so its data cannot be trusted\n", d->name, (unsigned long long)s->id);
        rc = -XEN_EIO;
    }
    if (!rc && s->op == BLKIF_OP_READ)
        for (size_t off = 0; off < s->bytes; off += XEN_PAGE_SIZE) {
            size_t n = s->bytes - off < XEN_PAGE_SIZE ? s->bytes - off : XEN_PAGE_SIZE;
            memcpy((uint8_t *)r->buf + s->offset + off, s->pages[off / XEN_PAGE_SIZE], n);
        }
    blk_slot_free(s);
    part_over(d, r, rc);
}

/* Give up on slot s (its pages stay granted until it is answered, or until
 * blk_slots_release after the close). */
static void orphan(struct blkdev *d, struct blk_slot *s, int rc)
{
    struct blk_request *r = s->req;
    s->state = SLOT_ORPHAN;
    s->req = NULL;
    d->in_flight--;
    part_over(d, r, rc);
}

static uint64_t expire(struct blkdev *d)
{
    uint64_t now = monotonic_ns(), next = WAIT_FOREVER;
    for (unsigned i = 0; i < BLK_SLOTS; i++) {
        struct blk_slot *s = &d->slots[i];
        if (s->state != SLOT_INFLIGHT)
            continue;
        if (s->deadline_ns <= now) {
            printk("blkfront: %s: no answer to request 0x%llx in %lu ms\n", d->name,
                   (unsigned long long)s->id, BLK_IO_TIMEOUT_MS);
            orphan(d, s, -XEN_ETIMEDOUT);
        } else if (next == WAIT_FOREVER || s->deadline_ns < next) {
            next = s->deadline_ns;
        }
    }
    return next;
}

/* The disk can no longer be used: every request fails. */
static void fail_all(struct blkdev *d)
{
    int rc = d->detached ? -XEN_ENODEV : -XEN_EIO;
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        if (d->slots[i].state == SLOT_INFLIGHT)
            orphan(d, &d->slots[i], rc);
    while (d->queue) {
        struct blk_request *r = d->queue;
        d->queue = r->next;
        r->aborted = true;
        if (!r->rc)
            r->rc = rc;
        if (!r->parts)
            finish(d, r);
    }
    d->queue_tail = &d->queue;
}

static struct blk_slot *free_slot(struct blkdev *d)
{
    for (unsigned i = 0; i < BLK_SLOTS; i++)
        if (d->slots[i].state == SLOT_FREE)
            return &d->slots[i];
    return NULL;
}

static const uint8_t wire_op[] = {
    [BLK_READ] = BLKIF_OP_READ, [BLK_WRITE] = BLKIF_OP_WRITE,
    [BLK_FLUSH] = BLKIF_OP_FLUSH_DISKCACHE,
};

/* Put the next part of the queue's head on the ring: false when nothing
 * more can go now. */
static bool issue_one(struct blkdev *d)
{
    struct blk_request *r = d->queue;
    if (!r)
        return false;
    if (r->op == BLK_FLUSH && !d->flush) { /* nothing to make durable: done */
        dequeue_head(d);
        finish(d, r);
        return true;
    }
    struct blk_slot *s = RING_FULL(&d->ring) ? NULL : free_slot(d);
    if (!s)
        return false;
    size_t bytes = r->total - r->issued;
    if (bytes > BLK_REQ_MAX_BYTES)
        bytes = BLK_REQ_MAX_BYTES;
    const void *data = r->op == BLK_WRITE ? (const uint8_t *)r->buf + r->issued : NULL;
    int rc = blk_slot_pages(s, data, bytes);
    if (rc == -XEN_ENOMEM && d->in_flight)
        return false; /* pages come back with the answers */
    if (!rc) {
        uint64_t wire = r->sector * (d->sector_size / XEN_BLKIF_SECTOR_SIZE) +
                        r->issued / XEN_BLKIF_SECTOR_SIZE;
        s->req = r;
        s->offset = r->issued;
        s->bytes = bytes;
        s->deadline_ns = deadline_ms(BLK_IO_TIMEOUT_MS);
        rc = blk_slot_issue(d, s, wire_op[r->op], wire, bytes);
    }
    r->parts++;
    r->issued += bytes;
    if (rc) {
        printk("blkfront: %s: request not issued: %s\n", d->name, xen_errname(rc));
        part_over(d, r, rc);
        return true;
    }
    if (r->issued == r->total)
        dequeue_head(d);
    d->in_flight++;
    return true;
}

static bool kicked(void *arg)
{
    struct blkdev *d = arg;
    return d->kick;
}

/* One turn of the disk's thread: answers, timeouts, then new requests (or
 * failing them all); the next slot's deadline, taken after issuing: a
 * request issued now must time out too, even if the backend never sends
 * an event for it. */
static uint64_t disk_turn(struct blkdev *d)
{
    d->kick = false;
    if (!d->detached && !d->broken && d->ring.sring)
        (void)blk_ring_take(d, slot_answered);
    (void)expire(d); /* frees the slots of requests that timed out */
    if (d->detached || d->broken || d->stopping)
        fail_all(d);
    else if (!d->held && d->connected)
        while (issue_one(d))
            ;
    uint64_t next = expire(d);
    if (!d->in_flight && d->idle_waiter)
        thread_wake(d->idle_waiter);
    return next;
}

static void disk_thread(void *arg)
{
    struct blkdev *d = arg;
    for (;;) {
        uint64_t next = disk_turn(d);
        if (d->stopping)
            break;
        (void)wait_until(kicked, d, next);
    }
}

int blk_thread_start(struct blkdev *d)
{
    char name[24];
    snprintf(name, sizeof(name), "blk-%s", d->name);
    d->queue = NULL;
    d->queue_tail = &d->queue;
    d->stopping = false;
    d->thread = thread_create(name, disk_thread, d);
    return d->thread ? 0 : -XEN_ENOMEM;
}

void blk_thread_stop(struct blkdev *d)
{
    struct thread *t = d->thread;
    if (!t)
        return;
    d->stopping = true;
    blk_kick(d);
    thread_join(t);
    d->thread = NULL;
}

static bool idle(void *arg)
{
    struct blkdev *d = arg;
    return !d->in_flight;
}

int blk_wait_idle(struct blkdev *d, unsigned long timeout_ms)
{
    d->idle_waiter = thread_current();
    int rc = wait_until(idle, d, deadline_ms(timeout_ms));
    d->idle_waiter = NULL;
    return rc;
}

/* ---- the API ------------------------------------------------------------------ */

static int check_io(struct blkdev *d, const struct blk_request *r)
{
    if (d && d->detached) {
        printk("blkfront: %s is detached\n", d->name);
        return -XEN_ENODEV;
    }
    if (!d || !d->connected || !d->thread) {
        printk("blkfront: %s: not connected\n", d ? d->name : "?");
        return -XEN_ENODEV;
    }
    if (d->broken) {
        printk("blkfront: %s: stopped after a protocol error by the backend\n", d->name);
        return -XEN_EIO;
    }
    if ((unsigned)r->op > BLK_FLUSH)
        return -XEN_EINVAL;
    if (r->op == BLK_WRITE && d->readonly) {
        printk("blkfront: %s is read-only: write refused\n", d->name);
        return -XEN_EROFS;
    }
    if (r->op == BLK_FLUSH)
        return 0;
    if (!r->count || r->count > UINT32_MAX / d->sector_size || r->sector >= d->sectors ||
        r->count > d->sectors - r->sector) {
        printk("blkfront: %s: sectors %llu+%u outside the disk (%llu sectors)\n", d->name,
               (unsigned long long)r->sector, r->count, (unsigned long long)d->sectors);
        return -XEN_ERANGE;
    }
    return 0;
}

int blk_submit(struct blkdev *d, struct blk_request *r)
{
    int rc = check_io(d, r);
    if (rc)
        return rc;
    r->rc = 0;
    r->over = false;
    r->waiter = NULL;
    r->next = NULL;
    r->issued = 0;
    r->total = r->op == BLK_FLUSH ? 0 : (size_t)r->count * d->sector_size;
    r->parts = 0;
    r->aborted = false;
    *d->queue_tail = r;
    d->queue_tail = &r->next;
    blk_kick(d);
    return 0;
}

static bool request_over(void *arg)
{
    return ((struct blk_request *)arg)->over;
}

int blk_wait(struct blk_request *r)
{
    r->waiter = thread_current();
    (void)wait_until(request_over, r, WAIT_FOREVER);
    r->waiter = NULL;
    return r->rc;
}

static int run(struct blkdev *d, enum blk_op op, uint64_t sector, unsigned count, void *buf)
{
    struct blk_request r = {.op = op, .sector = sector, .count = count, .buf = buf};
    int rc = blk_submit(d, &r);
    return rc ? rc : blk_wait(&r);
}

int blk_read(struct blkdev *d, uint64_t sector, unsigned count, void *buf)
{
    return run(d, BLK_READ, sector, count, buf);
}

int blk_write(struct blkdev *d, uint64_t sector, unsigned count, const void *buf)
{
    return run(d, BLK_WRITE, sector, count, (void *)buf); /* only read from */
}

int blk_flush(struct blkdev *d)
{
    if (d && !d->detached && d->connected && (!d->flush || d->readonly))
        return 0;
    return run(d, BLK_FLUSH, 0, 0, NULL);
}
