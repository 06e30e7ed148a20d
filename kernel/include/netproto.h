/*
 * netproto.h — wire formats the self-tests craft frames in (the stack,
 * lwIP, has its own), named from their RFCs (these are not Xen numbers,
 * so they are ours):
 * Ethernet II framing (IEEE 802.3 / RFC 894), ARP (RFC 826), IPv4
 * (RFC 791, header checksum RFC 1071), ICMP (RFC 792), UDP (RFC 768).
 * Not for files that include lwIP's headers (the same struct names).
 *
 * Every multi-byte field on the wire is big-endian ("network order"); the
 * structs are packed and read through net16/net32, never by casting a
 * frame to a wider integer.
 */
#ifndef XENOLITH_NETPROTO_H
#define XENOLITH_NETPROTO_H

#include "kernel.h"
#include "ether.h"

struct eth_hdr {
    uint8_t dst[ETH_ALEN];
    uint8_t src[ETH_ALEN];
    uint16_t type;
} __attribute__((packed));

/* ARP for IPv4 over Ethernet (RFC 826; numbers from IANA's ARP registry). */
#define ARP_HRD_ETHER 1
#define ARP_OP_REQUEST 1
#define ARP_OP_REPLY 2
#define ARP_LEN 28            /* the body below */

struct arp_pkt {
    uint16_t htype, ptype;
    uint8_t hlen, plen;
    uint16_t op;
    uint8_t sha[ETH_ALEN];
    uint8_t spa[4];
    uint8_t tha[ETH_ALEN];
    uint8_t tpa[4];
} __attribute__((packed));

/* IPv4 (RFC 791). */
#define IPV4_VERSION 4
#define IPV4_MIN_IHL 5        /* 32-bit words: a header without options */
#define IPV4_HLEN 20
#define IPV4_FLAG_MF 0x2000   /* more fragments */
#define IPV4_FRAG_OFFSET 0x1fff
#define IPV4_DEFAULT_TTL 64   /* RFC 1700 recommended default */
#define IPPROTO_ICMP 1
#define IPPROTO_UDP 17

struct ipv4_hdr {
    uint8_t ver_ihl;          /* version << 4 | ihl */
    uint8_t tos;
    uint16_t total_len;
    uint16_t id;
    uint16_t frag;            /* flags << 13 | offset */
    uint8_t ttl;
    uint8_t proto;
    uint16_t csum;
    uint8_t src[4];
    uint8_t dst[4];
} __attribute__((packed));

/* ICMP (RFC 792). */
#define ICMP_ECHO_REPLY 0
#define ICMP_ECHO_REQUEST 8
#define ICMP_HLEN 8

struct icmp_echo {
    uint8_t type, code;
    uint16_t csum;
    uint16_t id, seq;
} __attribute__((packed));

/* UDP (RFC 768); port 7 is the echo service (RFC 862). */
#define UDP_HLEN 8
#define UDP_PORT_ECHO 7

struct udp_hdr {
    uint16_t sport, dport, len, csum;
} __attribute__((packed));

_Static_assert(sizeof(struct eth_hdr) == ETH_HLEN, "eth header");
_Static_assert(sizeof(struct arp_pkt) == ARP_LEN, "arp body");
_Static_assert(sizeof(struct ipv4_hdr) == IPV4_HLEN, "ipv4 header");
_Static_assert(sizeof(struct icmp_echo) == ICMP_HLEN, "icmp echo header");
_Static_assert(sizeof(struct udp_hdr) == UDP_HLEN, "udp header");

/* Network order <-> host order (x86 is little-endian). */
static inline uint16_t net16(uint16_t v) { return __builtin_bswap16(v); }
static inline uint32_t net32(uint32_t v) { return __builtin_bswap32(v); }

/* IPv4 addresses are kept in host order (10.0.0.1 is 0x0a000001). */
static inline uint32_t ip_get(const uint8_t b[4])
{
    return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}
static inline void ip_put(uint8_t b[4], uint32_t ip)
{
    b[0] = (uint8_t)(ip >> 24); b[1] = (uint8_t)(ip >> 16);
    b[2] = (uint8_t)(ip >> 8);  b[3] = (uint8_t)ip;
}

#endif
