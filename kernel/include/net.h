/*
 * net.h — the kernel's TCP/IP stack: lwIP 2.1 (NO_SYS, raw API; built by
 * mk/lwip.mk from Debian's source, options in drivers/net/port/lwipopts.h)
 * and its glue in drivers/net/. It is in drivers/ so `make tiny` leaves it
 * out with the drivers. The stack knows no Xen: a link (a netfront vif)
 * attaches itself as an interface with net_attach(); the stack's thread
 * polls it, and the link hands every received frame to net_input().
 *
 * One thread: lwIP is called only from the stack's thread ("net"), which
 * polls the links when net_kick() wakes it, runs lwIP's timers, and runs
 * what other threads ask of it (net_call). lwIP's raw API never blocks, so
 * the thread is always back at its one wait quickly.
 *
 * Frames are never trusted: lwIP checks every header and counts what it
 * drops in its statistics (per protocol: length, checksum, protocol and
 * option errors); the glue pads runts to Ethernet's minimum, refuses frames
 * longer than the MTU, and prints a rate-limited line "net: drop ..." for
 * each drop of a malformed frame. `net` shows the counters.
 *
 * Interfaces: up to NET_IF_MAX, numbered 0.. in the order netfront found
 * its vifs. Each has its own address, from the command line in interface
 * order, `ip=10.0.0.2/24,10.1.0.2/24`. lwIP routes by subnet (no gateway);
 * ICMP and UDP echoes go back out of the interface the request came in on.
 * Without an address an interface answers nothing, and boot says so.
 *
 * Services: echo (RFC 862) on UDP and TCP port 7, discard (RFC 863) on
 * UDP port 9, HTTP on the port of http= (drivers/net/http.c).
 */
#ifndef XENOLITH_NET_H
#define XENOLITH_NET_H

#include "kernel.h"
#include "ether.h"

#define NET_IF_MAX 4

struct net_link {
    const char *name;
    uint8_t mac[ETH_ALEN];
    /* Send one frame (copied before it returns): 0 or a negative error. */
    int (*xmit)(void *dev, const void *frame, size_t len);
    /* Take what the device has (received frames go to net_input, sent
     * ones are reclaimed); called by the stack's thread after net_kick. */
    void (*poll)(void *dev);
    void *dev; /* the driver's, handed to xmit and poll */
};
/* Interface `index` up (link) or down (NULL), done by the stack's thread
 * before this returns (from the stack's thread itself: as soon as it is
 * out of lwIP). Coming up (the vif connected, first or again after a
 * re-attach with a new MAC) sends one gratuitous ARP when it has an
 * address, so that neighbours holding an entry for us (dom0) update it.
 * Once down, the link's xmit and poll are not called again. */
void net_attach(unsigned index, const struct net_link *link);
const struct net_link *net_link(unsigned index); /* NULL: down */
bool net_any_link(void);
/* Wake the stack's thread to poll the links (any context, upcall too). */
void net_kick(void);

/* A frame received on interface `index`, from the link's poll (the buffer
 * is the caller's again on return). `csum_blank`: the backend left the
 * TCP or UDP checksum to us (netif.h NETRXF_csum_blank); it is filled in
 * on the stack's copy before lwIP checks it. */
void net_input(unsigned index, const void *frame, size_t len, bool csum_blank);

/* Run fn(arg) in the stack's thread and return what it returns (from any
 * thread; in the stack's thread it runs at once). */
int net_call(int (*fn)(void *), void *arg);

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
/* Start of day: the addresses of ip= (each bad one reported). lwIP, the
 * stack's thread and its services start with the first link. */
int net_init(void);

/* Self-tests: a frame as if interface `index` had received it (net_input,
 * in the stack's thread). */
void net_inject(unsigned index, const void *frame, size_t len, bool csum_blank);
/* The lwIP counter a drop line names ("ip-chkerr", "link-lenerr", ...):
 * its value now; 0 for a name that is none. */
unsigned long net_drop_count(const char *name);

/* The stack's counters (lwIP's statistics, summed over protocols). */
struct net_stats {
    unsigned long rx_frames, tx_frames;     /* link level */
    unsigned long drops;                    /* every protocol's drops */
    unsigned long echo_requests_answered;   /* ICMP echo replies sent */
    unsigned long udp_echoed, tcp_echoed_bytes;
    unsigned long tcp_connections;          /* open now */
    unsigned long mem_used, mem_max, mem_refused;
};
void net_get_stats(struct net_stats *s);
/* `net`'s part: lwIP's counters per protocol, memory and pools, the TCP
 * connections. */
void net_show(void);

/* ARP cache, lwIP's. */
struct arp_entry {
    unsigned index;
    uint32_t ip;
    uint8_t mac[ETH_ALEN];
};
unsigned arp_cache_copy(struct arp_entry *out, unsigned max);

/* ICMP echo (ping), from a shell command: resolve the neighbour, send one
 * request (routed, net_route), wait for its reply: 0 and the round trip,
 * -XEN_ETIMEDOUT, or another error. */
int net_ping(uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len,
             unsigned long timeout_ms, uint64_t *rtt_ns, unsigned *ttl, size_t *bytes);

#endif
