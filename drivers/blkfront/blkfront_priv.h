/*
 * blkfront_priv.h — what the files of drivers/blkfront/ share (Xen 4.17
 * public/io/blkif.h, io/ring.h). Other parts use kernel/include/blkfront.h.
 * The driver has the shape every frontend of Xenolith has, dependencies
 * going one way:
 *
 *   xenbus.c        negotiation with the backend and the device's life
 *                   cycle (connect, watch, detach, suspend/resume)
 *     blkfront.c    the data path and the API: the event handler, the
 *                   disk's thread, the queue of blk_requests, the blocking
 *                   wrappers, the disk list
 *       ring.c      the shared ring: request slots, their granted pages,
 *                   requests out, responses in (copied once, checked and
 *                   handed to the caller's function)
 *   blk_cmd.c, blk_writer.c, blkfront_selftest.c  users of the API
 *
 * Concurrency, the same for every frontend: the event handler only wakes
 * the device's thread; that thread alone touches the ring and the slots
 * (threads switch only when they block, so nothing else runs meanwhile).
 * Callers queue requests (blk_submit) and wake it.
 *
 * A slot is one ring request: BLKIF_MAX_SEGMENTS_PER_REQUEST pages at
 * most, allocated when it is issued, zeroed or filled, granted for the time
 * of that request only (the backend never sees the caller's memory). Its id
 * is (generation << 8) | slot index, so a response is matched to the one
 * request it answers and a repeated or made-up id is recognised.
 *
 * A struct blkdev is never freed once listed: a caller may still hold the
 * pointer, and its I/O then fails with "blkfront: xvdb is detached"
 * (-XEN_ENODEV) instead of touching freed memory. Its slots, the bulk of
 * it, are freed at the detach: a detached disk keeps a few hundred bytes.
 */
#ifndef XENOLITH_BLKFRONT_PRIV_H
#define XENOLITH_BLKFRONT_PRIV_H

#include "kernel.h"
#include "blkfront.h"
#include "frontend.h"
#include "sched.h"

#define BLK_SLOTS BLKIF_RING_SIZE /* as many requests in flight as the ring holds */
#define BLK_SEG_MAX BLKIF_MAX_SEGMENTS_PER_REQUEST
#define BLK_REQ_MAX_BYTES ((size_t)BLK_SEG_MAX * XEN_PAGE_SIZE)
#define BLK_ID_SLOT_BITS 8

_Static_assert(BLK_SLOTS <= (1u << BLK_ID_SLOT_BITS), "a slot index fits the id's low bits");

enum blk_slot_state {
    SLOT_FREE,
    SLOT_INFLIGHT, /* on the ring for slot->req */
    SLOT_ORPHAN,   /* its request gave up (timeout, detach): still the backend's */
};

struct blk_slot {
    uint8_t state; /* enum blk_slot_state */
    uint8_t op;    /* BLKIF_OP_* */
    uint8_t nseg;
    uint32_t gen;
    uint64_t id;
    uint64_t deadline_ns; /* no answer by then: the request fails */
    struct blk_request *req;
    size_t offset, bytes; /* the part of req->buf this slot carries */
    void *pages[BLK_SEG_MAX];
    int grefs[BLK_SEG_MAX]; /* -1: not granted */
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
    bool broken;   /* the backend broke the ring protocol: ring not read */
    bool detached; /* backend gone: I/O refused, ring not read */
    bool held;     /* a suspend: nothing new is issued until the resume */
    XenbusState state;
    /* The disk's thread and what wakes it. */
    struct thread *thread;
    volatile bool kick;
    bool stopping;
    struct thread *idle_waiter; /* woken when nothing is in flight */
    struct blk_request *queue, **queue_tail; /* not fully issued yet */
    struct blk_slot *slots; /* BLK_SLOTS of them while connected; freed at the detach */
    unsigned in_flight; /* slots INFLIGHT */
    unsigned long requests, errors, bad_responses;
    struct blkdev *next_detached;
};

/* ring.c (the disk's thread only, but for init/free) */
void blk_ring_init(struct blkdev *d, void *page); /* SHARED_RING_INIT + FRONT_RING_INIT */
/* Pages for `bytes` of s: holding data (a write), the rest of the last page
 * zero, or (data NULL: a read) all zero. */
int blk_slot_pages(struct blk_slot *s, const void *data, size_t bytes);
/* Grant s's pages and put the request on the ring: op over `bytes` (a
 * multiple of XEN_BLKIF_SECTOR_SIZE, <= BLK_REQ_MAX_BYTES; 0 for a flush)
 * from wire sector `sector`. On error the slot is free again. */
int blk_slot_issue(struct blkdev *d, struct blk_slot *s, uint8_t op, uint64_t sector,
                   size_t bytes);
/* End s's grants: true when every one ended (the pages are ours again);
 * a page the backend still maps is leaked on purpose. */
bool blk_slot_revoke(struct blkdev *d, struct blk_slot *s);
void blk_slot_free(struct blk_slot *s); /* pages freed (what revoke left), slot FREE */
/* Take every response, copied once, and hand each to done(d, slot,
 * status); unknown ids are counted and dropped. false when the backend
 * broke the ring (d->broken set, printed). */
bool blk_ring_take(struct blkdev *d, void (*done)(struct blkdev *, struct blk_slot *, int16_t));
/* After the close: every slot still the backend's revoked or leaked, freed. */
void blk_slots_release(struct blkdev *d);
void blk_slots_forget(struct blkdev *d); /* after a resume in a new domain (suspend.h) */
int blk_slots_alloc(struct blkdev *d);   /* the slot table, every slot free */
void blk_slots_drop(struct blkdev *d);   /* the table freed (after blk_slots_release) */

/* blkfront.c */
int blk_thread_start(struct blkdev *d);
void blk_thread_stop(struct blkdev *d); /* after detached/broken: fails what is queued, joins */
void blk_kick(struct blkdev *d);        /* any context */
void blk_event(evtchn_port_t port, void *arg); /* the event handler: wakes the thread */
/* Wait (bounded) until nothing of d's is in flight, e.g. for a suspend. */
int blk_wait_idle(struct blkdev *d, unsigned long timeout_ms);
void blk_list_add(struct blkdev *d);  /* listed even if it fails to connect */
void blk_list_detach(struct blkdev *d); /* off the list, onto the detached ones */
struct blkdev *blk_list_find_id(const char *id);
/* The detached disk that had device/vbd/<id>, off the detached list (a
 * disk that comes back reuses its entry, so attach/detach cycles cost no
 * memory); NULL if none. */
struct blkdev *blk_list_revive(const char *id);

/* blk_cmd.c, for blk_bulk.c too: the disk named by an argument, and a number
 * argument (decimal or 0x hex); each prints "blk: ..." when it is not one. */
struct blkdev *blk_cmd_disk(const char *name);
bool blk_cmd_number(const char *what, const char *s, uint64_t *out);

/* blk_bulk.c: `blk crc|fill` (fill: the SEED form) and `blk bench`, argv as given
 * to `blk`; the shell's return value. */
int blk_cmd_range(bool fill, int argc, char **argv);
int blk_cmd_bench(int argc, char **argv);

#endif
