/*
 * net_priv.h — what the files of the tiny IPv4 stack (drivers/net/) share
 * among themselves: the layer entry points (each layer checks its header,
 * then calls the next one up), the output path down to the link, the
 * Internet checksum and drop accounting. Not for use outside drivers/net/;
 * the public interface is kernel/include/net.h.
 */
#ifndef XENOLITH_NET_PRIV_H
#define XENOLITH_NET_PRIV_H

#include "net.h"

extern struct net_stats net_stats;

/* One interface: its link, its address, its neighbours. */
struct net_if {
    unsigned index;
    const struct net_link *link; /* NULL: down */
    uint32_t ip;
    unsigned prefix;
    bool has_ip;
    struct arp_entry arp[ARP_CACHE_SIZE];
    struct thread *arp_waiter; /* in arp_resolve, woken by each new entry */
};
struct net_if *net_if(unsigned index); /* NULL past NET_IF_MAX */

/* Count a drop under `reason`; for non-quiet reasons also print
 * "net: drop <reason>: <what>" (at most NET_MSG_BURST lines a second). */
void net_drop(enum net_drop reason, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
#define NET_MSG_BURST 5

/* Input, one layer each; `len` bytes from `p` are what this layer may read. */
void arp_input(struct net_if *ifp, const uint8_t *p, size_t len);
void ipv4_input(struct net_if *ifp, const uint8_t *p, size_t len);
void icmp_input(struct net_if *ifp, const struct ipv4_hdr *ip, const uint8_t *p, size_t len);
void udp_input(struct net_if *ifp, const struct ipv4_hdr *ip, const uint8_t *p, size_t len);

/* Output: one Ethernet frame with this payload (padded to ETH_ZLEN). */
int eth_output(struct net_if *ifp, const uint8_t dst[ETH_ALEN], uint16_t type,
               const void *payload, size_t len);
/* One IPv4 datagram to `dst` out of ifp (resolved through its ARP cache;
 * when it is not there an ARP request goes out and this datagram is
 * dropped). */
int ipv4_output(struct net_if *ifp, uint32_t dst, uint8_t proto, const void *payload, size_t len);
#define IPV4_MAX_PAYLOAD (ETH_DATA_LEN - IPV4_HLEN)
/* ARP request for `ip` (broadcast). */
int arp_request(struct net_if *ifp, uint32_t ip);
/* Gratuitous ARP: a broadcast request for ifp's own address (net_attach). */
int arp_announce(struct net_if *ifp);

/* Is `ip` ifp's: its address, or (with broadcast) the limited or subnet
 * broadcast address. */
bool net_is_local(const struct net_if *ifp, uint32_t ip, bool broadcast_ok);
/* Is `ip` on ifp's subnet (we only talk to neighbours: no gateway). */
bool net_on_link(const struct net_if *ifp, uint32_t ip);

/* RFC 1071: the 16-bit ones'-complement sum, folded, not inverted; chain
 * calls through `sum`. A correct checksum over data that includes it
 * gives 0xffff. */
uint32_t inet_sum(const void *data, size_t len, uint32_t sum);
uint16_t inet_fold(uint32_t sum);
static inline uint16_t inet_csum(const void *data, size_t len)
{
    return (uint16_t)~inet_fold(inet_sum(data, len, 0));
}

#endif
