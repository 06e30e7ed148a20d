/*
 * netfront_selftest.c — self-test of netfront (Xen 4.17 public/io/netif.h)
 * and of the TCP/IP stack above it (lwIP: RFC 826, 791, 792). A domU suite (dom0
 * has no XenStore); without a vif there is nothing to test: SKIP.
 *   1. The vif is connected: MAC read, ring references, rx buffers posted.
 *   2. netfront_rx_check on crafted rx responses: wrong id, error status,
 *      empty, offset + length past the page, more_data -> the right reason;
 *      a good one passes.
 *   3. Crafted frames into the stack (lwIP): truncated Ethernet, bad IPv4
 *      header checksum, IHL < 5, total length past the frame, ICMP echo
 *      shorter than its header, ARP of another hardware type; each must
 *      move its own lwIP counter and send nothing.
 *      With an address, a UDP datagram with a wrong checksum: dropped
 *      as such, and taken when it comes flagged NETRXF_csum_blank (the
 *      stack fills the checksum in).
 *   4. With an address: one ICMP echo to the first host of our subnet
 *      (dom0's bridge, 10.0.0.1 in the lab); no answer skips it.
 */
#include "kernel.h"
#include "mm.h"
#include "net.h"
#include "netfront.h"
#include "selftest.h"
#include "time.h"

#define PEER_ECHO_MS 3000
#define ST_PING_ID 0x5354 /* "ST" */

static uint8_t frame[128];

/* An Ethernet + IPv4 header from `src` to `dst` around `l4_len` zero
 * bytes of protocol `proto` (valid unless the caller breaks it); returns
 * the frame length. */
static size_t craft_ip(const uint8_t mac[ETH_ALEN], uint32_t src, uint32_t dst, uint8_t proto,
                       size_t l4_len)
{
    memset(frame, 0, sizeof(frame));
    struct eth_hdr eh = {.type = net16(ETH_P_IP)};
    memcpy(eh.dst, mac, ETH_ALEN);
    memset(eh.src, 0x02, ETH_ALEN);
    memcpy(frame, &eh, sizeof(eh));
    struct ipv4_hdr h = {.ver_ihl = IPV4_VERSION << 4 | IPV4_MIN_IHL,
                         .total_len = net16((uint16_t)(IPV4_HLEN + l4_len)),
                         .ttl = IPV4_DEFAULT_TTL, .proto = proto};
    ip_put(h.src, src);
    ip_put(h.dst, dst);
    /* RFC 1071 checksum, computed here independently of the stack. */
    uint32_t sum = 0;
    const uint8_t *b = (const uint8_t *)&h;
    for (unsigned i = 0; i < IPV4_HLEN; i += 2)
        sum += (uint32_t)b[i] << 8 | b[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    h.csum = net16((uint16_t)~sum);
    memcpy(frame + ETH_HLEN, &h, sizeof(h));
    return ETH_HLEN + IPV4_HLEN + l4_len;
}

/* An ICMP echo request to `dst` from 10.9.9.9. */
static size_t craft_icmp(const uint8_t mac[ETH_ALEN], uint32_t dst, size_t icmp_len)
{
    size_t len = craft_ip(mac, 0x0a090909, dst, IPPROTO_ICMP, icmp_len);
    frame[ETH_HLEN + IPV4_HLEN] = ICMP_ECHO_REQUEST;
    return len;
}

/* A UDP datagram from `src` to our echo port with 16 bytes of data and a
 * checksum that is wrong (as a backend's NETRXF_csum_blank frame may
 * have it: blank or a partial sum). */
static size_t craft_udp_unsummed(const uint8_t mac[ETH_ALEN], uint32_t src, uint32_t dst)
{
    enum { DATA = 16, SPORT = 40000, ECHO = 7, NOT_THE_SUM = 0x1234 };
    size_t len = craft_ip(mac, src, dst, IPPROTO_UDP, UDP_HLEN + DATA);
    struct udp_hdr u = {.sport = net16(SPORT), .dport = net16(ECHO),
                        .len = net16(UDP_HLEN + DATA), .csum = net16(NOT_THE_SUM)};
    memcpy(frame + ETH_HLEN + IPV4_HLEN, &u, sizeof(u));
    memset(frame + ETH_HLEN + IPV4_HLEN + UDP_HLEN, 0x5a, DATA);
    return len;
}

/* Feed one frame; true when lwIP's counter `want` moved by one and nothing
 * was sent. */
static bool drops_as(const void *f, size_t len, const char *want, char *why, size_t size,
                     const char *what)
{
    struct net_stats before, after;
    unsigned long drops_before = net_drop_count(want);
    net_get_stats(&before);
    net_inject(0, f, len, false);
    net_get_stats(&after);
    if (net_drop_count(want) != drops_before + 1 || after.tx_frames != before.tx_frames) {
        snprintf(why, size, "%s: expected one %s drop, got %lu (tx +%lu)", what, want,
                 net_drop_count(want) - drops_before, after.tx_frames - before.tx_frames);
        return false;
    }
    return true;
}

static const char *check_rx_responses(char *why, size_t size)
{
    unsigned off, len;
    static const struct {
        struct netif_rx_response rsp;
        enum netfront_drop want;
    } cases[] = {
        {{.id = 4, .offset = 0, .flags = 0, .status = 60}, NF_DROP_RX_BAD_ID},
        {{.id = 3, .offset = 0, .flags = 0, .status = NETIF_RSP_ERROR}, NF_DROP_RX_ERROR},
        {{.id = 3, .offset = 0, .flags = 0, .status = 0}, NF_DROP_RX_EMPTY},
        {{.id = 3, .offset = PAGE_SIZE - 10, .flags = 0, .status = 60}, NF_DROP_RX_BAD_LENGTH},
        {{.id = 3, .offset = 0, .flags = NETRXF_more_data, .status = 60}, NF_DROP_RX_MORE_DATA},
        {{.id = 3, .offset = 16, .flags = 0, .status = 60}, NF_DROP_NR},
    };
    for (unsigned i = 0; i < ARRAY_SIZE(cases); i++) {
        enum netfront_drop got = netfront_rx_check(&cases[i].rsp, 3, &off, &len);
        if (got != cases[i].want) {
            snprintf(why, size, "rx response case %u: got %s, want %s", i,
                     netfront_drop_name(got), netfront_drop_name(cases[i].want));
            return why;
        }
    }
    if (off != 16 || len != 60) {
        snprintf(why, size, "good rx response gave offset %u length %u", off, len);
        return why;
    }
    return NULL;
}

/* The same unsummed datagram twice: without NETRXF_csum_blank a checksum
 * drop; with it, taken (no checksum drop: the stack filled the sum in).
 * Only that counter is compared: a frame dom0 sends meanwhile may be
 * dropped for reasons of its own. */
static const char *check_csum_blank(const uint8_t mac[ETH_ALEN], uint32_t me, unsigned prefix,
                                    char *why, size_t size)
{
    uint32_t src = (me & ~(~0u >> prefix)) + 200; /* on our subnet: the echo can go back */
    size_t len = craft_udp_unsummed(mac, src, me);
    if (!drops_as(frame, len, "udp-chkerr", why, size, "wrong udp checksum"))
        return why;
    unsigned long chkerr = net_drop_count("udp-chkerr");
    net_inject(0, frame, len, true);
    if (net_drop_count("udp-chkerr") != chkerr) {
        snprintf(why, size, "csum_blank udp: %lu checksum drops (want none)",
                 net_drop_count("udp-chkerr") - chkerr);
        return why;
    }
    return NULL;
}

static const char *check_frames(const uint8_t mac[ETH_ALEN], char *why, size_t size, unsigned *n)
{
    uint32_t me;
    bool have_ip = net_address(0, &me, NULL);
    uint32_t dst = have_ip ? me : 0x0a0a0a0a;
    size_t len;

    len = craft_icmp(mac, dst, ICMP_HLEN);
    if (!drops_as(frame, ETH_HLEN - 4, "link-lenerr", why, size, "truncated ethernet"))
        return why;
    frame[ETH_HLEN + offsetof(struct ipv4_hdr, csum)] ^= 0x5a;
    if (!drops_as(frame, len, "ip-chkerr", why, size, "bad ip checksum"))
        return why;
    len = craft_icmp(mac, dst, ICMP_HLEN);
    frame[ETH_HLEN] = IPV4_VERSION << 4 | 3;
    if (!drops_as(frame, len, "ip-lenerr", why, size, "ihl 3"))
        return why;
    /* Longer than Ethernet's minimum, which runts are padded to. */
    len = craft_icmp(mac, dst, ETH_ZLEN);
    if (!drops_as(frame, len - 4, "ip-lenerr", why, size, "total length past the frame"))
        return why;
    *n = 4;
    if (!have_ip)
        return NULL;
    len = craft_icmp(mac, me, 4); /* a valid IPv4 header around 4 bytes of ICMP */
    if (!drops_as(frame, len, "icmp-lenerr", why, size, "icmp too short"))
        return why;
    static const uint8_t bcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    struct eth_hdr eh = {.type = net16(ETH_P_ARP)};
    memcpy(eh.dst, bcast, ETH_ALEN);
    memset(eh.src, 0x02, ETH_ALEN);
    struct arp_pkt a = {.htype = net16(ARP_HRD_ETHER + 1), .ptype = net16(ETH_P_IP),
                        .hlen = ETH_ALEN, .plen = 4, .op = net16(ARP_OP_REQUEST)};
    memset(a.sha, 0x02, ETH_ALEN);
    ip_put(a.spa, 0x0a090909);
    ip_put(a.tpa, me); /* for us, but not Ethernet's */
    memcpy(frame, &eh, sizeof(eh));
    memcpy(frame + ETH_HLEN, &a, sizeof(a));
    if (!drops_as(frame, ETH_HLEN + ARP_LEN, "arp-proterr", why, size, "arp of hardware type 2"))
        return why;
    unsigned prefix;
    (void)net_address(0, &me, &prefix);
    if (check_csum_blank(mac, me, prefix, why, size))
        return why;
    *n = 8;
    return NULL;
}

SELFTEST_IN(netfront, ST_DOMU)
{
    struct netfront_info in;
    char why[120], ipb[16], macb[18];
    unsigned frames = 0;

    netfront_get_info(0, &in);
    if (in.state == NETFRONT_NO_VIF || in.state == NETFRONT_DETACHED) {
        ST_SKIP(r, "no vif (%s)", in.why);
    }
    ST_EXPECT(r, in.state == NETFRONT_CONNECTED, "vif %s not connected: %s", in.node, in.why);
    static const uint8_t zero[ETH_ALEN];
    ST_EXPECT(r, memcmp(in.mac, zero, ETH_ALEN) && !(in.mac[0] & 1), "MAC %s is not unicast",
              net_mac_str(in.mac, macb));
    ST_EXPECT(r, in.tx_ring_ref > 0 && in.rx_ring_ref > 0, "ring refs tx %d rx %d",
              in.tx_ring_ref, in.rx_ring_ref);
    ST_EXPECT(r, in.rx_posted > 0, "no rx buffers posted");
    const char *err = check_rx_responses(why, sizeof(why));
    ST_EXPECT(r, !err, "%s", err);
    err = check_frames(in.mac, why, sizeof(why), &frames);
    ST_EXPECT(r, !err, "%s", err);

    uint32_t me;
    unsigned prefix;
    if (!net_address(0, &me, &prefix)) {
        ST_PASS(r, "mac %s, rings ok, %u crafted frames handled right; no ip=: ping skipped",
                net_mac_str(in.mac, macb), frames);
        return;
    }
    uint32_t peer = (me & ~(~0u >> prefix)) + 1;
    uint64_t rtt;
    unsigned ttl;
    size_t bytes;
    int rc = peer == me ? -XEN_ETIMEDOUT
                        : net_ping(peer, ST_PING_ID, 1, 32, PEER_ECHO_MS, &rtt, &ttl, &bytes);
    if (rc == -XEN_ETIMEDOUT) {
        ST_PASS(r, "mac %s, rings ok, %u crafted frames handled right; %s did not answer: "
                   "ping skipped", net_mac_str(in.mac, macb), frames, net_ip_str(peer, ipb));
        return;
    }
    ST_EXPECT(r, !rc, "ping %s: %s", net_ip_str(peer, ipb), xen_errname(rc));
    ST_PASS(r, "mac %s, rings ok, %u crafted frames handled right, ping %s %llu us",
            net_mac_str(in.mac, macb), frames, net_ip_str(peer, ipb),
            (unsigned long long)udiv64_32(rtt, NSEC_PER_USEC, NULL));
}
