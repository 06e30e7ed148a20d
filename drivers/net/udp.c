/*
 * udp.c — UDP (RFC 768) with one service: echo on port 7 (RFC 862). Input
 * checks the 8-byte header, that the UDP length fits in the datagram, and
 * the checksum over the pseudo-header when the sender set one (0 means
 * none, RFC 768). The echo goes back to the sender's port with the same
 * data and a checksum.
 */
#include "kernel.h"
#include "net_priv.h"

static uint32_t pseudo_sum(uint32_t src, uint32_t dst, size_t udp_len)
{
    uint8_t ph[12];
    ip_put(ph, src);
    ip_put(ph + 4, dst);
    ph[8] = 0;
    ph[9] = IPPROTO_UDP;
    ph[10] = (uint8_t)(udp_len >> 8);
    ph[11] = (uint8_t)udp_len;
    return inet_sum(ph, sizeof(ph), 0);
}

static void echo(struct net_if *ifp, uint32_t from, uint32_t to, const struct udp_hdr *u, const uint8_t *p, size_t len)
{
    static uint8_t reply[IPV4_MAX_PAYLOAD];
    if (len > sizeof(reply))
        return;
    memcpy(reply, p, len);
    struct udp_hdr r = {.sport = u->dport, .dport = u->sport, .len = net16((uint16_t)len)};
    memcpy(reply, &r, sizeof(r));
    uint16_t c = (uint16_t)~inet_fold(inet_sum(reply, len, pseudo_sum(to, from, len)));
    r.csum = net16(c ? c : 0xffff); /* 0 would mean "no checksum" */
    memcpy(reply, &r, sizeof(r));
    if (ipv4_output(ifp, from, IPPROTO_UDP, reply, len) == 0)
        net_stats.udp_echoed++;
}

void udp_input(struct net_if *ifp, const struct ipv4_hdr *ip, const uint8_t *p, size_t len)
{
    net_stats.rx_udp++;
    if (len < UDP_HLEN) {
        net_drop(NET_DROP_UDP_SHORT, "%u bytes, header needs %u", (unsigned)len, UDP_HLEN);
        return;
    }
    struct udp_hdr u;
    memcpy(&u, p, sizeof(u));
    size_t ulen = net16(u.len);
    if (ulen < UDP_HLEN || ulen > len) {
        net_drop(NET_DROP_UDP_LENGTH, "UDP length %u in a %u-byte payload", (unsigned)ulen,
                 (unsigned)len);
        return;
    }
    uint32_t src = ip_get(ip->src), dst = ip_get(ip->dst);
    if (u.csum && inet_fold(inet_sum(p, ulen, pseudo_sum(src, dst, ulen))) != 0xffff) {
        net_drop(NET_DROP_UDP_CSUM, "checksum over %u bytes is wrong", (unsigned)ulen);
        return;
    }
    if (net16(u.dport) != UDP_PORT_ECHO || !net_is_local(ifp, dst, false)) {
        net_drop(NET_DROP_UDP_PORT, "port %u", net16(u.dport));
        return;
    }
    echo(ifp, src, dst, &u, p, ulen);
}
