/*
 * blk_rogue.c — a hostile block backend, run in the lab's dom0 against one
 * guest's blkfront (test_kernel_rogue_backend.py). It plays blkback's side of
 * a vbd without blkback: the test writes the XenStore nodes; this program
 * maps the guest's ring (/dev/xen/gntdev), binds its event channel
 * (/dev/xen/evtchn) and answers requests, misbehaving as the scenario says.
 *
 *   blk_rogue DOMID RING_REF PORT SCENARIO SECONDS [SEED N]
 *
 * Scenarios:
 *   honest   answer every request well (reads get "rogue sector N"), and
 *            check every granted page for bytes outside the request's
 *            sectors that are not zero: "rogue: leak N bytes ..." if any
 *   overrun  answer the first request with rsp_prod far beyond req_prod
 *   badid    answer with ids the guest never used
 *   keepmap  answer well, but keep every data page mapped afterwards
 *   storm    answer well, and notify without pause for the whole time
 *   status   answer with statuses blkif.h does not have (77, then -77)
 *   wrongop  answer each request with another operation than it asked
 *   stale    answer the first request well, every later one with the id of
 *            the request before it (a request that is over: never made now)
 *   vanish   take the requests and never answer; exit when told
 *   silent   answer every request well, but never notify the guest
 *   random   the answers to N requests drawn from SEED (rogue.h's
 *            generator), valid ones mixed in: the request's id, another
 *            one's that is over, or any; its operation or another; status
 *            OKAY or any; junk in the response's padding; notifications
 *            none, one or a burst; rarely rsp_prod beyond the requests
 *            (the disk stops, the burst ends). Then "rogue: burst done, R
 *            responses (H hostile)", and honest from then on
 * It prints "rogue: ready" once bound, one line per request, and at the end
 * (SECONDS passed, or SIGTERM) "rogue: done, R requests, L leaked bytes, M
 * pages still mapped".
 *
 * The guest is a 32-bit PV domain: the ring holds blkif's x86_32 layout
 * (a 64-byte header, then 108-byte entries; in a request the 64-bit id at
 * offset 4, the sector at 12, segments {gref, first_sect, last_sect} from
 * 20; in a response the id at 0, the operation at 8, the status at 10).
 */
#include "rogue.h"

#define SECTOR 512
#define RING_SIZE 32
#define HDR 64
#define ENTRY 108
#define MAX_SEG 11
#define OP_READ 0
#define OP_WRITE 1
#define RSP_OKAY 0
#define BOGUS_STATUS 77
#define MAX_KEPT 256

static struct rogue rg;
static unsigned long requests, leaked, kept_count;
static struct rogue_rng rng;
static int random_mode;
static unsigned long burst_left, sent, hostile;
static void *kept[MAX_KEPT];

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
        uint8_t *page = rogue_map(&rg, gref, &index, op == OP_READ);
        if (!page || first > last || last >= PAGE / SECTOR)
            return -1;
        unsigned long bad = rogue_outside_nonzero(page, first * SECTOR, (last + 1) * SECTOR);
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
            rogue_unmap(&rg, page, index);
    }
    return RSP_OKAY;
}

/* The random mode's answer to one request, from the generator. */
static void random_answer(uint8_t *rsp, uint64_t *id, uint64_t own_id, uint8_t *op,
                          int16_t *status)
{
    static uint64_t previous_id;
    unsigned pick = rogue_below(&rng, 32);
    burst_left--;
    sent++;
    hostile += pick < 14; /* the rest: a good answer (junk in its padding at most) */
    if (pick < 4)
        *status = (int16_t)(rogue_next(&rng) | 1); /* never OKAY */
    else if (pick < 8)
        *op = (uint8_t)(rogue_below(&rng, 2) ? *op ^ 1 : rogue_next(&rng));
    else if (pick < 9)
        *id = rogue_next(&rng);
    else if (pick < 10 && previous_id)
        *id = previous_id; /* a request that is over */
    else if (pick < 14)
        for (unsigned i = 12; i < ENTRY; i++) /* the rest of the slot: junk */
            rsp[i] = (uint8_t)rogue_next(&rng);
    if (pick >= 10)
        rsp[9] = (uint8_t)rogue_next(&rng); /* the padding after operation */
    previous_id = own_id;
}

static void answer(uint8_t *ring, const char *scenario, uint32_t *req_cons, uint32_t *rsp_prod)
{
    struct ring_hdr *h = (struct ring_hdr *)ring;
    uint32_t rp = h->req_prod;
    int bursting = random_mode && burst_left; /* this turn's answers are drawn */
    __sync_synchronize();
    for (; *req_cons != rp; (*req_cons)++) {
        uint8_t req[ENTRY];
        memcpy(req, ring + HDR + ENTRY * (*req_cons % RING_SIZE), ENTRY);
        requests++;
        int16_t status = serve(req, scenario);
        if (!strcmp(scenario, "vanish"))
            continue; /* taken, never answered */
        uint8_t *rsp = ring + HDR + ENTRY * (*rsp_prod % RING_SIZE);
        uint64_t id;
        memcpy(&id, req + 4, sizeof(id));
        static uint64_t previous_id;
        uint64_t own_id = id;
        if (!strcmp(scenario, "badid"))
            id ^= 0xdead00000000ULL;
        if (!strcmp(scenario, "stale") && requests > 1)
            id = previous_id;
        previous_id = own_id;
        if (!strcmp(scenario, "status"))
            status = requests % 2 ? BOGUS_STATUS : -BOGUS_STATUS;
        uint8_t op = !strcmp(scenario, "wrongop") ? (uint8_t)(req[0] ^ 1) : req[0];
        if (random_mode && burst_left)
            random_answer(rsp, &id, own_id, &op, &status);
        memcpy(rsp, &id, sizeof(id));
        rsp[8] = op;
        memcpy(rsp + 10, &status, sizeof(status));
        (*rsp_prod)++;
    }
    int overrun = !strcmp(scenario, "overrun");
    if (!strcmp(scenario, "silent")) {
        __sync_synchronize();
        h->rsp_prod = *rsp_prod; /* and no event */
        return;
    }
    if (!bursting) {
        rogue_publish(&rg, h, overrun ? *rsp_prod + 1000 : *rsp_prod);
        return;
    }
    unsigned ev = rogue_below(&rng, 32);
    unsigned notes = ev == 0 ? 0 : ev < 6 ? rogue_below(&rng, 300) : 1;
    overrun = rogue_below(&rng, 200) == 0;
    if (overrun)
        printf("rogue: rsp_prod pushed beyond the requests\n");
    __sync_synchronize();
    h->rsp_prod = overrun ? *rsp_prod + 1000 : *rsp_prod;
    __sync_synchronize();
    for (unsigned i = 0; i < notes; i++)
        rogue_notify(&rg);
    if (overrun)
        burst_left = 0; /* the disk is stopped: no more answers are read */
    if (!burst_left) {
        printf("rogue: burst done, %lu responses (%lu hostile)\n", sent, hostile);
        sent = 0;
    }
}

int main(int argc, char **argv)
{
    if (argc != 6 && argc != 8) {
        fprintf(stderr, "usage: %s DOMID RING_REF PORT SCENARIO SECONDS [SEED N]\n", argv[0]);
        return 2;
    }
    random_mode = argc == 8;
    if (random_mode) {
        rogue_seed(&rng, strtoull(argv[6], NULL, 0));
        burst_left = strtoul(argv[7], NULL, 0);
    }
    const char *scenario = argv[4];
    time_t end = time(NULL) + atoi(argv[5]);
    if (rogue_open(&rg, (uint32_t)atoi(argv[1]), (uint32_t)atoi(argv[3])))
        return 2;
    uint64_t ring_index;
    uint8_t *ring = rogue_map(&rg, (uint32_t)atoi(argv[2]), &ring_index, 1);
    if (!ring)
        return 2;
    struct ring_hdr *h = (struct ring_hdr *)ring;
    uint32_t req_cons = h->rsp_prod, rsp_prod = h->rsp_prod;
    printf("rogue: ready, scenario %s, ring at grant %s, port %u\n", scenario, argv[2],
           rg.local_port);
    while (time(NULL) < end && !rogue_stop) {
        rogue_step(&rg, !strcmp(scenario, "storm"));
        if (h->req_prod != req_cons)
            answer(ring, scenario, &req_cons, &rsp_prod);
    }
    printf("rogue: done, %lu requests, %lu leaked bytes, %lu pages still mapped\n", requests,
           leaked, kept_count);
    if (random_mode)
        printf("rogue: seed %s, %lu hostile of the first %lu answers\n", argv[6], hostile,
               strtoul(argv[7], NULL, 0) - burst_left);
    for (unsigned long i = 0; i < kept_count; i++)
        munmap(kept[i], PAGE);
    rogue_unmap(&rg, ring, ring_index);
    return 0;
}
