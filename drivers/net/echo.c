/*
 * echo.c — the echo service (RFC 862) on lwIP's raw API: UDP port 7 sends
 * each datagram back to its sender, out of the interface it came in on;
 * TCP port 7 sends back every byte received, in order, on as many
 * connections as the stack's memory bound allows. TCP data is
 * acknowledged to the peer (tcp_recved: the window reopens) only once it
 * is queued to go back, so a peer that sends faster than it reads is
 * slowed by TCP's own flow control, and a connection holds at most a
 * window of data. A peer that closes its side gets the rest, then a close.
 * And discard (RFC 863) on UDP port 9: datagrams counted and dropped (the
 * bench's one-way load; without it each would cost an ICMP unreachable).
 */
#include "kernel.h"
#include "net_priv.h"
#include "lwip/ip.h"
#include "lwip/mem.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"
#include "lwip/udp.h"

#define ECHO_PORT 7
#define DISCARD_PORT 9

static unsigned long udp_echoed, udp_discarded, tcp_bytes, tcp_open;

static void udp_echo(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                     u16_t port)
{
    (void)arg;
    if (udp_sendto_if(pcb, p, addr, port, ip_current_input_netif()) == ERR_OK)
        udp_echoed++;
    pbuf_free(p);
}

static void udp_discard(void *arg, struct udp_pcb *pcb, struct pbuf *p, const ip_addr_t *addr,
                        u16_t port)
{
    (void)arg;
    (void)pcb;
    (void)addr;
    (void)port;
    udp_discarded++;
    pbuf_free(p);
}

struct echo_conn {
    struct tcp_pcb *pcb;
    struct pbuf *pending; /* received, not yet queued back */
    bool peer_closed;
};

static void conn_free(struct echo_conn *c)
{
    if (c->pending)
        pbuf_free(c->pending);
    mem_free(c);
    tcp_open--;
}

/* ERR_ABRT when the close had to be an abort (a callback must return it). */
static err_t conn_close(struct echo_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    conn_free(c);
    if (tcp_close(pcb) == ERR_OK)
        return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
}

/* Queue what is pending as far as the send buffer takes it: what a
 * callback returns. */
static err_t push(struct echo_conn *c)
{
    while (c->pending) {
        struct pbuf *q = c->pending;
        u16_t len = LWIP_MIN(q->len, tcp_sndbuf(c->pcb));
        if (!len)
            break;
        if (tcp_write(c->pcb, q->payload, len, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        tcp_recved(c->pcb, len);
        tcp_bytes += len;
        c->pending = pbuf_free_header(q, len);
    }
    tcp_output(c->pcb);
    if (!c->pending && c->peer_closed)
        return conn_close(c);
    return ERR_OK;
}

static err_t tcp_echo_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct echo_conn *c = arg;
    (void)pcb;
    if (!p) {
        c->peer_closed = true;
        return push(c);
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    if (c->pending)
        pbuf_cat(c->pending, p);
    else
        c->pending = p;
    return push(c);
}

static err_t tcp_echo_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)pcb;
    (void)len;
    return push(arg);
}

static void tcp_echo_err(void *arg, err_t err)
{
    (void)err;
    if (arg)
        conn_free(arg); /* lwIP has freed the pcb */
}

static err_t tcp_echo_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct echo_conn *c = mem_calloc(1, sizeof(*c));
    if (!c) {
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    c->pcb = pcb;
    tcp_open++;
    tcp_arg(pcb, c);
    tcp_recv(pcb, tcp_echo_recv);
    tcp_sent(pcb, tcp_echo_sent);
    tcp_err(pcb, tcp_echo_err);
    return ERR_OK;
}

void net_echo_start(void)
{
    struct udp_pcb *u = udp_new();
    if (!u || udp_bind(u, IP4_ADDR_ANY, ECHO_PORT) != ERR_OK)
        printk("net: echo: no UDP port %u\n", ECHO_PORT);
    else
        udp_recv(u, udp_echo, NULL);
    struct udp_pcb *d = udp_new();
    if (!d || udp_bind(d, IP4_ADDR_ANY, DISCARD_PORT) != ERR_OK)
        printk("net: discard: no UDP port %u\n", DISCARD_PORT);
    else
        udp_recv(d, udp_discard, NULL);
    (void)net_tcp_listen(ECHO_PORT, tcp_echo_accept, "echo");
}

void net_echo_stats(unsigned long *udp, unsigned long *discarded, unsigned long *tcp,
                    unsigned long *open)
{
    *udp = udp_echoed;
    *discarded = udp_discarded;
    *tcp = tcp_bytes;
    *open = tcp_open;
}
