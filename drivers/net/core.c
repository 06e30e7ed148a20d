/*
 * core.c — the bottom of the tiny IPv4 stack: each interface's link
 * (announced with a gratuitous ARP when it comes up), Ethernet II framing in and out
 * (IEEE 802.3 / RFC 894: destination, source, type; a frame shorter than 60
 * octets is padded), drop accounting with a rate-limited message, and the
 * Internet checksum (RFC 1071).
 */
#include "kernel.h"
#include "net_priv.h"
#include "time.h"

struct net_stats net_stats;
static unsigned long drops[NET_DROP_NR];

static const struct {
    const char *name;
    bool quiet;
} drop_info[NET_DROP_NR] = {
    [NET_DROP_ETH_SHORT] = {"eth-short", false},
    [NET_DROP_ETH_TOO_LONG] = {"eth-too-long", false},
    [NET_DROP_ETH_NOT_US] = {"eth-not-us", true},
    [NET_DROP_ETH_TYPE] = {"eth-type", true},
    [NET_DROP_ARP_SHORT] = {"arp-short", false},
    [NET_DROP_ARP_FORMAT] = {"arp-format", false},
    [NET_DROP_ARP_OTHER_HOST] = {"arp-other-host", true},
    [NET_DROP_IP_SHORT] = {"ip-short", false},
    [NET_DROP_IP_VERSION] = {"ip-version", false},
    [NET_DROP_IP_IHL] = {"ip-ihl", false},
    [NET_DROP_IP_LENGTH] = {"ip-length", false},
    [NET_DROP_IP_CSUM] = {"ip-checksum", false},
    [NET_DROP_IP_FRAGMENT] = {"ip-fragment", false},
    [NET_DROP_IP_NOT_US] = {"ip-not-us", true},
    [NET_DROP_IP_PROTO] = {"ip-protocol", true},
    [NET_DROP_NO_ADDRESS] = {"no-address", true},
    [NET_DROP_ICMP_SHORT] = {"icmp-short", false},
    [NET_DROP_ICMP_CSUM] = {"icmp-checksum", false},
    [NET_DROP_ICMP_TYPE] = {"icmp-type", true},
    [NET_DROP_UDP_SHORT] = {"udp-short", false},
    [NET_DROP_UDP_LENGTH] = {"udp-length", false},
    [NET_DROP_UDP_CSUM] = {"udp-checksum", false},
    [NET_DROP_UDP_PORT] = {"udp-port", true},
    [NET_DROP_TX_NO_ROUTE] = {"tx-no-route", false},
    [NET_DROP_TX_ARP_UNRESOLVED] = {"tx-arp-unresolved", false},
    [NET_DROP_TX_LINK] = {"tx-link", false},
};

const char *net_drop_name(enum net_drop d)
{
    return (unsigned)d < NET_DROP_NR ? drop_info[d].name : "?";
}

bool net_drop_quiet(enum net_drop d)
{
    return (unsigned)d < NET_DROP_NR && drop_info[d].quiet;
}

unsigned long net_drop_count(enum net_drop d)
{
    return (unsigned)d < NET_DROP_NR ? drops[d] : 0;
}

void net_get_stats(struct net_stats *s)
{
    *s = net_stats;
}

/* At most NET_MSG_BURST messages per second; the rest are counted and
 * reported once the next window opens. */
static struct ratelimit drop_messages = RATELIMIT_INIT("net", "drop", NET_MSG_BURST);

void net_drop(enum net_drop reason, const char *fmt, ...)
{
    if ((unsigned)reason >= NET_DROP_NR)
        return;
    drops[reason]++;
    net_stats.drops++;
    if (drop_info[reason].quiet)
        return;
    va_list ap;
    va_start(ap, fmt);
    ratelimit_vprintk(&drop_messages, drop_info[reason].name, fmt, ap);
    va_end(ap);
}

void net_attach(unsigned index, const struct net_link *l)
{
    char ipb[16], macb[18];
    struct net_if *ifp = net_if(index);
    if (!ifp)
        return;
    ifp->link = l;
    if (!l) {
        memset(ifp->arp, 0, sizeof(ifp->arp)); /* a new link may face other neighbours */
        return;
    }
    if (!ifp->has_ip)
        return; /* without an address there is nothing to announce */
    int rc = arp_announce(ifp);
    if (rc)
        printk("net: %s up: gratuitous ARP not sent: %s\n", l->name, xen_errname(rc));
    else
        printk("net: %s up: gratuitous ARP for %s at %s\n", l->name, net_ip_str(ifp->ip, ipb),
               net_mac_str(l->mac, macb));
}

const struct net_link *net_link(unsigned index)
{
    const struct net_if *ifp = net_if(index);
    return ifp ? ifp->link : NULL;
}

bool net_any_link(void)
{
    for (unsigned i = 0; i < NET_IF_MAX; i++)
        if (net_link(i))
            return true;
    return false;
}

static const uint8_t eth_broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

void net_input(unsigned index, const void *frame, size_t len)
{
    const uint8_t *p = frame;
    struct net_if *ifp = net_if(index);
    const struct net_link *link = ifp ? ifp->link : NULL;
    net_stats.rx_frames++;
    if (len < ETH_HLEN) {
        net_drop(NET_DROP_ETH_SHORT, "%u bytes, header needs %u", (unsigned)len, ETH_HLEN);
        return;
    }
    if (len > ETH_FRAME_LEN) {
        net_drop(NET_DROP_ETH_TOO_LONG, "%u bytes, MTU frame is %u", (unsigned)len, ETH_FRAME_LEN);
        return;
    }
    struct eth_hdr eh;
    memcpy(&eh, p, sizeof(eh));
    bool for_us = link && !memcmp(eh.dst, link->mac, ETH_ALEN);
    if (!ifp || (!for_us && memcmp(eh.dst, eth_broadcast, ETH_ALEN))) {
        net_drop(NET_DROP_ETH_NOT_US, "not our MAC");
        return;
    }
    switch (net16(eh.type)) {
    case ETH_P_ARP:
        arp_input(ifp, p + ETH_HLEN, len - ETH_HLEN);
        break;
    case ETH_P_IP:
        ipv4_input(ifp, p + ETH_HLEN, len - ETH_HLEN);
        break;
    default:
        net_drop(NET_DROP_ETH_TYPE, "type %#x", net16(eh.type));
    }
}

int eth_output(struct net_if *ifp, const uint8_t dst[ETH_ALEN], uint16_t type,
               const void *payload, size_t len)
{
    static uint8_t frame[ETH_FRAME_LEN];
    const struct net_link *link = ifp ? ifp->link : NULL;
    if (!link) {
        net_drop(NET_DROP_TX_LINK, "no link attached");
        return -XEN_ENODEV;
    }
    if (len > ETH_DATA_LEN) {
        net_drop(NET_DROP_TX_LINK, "payload of %u bytes exceeds the MTU", (unsigned)len);
        return -XEN_E2BIG;
    }
    struct eth_hdr eh;
    memcpy(eh.dst, dst, ETH_ALEN);
    memcpy(eh.src, link->mac, ETH_ALEN);
    eh.type = net16(type);
    memcpy(frame, &eh, ETH_HLEN);
    memcpy(frame + ETH_HLEN, payload, len);
    size_t total = ETH_HLEN + len;
    if (total < ETH_ZLEN) {
        memset(frame + total, 0, ETH_ZLEN - total);
        total = ETH_ZLEN;
    }
    int rc = link->xmit(link->dev, frame, total);
    if (rc) {
        net_drop(NET_DROP_TX_LINK, "%s refused a %u-byte frame: %s", link->name, (unsigned)total,
                 xen_errname(rc));
        return rc;
    }
    net_stats.tx_frames++;
    return 0;
}

uint32_t inet_sum(const void *data, size_t len, uint32_t sum)
{
    const uint8_t *p = data;
    for (; len >= 2; p += 2, len -= 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (len)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

uint16_t inet_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)sum;
}
