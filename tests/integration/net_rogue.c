/*
 * net_rogue.c — a hostile network backend, run in the lab's dom0 against one
 * guest's netfront (test_kernel_rogue_backend.py). It plays netback's side
 * of a vif without netback: the test writes the XenStore nodes; this program
 * maps the guest's tx and rx rings (/dev/xen/gntdev, rogue.h), binds its
 * event channel and answers, misbehaving as the scenario says.
 *
 *   net_rogue DOMID TX_REF RX_REF PORT GUEST_IP SCENARIO SECONDS [SEED N]
 *
 * Every scenario first delivers, into the guest's first posted rx buffer, an
 * ARP request "who has GUEST_IP" from ROGUE_MAC; the guest's answer comes
 * back on the tx ring. Every tx page is checked for bytes beyond the frame
 * that are not zero ("rogue: leak N bytes ..."). Then, once:
 *   honest   nothing more: answer every tx request NETIF_RSP_OKAY
 *   overrun  rx rsp_prod far beyond the requests posted
 *   badlen   an rx response whose offset + length runs past its page
 *   badid    an rx response naming another buffer than its slot's
 *   error    an rx response with status NETIF_RSP_ERROR
 *   txjunk   four more ARP requests; the guest's answers are answered, in
 *            turn, with NETIF_RSP_NULL and with an id it never sent (so
 *            the buffers of those stay the rogue's: only the guest's drop
 *            counters and its ability to go on sending are the verdict)
 *   storm    notify without pause for the whole time
 *   random   N responses drawn from SEED (rogue.h's generator), valid and
 *            hostile mixed: rx responses with the slot's id or any, any
 *            offset, flags and status (length or error), frames that are
 *            ARP requests (so the guest sends) or junk; tx responses with
 *            the request's id or any, any status; notifications none, one
 *            or a burst; rx responses published one at a time or together.
 *            Then "rogue: burst done, R responses (rx X hostile H, tx T)",
 *            and from then on honest, tx only
 * It prints "rogue: ready", "rogue: arp reply seen" when the guest answered
 * its ARP, and at the end (SECONDS passed, or SIGTERM) "rogue: done, T tx
 * requests, L leaked bytes".
 *
 * Layouts, x86_32 (Xen 4.17 public/io/netif.h): a 64-byte ring header; tx
 * entries of 12 bytes (request {gref, offset, flags, id, size}, response
 * {id, status}); rx entries of 8 bytes (request {id, pad, gref}, response
 * {id, offset, flags, status}); 256 entries each.
 */
#include "rogue.h"

#define HDR 64
#define RING_SIZE 256
#define TX_ENTRY 12
#define RX_ENTRY 8
#define RSP_OKAY 0
#define RSP_ERROR (-1)
#define RSP_NULL 1
#define ETH_HLEN 14
#define ARP_LEN 28
#define ARP_FRAME (ETH_HLEN + ARP_LEN)
#define STATUS_S 10 /* seconds between the random mode's progress lines */

static const uint8_t rogue_mac[6] = {0x02, 0x0e, 0x0e, 0x0e, 0x0e, 0x01};
static struct rogue rg;
static unsigned long tx_requests, leaked;
static struct rogue_rng rng;
static int random_mode;
static unsigned long burst_left, rx_sent, rx_hostile, tx_sent;
static int arp_seen;
static uint32_t guest_ip, rogue_ip;

static void put16(uint8_t *p, uint16_t v)
{
    memcpy(p, &v, 2);
}

static uint16_t get16(const uint8_t *p)
{
    uint16_t v;
    memcpy(&v, p, 2);
    return v;
}

static uint32_t get32(const uint8_t *p)
{
    uint32_t v;
    memcpy(&v, p, 4);
    return v;
}

/* An ARP request "who has guest_ip, tell rogue_ip" (network byte order). */
static unsigned arp_request(uint8_t *f)
{
    static const uint8_t head[] = {0x08, 0x06, 0x00, 0x01, 0x08, 0x00, 6, 4, 0x00, 0x01};
    memset(f, 0xff, 6);
    memcpy(f + 6, rogue_mac, 6);
    memcpy(f + 12, head, sizeof(head));
    memcpy(f + 22, rogue_mac, 6);
    memcpy(f + 28, &rogue_ip, 4);
    memset(f + 32, 0, 6);
    memcpy(f + 38, &guest_ip, 4);
    return ARP_FRAME;
}

/* Take the oldest posted rx request; answer it with (offset, status) as
 * given, after writing len bytes of frame at offset (when frame). */
static int rx_answer(uint8_t *rx, uint32_t *req_cons, uint32_t *rsp_prod, const uint8_t *frame,
                     unsigned len, uint16_t offset, int16_t status, int bad_id)
{
    struct ring_hdr *h = (struct ring_hdr *)rx;
    if (*req_cons == h->req_prod)
        return -1; /* nothing posted */
    uint8_t req[RX_ENTRY];
    memcpy(req, rx + HDR + RX_ENTRY * (*req_cons % RING_SIZE), RX_ENTRY);
    (*req_cons)++;
    uint16_t id = get16(req);
    if (frame) {
        uint64_t index;
        uint8_t *page = rogue_map(&rg, get32(req + 4), &index, 1);
        if (page) {
            memcpy(page + offset, frame, len);
            rogue_unmap(&rg, page, index);
        } else {
            status = RSP_ERROR; /* the request is taken: answered, or its buffer is lost */
        }
    }
    uint8_t *rsp = rx + HDR + RX_ENTRY * (*rsp_prod % RING_SIZE);
    put16(rsp, bad_id ? (uint16_t)(id ^ 0x21) : id);
    put16(rsp + 2, offset);
    put16(rsp + 4, 0);
    put16(rsp + 6, (uint16_t)status);
    (*rsp_prod)++;
    rogue_publish(&rg, h, *rsp_prod);
    return 0;
}

/* One response of the random mode's burst sent (rx or tx: the last one
 * may be either), counted in *kind; the line the test waits for once the
 * burst is over. */
static void burst_count(unsigned long *kind)
{
    (*kind)++;
    if (--burst_left == 0)
        printf("rogue: burst done, %lu responses (rx %lu hostile %lu, tx %lu)\n",
               rx_sent + tx_sent, rx_sent, rx_hostile, tx_sent);
}

static void tx_serve(uint8_t *tx, uint32_t *req_cons, uint32_t *rsp_prod, int junk)
{
    struct ring_hdr *h = (struct ring_hdr *)tx;
    uint32_t rp = h->req_prod;
    __sync_synchronize();
    for (; *req_cons != rp; (*req_cons)++) {
        uint8_t req[TX_ENTRY];
        memcpy(req, tx + HDR + TX_ENTRY * (*req_cons % RING_SIZE), TX_ENTRY);
        tx_requests++;
        uint16_t offset = get16(req + 4), id = get16(req + 8), size = get16(req + 10);
        uint64_t index;
        uint8_t *page = rogue_map(&rg, get32(req), &index, 0);
        if (page) {
            unsigned long bad = rogue_outside_nonzero(page, offset, (unsigned)offset + size);
            if (bad) {
                leaked += bad;
                printf("rogue: leak %lu bytes beyond a %u-byte frame\n", bad, size);
            }
            /* an ARP reply (op 2) from the guest to us */
            if (size >= ARP_FRAME && page[offset + 12] == 0x08 && page[offset + 13] == 0x06 &&
                page[offset + 21] == 2 && !memcmp(page + offset, rogue_mac, 6) && !arp_seen) {
                arp_seen = 1;
                printf("rogue: arp reply seen\n");
            }
            rogue_unmap(&rg, page, index);
        }
        /* One response per request, always: more would run rsp_prod past
         * req_prod (and overwrite requests not read yet). */
        int16_t status = RSP_OKAY;
        if (junk && tx_requests % 2)
            status = RSP_NULL;
        else if (junk)
            id = (uint16_t)(id + 100);
        if (random_mode && burst_left) {
            burst_count(&tx_sent);
            unsigned pick = rogue_below(&rng, 16);
            if (pick == 0)
                id = (uint16_t)rogue_next(&rng);
            else if (pick == 1)
                status = (int16_t)rogue_next(&rng);
            else if (pick == 2)
                status = (int16_t)(RSP_NULL - (int)rogue_below(&rng, 4)); /* NULL..DROPPED */
        }
        uint8_t *rsp = tx + HDR + TX_ENTRY * (*rsp_prod % RING_SIZE);
        put16(rsp, id);
        put16(rsp + 2, (uint16_t)status);
        (*rsp_prod)++;
    }
    rogue_publish(&rg, h, *rsp_prod);
}

/* One rx response of the random mode for the oldest posted buffer: a
 * frame (an ARP request, or junk of a length Ethernet allows) answered
 * well, or a response with fields drawn at random. */
static int rx_random(uint8_t *rx, uint32_t *req_cons, uint32_t *rsp_prod)
{
    uint8_t frame[PAGE];
    if (rogue_below(&rng, 2)) {
        unsigned len = ARP_FRAME;
        if (rogue_below(&rng, 2))
            (void)arp_request(frame);
        else {
            len = ETH_HLEN + rogue_below(&rng, 1500 - ETH_HLEN + 1);
            for (unsigned i = 0; i < len; i++)
                frame[i] = (uint8_t)rogue_next(&rng);
        }
        uint16_t offset = (uint16_t)rogue_below(&rng, PAGE - len + 1);
        return rx_answer(rx, req_cons, rsp_prod, frame, len, offset, (int16_t)len, 0);
    }
    struct ring_hdr *h = (struct ring_hdr *)rx;
    if (*req_cons == h->req_prod)
        return -1;
    uint8_t req[RX_ENTRY];
    memcpy(req, rx + HDR + RX_ENTRY * (*req_cons % RING_SIZE), RX_ENTRY);
    (*req_cons)++;
    uint16_t id = get16(req);
    uint8_t *rsp = rx + HDR + RX_ENTRY * (*rsp_prod % RING_SIZE);
    put16(rsp, rogue_below(&rng, 4) ? id : (uint16_t)rogue_next(&rng));
    put16(rsp + 2, (uint16_t)(rogue_below(&rng, 2) ? rogue_below(&rng, PAGE) : rogue_next(&rng)));
    put16(rsp + 4, (uint16_t)rogue_next(&rng)); /* flags: more_data, extra_info, ... */
    put16(rsp + 6, (uint16_t)(rogue_below(&rng, 2) ? rogue_below(&rng, PAGE + 64)
                                                   : rogue_next(&rng)));
    (*rsp_prod)++;
    rx_hostile++;
    if (rogue_below(&rng, 2))
        rogue_publish(&rg, h, *rsp_prod);
    return 0;
}

/* The random mode's turn: rx responses for what is posted, then the
 * event pattern; "burst done" once N responses went out. */
static void random_turn(uint8_t *rx, uint32_t *rx_cons, uint32_t *rx_prod)
{
    struct ring_hdr *rh = (struct ring_hdr *)rx;
    unsigned k = 1 + rogue_below(&rng, 32);
    for (unsigned i = 0; i < k && burst_left && rh->req_prod != *rx_cons; i++) {
        if (rx_random(rx, rx_cons, rx_prod))
            break;
        burst_count(&rx_sent);
    }
    __sync_synchronize();
    rh->rsp_prod = *rx_prod;
    unsigned ev = rogue_below(&rng, 8);
    unsigned notes = ev == 0 ? 0 : ev == 1 ? rogue_below(&rng, 300) : 1;
    for (unsigned i = 0; i < notes; i++)
        rogue_notify(&rg);
}

int main(int argc, char **argv)
{
    if (argc != 8 && argc != 10) {
        fprintf(stderr, "usage: %s DOMID TX_REF RX_REF PORT GUEST_IP SCENARIO SECONDS [SEED N]\n",
                argv[0]);
        return 2;
    }
    random_mode = argc == 10;
    if (random_mode) {
        rogue_seed(&rng, strtoull(argv[8], NULL, 0));
        burst_left = strtoul(argv[9], NULL, 0);
    }
    unsigned a, b, c, d;
    if (sscanf(argv[5], "%u.%u.%u.%u", &a, &b, &c, &d) != 4)
        return 2;
    uint8_t ip[4] = {(uint8_t)a, (uint8_t)b, (uint8_t)c, (uint8_t)d};
    memcpy(&guest_ip, ip, 4);
    ip[3] = 1;
    memcpy(&rogue_ip, ip, 4);
    const char *scenario = argv[6];
    time_t end = time(NULL) + atoi(argv[7]);
    if (rogue_open(&rg, (uint32_t)atoi(argv[1]), (uint32_t)atoi(argv[4])))
        return 2;
    uint64_t tx_index, rx_index;
    uint8_t *tx = rogue_map(&rg, (uint32_t)atoi(argv[2]), &tx_index, 1);
    uint8_t *rx = rogue_map(&rg, (uint32_t)atoi(argv[3]), &rx_index, 1);
    if (!tx || !rx)
        return 2;
    struct ring_hdr *th = (struct ring_hdr *)tx, *rh = (struct ring_hdr *)rx;
    uint32_t tx_cons = th->rsp_prod, tx_prod = th->rsp_prod;
    uint32_t rx_cons = rh->rsp_prod, rx_prod = rh->rsp_prod;
    int junk = !strcmp(scenario, "txjunk"), storm = !strcmp(scenario, "storm");
    int arp_sent = 0, misbehaved = 0;
    printf("rogue: ready, scenario %s, port %u\n", scenario, rg.local_port);
    time_t said = time(NULL);
    while (time(NULL) < end && !rogue_stop) {
        rogue_step(&rg, storm);
        if (random_mode && burst_left && time(NULL) - said >= STATUS_S) {
            /* a burst that does not end: which ring stands still */
            said = time(NULL);
            printf("rogue: %lu responses to go; rx req_prod %u taken %u, tx req_prod %u "
                   "taken %u\n", burst_left, rh->req_prod, rx_cons, th->req_prod, tx_cons);
        }
        if (th->req_prod != tx_cons)
            tx_serve(tx, &tx_cons, &tx_prod, junk);
        uint8_t frame[ARP_FRAME];
        if (!arp_sent && rh->req_prod != rx_cons) {
            unsigned len = arp_request(frame);
            arp_sent = rx_answer(rx, &rx_cons, &rx_prod, frame, len, 0, (int16_t)len, 0) == 0;
            continue;
        }
        if (random_mode && arp_seen && burst_left) {
            random_turn(rx, &rx_cons, &rx_prod);
            continue;
        }
        if (!arp_seen || misbehaved || rh->req_prod == rx_cons || random_mode)
            continue;
        unsigned len = arp_request(frame);
        if (junk) { /* more answers to answer badly */
            (void)rx_answer(rx, &rx_cons, &rx_prod, frame, len, 0, (int16_t)len, 0);
            misbehaved = ++arp_sent > 4;
            continue;
        }
        misbehaved = 1;
        if (!strcmp(scenario, "overrun")) {
            rogue_publish(&rg, rh, rx_prod + 1000);
            printf("rogue: rx rsp_prod pushed to %u\n", rx_prod + 1000);
        } else if (!strcmp(scenario, "badlen")) {
            (void)rx_answer(rx, &rx_cons, &rx_prod, NULL, 0, PAGE - 16, 500, 0);
            printf("rogue: rx response offset %u length 500\n", PAGE - 16);
        } else if (!strcmp(scenario, "badid")) {
            (void)rx_answer(rx, &rx_cons, &rx_prod, frame, len, 0, (int16_t)len, 1);
            printf("rogue: rx response with another buffer's id\n");
        } else if (!strcmp(scenario, "error")) {
            (void)rx_answer(rx, &rx_cons, &rx_prod, NULL, 0, 0, RSP_ERROR, 0);
            printf("rogue: rx response with an error status\n");
        }
    }
    printf("rogue: done, %lu tx requests, %lu leaked bytes\n", tx_requests, leaked);
    if (random_mode)
        printf("rogue: seed %s, %lu responses (rx %lu hostile %lu, tx %lu)\n", argv[8],
               rx_sent + tx_sent, rx_sent, rx_hostile, tx_sent);
    rogue_unmap(&rg, tx, tx_index);
    rogue_unmap(&rg, rx, rx_index);
    return 0;
}
