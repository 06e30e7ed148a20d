/*
 * net.h — the tiny IPv4 stack above a link driver (Ethernet, ARP, IPv4,
 * ICMP echo, UDP echo; wire formats in netproto.h). Implemented in
 * drivers/net/; it is in drivers/ so `make tiny` leaves it out with the
 * drivers. The stack knows no Xen: a link (netfront) attaches itself with
 * net_attach() and hands every received frame to net_input().
 *
 * Threads only: net_input and everything it calls run in the link's
 * receive thread or in a shell command, never in an event handler. Frames
 * are never trusted: each check that fails counts one drop under its reason
 * (net_drop_count) and, for malformed input, prints a rate-limited line
 * "net: drop <reason> ...".
 *
 * The address comes from the command line, `ip=10.0.0.2/24`; without it the
 * stack still answers nothing and says so at boot.
 */
#ifndef XENOLITH_NET_H
#define XENOLITH_NET_H

#include "kernel.h"
#include "netproto.h"

struct net_link {
    const char *name;
    uint8_t mac[ETH_ALEN];
    /* Send one frame (copied before it returns): 0 or a negative error. */
    int (*xmit)(const void *frame, size_t len);
};
/* NULL detaches. Attaching a link (the vif is up: first connect, or again
 * after a re-attach with a new MAC) sends one gratuitous ARP when we have an
 * address, so that neighbours holding an entry for us (dom0) update it. */
void net_attach(const struct net_link *link);
const struct net_link *net_link(void);

/* A received frame (the buffer is the caller's again on return). */
void net_input(const void *frame, size_t len);

/* Address: host-order IPv4 and prefix length; false when none is set. */
bool net_address(uint32_t *ip, unsigned *prefix);
int net_set_address(const char *text); /* "10.0.0.2/24": 0, or -XEN_EINVAL */
/* Start of day (main.c): the address from ip= on the command line. */
int net_addr_init(void);
/* "10.0.0.1" -> host order; false on junk. */
bool net_parse_ip(const char *s, uint32_t *ip);
/* "00:16:3e:12:34:56" -> mac (the vif's "mac" key); false on anything else. */
bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN]);
/* Text form of an IPv4 address / MAC into buf (16 / 18 bytes). */
const char *net_ip_str(uint32_t ip, char buf[16]);
const char *net_mac_str(const uint8_t mac[ETH_ALEN], char buf[18]);

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
bool arp_lookup(uint32_t ip, uint8_t mac[ETH_ALEN]);
/* Send requests until `ip` is in the cache or timeout_ms passes. */
bool arp_resolve(uint32_t ip, unsigned long timeout_ms);
unsigned arp_cache_copy(struct arp_entry *out, unsigned max);

/* ICMP echo (ping): send one request; wait for its reply. */
int icmp_send_echo(uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len);
/* 0 and the round trip when the reply with (id, seq) came, -XEN_ETIMEDOUT. */
int icmp_wait_echo(uint16_t id, uint16_t seq, unsigned long timeout_ms, uint64_t *rtt_ns,
                   unsigned *ttl, size_t *bytes);

#endif
