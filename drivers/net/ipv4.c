/*
 * ipv4.c — IPv4 input and output (RFC 791; header checksum RFC 1071, host
 * requirements RFC 1122 3.2.1). Input checks, in order: room for a header,
 * version 4, IHL >= 5 and within the frame, total length >= IHL*4 and
 * within the frame (the rest is Ethernet padding and is ignored), header
 * checksum, no fragment (we do not reassemble: counted and dropped),
 * addressed to us (or broadcast); then ICMP or UDP. Options are skipped.
 * Output builds a 20-byte header, no options, DF clear, TTL 64, and sends
 * to a neighbour's MAC from the ARP cache: there is no gateway.
 */
#include "kernel.h"
#include "net_priv.h"

void ipv4_input(struct net_if *ifp, const uint8_t *p, size_t len)
{
    net_stats.rx_ipv4++;
    if (len < IPV4_HLEN) {
        net_drop(NET_DROP_IP_SHORT, "%u bytes, header needs %u", (unsigned)len, IPV4_HLEN);
        return;
    }
    struct ipv4_hdr h;
    memcpy(&h, p, sizeof(h));
    unsigned version = h.ver_ihl >> 4, hlen = (h.ver_ihl & 0xf) * 4u;
    if (version != IPV4_VERSION) {
        net_drop(NET_DROP_IP_VERSION, "version %u", version);
        return;
    }
    if (hlen < IPV4_HLEN || hlen > len) {
        net_drop(NET_DROP_IP_IHL, "IHL %u words in a %u-byte packet", hlen / 4, (unsigned)len);
        return;
    }
    unsigned total = net16(h.total_len);
    if (total < hlen || total > len) {
        net_drop(NET_DROP_IP_LENGTH, "total length %u, header %u, frame has %u", total, hlen,
                 (unsigned)len);
        return;
    }
    if (inet_fold(inet_sum(p, hlen, 0)) != 0xffff) {
        net_drop(NET_DROP_IP_CSUM, "header checksum %#06x is wrong", net16(h.csum));
        return;
    }
    uint16_t frag = net16(h.frag);
    if (frag & (IPV4_FLAG_MF | IPV4_FRAG_OFFSET)) {
        net_drop(NET_DROP_IP_FRAGMENT, "fragment (offset %u%s): no reassembly",
                 (frag & IPV4_FRAG_OFFSET) * 8u, frag & IPV4_FLAG_MF ? ", more" : "");
        return;
    }
    if (!ifp->has_ip) {
        net_drop(NET_DROP_NO_ADDRESS, "ipv4");
        return;
    }
    if (!net_is_local(ifp, ip_get(h.dst), true)) {
        net_drop(NET_DROP_IP_NOT_US, "not for us");
        return;
    }
    const struct ipv4_hdr *ip = (const struct ipv4_hdr *)p;
    switch (h.proto) {
    case IPPROTO_ICMP:
        icmp_input(ifp, ip, p + hlen, total - hlen);
        break;
    case IPPROTO_UDP:
        udp_input(ifp, ip, p + hlen, total - hlen);
        break;
    default:
        net_drop(NET_DROP_IP_PROTO, "protocol %u", h.proto);
    }
}

int ipv4_output(struct net_if *ifp, uint32_t dst, uint8_t proto, const void *payload, size_t len)
{
    static uint8_t packet[ETH_DATA_LEN];
    static uint16_t next_id;
    uint32_t src;
    uint8_t mac[ETH_ALEN];
    char ipb[16];

    if (!ifp->has_ip) {
        net_drop(NET_DROP_NO_ADDRESS, "ipv4 output");
        return -XEN_EADDRNOTAVAIL;
    }
    src = ifp->ip;
    if (len > IPV4_MAX_PAYLOAD)
        return -XEN_E2BIG;
    if (!net_on_link(ifp, dst)) {
        net_drop(NET_DROP_TX_NO_ROUTE, "%s is not on our subnet (no gateway)", net_ip_str(dst, ipb));
        return -XEN_ENXIO;
    }
    if (!arp_lookup(ifp->index, dst, mac)) {
        (void)arp_request(ifp, dst);
        net_drop(NET_DROP_TX_ARP_UNRESOLVED, "no ARP entry for %s yet (request sent)",
                 net_ip_str(dst, ipb));
        return -XEN_EAGAIN;
    }
    struct ipv4_hdr h = {
        .ver_ihl = IPV4_VERSION << 4 | IPV4_MIN_IHL,
        .total_len = net16((uint16_t)(IPV4_HLEN + len)),
        .id = net16(next_id++),
        .ttl = IPV4_DEFAULT_TTL,
        .proto = proto,
    };
    ip_put(h.src, src);
    ip_put(h.dst, dst);
    h.csum = net16(inet_csum(&h, sizeof(h)));
    memcpy(packet, &h, sizeof(h));
    memcpy(packet + IPV4_HLEN, payload, len);
    return eth_output(ifp, mac, ETH_P_IP, packet, IPV4_HLEN + len);
}
