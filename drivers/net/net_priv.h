/*
 * net_priv.h — what the files of the stack's glue (drivers/net/) share:
 * one lwIP netif per interface, the stack's thread, and lwIP's counters as
 * the stack's drop accounting. Not for use outside drivers/net/; the
 * public interface is kernel/include/net.h.
 */
#ifndef XENOLITH_NET_PRIV_H
#define XENOLITH_NET_PRIV_H

#include "net.h"
#include "lwip/netif.h"
#include "lwip/tcp.h"

/* One interface: its link, its address from ip=, its lwIP netif. */
struct net_if {
    unsigned index;
    const struct net_link *link; /* NULL: down */
    uint32_t ip;                 /* host order */
    unsigned prefix;
    bool has_ip;
    bool added;                  /* netif is in lwIP's list */
    struct netif netif;
};
struct net_if *net_if(unsigned index); /* NULL past NET_IF_MAX */

/* The stack's thread (stack.c) is the only caller of lwIP: everything else
 * asks it with net_call. True in that thread. */
bool net_in_stack(void);

/* lwIP and the stack's thread, started by the first net_attach (stack.c). */
int net_stack_start(void);

/* Services on the stack, started in the stack's thread: echo (echo.c),
 * TCP discard and chargen (stream.c), HTTP when http=PORT (http.c). */
void net_echo_start(void);
void net_stream_start(void);
void net_http_start(void);
/* A listening TCP pcb on `port` taking connections with `accept`; false
 * (said, with the service's `name`) when the port cannot be had. */
bool net_tcp_listen(u16_t port, tcp_accept_fn accept, const char *name);
void net_stream_stats(unsigned long *discarded_bytes, unsigned long *generated_bytes);
void net_echo_stats(unsigned long *udp_echoed, unsigned long *udp_discarded,
                    unsigned long *tcp_bytes, unsigned long *tcp_open);

/* Fill in the TCP or UDP checksum of the IPv4 frame in `p` (one pbuf,
 * Ethernet header first) that the backend left blank (csum.c); a frame
 * that is not whole TCP or UDP over IPv4 is left as it is, for lwIP to
 * check and drop. */
void net_csum_fill(struct pbuf *p);

/* Gratuitous ARPs sent, one each time a link came up with an address. */
unsigned long net_gratuitous_arps(void);

/* The lwIP allocator's refusals (sys_arch.c). */
unsigned long net_mem_refused(void);

#endif
