/*
 * blk_rogue.c — a hostile block backend, run in the lab's dom0 against one
 * guest's blkfront (test_kernel_rogue_backend.py). It plays blkback's side of
 * a vbd without blkback: the test writes the XenStore nodes; this program
 * maps the guest's ring (/dev/xen/gntdev), binds its event channel
 * (/dev/xen/evtchn) and answers requests, misbehaving as the scenario says.
 *
 *   blk_rogue DOMID RING_REF PORT SCENARIO SECONDS
 *
 * Scenarios:
 *   honest   answer every request well (reads get "rogue sector N"), and
 *            check every granted page for bytes outside the request's
 *            sectors that are not zero: "rogue: leak N bytes ..." if any
 *   overrun  answer the first request with rsp_prod far beyond req_prod
 *   badid    answer with ids the guest never used
 *   keepmap  answer well, but keep every data page mapped afterwards
 *   storm    answer well, and notify without pause for the whole time
 * It prints "rogue: ready" once bound, one line per request, and at the end
 * (SECONDS passed, or SIGTERM) "rogue: done, R requests, L leaked bytes, M
 * pages still mapped".
 *
 * The guest is a 32-bit PV domain: the ring holds blkif's x86_32 layout
 * (a 64-byte header, then 108-byte entries; in a request the 64-bit id at
 * offset 4, the sector at 12, segments {gref, first_sect, last_sect} from
 * 20; in a response the id at 0, the operation at 8, the status at 10).
 */
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
#define SECTOR 512
#define RING_SIZE 32
#define HDR 64
#define ENTRY 108
#define MAX_SEG 11
#define OP_READ 0
#define OP_WRITE 1
#define RSP_OKAY 0
#define MAX_KEPT 256

struct ring_hdr {
    volatile uint32_t req_prod, req_event, rsp_prod, rsp_event;
};

static int gnt_fd, evt_fd;
static volatile sig_atomic_t stop; /* SIGTERM: the test is done with us */

static void on_term(int sig)
{
    (void)sig;
    stop = 1;
}
static uint32_t domid, local_port;
static unsigned long requests, leaked, kept_count;
static void *kept[MAX_KEPT];

/* A write's pages are granted read-only: map them so, or mmap fails. */
static void *map_grant(uint32_t ref, uint64_t *index, int writable)
{
    struct ioctl_gntdev_map_grant_ref m = {.count = 1};
    m.refs[0].domid = domid;
    m.refs[0].ref = ref;
    if (ioctl(gnt_fd, IOCTL_GNTDEV_MAP_GRANT_REF, &m) < 0) {
        printf("rogue: map grant %u: %s\n", ref, strerror(errno));
        return NULL;
    }
    void *p = mmap(NULL, PAGE, writable ? PROT_READ | PROT_WRITE : PROT_READ, MAP_SHARED, gnt_fd,
                   (off_t)m.index);
    if (p == MAP_FAILED) {
        printf("rogue: mmap grant %u: %s\n", ref, strerror(errno));
        return NULL;
    }
    *index = m.index;
    return p;
}

static void unmap_grant(void *p, uint64_t index)
{
    struct ioctl_gntdev_unmap_grant_ref u = {.index = index, .count = 1};
    munmap(p, PAGE);
    if (ioctl(gnt_fd, IOCTL_GNTDEV_UNMAP_GRANT_REF, &u) < 0)
        printf("rogue: unmap: %s\n", strerror(errno));
}

static void notify(void)
{
    struct ioctl_evtchn_notify n = {.port = local_port};
    (void)ioctl(evt_fd, IOCTL_EVTCHN_NOTIFY, &n);
}

/* Bytes of the page outside sectors [first, last] that are not zero. */
static unsigned long outside_nonzero(const uint8_t *page, unsigned first, unsigned last)
{
    unsigned long n = 0;
    for (unsigned off = 0; off < PAGE; off++)
        if ((off < first * SECTOR || off >= (last + 1) * SECTOR) && page[off])
            n++;
    return n;
}

static int16_t serve(const uint8_t *req, const char *scenario)
{
    uint8_t op = req[0], nseg = req[1];
    uint64_t sector;
    memcpy(&sector, req + 12, sizeof(sector));
    printf("rogue: request op=%u segments=%u sector=%llu\n", op, nseg,
           (unsigned long long)sector);
    if (nseg > MAX_SEG)
        return -1;
    for (unsigned s = 0; s < nseg; s++) {
        uint32_t gref;
        memcpy(&gref, req + 20 + 8 * s, sizeof(gref));
        unsigned first = req[20 + 8 * s + 4], last = req[20 + 8 * s + 5];
        uint64_t index;
        uint8_t *page = map_grant(gref, &index, op == OP_READ);
        if (!page || first > last || last >= PAGE / SECTOR)
            return -1;
        unsigned long bad = outside_nonzero(page, first, last);
        if (bad) {
            leaked += bad;
            printf("rogue: leak %lu bytes outside sectors %u..%u of grant %u\n", bad, first,
                   last, gref);
        }
        if (op == OP_READ)
            for (unsigned k = first; k <= last; k++, sector++)
                snprintf((char *)page + k * SECTOR, SECTOR, "rogue sector %llu",
                         (unsigned long long)sector);
        if (!strcmp(scenario, "keepmap") && kept_count < MAX_KEPT)
            kept[kept_count++] = page; /* never unmapped: the guest cannot revoke it */
        else
            unmap_grant(page, index);
    }
    return RSP_OKAY;
}

static void answer(uint8_t *ring, const char *scenario, uint32_t *req_cons, uint32_t *rsp_prod)
{
    struct ring_hdr *h = (struct ring_hdr *)ring;
    uint32_t rp = h->req_prod;
    __sync_synchronize();
    for (; *req_cons != rp; (*req_cons)++) {
        uint8_t req[ENTRY];
        memcpy(req, ring + HDR + ENTRY * (*req_cons % RING_SIZE), ENTRY);
        requests++;
        int16_t status = serve(req, scenario);
        uint8_t *rsp = ring + HDR + ENTRY * (*rsp_prod % RING_SIZE);
        uint64_t id;
        memcpy(&id, req + 4, sizeof(id));
        if (!strcmp(scenario, "badid"))
            id ^= 0xdead00000000ULL;
        memcpy(rsp, &id, sizeof(id));
        rsp[8] = req[0];
        memcpy(rsp + 10, &status, sizeof(status));
        (*rsp_prod)++;
    }
    __sync_synchronize();
    h->rsp_prod = !strcmp(scenario, "overrun") ? *rsp_prod + 1000 : *rsp_prod;
    __sync_synchronize();
    notify();
}

int main(int argc, char **argv)
{
    if (argc != 6) {
        fprintf(stderr, "usage: %s DOMID RING_REF PORT SCENARIO SECONDS\n", argv[0]);
        return 2;
    }
    setvbuf(stdout, NULL, _IONBF, 0);
    domid = (uint32_t)atoi(argv[1]);
    const char *scenario = argv[4];
    time_t end = time(NULL) + atoi(argv[5]);
    gnt_fd = open("/dev/xen/gntdev", O_RDWR);
    evt_fd = open("/dev/xen/evtchn", O_RDWR);
    if (gnt_fd < 0 || evt_fd < 0) {
        printf("rogue: open /dev/xen/gntdev or evtchn: %s\n", strerror(errno));
        return 2;
    }
    uint64_t ring_index;
    uint8_t *ring = map_grant((uint32_t)atoi(argv[2]), &ring_index, 1);
    if (!ring)
        return 2;
    struct ioctl_evtchn_bind_interdomain bind = {.remote_domain = domid,
                                                 .remote_port = (uint32_t)atoi(argv[3])};
    int port = ioctl(evt_fd, IOCTL_EVTCHN_BIND_INTERDOMAIN, &bind);
    if (port < 0) {
        printf("rogue: bind port %s: %s\n", argv[3], strerror(errno));
        return 2;
    }
    local_port = (uint32_t)port;
    struct ring_hdr *h = (struct ring_hdr *)ring;
    uint32_t req_cons = h->rsp_prod, rsp_prod = h->rsp_prod;
    printf("rogue: ready, scenario %s, ring at grant %s, port %u\n", scenario, argv[2],
           local_port);
    signal(SIGTERM, on_term);
    while (time(NULL) < end && !stop) {
        struct pollfd p = {.fd = evt_fd, .events = POLLIN};
        if (!strcmp(scenario, "storm"))
            for (int i = 0; i < 1000; i++)
                notify();
        if (poll(&p, 1, !strcmp(scenario, "storm") ? 0 : 100) > 0) {
            uint32_t got;
            if (read(evt_fd, &got, sizeof(got)) == (ssize_t)sizeof(got))
                (void)write(evt_fd, &got, sizeof(got)); /* unmask */
        }
        if (h->req_prod != req_cons)
            answer(ring, scenario, &req_cons, &rsp_prod);
    }
    printf("rogue: done, %lu requests, %lu leaked bytes, %lu pages still mapped\n", requests,
           leaked, kept_count);
    for (unsigned long i = 0; i < kept_count; i++)
        munmap(kept[i], PAGE);
    unmap_grant(ring, ring_index);
    return 0;
}
