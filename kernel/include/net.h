/*
 * net.h — the tiny IPv4 stack above a link driver (Ethernet, ARP, IPv4,
 * ICMP echo, UDP echo; wire formats in netproto.h). Implemented in
 * drivers/net/; it is in drivers/ so `make tiny` leaves it out with the
 * drivers. The stack knows no Xen: a link (a netfront vif) attaches itself
 * as an interface with net_attach() and hands every received frame to
 * net_input().
 *
 * Threads only: net_input and everything it calls run in the link's
 * thread or in a shell command, never in an event handler; none of it
 * blocks. Frames
 * are never trusted: each check that fails counts one drop under its reason
 * (net_drop_count) and, for malformed input, prints a rate-limited line
 * "net: drop <reason> ...".
 *
 * Interfaces: up to NET_IF_MAX, numbered 0.. in the order netfront found
 * its vifs. Each has its own address, from the command line in interface
 * order, `ip=10.0.0.2/24,10.1.0.2/24`, and its own ARP cache. A frame is
 * answered on the interface it came in on; what we send first (ping) goes
 * out of the interface whose subnet holds the destination (no gateway).
 * Without an address an interface answers nothing, and boot says so.
 */
#ifndef XENOLITH_NET_H
#define XENOLITH_NET_H

#include "kernel.h"
#include "netproto.h"

#define NET_IF_MAX 4

struct net_link {
    const char *name;
    uint8_t mac[ETH_ALEN];
    /* Send one frame (copied before it returns): 0 or a negative error. */
    int (*xmit)(void *dev, const void *frame, size_t len);
    void *dev; /* the driver's, handed to xmit */
};
/* Interface `index` up (link) or down (NULL). Coming up (the vif connected,
 * first or again after a re-attach with a new MAC) sends one gratuitous ARP
 * when it has an address, so that neighbours holding an entry for us (dom0)
 * update it. */
void net_attach(unsigned index, const struct net_link *link);
const struct net_link *net_link(unsigned index); /* NULL: down */
bool net_any_link(void);

/* A frame received on interface `index` (the buffer is the caller's again
 * on return). */
void net_input(unsigned index, const void *frame, size_t len);

/* Interface index's address: host-order IPv4 and prefix length; false when
 * it has none. */
bool net_address(unsigned index, uint32_t *ip, unsigned *prefix);
/* The interface that reaches `ip` (up, with an address whose subnet holds
 * it): its index, or -1. */
int net_route(uint32_t ip);
/* "10.0.0.1" -> host order; false on junk. */
bool net_parse_ip(const char *s, uint32_t *ip);
/* "00:16:3e:12:34:56" -> mac (the vif's "mac" key); false on anything else. */
bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);
/* Text form of an IPv4 address / MAC into buf (16 / 18 bytes). */
const char *net_ip_str(uint32_t ip, char buf[16]);
const char *net_mac_str(const uint8_t mac[ETH_ALEN], char buf[18]);
/* Start of day: the addresses of ip= (each bad one reported). */
int net_addr_init(void);

/* Drop reasons of the stack; `quiet` ones are ordinary traffic that is not
 * for us (an ARP for another host, IPv6), counted without a message. */
enum net_drop {
    NET_DROP_ETH_SHORT, NET_DROP_ETH_TOO_LONG, NET_DROP_ETH_NOT_US, NET_DROP_ETH_TYPE,
    NET_DROP_ARP_SHORT, NET_DROP_ARP_FORMAT, NET_DROP_ARP_OTHER_HOST,
    NET_DROP_IP_SHORT, NET_DROP_IP_VERSION, NET_DROP_IP_IHL, NET_DROP_IP_LENGTH,
    NET_DROP_IP_CSUM, NET_DROP_IP_FRAGMENT, NET_DROP_IP_NOT_US, NET_DROP_IP_PROTO,
    NET_DROP_NO_ADDRESS,
    NET_DROP_ICMP_SHORT, NET_DROP_ICMP_CSUM, NET_DROP_ICMP_TYPE,
    NET_DROP_UDP_SHORT, NET_DROP_UDP_LENGTH, NET_DROP_UDP_CSUM, NET_DROP_UDP_PORT,
    NET_DROP_TX_NO_ROUTE, NET_DROP_TX_ARP_UNRESOLVED, NET_DROP_TX_LINK,
    NET_DROP_NR
};
const char *net_drop_name(enum net_drop d);
bool net_drop_quiet(enum net_drop d);
unsigned long net_drop_count(enum net_drop d);

struct net_stats {
    unsigned long rx_frames, rx_arp, rx_ipv4, rx_icmp, rx_udp;
    unsigned long tx_frames, arp_replies_sent, arp_requests_sent, gratuitous_arps_sent;
    unsigned long echo_requests_answered, echo_replies_seen, udp_echoed;
    unsigned long drops; /* sum over the reasons */
};
void net_get_stats(struct net_stats *s);

/* ARP cache (RFC 826). */
#define ARP_CACHE_SIZE 8
struct arp_entry {
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
    uint64_t updated_ns;
    bool valid;
};
bool arp_lookup(unsigned index, uint32_t ip, uint8_t mac[ETH_ALEN]);
/* Send requests on interface index until `ip` is in its cache or
 * timeout_ms passes. */
bool arp_resolve(unsigned index, uint32_t ip, unsigned long timeout_ms);
unsigned arp_cache_copy(unsigned index, struct arp_entry *out, unsigned max);

/* ICMP echo (ping): send one request (routed, net_route); wait for its reply. */
int icmp_send_echo(uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len);
/* 0 and the round trip when the reply with (id, seq) came, -XEN_ETIMEDOUT. */
int icmp_wait_echo(uint16_t id, uint16_t seq, unsigned long timeout_ms, uint64_t *rtt_ns,
                   unsigned *ttl, size_t *bytes);

#endif
