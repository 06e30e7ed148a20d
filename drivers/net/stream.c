/*
 * stream.c — the one-way TCP services on lwIP's raw API: discard (RFC 863)
 * on TCP port 9 takes every byte and drops it, chargen (RFC 864) on TCP
 * port 19 sends a repeating line pattern for as long as the peer reads.
 * They are the two directions of a TCP stream measured from dom0.
 *
 * Discard acknowledges data as it arrives (tcp_recved at once): the window
 * stays open, so the sender is limited by the path, not by a reader.
 * Chargen queues the pattern by reference (no copy: the pattern is
 * constant) as far as the send buffer and segment queue allow, and again
 * from each `sent` callback as the peer's acknowledgements free room; what
 * it receives is dropped. Both close when the peer closes; a connection
 * holds at most the stack's send buffer, so the stack's memory bound is
 * never the limit of how many there are.
 */
#include "kernel.h"
#include "net_priv.h"
#include "lwip/pbuf.h"
#include "lwip/tcp.h"

#define DISCARD_PORT 9
#define CHARGEN_PORT 19
#define CHARGEN_LINE 72 /* RFC 864: 72 printable characters and CR LF per line */
#define CHARGEN_LINES 20

static char pattern[CHARGEN_LINES * (CHARGEN_LINE + 2)];
static unsigned long discarded_bytes, generated_bytes;

/* RFC 864's pattern: line i is the 95 printable ASCII characters from the
 * i-th on, 72 of them, wrapping around. */
static void pattern_fill(void)
{
    enum { FIRST = ' ', PRINTABLE = 95 };
    char *p = pattern;
    for (unsigned i = 0; i < CHARGEN_LINES; i++) {
        for (unsigned j = 0; j < CHARGEN_LINE; j++)
            *p++ = (char)(FIRST + (i + j) % PRINTABLE);
        *p++ = '\r';
        *p++ = '\n';
    }
}

/* ERR_ABRT when the close had to be an abort (a callback must return it). */
static err_t stream_close(struct tcp_pcb *pcb)
{
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    if (tcp_close(pcb) == ERR_OK)
        return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
}

/* What both services do with what they receive: drop it, open the window
 * again, close when the peer does. */
static err_t stream_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    (void)arg;
    if (!p)
        return stream_close(pcb);
    if (err == ERR_OK) {
        tcp_recved(pcb, p->tot_len);
        discarded_bytes += p->tot_len;
    }
    pbuf_free(p);
    return err;
}

/* Queue the pattern, whole or in part, while the send buffer takes it. */
static err_t chargen_fill(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    (void)arg;
    (void)len;
    for (;;) {
        u16_t room = LWIP_MIN(tcp_sndbuf(pcb), (u16_t)sizeof(pattern));
        if (!room || tcp_write(pcb, pattern, room, 0) != ERR_OK)
            break;
        generated_bytes += room;
    }
    tcp_output(pcb);
    return ERR_OK;
}

static err_t accept_common(struct tcp_pcb *pcb, err_t err)
{
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    tcp_recv(pcb, stream_recv);
    return ERR_OK;
}

static err_t discard_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    return accept_common(pcb, err);
}

static err_t chargen_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    err_t e = accept_common(pcb, err);
    if (e != ERR_OK)
        return e;
    tcp_sent(pcb, chargen_fill);
    return chargen_fill(NULL, pcb, 0);
}

void net_stream_start(void)
{
    pattern_fill();
    (void)net_tcp_listen(DISCARD_PORT, discard_accept, "discard");
    (void)net_tcp_listen(CHARGEN_PORT, chargen_accept, "chargen");
}

void net_stream_stats(unsigned long *discarded, unsigned long *generated)
{
    *discarded = discarded_bytes;
    *generated = generated_bytes;
}
