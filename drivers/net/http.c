/*
 * http.c — an HTTP/1.1 server (RFC 9112 message syntax, RFC 9110
 * semantics) on lwIP's raw TCP API, serving the kernel's state as text:
 * `/` (info), `/threads`, `/mem`, `/events`, `/net`, `/blk` are what the
 * shell commands of those names print (captured: printk_capture), and
 * `/metrics` is Prometheus' text exposition format (version 0.0.4).
 * Started by `http=PORT` on the command line (net_http_start, in the
 * stack's thread).
 *
 * Per connection: the request head is gathered in a fixed buffer
 * (HTTP_HEAD_MAX; a longer one is answered 413 and the connection
 * closed); the request line must be METHOD SP /TARGET SP HTTP/1.x, else
 * 400; only GET and HEAD are served (405 with Allow otherwise), and a
 * request with a body is refused (413: the server takes none); an unknown
 * path is 404. HTTP/1.1 keeps the connection open unless the request says
 * `Connection: close` (1.0: closed unless `keep-alive`); requests sent
 * back to back are answered in order. Every answer is whole in memory
 * (from the stack's bounded allocator) and goes out as the send buffer
 * takes it; received data is acknowledged as it is copied, so a head that
 * never ends costs at most HTTP_HEAD_MAX. A connection with nothing
 * received or sent for HTTP_IDLE_S seconds is closed; at most
 * HTTP_MAX_CONNS are open at once (more are refused with a reset).
 */
#include "kernel.h"
#include "mm.h"
#include "net_priv.h"
#include "netfront.h"
#include "shell.h"
#include "time.h"
#include "lwip/mem.h"
#include "lwip/tcp.h"

#define HTTP_HEAD_MAX 2048
#define HTTP_PAGE_MAX (32 * 1024)   /* the largest page; a longer one is cut */
#define HTTP_IDLE_S 10
#define HTTP_POLL_HALF_S 2          /* tcp_poll's unit is half a second: every second */
#define HTTP_MAX_CONNS 64

enum { ST_200, ST_400, ST_404, ST_405, ST_413, ST_NR };
static const struct {
    unsigned code;
    const char *reason;
} statuses[ST_NR] = {
    [ST_200] = {200, "OK"}, [ST_400] = {400, "Bad Request"}, [ST_404] = {404, "Not Found"},
    [ST_405] = {405, "Method Not Allowed"}, [ST_413] = {413, "Content Too Large"},
};

struct http_conn {
    struct tcp_pcb *pcb;
    char head[HTTP_HEAD_MAX];
    size_t head_len;
    char *out;              /* the answer being sent (mem_malloc) */
    size_t out_len, out_off;
    bool close_after;       /* close once the answer is queued */
    bool peer_closed;
    unsigned idle_s;
};

static struct {
    uint16_t port;
    unsigned open;
    unsigned long accepted, refused, timed_out, requests[ST_NR];
} http;

static char page[HTTP_PAGE_MAX]; /* pages are made one at a time, in the stack's thread */

/* ---- pages ------------------------------------------------------------------ */

static const struct {
    const char *path, *command;
} shell_pages[] = {
    {"/", "info"}, {"/threads", "threads"}, {"/mem", "mem"}, {"/events", "events"},
    {"/net", "net"}, {"/blk", "blk"},
};

static size_t command_page(const char *command)
{
    struct printk_capture c = {.buf = page, .size = sizeof(page)};
    printk_capture_start(&c);
    (void)shell_exec(command);
    printk_capture_end();
    return c.len;
}

struct text {
    size_t len;
};

static void add(struct text *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void add(struct text *t, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(page + t->len, sizeof(page) - t->len, fmt, ap);
    va_end(ap);
    t->len += (size_t)n < sizeof(page) - t->len ? (size_t)n : sizeof(page) - 1 - t->len;
}

static void metric(struct text *t, const char *name, const char *type, const char *help,
                   unsigned long long value)
{
    add(t, "# HELP %s %s\n# TYPE %s %s\n%s %llu\n", name, help, name, type, name, value);
}

static size_t metrics_page(void)
{
    struct text t = {0};
    struct heap_stats hs;
    struct net_stats ns;
    heap_get_stats(&hs);
    net_get_stats(&ns);
    metric(&t, "xenolith_uptime_seconds", "gauge", "Seconds since the boot banner.",
           udiv64_32(monotonic_ns() - kernel_banner_ns, NSEC_PER_SEC, NULL));
    metric(&t, "xenolith_pages_free", "gauge", "Free pages of the page allocator.",
           page_free_count());
    metric(&t, "xenolith_pages_managed", "gauge", "Pages the page allocator owns.",
           page_managed_count());
    metric(&t, "xenolith_heap_bytes_in_use", "gauge", "Bytes the kernel heap has handed out.",
           hs.bytes_in_use);
    metric(&t, "xenolith_net_rx_frames_total", "counter", "Frames the stack received.",
           ns.rx_frames);
    metric(&t, "xenolith_net_tx_frames_total", "counter", "Frames the stack sent.",
           ns.tx_frames);
    metric(&t, "xenolith_net_drops_total", "counter", "Frames the stack dropped.", ns.drops);
    metric(&t, "xenolith_net_memory_bytes", "gauge", "Bytes lwIP holds from the heap.",
           ns.mem_used);
    metric(&t, "xenolith_tcp_echo_connections", "gauge", "Open TCP echo connections.",
           ns.tcp_connections);
    metric(&t, "xenolith_http_connections", "gauge", "Open HTTP connections.", http.open);
    metric(&t, "xenolith_http_connections_total", "counter", "HTTP connections accepted.",
           http.accepted);
    add(&t, "# HELP xenolith_http_requests_total HTTP requests answered, by status.\n"
            "# TYPE xenolith_http_requests_total counter\n");
    for (unsigned i = 0; i < ST_NR; i++)
        add(&t, "xenolith_http_requests_total{code=\"%u\"} %lu\n", statuses[i].code,
            http.requests[i]);
    add(&t, "# HELP xenolith_vif_rx_bytes_total Bytes received on each vif.\n"
            "# TYPE xenolith_vif_rx_bytes_total counter\n");
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_stats fs;
        struct netfront_info fi;
        if (!netfront_get_info(i, &fi))
            continue;
        netfront_get_stats(i, &fs);
        add(&t, "xenolith_vif_rx_bytes_total{vif=\"%u\"} %lu\n", i, fs.rx_bytes);
    }
    return t.len;
}

/* ---- answers ---------------------------------------------------------------- */

static err_t conn_close(struct http_conn *c);

/* Queue what is left of the answer as far as the send buffer takes it. */
static void push(struct http_conn *c)
{
    while (c->out && c->out_off < c->out_len) {
        size_t n = LWIP_MIN(c->out_len - c->out_off, tcp_sndbuf(c->pcb));
        if (!n || tcp_write(c->pcb, c->out + c->out_off, (u16_t)n, TCP_WRITE_FLAG_COPY) != ERR_OK)
            break;
        c->out_off += n;
    }
    tcp_output(c->pcb);
}

static bool answering(const struct http_conn *c)
{
    return c->out && c->out_off < c->out_len;
}

/* Make the answer: status line, headers, and (not for HEAD) the body in page[]. */
static void answer(struct http_conn *c, unsigned st, bool head_only, size_t body_len,
                   const char *content_type)
{
    char hdr[256];
    http.requests[st]++;
    int n = snprintf(hdr, sizeof(hdr),
                     "HTTP/1.1 %u %s\r\nServer: Xenolith/%s\r\nContent-Type: %s\r\n"
                     "Content-Length: %u\r\n%sConnection: %s\r\n\r\n",
                     statuses[st].code, statuses[st].reason, XENOLITH_VERSION, content_type,
                     (unsigned)body_len, st == ST_405 ? "Allow: GET, HEAD\r\n" : "",
                     c->close_after ? "close" : "keep-alive");
    size_t total = (size_t)n + (head_only ? 0 : body_len);
    c->out = mem_malloc((mem_size_t)total);
    if (!c->out) { /* the stack's memory bound: no answer, no connection */
        c->close_after = true;
        c->out_len = c->out_off = 0;
        return;
    }
    memcpy(c->out, hdr, (size_t)n);
    if (!head_only)
        memcpy(c->out + n, page, body_len);
    c->out_len = total;
    c->out_off = 0;
}

/* A short text answer; `close`: the connection ends after it (every error
 * but 404, which is an ordinary answer). */
static void error_answer(struct http_conn *c, unsigned st, bool head_only, bool close)
{
    struct text t = {0};
    add(&t, "%u %s\n", statuses[st].code, statuses[st].reason);
    c->close_after |= close;
    answer(c, st, head_only, t.len, "text/plain; charset=utf-8");
}

static bool header_is(const char *line, const char *name, const char **value)
{
    size_t n = strlen(name);
    for (size_t i = 0; i < n; i++) {
        char a = line[i], b = name[i];
        if (a >= 'A' && a <= 'Z')
            a = (char)(a - 'A' + 'a');
        if (a != b)
            return false;
    }
    if (line[n] != ':')
        return false;
    const char *v = line + n + 1;
    while (*v == ' ' || *v == '\t')
        v++;
    *value = v;
    return true;
}

static bool word_in(const char *value, const char *word)
{
    size_t n = strlen(word);
    for (const char *p = value; *p; p++) {
        size_t i = 0;
        while (i < n && p[i] && (p[i] | 0x20) == word[i])
            i++;
        if (i == n)
            return true;
    }
    return false;
}

/* One request head (NUL-terminated, lines split at CRLF or LF): answer it. */
static void serve(struct http_conn *c, char *head)
{
    char *line = head, *next = strchr(line, '\n');
    if (next)
        *next++ = '\0';
    size_t ll = strlen(line);
    if (ll && line[ll - 1] == '\r')
        line[--ll] = '\0';
    /* METHOD SP TARGET SP HTTP/1.x */
    char *sp1 = strchr(line, ' ');
    char *sp2 = sp1 ? strchr(sp1 + 1, ' ') : NULL;
    bool ok = sp1 && sp2 && sp1 > line && sp2[1] && !strchr(sp2 + 1, ' ');
    for (char *p = line; ok && p < sp1; p++)
        ok = *p >= 'A' && *p <= 'Z';
    ok = ok && sp1[1] == '/' && (!strcmp(sp2 + 1, "HTTP/1.1") || !strcmp(sp2 + 1, "HTTP/1.0"));
    if (!ok) {
        error_answer(c, ST_400, false, true);
        return;
    }
    *sp1 = *sp2 = '\0';
    const char *method = line, *target = sp1 + 1;
    bool http11 = !strcmp(sp2 + 1, "HTTP/1.1");
    bool keep = http11, body = false;
    while (next && *next) {
        line = next;
        next = strchr(line, '\n');
        if (next)
            *next++ = '\0';
        ll = strlen(line);
        if (ll && line[ll - 1] == '\r')
            line[--ll] = '\0';
        const char *v;
        if (!ll)
            break;
        if (!strchr(line, ':') || line[0] == ' ' || line[0] == '\t') {
            error_answer(c, ST_400, false, true);
            return;
        }
        if (header_is(line, "connection", &v)) {
            if (word_in(v, "close"))
                keep = false;
            else if (word_in(v, "keep-alive"))
                keep = true;
        } else if (header_is(line, "content-length", &v)) {
            body |= strcmp(v, "0") != 0;
        } else if (header_is(line, "transfer-encoding", &v)) {
            body = true;
        }
    }
    c->close_after = !keep;
    bool head_only = !strcmp(method, "HEAD");
    if (!head_only && strcmp(method, "GET")) {
        error_answer(c, ST_405, false, true);
        return;
    }
    if (body) {
        error_answer(c, ST_413, head_only, true);
        return;
    }
    char path[64];
    size_t pl = 0;
    while (target[pl] && target[pl] != '?' && target[pl] != '#')
        pl++;
    if (pl >= sizeof(path)) {
        error_answer(c, ST_404, head_only, false);
        return;
    }
    memcpy(path, target, pl);
    path[pl] = '\0';
    if (!strcmp(path, "/metrics")) {
        answer(c, ST_200, head_only, metrics_page(), "text/plain; version=0.0.4; charset=utf-8");
        return;
    }
    for (unsigned i = 0; i < sizeof(shell_pages) / sizeof(shell_pages[0]); i++)
        if (!strcmp(path, shell_pages[i].path)) {
            answer(c, ST_200, head_only, command_page(shell_pages[i].command),
                   "text/plain; charset=utf-8");
            return;
        }
    error_answer(c, ST_404, head_only, false);
}

/* The end of the first request head in c->head, or 0. */
static size_t head_end(const struct http_conn *c)
{
    for (size_t i = 0; i + 1 < c->head_len; i++) {
        if (c->head[i] == '\n' && c->head[i + 1] == '\n')
            return i + 2;
        if (i + 3 < c->head_len && !memcmp(c->head + i, "\r\n\r\n", 4))
            return i + 4;
    }
    return 0;
}

/* Answer what has come, one request at a time, then close if asked to:
 * what a callback returns. */
static err_t progress(struct http_conn *c)
{
    for (;;) {
        if (answering(c)) {
            push(c);
            if (answering(c))
                return ERR_OK; /* the rest when the peer acknowledges (sent) */
        }
        if (c->out) {
            mem_free(c->out);
            c->out = NULL;
        }
        if (c->close_after || c->peer_closed)
            return conn_close(c);
        size_t end = head_end(c);
        if (!end) {
            if (c->head_len == sizeof(c->head)) /* a head longer than we take */
                error_answer(c, ST_413, false, true);
            else
                return ERR_OK;
            continue;
        }
        static char one[HTTP_HEAD_MAX + 1]; /* the stack's thread only */
        memcpy(one, c->head, end);
        one[end] = '\0';
        memmove(c->head, c->head + end, c->head_len - end);
        c->head_len -= end;
        serve(c, one);
    }
}

/* ---- connections ------------------------------------------------------------ */

static void conn_free(struct http_conn *c)
{
    if (c->out)
        mem_free(c->out);
    mem_free(c);
    http.open--;
}

/* ERR_ABRT when the close had to be an abort (a callback must return it). */
static err_t conn_close(struct http_conn *c)
{
    struct tcp_pcb *pcb = c->pcb;
    tcp_arg(pcb, NULL);
    tcp_recv(pcb, NULL);
    tcp_sent(pcb, NULL);
    tcp_err(pcb, NULL);
    tcp_poll(pcb, NULL, 0);
    conn_free(c);
    if (tcp_close(pcb) == ERR_OK)
        return ERR_OK;
    tcp_abort(pcb);
    return ERR_ABRT;
}

static err_t http_recv(void *arg, struct tcp_pcb *pcb, struct pbuf *p, err_t err)
{
    struct http_conn *c = arg;
    if (!p) {
        c->peer_closed = true; /* answer what came, then close */
        return progress(c);
    }
    if (err != ERR_OK) {
        pbuf_free(p);
        return err;
    }
    c->idle_s = 0;
    size_t room = sizeof(c->head) - c->head_len;
    size_t n = p->tot_len < room ? p->tot_len : room;
    pbuf_copy_partial(p, c->head + c->head_len, (u16_t)n, 0);
    c->head_len += n;
    tcp_recved(pcb, p->tot_len); /* what does not fit is dropped: the 413 closes */
    pbuf_free(p);
    return progress(c);
}

static err_t http_sent(void *arg, struct tcp_pcb *pcb, u16_t len)
{
    struct http_conn *c = arg;
    (void)pcb;
    (void)len;
    c->idle_s = 0;
    return progress(c);
}

static err_t http_poll(void *arg, struct tcp_pcb *pcb)
{
    struct http_conn *c = arg;
    (void)pcb;
    if (++c->idle_s < HTTP_IDLE_S)
        return ERR_OK;
    http.timed_out++;
    return conn_close(c);
}

static void http_err(void *arg, err_t err)
{
    (void)err;
    if (arg)
        conn_free(arg); /* lwIP has freed the pcb */
}

static err_t http_accept(void *arg, struct tcp_pcb *pcb, err_t err)
{
    (void)arg;
    if (err != ERR_OK || !pcb)
        return ERR_VAL;
    struct http_conn *c = http.open < HTTP_MAX_CONNS ? mem_calloc(1, sizeof(*c)) : NULL;
    if (!c) {
        http.refused++;
        tcp_abort(pcb);
        return ERR_ABRT;
    }
    c->pcb = pcb;
    http.open++;
    http.accepted++;
    tcp_arg(pcb, c);
    tcp_recv(pcb, http_recv);
    tcp_sent(pcb, http_sent);
    tcp_err(pcb, http_err);
    tcp_poll(pcb, http_poll, HTTP_POLL_HALF_S);
    return ERR_OK;
}

void net_http_start(void)
{
    const char *v = cmdline_get("http");
    unsigned long port;
    if (!v)
        return;
    if (!parse_ulong(v, &port) || !port || port > 0xffff) {
        printk("http: http='%s' is not a TCP port (1..65535); no server\n", v);
        return;
    }
    if (!net_tcp_listen((u16_t)port, http_accept, "http"))
        return;
    http.port = (uint16_t)port;
    printk("http: serving /, /threads, /mem, /events, /net, /blk, /metrics on TCP port %lu\n",
           port);
}
