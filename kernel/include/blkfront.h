/*
 * blkfront.h — virtual block devices (interface manual: "Device drivers",
 * block devices; Xen 4.17 public/io/blkif.h). Implemented in drivers/blkfront/.
 *
 * At the end of the start of day (main.c) blkfront connects every device/vbd/<id> the
 * toolstack gave us; `blk rescan` looks again (new devices, and each
 * backend's size). Disks are named after the backend's "dev" key ("xvda").
 *
 * The I/O calls are synchronous: they block the calling thread until the
 * backend has answered every request (or BLK_IO_TIMEOUT_MS passed), so call
 * them from a thread, never from an event handler. `sector` and `count` are
 * in units of the disk's sector size (blk_info.sector_size). Any buffer in
 * kernel memory will do (data goes through pages of the driver's own).
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

#define BLK_MAX_DISKS 4
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
};

unsigned blk_count(void);                /* disks found (connected or not), not detached */
struct blkdev *blk_get(unsigned index);  /* NULL past blk_count() */
/* By name ("xvda") or vdev ("51712"); a detached disk when no other has it. */
struct blkdev *blk_find(const char *name);
void blk_get_info(const struct blkdev *d, struct blk_info *out);

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
