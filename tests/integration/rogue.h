/*
 * rogue.h — what the project's hostile backends (blk_rogue.c, net_rogue.c)
 * share: playing a backend from dom0's user space without the kernel's
 * backend drivers. Grants are mapped with /dev/xen/gntdev, the event
 * channel bound with /dev/xen/evtchn (Linux's privcmd-era interfaces,
 * <xen/sys/gntdev.h> and <xen/sys/evtchn.h>), and every byte a page holds
 * outside what a request covers is checked to be zero (a frontend must not
 * show a backend anything beside the intended bytes).
 */
#ifndef ROGUE_H
#define ROGUE_H

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>
#include <xen/xen.h>
#include <xen/sys/evtchn.h>
#include <xen/sys/gntdev.h>

#define PAGE 4096

/* The start of every shared ring page (io/ring.h's sring header). */
struct ring_hdr {
    volatile uint32_t req_prod, req_event, rsp_prod, rsp_event;
};

struct rogue {
    int gnt_fd, evt_fd;
    uint32_t domid, local_port;
};

static volatile sig_atomic_t rogue_stop; /* SIGTERM: the test is done with us */

static void rogue_on_term(int sig)
{
    (void)sig;
    rogue_stop = 1;
}

/* Open the devices and bind the guest's port: 0, or 2 (printed). */
static int rogue_open(struct rogue *r, uint32_t domid, uint32_t remote_port)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    r->domid = domid;
    r->gnt_fd = open("/dev/xen/gntdev", O_RDWR);
    r->evt_fd = open("/dev/xen/evtchn", O_RDWR);
    if (r->gnt_fd < 0 || r->evt_fd < 0) {
        printf("rogue: open /dev/xen/gntdev or evtchn: %s\n", strerror(errno));
        return 2;
    }
    struct ioctl_evtchn_bind_interdomain bind = {.remote_domain = domid,
                                                 .remote_port = remote_port};
    int port = ioctl(r->evt_fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
    if (port < 0) {
        printf("rogue: bind port %u: %s\n", remote_port, strerror(errno));
        return 2;
    }
    r->local_port = (uint32_t)port;
    signal(SIGTERM, rogue_on_term);
    return 0;
}

/* A page granted read-only must be mapped so, or mmap fails. */
static void *rogue_map(struct rogue *r, uint32_t ref, uint64_t *index, int writable)
{
    struct ioctl_gntdev_map_grant_ref m = {.count = 1};
    m.refs[0].domid = r->domid;
    m.refs[0].ref = ref;
    if (ioctl(r->gnt_fd, IOCTL_GNTDEV_MAP_GRANT_REF, &m) < 0) {
        printf("rogue: map grant %u: %s\n", ref, strerror(errno));
        return NULL;
    }
    void *p = mmap(NULL, PAGE, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED,
                   r->gnt_fd, (off_t)m.index);
    if (p == MAP_FAILED) {
        printf("rogue: mmap grant %u: %s\n", ref, strerror(errno));
        return NULL;
    }
    *index = m.index;
    return p;
}

static void rogue_unmap(struct rogue *r, void *p, uint64_t index)
{
    struct ioctl_gntdev_unmap_grant_ref u = {.index = index, .count = 1};
    munmap(p, PAGE);
    if (ioctl(r->gnt_fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u) < 0)
        printf("rogue: unmap: %s\n", strerror(errno));
}

static void rogue_notify(struct rogue *r)
{
    struct ioctl_evtchn_notify n = {.port = r->local_port};
    (void)ioctl(r->evt_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

/* Wait up to timeout_ms for the guest's event (0: just look); unmask it. */
static void rogue_wait_event(struct rogue *r, int timeout_ms)
{
    struct pollfd p = {.fd = r->evt_fd, .events = POLLIN};
    if (poll(&p, 1, timeout_ms) > 0) {
        uint32_t got;
        if (read(r->evt_fd, &got, sizeof(got)) == (ssize_t)sizeof(got))
            (void)write(r->evt_fd, &got, sizeof(got)); /* unmask */
    }
}

/* Responses up to rsp_prod written: publish the index after them, then
 * notify the guest. */
static void rogue_publish(struct rogue *r, struct ring_hdr *h, uint32_t rsp_prod)
{
    __sync_synchronize();
    h->rsp_prod = rsp_prod;
    __sync_synchronize();
    rogue_notify(r);
}

/* One turn of a rogue's loop: with storm, 1000 notifications first and no
 * wait; otherwise up to 100 ms for the guest's event. */
static void rogue_step(struct rogue *r, int storm)
{
    if (storm)
        for (int i = 0; i < 1000; i++)
            rogue_notify(r);
    rogue_wait_event(r, storm ? 0 : 100);
}

/* The random modes' generator (xorshift64*, seeded through splitmix64):
 * the same seed gives the same run, so a failing seed is replayed. */
struct rogue_rng {
    uint64_t s;
};

static void rogue_seed(struct rogue_rng *g, uint64_t seed)
{
    uint64_t z = seed + 0x9e3779b97f4a7c15ULL;
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    g->s = (z ^ (z >> 31)) | 1;
}

static uint64_t rogue_next(struct rogue_rng *g)
{
    g->s ^= g->s >> 12;
    g->s ^= g->s << 25;
    g->s ^= g->s >> 27;
    return g->s * 0x2545f4914f6cdd1dULL;
}

/* 0..n-1 (n > 0). */
static unsigned rogue_below(struct rogue_rng *g, unsigned n)
{
    return (unsigned)((rogue_next(g) >> 32) % n);
}

/* Bytes of page outside [from, to) that are not zero. */
static unsigned long rogue_outside_nonzero(const uint8_t *page, unsigned from, unsigned to)
{
    unsigned long n = 0;
    for (unsigned off = 0; off < PAGE; off++)
        if ((off < from || off >= to) && page[off])
            n++;
    return n;
}

#endif
