/*
 * ether.h — Ethernet's sizes and the EtherTypes the kernel uses (IEEE 802.3
 * clause 3; Ethernet II type field per RFC 894), for netfront and the
 * stack's glue; the headers themselves are lwIP's (and netproto.h's, for
 * the self-tests).
 */
#ifndef XENOLITH_ETHER_H
#define XENOLITH_ETHER_H

/* Ethernet (IEEE 802.3 clause 3, Ethernet II type field per RFC 894). */
#define ETH_ALEN 6            /* octets in a MAC address */
#define ETH_HLEN 14           /* destination, source, type */
#define ETH_ZLEN 60           /* shortest frame without FCS: pad up to it */
#define ETH_DATA_LEN 1500     /* largest payload (MTU) */
#define ETH_FRAME_LEN (ETH_HLEN + ETH_DATA_LEN)
#define ETH_P_IP 0x0800       /* RFC 894 */
#define ETH_P_ARP 0x0806      /* RFC 826 */

#endif
