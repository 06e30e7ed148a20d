/*
 * blkio.c — blkfront's data path: blk_read, blk_write, blk_flush (Xen 4.17
 * public/io/blkif.h: BLKIF_OP_READ, BLKIF_OP_WRITE, BLKIF_OP_FLUSH_DISKCACHE).
 *
 * A transfer is cut into requests of at most BLK_REQ_MAX_BYTES (one page
 * per segment, BLKIF_MAX_SEGMENTS_PER_REQUEST segments); up to BLK_SLOTS of
 * them go on the ring before we wait for the first answer. Data is copied
 * through each slot's own pages, so the backend never sees the caller's
 * memory. Offsets on the wire are in XEN_BLKIF_SECTOR_SIZE units (we do not
 * offer feature-large-sector-size), the API's in the disk's sector size.
 * One transfer per disk runs at a time; a second caller waits its turn
 * (and the disk is checked once it has the turn: it may have been detached
 * meanwhile).
 */
#include "kernel.h"
#include "blkfront_priv.h"
#include "time.h"

static int check_io(struct blkdev *d, bool write, uint64_t sector, unsigned count)
{
    if (d && d->detached) {
        printk("blkfront: %s is detached\n", d->name);
        return -XEN_ENODEV;
    }
    if (!d || !d->connected) {
        printk("blkfront: %s: not connected\n", d ? d->name : "?");
        return -XEN_ENODEV;
    }
    if (d->broken) {
        printk("blkfront: %s: stopped after a protocol error by the backend\n", d->name);
        return -XEN_EIO;
    }
    if (write && d->readonly) {
        printk("blkfront: %s is read-only: write refused\n", d->name);
        return -XEN_EROFS;
    }
    if (!count || count > UINT32_MAX / d->sector_size || sector >= d->sectors ||
        count > d->sectors - sector) {
        printk("blkfront: %s: sectors %llu+%u outside the disk (%llu sectors)\n", d->name,
               (unsigned long long)sector, count, (unsigned long long)d->sectors);
        return -XEN_ERANGE;
    }
    return 0;
}

void blk_lock(struct blkdev *d)
{
    while (d->busy)
        sleep_ms(1);
    d->busy = true;
}

void blk_unlock(struct blkdev *d)
{
    d->busy = false;
}

struct pending {
    struct blk_slot *slot;
    uint8_t *buf; /* caller's memory for this request (reads copy into it) */
    size_t bytes;
};

/* Wait for the oldest request in flight; copy a read's data out. */
static int finish(struct blkdev *d, struct pending *p, bool write)
{
    int rc = blk_slot_wait(d, p->slot, BLK_IO_TIMEOUT_MS);
    if (!rc && !write) {
        for (size_t off = 0; off < p->bytes; off += XEN_PAGE_SIZE) {
            size_t n = p->bytes - off < XEN_PAGE_SIZE ? p->bytes - off : XEN_PAGE_SIZE;
            memcpy(p->buf + off, p->slot->pages[off / XEN_PAGE_SIZE], n);
        }
    }
    p->slot = NULL;
    return rc;
}

static int transfer(struct blkdev *d, bool write, uint64_t sector, unsigned count, uint8_t *buf)
{
    if (!d)
        return check_io(d, write, sector, count);
    blk_lock(d);
    int rc = check_io(d, write, sector, count);
    if (rc) {
        blk_unlock(d);
        return rc;
    }
    uint64_t wire = sector * (d->sector_size / XEN_BLKIF_SECTOR_SIZE);
    size_t left = (size_t)count * d->sector_size;
    struct pending q[BLK_SLOTS] = {0};
    unsigned head = 0, n = 0; /* q[head] is the oldest of n in flight */
    while ((left || n) && !rc) {
        struct blk_slot *s = left && n < BLK_SLOTS ? blk_slot_get(d) : NULL;
        if (!s) { /* the ring holds what we may put there: take an answer */
            if (!n) {
                printk("blkfront: %s: no free request slot\n", d->name);
                rc = d->broken ? -XEN_EIO : -XEN_EBUSY;
                break;
            }
            rc = finish(d, &q[head], write);
            head = (head + 1) % BLK_SLOTS;
            n--;
            continue;
        }
        size_t bytes = left < BLK_REQ_MAX_BYTES ? left : BLK_REQ_MAX_BYTES;
        if (write)
            for (size_t off = 0; off < bytes; off += XEN_PAGE_SIZE)
                memcpy(s->pages[off / XEN_PAGE_SIZE], buf + off,
                       bytes - off < XEN_PAGE_SIZE ? bytes - off : XEN_PAGE_SIZE);
        rc = blk_slot_submit(d, s, write ? BLKIF_OP_WRITE : BLKIF_OP_READ, wire, bytes);
        if (rc)
            break;
        q[(head + n) % BLK_SLOTS] = (struct pending){s, buf, bytes};
        n++;
        buf += bytes;
        wire += bytes / XEN_BLKIF_SECTOR_SIZE;
        left -= bytes;
    }
    while (n) { /* after an error: still collect what is in flight */
        int r = finish(d, &q[head], write);
        if (!rc)
            rc = r;
        head = (head + 1) % BLK_SLOTS;
        n--;
    }
    blk_unlock(d);
    return rc;
}

int blk_read(struct blkdev *d, uint64_t sector, unsigned count, void *buf)
{
    return transfer(d, false, sector, count, buf);
}

int blk_write(struct blkdev *d, uint64_t sector, unsigned count, const void *buf)
{
    return transfer(d, true, sector, count, (uint8_t *)buf); /* only read from */
}

int blk_flush(struct blkdev *d)
{
    if (!d)
        return -XEN_ENODEV;
    blk_lock(d);
    if (d->detached || !d->connected || !d->flush || d->readonly) {
        int rc = d->detached || !d->connected ? -XEN_ENODEV : 0;
        if (d->detached)
            printk("blkfront: %s is detached\n", d->name);
        blk_unlock(d);
        return rc;
    }
    struct blk_slot *s = blk_slot_get(d);
    int rc = s ? blk_slot_submit(d, s, BLKIF_OP_FLUSH_DISKCACHE, 0, 0) : -XEN_EBUSY;
    if (!rc)
        rc = blk_slot_wait(d, s, BLK_IO_TIMEOUT_MS);
    if (rc == -XEN_EOPNOTSUPP) {
        printk("blkfront: %s: backend offered flush but refused it: not asking again\n", d->name);
        d->flush = false;
        rc = 0;
    }
    blk_unlock(d);
    return rc;
}
