/*
 * xenbus.c — finding and connecting blkfront's disks (interface manual:
 * "Device drivers"; Xen 4.17 public/io/blkif.h, "Backend XenBus Nodes" /
 * "Frontend XenBus Nodes", and public/io/xenbus.h for the states).
 *
 * For each device/vbd/<id> (kernel/xen/frontend.c does the generic steps):
 *   us:      ring page granted, event channel allocated
 *   backend: InitWait (it published its features)
 *   us:      ring-ref, event-channel, state Initialised (one transaction)
 *   backend: Connected, with "sectors", "sector-size", "info" (VDISK_*),
 *            "feature-flush-cache"
 *   us:      the numbers checked, state Connected
 * The backend's numbers are not trusted: "sectors" must be a number > 0
 * whose byte size fits 64 bits, "sector-size" a power of two from
 * XEN_BLKIF_SECTOR_SIZE up to a page, "info" a number; anything else is
 * reported as "blkfront: backend sent ..." and the disk is not used.
 *
 * A connected disk's backend is watched (frontend_watch_backend): when it
 * goes to Closing (`xl block-detach`) or vanishes, backend_gone detaches
 * the disk (see blkfront_priv.h) and `blk` no longer lists it; a new
 * device/vbd/<id>, even with the same id, is connected by `blk rescan`.
 *
 * Once connected, the disk's thread (blkfront.c) serves its I/O; a detach
 * stops it first (requests in flight fail), then closes the device.
 */
#include "kernel.h"
#include "suspend.h"
#include "blkfront_priv.h"
#include "grant.h"
#include "mm.h"
#include "xenstore.h"

#define BLK_LIST_MAX 256
#define BLK_SUSPEND_DRAIN_MS BLK_IO_TIMEOUT_MS

/* A power of two, XEN_BLKIF_SECTOR_SIZE .. page. */
static bool blk_sector_size_ok(unsigned long ss)
{
    return ss >= XEN_BLKIF_SECTOR_SIZE && ss <= XEN_PAGE_SIZE && !(ss & (ss - 1));
}

static int read_geometry(struct blkdev *d, uint64_t *sectors, unsigned *sector_size,
                      unsigned long *info)
{
    unsigned long ss;
    uint64_t n;
    int rc = frontend_backend_u64(&d->fe, "sectors", &n);
    if (rc) {
        if (rc != -XEN_EINVAL) /* EINVAL: frontend.c said what was wrong */
            printk("blkfront: %s: cannot read %s/sectors: %s\n", d->name, d->fe.backend,
                   xen_errname(rc));
        return rc;
    }
    if ((rc = frontend_backend_ulong(&d->fe, "sector-size", &ss))) {
        if (rc != -XEN_EINVAL)
            printk("blkfront: %s: cannot read %s/sector-size: %s\n", d->name, d->fe.backend,
                   xen_errname(rc));
        return rc;
    }
    if (!blk_sector_size_ok(ss)) {
        printk("blkfront: backend sent sector-size %lu for %s: not a power of two from %u to %u\n",
               ss, d->name, (unsigned)XEN_BLKIF_SECTOR_SIZE, (unsigned)XEN_PAGE_SIZE);
        return -XEN_EINVAL;
    }
    if (n == 0 || n > UINT64_MAX / ss) {
        printk("blkfront: backend sent sectors %llu for %s: %s\n", (unsigned long long)n, d->name,
               n ? "too large for its sector size" : "an empty disk");
        return -XEN_EINVAL;
    }
    unsigned long in = 0;
    rc = frontend_backend_ulong(&d->fe, "info", &in);
    if (rc && rc != -XEN_ENOENT)
        return rc; /* printed by frontend.c */
    *sectors = n;
    *sector_size = (unsigned)ss;
    *info = in;
    return 0;
}

/* A name the shell can take: the backend's "dev" key ("xvda") if it is a
 * short word, else "vbd<id>". */
static void pick_name(struct blkdev *d)
{
    char dev[sizeof(d->name)];
    int rc = frontend_backend_read(&d->fe, "dev", dev, sizeof(dev));
    bool ok = rc > 0;
    for (int i = 0; ok && i < rc; i++) {
        char c = dev[i];
        ok = (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
    }
    if (ok)
        strlcpy(d->name, dev, sizeof(d->name));
    else
        snprintf(d->name, sizeof(d->name), "vbd%s", d->id);
}

/* The thread stopped first: it owns the slots until then. */
static void teardown(struct blkdev *d)
{
    d->connected = false;
    blk_thread_stop(d);
    d->state = XenbusStateClosing;
    (void)frontend_close(&d->fe);
    d->state = XenbusStateClosed;
    (void)frontend_ring_free(&d->fe, &d->rpage);
    d->ring.sring = NULL;
    blk_slots_release(d);
}

/* frontend.c's watch thread: the backend is Closing/Closed, or gone. */
static void backend_gone(struct xenbus_frontend *fe, XenbusState st, void *arg)
{
    struct blkdev *d = arg;
    (void)fe;
    printk("blkfront: %s: backend %s: detaching\n", d->name, frontend_gone_reason(st));
    d->detached = true; /* new I/O refused; the thread fails what is queued */
    teardown(d);
    blk_slots_drop(d);
    blk_list_detach(d);
    printk("blkfront: %s is detached (vbd %s; %lu requests, %lu errors)\n", d->name, d->id,
           d->requests, d->errors);
}

static int connect(struct blkdev *d)
{
    XenbusState st;
    d->fe.driver = "blkfront";
    snprintf(d->name, sizeof(d->name), "vbd%s", d->id);
    int rc = frontend_init(&d->fe, "vbd", d->id);
    if (rc)
        return rc;
    pick_name(d);
    if ((rc = frontend_ring_alloc(&d->fe, &d->rpage)))
        return rc;
    blk_ring_init(d, d->rpage.page);
    if ((rc = blk_slots_alloc(d)))
        goto fail;
    if ((rc = frontend_evtchn_alloc(&d->fe, blk_event, d)))
        goto fail;
    rc = frontend_wait_backend(&d->fe,
                               XENBUS_STATE_BIT(XenbusStateInitWait) |
                                   XENBUS_STATE_BIT(XenbusStateInitialised) |
                                   XENBUS_STATE_BIT(XenbusStateConnected),
                               FRONTEND_TIMEOUT_MS, &st);
    if (rc)
        goto fail;
    const struct frontend_key keys[] = {
        {"ring-ref", NULL, (unsigned long)d->rpage.ref},
        {"event-channel", NULL, d->fe.evtchn},
    };
    if ((rc = frontend_publish(&d->fe, keys, ARRAY_SIZE(keys), XenbusStateInitialised)))
        goto fail;
    d->state = XenbusStateInitialised;
    rc = frontend_wait_backend(&d->fe, XENBUS_STATE_BIT(XenbusStateConnected), FRONTEND_TIMEOUT_MS,
                               &st);
    if (rc)
        goto fail;
    if ((rc = read_geometry(d, &d->sectors, &d->sector_size, &d->info)))
        goto fail;
    d->readonly = (d->info & VDISK_READONLY) != 0;
    d->flush = frontend_backend_feature(&d->fe, "feature-flush-cache", false);
    if ((rc = frontend_switch(&d->fe, XenbusStateConnected)))
        goto fail;
    d->state = XenbusStateConnected;
    if (!d->thread && (rc = blk_thread_start(d)))
        goto fail;
    d->connected = true;
    printk("blkfront: %s: %llu sectors of %u bytes, %s%s, backend %s (dom %u)\n", d->name,
           (unsigned long long)d->sectors, d->sector_size, d->readonly ? "ro" : "rw",
           d->flush ? ", flush" : "", d->fe.backend, (unsigned)d->fe.backend_id);
    /* Without the watch the disk still works; a detach is then not seen
     * (frontend.c printed why). */
    (void)frontend_watch_backend(&d->fe, backend_gone, d);
    return 0;
fail:
    printk("blkfront: %s: not connected: %s\n", d->name, xen_errname(rc));
    teardown(d);
    blk_slots_drop(d);
    return rc;
}

static void probe_one(const char *id)
{
    unsigned long vdev;
    if (!parse_ulong(id, &vdev) || strlen(id) >= sizeof(((struct blkdev *)0)->id)) {
        printk("blkfront: device/vbd/%s: not a device number: skipped\n", id);
        return;
    }
    if (blk_count() >= BLK_MAX_DISKS) {
        printk("blkfront: device/vbd/%s: more than %u disks: skipped\n", id, BLK_MAX_DISKS);
        return;
    }
    struct blkdev *d = blk_list_revive(id);
    if (d)
        memset(d, 0, sizeof(*d)); /* its pointer holders see a disk again */
    else
        d = calloc(1, sizeof(*d));
    if (!d) {
        printk("blkfront: device/vbd/%s: out of memory\n", id);
        return;
    }
    strlcpy(d->id, id, sizeof(d->id));
    d->vdev = vdev;
    d->rpage.ref = -1;
    blk_list_add(d); /* listed even if it fails to connect */
    (void)connect(d);
}

/* A connected disk whose backend changed its size (or lies about it). */
static void recheck(struct blkdev *d)
{
    uint64_t n;
    unsigned ss;
    unsigned long info;
    if (read_geometry(d, &n, &ss, &info)) {
        printk("blkfront: %s: keeping %llu sectors of %u bytes\n", d->name,
               (unsigned long long)d->sectors, d->sector_size);
        return;
    }
    if (ss != d->sector_size) {
        printk("blkfront: backend sent sector-size %u for %s, was %u: change ignored\n", ss,
               d->name, d->sector_size);
        return;
    }
    if (n != d->sectors) {
        printk("blkfront: %s: now %llu sectors (was %llu)\n", d->name, (unsigned long long)n,
               (unsigned long long)d->sectors);
        d->sectors = n;
    }
}

static bool listed(const char *list, int n, const char *id)
{
    for (const char *p = list; n-- > 0; p += strlen(p) + 1)
        if (!strcmp(p, id))
            return true;
    return false;
}

int blk_rescan(void)
{
    static char list[BLK_LIST_MAX];
    int n = frontend_list("vbd", list, sizeof(list));
    if (n < 0) {
        if (n != -XEN_ENODEV)
            printk("blkfront: cannot list device/vbd: %s\n", xen_errname(n));
        return n;
    }
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blkdev *d = blk_get(i);
        if (d->connected) {
            recheck(d);
        } else if (!listed(list, n, d->id)) { /* failed to connect, and gone since */
            blk_list_detach(d);
            i--;
        }
    }
    for (const char *p = list; n-- > 0; p += strlen(p) + 1)
        if (!blk_list_find_id(p))
            probe_one(p);
    return (int)blk_count();
}

/* ---- suspend and resume (suspend.h) --------------------------------------- */

/* Each connected disk issues nothing new and its requests in flight are
 * answered first; what is queued meanwhile goes to the backend of the
 * resume (a new one, after a migration). */
static int blk_suspend(void)
{
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blkdev *d = blk_get(i);
        if (!d->connected)
            continue;
        d->held = true;
        if (blk_wait_idle(d, BLK_SUSPEND_DRAIN_MS))
            printk("blkfront: %s: %u requests still in flight at the suspend\n", d->name,
                   d->in_flight);
        frontend_unwatch_backend(&d->fe);
    }
    return 0;
}

static void blk_resume(bool new_domain)
{
    for (unsigned i = 0; i < blk_count(); i++) {
        struct blkdev *d = blk_get(i);
        if (!d->held)
            continue;
        if (new_domain) {
            /* The old backend, its grants and its port went with the old
             * domain: start again with the new backend (connect re-reads
             * its path, which names the new domain). */
            frontend_forget(&d->fe, &d->rpage);
            blk_slots_forget(d);
            d->ring.sring = NULL;
            d->connected = d->broken = false;
            if (connect(d) == 0)
                printk("blkfront: %s: reconnected after resume\n", d->name);
        } else {
            (void)frontend_watch_backend(&d->fe, backend_gone, d);
        }
        d->held = false;
        blk_kick(d);
    }
}

static const struct suspend_hooks blk_hooks = {"blkfront", blk_suspend, blk_resume};

int blkfront_init(void)
{
    if (!xs_available())
        return 0; /* dom0 mode: no XenStore, no virtual disks */
    suspend_register(&blk_hooks);
    int n = blk_rescan();
    if (n == 0)
        printk("blkfront: no disks\n");
    return n < 0 ? n : 0;
}
