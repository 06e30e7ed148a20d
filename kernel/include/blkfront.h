/*
 * blkfront.h — virtual block devices (interface manual: "Device drivers",
 * block devices; Xen 4.17 public/io/blkif.h). Implemented in drivers/blkfront/.
 *
 * At the end of the start of day (main.c) blkfront connects every device/vbd/<id> the
 * toolstack gave us; `blk rescan` looks again (new devices, and each
 * backend's size). Disks are named after the backend's "dev" key ("xvda").
 *
 * I/O is asynchronous underneath: blk_submit queues a struct blk_request
 * (1..N sectors, or a flush) and returns; the disk's thread puts it on the
 * ring in requests of up to BLKIF_MAX_SEGMENTS_PER_REQUEST pages, as many at
 * once as the ring holds, and calls done() when every part is answered (or
 * failed, or BLK_IO_TIMEOUT_MS passed). blk_read / blk_write / blk_flush
 * are the blocking wrappers: call them from a thread, never from an event
 * handler or a done() callback. `sector` and `count` are in units of the
 * disk's sector size (blk_info.sector_size). Any buffer in kernel memory
 * will do (data goes through pages of the driver's own).
 * Errors are negative Xen errno values: -XEN_EROFS write to a read-only
 * disk (refused before reaching the backend), -XEN_ERANGE past the end,
 * -XEN_EIO the backend failed the request or broke the protocol,
 * -XEN_ETIMEDOUT no answer, -XEN_ENODEV disk not connected or detached.
 *
 * Detach: when a disk's backend closes (`xl block-detach`) or disappears,
 * blkfront fails the requests in flight, closes the device with the
 * backend and forgets it: blk_count/blk_get no longer include it. A struct
 * blkdev pointer stays valid for good; blk_find still finds a detached
 * disk by name (when no connected one has it), and its I/O fails with
 * "blkfront: xvdb is detached" and -XEN_ENODEV.
 *
 *   struct blkdev *d = blk_find("xvda");
 *   char buf[512];
 *   if (d && blk_read(d, 5, 1, buf) == 0) ...
 */
#ifndef XENOLITH_BLKFRONT_H
#define XENOLITH_BLKFRONT_H

#include "kernel.h"

#define BLK_MAX_DISKS 8
#define BLK_IO_TIMEOUT_MS 10000UL

struct blkdev;

struct blk_info {
    char name[16];          /* "xvda" */
    unsigned long vdev;     /* the <id> of device/vbd/<id> */
    uint64_t sectors;       /* size in sectors of sector_size bytes */
    unsigned sector_size;   /* a power of two >= XEN_BLKIF_SECTOR_SIZE */
    bool readonly;          /* VDISK_READONLY in the backend's "info" */
    bool flush;             /* backend offers BLKIF_OP_FLUSH_DISKCACHE */
    bool connected;         /* ready for I/O */
    bool broken;            /* backend broke the ring protocol: I/O refused */
    bool detached;          /* backend closed or gone: I/O refused, not listed */
    XenbusState state;      /* our frontend state */
    unsigned long requests, errors, bad_responses;
    unsigned in_flight;     /* ring requests the backend has not answered */
};

unsigned blk_count(void);                /* disks found (connected or not), not detached */
struct blkdev *blk_get(unsigned index);  /* NULL past blk_count() */
/* By name ("xvda") or vdev ("51712"); a detached disk when no other has it. */
struct blkdev *blk_find(const char *name);
void blk_get_info(const struct blkdev *d, struct blk_info *out);

enum blk_op { BLK_READ, BLK_WRITE, BLK_FLUSH };

struct blk_request {
    enum blk_op op;
    uint64_t sector;  /* first sector (BLK_FLUSH: unused) */
    unsigned count;   /* sectors (BLK_FLUSH: 0) */
    void *buf;        /* count * sector_size bytes */
    /* Optional: called once, in the disk's thread, when the request is over
     * (r->rc is its result). It may submit more requests but must not block. */
    void (*done)(struct blk_request *r);
    void *arg;        /* the caller's */
    int rc;
    volatile bool over;
    /* blkfront's own */
    struct thread *waiter;
    struct blk_request *next;
    size_t issued, total; /* bytes put on the ring / in all */
    unsigned parts;       /* ring requests in flight */
    bool aborted;         /* failed: nothing more is issued */
};

/* Queue r: 0, and r ends later (done(r), r->over); or an error at once
 * (printed: the disk is detached, broken, read-only, r is out of range), and
 * r does not end. */
int blk_submit(struct blkdev *d, struct blk_request *r);
/* Block until a submitted r is over: r->rc. Every request ends (an answer,
 * an error, or BLK_IO_TIMEOUT_MS), so this returns. From a thread. */
int blk_wait(struct blk_request *r);

int blk_read(struct blkdev *d, uint64_t sector, unsigned count, void *buf);
int blk_write(struct blkdev *d, uint64_t sector, unsigned count, const void *buf);
/* Make written data durable (BLKIF_OP_FLUSH_DISKCACHE); 0 at once when the
 * backend does not offer it. */
int blk_flush(struct blkdev *d);

/* Connect devices not seen yet (a detached one that came back, too) and
 * re-read each connected backend's size (a bad value is reported and the
 * old one kept). Returns the number of disks, or an error (-XEN_ENODEV
 * without XenStore). */
int blk_rescan(void);
/* Start of day (main.c): blk_rescan once, with the suspend hooks. */
int blkfront_init(void);

#endif
