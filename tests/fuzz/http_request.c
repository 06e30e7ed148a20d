/*
 * http_request.c — fuzzes the HTTP server's handling of what a client
 * sends (drivers/net/http.c; RFC 9112 message syntax): request heads in
 * any pieces, requests back to back, heads that never end or overflow
 * HTTP_HEAD_MAX, the peer closing or the connection failing at any point,
 * a send buffer that takes the answer a little at a time, the stack's
 * memory running short, tcp_close failing.
 *
 * http.c is included, not linked, to reach its callbacks (http_accept,
 * http_recv, http_sent, http_poll, http_err). lwIP is not linked: its
 * header types are real, the few tcp_* calls http.c makes are played
 * here, so what is fuzzed is our parser and connection handling, not
 * lwIP. The input: the send buffer's size, then a script of segments
 * received (split into a pbuf chain), acknowledgements, polls, the peer's
 * FIN, a reset, write and close failures.
 * Checks: the wire is HTTP/1.1 answers one after another, each with a
 * status http.c names and a Content-Length that matches its body (none
 * for HEAD), `Connection: close` only on the last; the server never
 * writes more than the send buffer takes, nor after the close; each
 * connection is freed once (tcp_err's or the close's), with its answer;
 * the callbacks are taken off a pcb that is closed.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "http.c"

enum op { RECV, ACKED, POLL, PEER_FIN, RESET, TROUBLE, OPS };

#define MAX_OPS 24
#define WIRE_MAX (1 << 20)
#define SEGMENT_MAX 2600 /* more than HTTP_HEAD_MAX: a head can overflow in one */

static struct fuzz_in *script;
static struct tcp_pcb pcb;
static bool pcb_open, write_fails, close_fails;
static tcp_recv_fn recv_cb;
static tcp_sent_fn sent_cb;
static tcp_err_fn err_cb;
static tcp_poll_fn poll_cb;
static char wire[WIRE_MAX];
static size_t wire_len, unacked;
static long mem_out; /* mem_malloc blocks not freed */
static bool mem_short;

/* ---- lwIP, as http.c sees it --------------------------------------------- */

void *mem_malloc(mem_size_t size)
{
    if (mem_short)
        return NULL;
    mem_out++;
    return malloc(size ? size : 1);
}

void *mem_calloc(mem_size_t count, mem_size_t size)
{
    void *p = mem_malloc((mem_size_t)(count * size));
    if (p)
        memset(p, 0, (size_t)count * size);
    return p;
}

void mem_free(void *p)
{
    FUZZ_ASSERT(p && mem_out > 0);
    mem_out--;
    free(p);
}

void tcp_arg(struct tcp_pcb *p, void *arg)
{
    p->callback_arg = arg;
}

void tcp_recv(struct tcp_pcb *p, tcp_recv_fn f)
{
    recv_cb = f;
}

void tcp_sent(struct tcp_pcb *p, tcp_sent_fn f)
{
    sent_cb = f;
}

void tcp_err(struct tcp_pcb *p, tcp_err_fn f)
{
    err_cb = f;
}

void tcp_poll(struct tcp_pcb *p, tcp_poll_fn f, u8_t interval)
{
    poll_cb = f;
}

err_t tcp_write(struct tcp_pcb *p, const void *data, u16_t len, u8_t flags)
{
    FUZZ_ASSERT(pcb_open && len && len <= p->snd_buf);
    if (write_fails)
        return ERR_MEM;
    FUZZ_ASSERT(wire_len + len <= WIRE_MAX);
    memcpy(wire + wire_len, data, len);
    wire_len += len;
    p->snd_buf = (tcpwnd_size_t)(p->snd_buf - len);
    unacked += len;
    return ERR_OK;
}

err_t tcp_output(struct tcp_pcb *p)
{
    FUZZ_ASSERT(pcb_open);
    return ERR_OK;
}

void tcp_recved(struct tcp_pcb *p, u16_t len)
{
    FUZZ_ASSERT(pcb_open);
}

/* A closed (or aborted) pcb has no callbacks left. */
static void pcb_gone(void)
{
    FUZZ_ASSERT(pcb_open && !pcb.callback_arg && !recv_cb && !sent_cb && !err_cb && !poll_cb);
    pcb_open = false;
}

err_t tcp_close(struct tcp_pcb *p)
{
    if (close_fails)
        return ERR_MEM;
    pcb_gone();
    return ERR_OK;
}

void tcp_abort(struct tcp_pcb *p)
{
    pcb_gone();
}

u16_t pbuf_copy_partial(const struct pbuf *p, void *dataptr, u16_t len, u16_t offset)
{
    u16_t done = 0;
    for (; p && done < len; p = p->next) {
        FUZZ_ASSERT(!offset);
        u16_t n = p->len < len - done ? p->len : (u16_t)(len - done);
        memcpy((char *)dataptr + done, p->payload, n);
        done = (u16_t)(done + n);
    }
    return done;
}

u8_t pbuf_free(struct pbuf *p)
{
    return 1; /* the harness's own, on its stack */
}

/* ---- the kernel around http.c ---------------------------------------------- */

int shell_exec(const char *line)
{
    printk("the shell's %s\n", line);
    return 0;
}

uint64_t kernel_banner_ns;

void heap_get_stats(struct heap_stats *s)
{
    memset(s, 0, sizeof(*s));
}

void net_get_stats(struct net_stats *s)
{
    memset(s, 0, sizeof(*s));
}

unsigned long page_free_count(void)
{
    return 1;
}

unsigned long page_managed_count(void)
{
    return 2;
}

bool netfront_get_info(unsigned index, struct netfront_info *info)
{
    return index == 0;
}

void netfront_get_stats(unsigned index, struct netfront_stats *s)
{
    memset(s, 0, sizeof(*s));
}

/* Never reached: the listener is not fuzzed. */
const char *cmdline_get(const char *key)
{
    return NULL;
}

struct tcp_pcb *tcp_new(void)
{
    return NULL;
}

err_t tcp_bind(struct tcp_pcb *p, const ip_addr_t *ipaddr, u16_t port)
{
    return ERR_VAL;
}

struct tcp_pcb *tcp_listen_with_backlog(struct tcp_pcb *p, u8_t backlog)
{
    return NULL;
}

void tcp_accept(struct tcp_pcb *p, tcp_accept_fn accept) {}

/* ---- the wire ---------------------------------------------------------------- */

static const char *find(const char *s, size_t n, const char *what)
{
    size_t w = strlen(what);
    for (size_t i = 0; i + w <= n; i++)
        if (!memcmp(s + i, what, w))
            return s + i;
    return NULL;
}

static bool starts_answer(const char *p, size_t n)
{
    static const char status_line[] = "HTTP/1.1 ";
    size_t k = n < sizeof(status_line) - 1 ? n : sizeof(status_line) - 1;
    return !memcmp(p, status_line, k);
}

/* The wire is whole answers, each with a status http.c has and the body
 * its Content-Length says (or none: HEAD), `Connection: close` only on the
 * last; the last may be cut short (the connection went meanwhile). */
static void check_wire(void)
{
    size_t at = 0;
    bool closing = false;
    while (at < wire_len) {
        FUZZ_ASSERT(!closing);
        const char *a = wire + at, *end = find(a, wire_len - at, "\r\n\r\n");
        FUZZ_ASSERT(starts_answer(a, wire_len - at));
        if (!end)
            return; /* the rest of a head still to go */
        size_t head = (size_t)(end - a) + 4;
        unsigned code = 0, len = 0;
        FUZZ_ASSERT(sscanf(a, "HTTP/1.1 %u ", &code) == 1);
        bool known = false;
        for (unsigned i = 0; i < ST_NR; i++)
            known |= statuses[i].code == code;
        FUZZ_ASSERT(known);
        const char *cl = find(a, head, "\r\nContent-Length: ");
        FUZZ_ASSERT(cl && sscanf(cl, "\r\nContent-Length: %u", &len) == 1);
        closing = find(a, head, "\r\nConnection: close\r\n") != NULL;
        at += head;
        size_t left = wire_len - at;
        if (!left || (left > len && starts_answer(wire + at, left)) ||
            (left < 9 && starts_answer(wire + at, left)))
            continue; /* no body (HEAD), or one still to go */
        if (left <= len)
            return; /* a body, maybe still to come */
        at += len;
        FUZZ_ASSERT(starts_answer(wire + at, wire_len - at));
    }
}

/* ---- the script ---------------------------------------------------------------- */

static void recv_segment(struct fuzz_in *in, struct http_conn *c)
{
    static char data[SEGMENT_MAX];
    size_t n = fin_u16(in) % SEGMENT_MAX + 1;
    n = fin_bytes(in, data, n);
    if (!n)
        return;
    size_t cut = fin_u8(in) % n; /* 0: one pbuf */
    struct pbuf second = {.payload = data + cut, .len = (u16_t)(n - cut), .tot_len = (u16_t)(n - cut)};
    struct pbuf first = {.next = cut ? &second : NULL, .payload = data,
                         .len = (u16_t)(cut ? cut : n), .tot_len = (u16_t)n};
    (void)recv_cb(c, &pcb, &first, ERR_OK);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    script = &in;
    memset(&pcb, 0, sizeof(pcb));
    memset(&http, 0, sizeof(http));
    recv_cb = NULL;
    sent_cb = NULL;
    err_cb = NULL;
    poll_cb = NULL;
    wire_len = unacked = 0;
    write_fails = close_fails = mem_short = false;
    pcb_open = true;
    uint16_t buf = fin_u16(&in);
    pcb.snd_buf = buf < 256 ? 256 : buf; /* lwIP's buffer is 16 segments; never below a head */
    tcpwnd_size_t full = pcb.snd_buf;
    mem_short = fin_u8(&in) == 0xff;
    err_t rc = http_accept(NULL, &pcb, ERR_OK);
    if (mem_short) {
        FUZZ_ASSERT(rc == ERR_ABRT && !pcb_open && http.refused == 1);
        return 0;
    }
    FUZZ_ASSERT(rc == ERR_OK && http.open == 1 && pcb.callback_arg);
    for (unsigned t = 0; t < MAX_OPS && in.n && pcb_open; t++) {
        struct http_conn *c = pcb.callback_arg;
        switch (fin_u8(&in) % OPS) {
        case RECV:
            recv_segment(&in, c);
            break;
        case ACKED: {
            size_t n = unacked ? fin_u16(&in) % (unacked + 1) : 0;
            unacked -= n;
            pcb.snd_buf = (tcpwnd_size_t)(pcb.snd_buf + n);
            FUZZ_ASSERT(pcb.snd_buf <= full);
            (void)sent_cb(c, &pcb, (u16_t)n);
            break;
        }
        case POLL:
            (void)poll_cb(c, &pcb);
            break;
        case PEER_FIN:
            (void)recv_cb(c, &pcb, NULL, ERR_OK);
            break;
        case RESET: /* lwIP frees the pcb, then says so */
            pcb.callback_arg = NULL;
            recv_cb = NULL;
            sent_cb = NULL;
            err_cb = NULL;
            poll_cb = NULL;
            pcb_gone();
            http_err(c, ERR_RST);
            break;
        case TROUBLE: { /* from now on: writes, closes, the stack's memory fail */
            uint8_t k = fin_u8(&in);
            write_fails = k & 1;
            close_fails = k & 2;
            mem_short = k & 4;
            break;
        }
        }
        check_wire();
    }
    if (pcb_open) { /* what is left: the connection times out */
        err_t r = ERR_OK;
        close_fails = false;
        for (unsigned i = 0; i < HTTP_IDLE_S && pcb_open; i++)
            r = poll_cb(pcb.callback_arg, &pcb);
        FUZZ_ASSERT(!pcb_open && r == ERR_OK && http.timed_out == 1);
    }
    check_wire();
    FUZZ_ASSERT(http.open == 0 && mem_out == 0);
    return 0;
}
