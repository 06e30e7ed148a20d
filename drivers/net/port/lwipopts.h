/*
 * lwipopts.h — how Xenolith builds lwIP 2.1 (options: lwIP's
 * src/include/lwip/opt.h): no operating-system layer (NO_SYS: the raw,
 * callback API only, no sockets or netconn, no lwIP threads or locks),
 * called from one kernel thread, the stack's (drivers/net/stack.c), which
 * also runs lwIP's timers (sys_check_timeouts, against sys_now).
 *
 * IPv4 only, on Ethernet: ARP, IPv4 without fragmentation or reassembly
 * (what the tiny stack did: fragments are dropped and counted), ICMP, raw
 * (for ping), UDP, TCP. No DHCP, AutoIP, IGMP, DNS: addresses come from
 * ip= on the command line.
 *
 * Memory: every lwIP allocation, its heap (mem_malloc) and its pools
 * (MEMP_MEM_MALLOC), goes to the kernel's heap through net_mem_alloc
 * (drivers/net/sys_arch.c), which refuses beyond NET_MEM_MAX bytes in use:
 * fixed bounds, and memory back in the kernel when connections close.
 * Statistics are on (the `net` command prints them).
 */
#ifndef XENOLITH_LWIPOPTS_H
#define XENOLITH_LWIPOPTS_H

#include <stddef.h>

#define NO_SYS 1
#define LWIP_SOCKET 0
#define LWIP_NETCONN 0
#define SYS_LIGHTWEIGHT_PROT 0 /* one thread calls lwIP, and threads are cooperative */
#define LWIP_TIMERS 1

/* Memory: see above. */
#define MEM_ALIGNMENT 4
#define MEM_LIBC_MALLOC 1
#define MEMP_MEM_MALLOC 1
#define NET_MEM_MAX (4u << 20) /* bytes lwIP may hold from the heap */
void *net_mem_alloc(size_t size);
void *net_mem_calloc(size_t n, size_t size);
void net_mem_free(void *p);
#define mem_clib_malloc net_mem_alloc
#define mem_clib_calloc net_mem_calloc
#define mem_clib_free net_mem_free

/* Protocols. */
#define LWIP_IPV4 1
#define LWIP_IPV6 0
#define LWIP_ARP 1
#define LWIP_ETHERNET 1
#define ARP_TABLE_SIZE 16
#define ARP_QUEUEING 1
#define ETHARP_SUPPORT_STATIC_ENTRIES 0
#define IP_REASSEMBLY 0
#define IP_FRAG 0
#define LWIP_ICMP 1
#define LWIP_RAW 1
#define LWIP_UDP 1
#define LWIP_TCP 1
#define LWIP_DHCP 0
#define LWIP_AUTOIP 0
#define LWIP_IGMP 0
#define LWIP_DNS 0
#define LWIP_NETIF_TX_SINGLE_PBUF 1 /* one frame = one contiguous pbuf: one tx slot */
#define LWIP_SINGLE_NETIF 0

/* TCP: a window of several segments each way; the pools' counts only
 * matter to the statistics (MEMP_MEM_MALLOC): NET_MEM_MAX is the bound.
 * The send buffer is the largest without window scaling (under 64 KiB):
 * a sender's rate is at most its buffer per round trip, and under
 * emulation a round trip is milliseconds. It is only memory while
 * unacknowledged data is queued. */
#define TCP_MSS 1460
#define TCP_WND (16 * TCP_MSS)
#define TCP_SND_BUF (44 * TCP_MSS)
#define TCP_SND_QUEUELEN (4 * TCP_SND_BUF / TCP_MSS)
#define TCP_LISTEN_BACKLOG 1
#define TCP_DEFAULT_LISTEN_BACKLOG 16
#define MEMP_NUM_TCP_PCB 256
#define MEMP_NUM_TCP_PCB_LISTEN 8
#define MEMP_NUM_TCP_SEG 512
#define MEMP_NUM_PBUF 256
#define MEMP_NUM_UDP_PCB 8
#define MEMP_NUM_RAW_PCB 4
#define PBUF_POOL_SIZE 128
#define LWIP_WND_SCALE 0
/* TIME_WAIT lasts 2 * TCP_MSL: 20 s, not lwIP's 2 minutes, so that a busy
 * server's closed connections give their memory back soon (a LAN has no
 * segments minutes old). */
#define TCP_MSL 10000UL

/* Statistics, read by `net`; lwIP prints nothing itself. */
#define LWIP_STATS 1
#define LWIP_STATS_DISPLAY 0
#define LINK_STATS 1
#define ETHARP_STATS 1
#define IP_STATS 1
#define ICMP_STATS 1
#define UDP_STATS 1
#define TCP_STATS 1
#define MEM_STATS 1
#define MEMP_STATS 1
#define SYS_STATS 0

#endif
