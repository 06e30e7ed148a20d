/*
 * blkfront_priv.h — what the files of drivers/blkfront/ share (Xen 4.17
 * public/io/blkif.h). Not for other parts: they use kernel/include/blkfront.h.
 *
 *   xenbus.c   finding and connecting disks (XenStore keys, states)
 *   ring.c     the shared ring: requests out, responses in (the event handler)
 *   blkio.c    blk_read / blk_write / blk_flush on top of ring.c
 *   blk_cmd.c  the `blk` shell command
 *   blkfront_selftest.c  the `blkfront` suite
 *
 * Each disk has BLK_SLOTS request slots. A slot owns
 * BLKIF_MAX_SEGMENTS_PER_REQUEST bounce pages for its data: the backend is
 * only ever granted those pages (never the caller's buffer), for the time of
 * one request. A request's id is (generation << 8) | slot index, so a
 * response is matched to the one request it answers and a repeated or
 * made-up id is recognised.
 *
 * Detach (xenbus.c, backend_gone, in frontend.c's watch thread): the disk
 * is marked detached (new I/O refused, requests in flight failed, the ring
 * no longer read), the running transfer is waited for, the device closed
 * with the backend, every grant ended (a page the backend still maps is
 * leaked on purpose, never reused), and the disk moves from blk_disks to
 * the list of detached disks. A struct blkdev is never freed once listed:
 * a caller may still hold the pointer, and its I/O then fails with
 * "blkfront: xvdb is detached" (-XEN_ENODEV) instead of touching freed
 * memory.
 */
#ifndef XENOLITH_BLKFRONT_PRIV_H
#define XENOLITH_BLKFRONT_PRIV_H

#include "kernel.h"
#include "blkfront.h"
#include "frontend.h"
#include "sched.h"

#define BLK_SLOTS 4 /* requests in flight per disk */
#define BLK_SEG_MAX BLKIF_MAX_SEGMENTS_PER_REQUEST
#define BLK_REQ_MAX_BYTES ((size_t)BLK_SEG_MAX * XEN_PAGE_SIZE)
#define BLK_ID_SLOT_BITS 8

enum blk_slot_state {
    SLOT_FREE,
    SLOT_INFLIGHT,     /* on the ring, a thread waits for it */
    SLOT_DONE,         /* answered; the waiter takes it back */
    SLOT_ORPHAN,       /* the waiter gave up (timeout): still the backend's */
    SLOT_ORPHAN_DONE,  /* answered after all: reclaimed by blk_slot_get */
};

struct blk_slot {
    volatile uint8_t state; /* enum blk_slot_state; the handler changes it */
    uint8_t op;             /* BLKIF_OP_* */
    uint8_t nseg;
    int16_t status;         /* BLKIF_RSP_* from the response */
    uint64_t id;
    uint32_t gen;
    void *pages[BLK_SEG_MAX];
    int grefs[BLK_SEG_MAX]; /* -1: not granted */
    struct thread *waiter;
};

struct blkdev {
    char name[16];
    char id[16]; /* <id> of device/vbd/<id> */
    unsigned long vdev;
    struct xenbus_frontend fe;
    struct frontend_ring rpage;
    struct blkif_front_ring ring;
    uint64_t sectors;
    unsigned sector_size;
    unsigned long info; /* VDISK_* */
    bool readonly, flush;
    bool connected;
    volatile bool broken;
    volatile bool detached; /* backend gone: I/O refused, ring not read */
    bool busy; /* a blk_read/blk_write is running (one at a time) */
    bool held; /* locked by a suspend (suspend.h) until the resume */
    XenbusState state;
    struct blk_slot slots[BLK_SLOTS];
    unsigned long requests, errors, bad_responses;
    struct blkdev *next_detached;
};

extern struct blkdev *blk_disks[BLK_MAX_DISKS];
extern unsigned blk_ndisks;

/* blkio.c: one transfer per disk at a time (the detach takes it too). */
void blk_lock(struct blkdev *d);
void blk_unlock(struct blkdev *d);

/* xenbus.c: read and check sectors / sector-size / info from the backend. */
int blk_read_geometry(struct blkdev *d, uint64_t *sectors, unsigned *sector_size,
                      unsigned long *info);
/* A sector size blkfront accepts: a power of two, XEN_BLKIF_SECTOR_SIZE .. page. */
bool blk_sector_size_ok(unsigned long ss);

/* ring.c */
int blk_slots_alloc(struct blkdev *d); /* bounce pages for every slot */
/* After the close: end every grant still held (a page the backend still
 * maps is leaked on purpose) and free the pages. */
void blk_slots_free(struct blkdev *d);
void blk_slots_forget(struct blkdev *d); /* after a resume in a new domain (suspend.h) */
/* Mark the disk detached: new requests refused, the ring no longer read,
 * every request in flight failed (its waiter wakes with -XEN_ENODEV; its
 * pages stay granted until blk_slots_free). Any context. */
void blk_ring_detach(struct blkdev *d);
struct blk_slot *blk_slot_get(struct blkdev *d); /* NULL: none free */
/* Put one request on the ring: op over `bytes` (a multiple of
 * XEN_BLKIF_SECTOR_SIZE, <= BLK_REQ_MAX_BYTES; 0 for a flush) starting at
 * wire sector `sector` (units of XEN_BLKIF_SECTOR_SIZE), data in s->pages. */
int blk_slot_submit(struct blkdev *d, struct blk_slot *s, uint8_t op, uint64_t sector, size_t bytes);
/* Wait for the answer; 0 for BLKIF_RSP_OKAY, else an error (printed). The
 * slot is free again afterwards (or orphaned on timeout). */
int blk_slot_wait(struct blkdev *d, struct blk_slot *s, unsigned long timeout_ms);
void blk_ring_handler(evtchn_port_t port, void *arg); /* event channel: responses */
void blk_ring_init(struct blkdev *d, void *page); /* SHARED_RING_INIT + FRONT_RING_INIT */

#endif
