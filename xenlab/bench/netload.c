/*
 * netload.c — make bench's network load: request/response rates against a
 * guest from dom0, and the UDP echo server the Linux peer runs. Built on the
 * host with gcc -static (xenlab/bench/netload.py), so it runs in dom0 and in
 * the Linux peer's initramfs alike.
 *
 *   netload udp IP PORT SECONDS SIZE    one request in flight: send SIZE bytes
 *                                       to IP:PORT, wait for the same bytes back
 *   netload icmp IP SECONDS SIZE        the same with ICMP echo (raw socket)
 *   netload echo PORT                   answer every UDP datagram on PORT
 *   netload blast IP PORT SECONDS SIZE  one way: send SIZE-byte datagrams to
 *                                       IP:PORT as fast as the socket takes them
 *   netload sink PORT                   read and drop every datagram on PORT
 *   netload gap IP SECONDS              ICMP echo, one in flight, a GAP_TIMEOUT_MS
 *                                       timeout, until SECONDS pass or SIGINT/SIGTERM:
 *                                       the longest time without a reply (downtime)
 *   netload http IP PORT SECONDS KEEP   HTTP/1.1 GET / one at a time: on one
 *                                       connection (KEEP=1, keep-alive), or a new
 *                                       connection per request (KEEP=0, Connection:
 *                                       close, read to the server's close)
 *   netload tcpsend IP PORT SECONDS     one TCP connection, write for SECONDS, then
 *                                       close and wait for the peer's close (discard)
 *   netload tcprecv IP PORT SECONDS     one TCP connection, read for SECONDS (chargen)
 *   netload tcpconn IP PORT SECONDS     connections one at a time: connect, close,
 *                                       wait for the peer's close (discard)
 *   netload serve                       the TCP services the guest has, on Linux's
 *                                       stack (one poll() loop): discard on port 9,
 *                                       chargen on 19, HTTP/1.1 on 80 (GET of a
 *                                       fixed page, keep-alive unless asked not)
 *
 * The request/response clients print one line:
 *   netload: KIND IP replies=N lost=L seconds=T rate=R
 * A request without an answer within REPLY_TIMEOUT_MS counts as lost, so a
 * guest that drops packets costs rate but never hangs the run. The others:
 *   netload: blast IP sent=N errors=E seconds=T rate=R   (datagrams sent per s)
 *   netload: gap IP replies=N lost=L seconds=T maxgap_ms=G
 *   netload: tcpsend|tcprecv IP bytes=B seconds=T rate=R  (MB/s, 10^6 bytes)
 * http and tcpconn print the request/response line (one reply = one answer,
 * one connection), a request failed or unanswered within TCP_TIMEOUT_MS
 * counted as lost.
 */
#define _GNU_SOURCE /* strcasestr, accept4 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/ip.h>
#include <netinet/ip_icmp.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <signal.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/tcp.h>
#include <unistd.h>

#include "inet_csum.h"

#define REPLY_TIMEOUT_MS 200
#define GAP_TIMEOUT_MS 20
#define MAX_PAYLOAD 1472
#define IP_HDR_MAX 60
#define TCP_TIMEOUT_MS 5000 /* a TCP exchange under emulation: slow, not lost */
#define TCP_CHUNK 65536
#define HTTP_RESP_MAX 65536
#define SERVE_MAX 512 /* connections netload serve holds at once */
#define SERVE_PAGE 512 /* bytes of netload serve's page */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits up to the reply timeout for a datagram; returns its length or -1. */
static ssize_t recv_timeout(int fd, uint8_t *buf, size_t cap, double deadline)
{
    for (;;) {
        int left = (int)((deadline - now()) * 1000);
        if (left <= 0)
            return -1;
        struct pollfd p = {.fd = fd, .events = POLLIN};
        if (poll(&p, 1, left) <= 0)
            return -1;
        ssize_t n = recv(fd, buf, cap, 0);
        if (n >= 0)
            return n;
    }
}

static struct sockaddr_in addr_of(const char *ip, int port)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    if (inet_pton(AF_INET, ip, &a.sin_addr) != 1) {
        fprintf(stderr, "netload: bad address %s\n", ip);
        exit(2);
    }
    return a;
}

static void report(const char *kind, const char *ip, unsigned long replies, unsigned long lost,
                   double secs)
{
    printf("netload: %s %s replies=%lu lost=%lu seconds=%.3f rate=%.1f\n", kind, ip, replies,
           lost, secs, secs > 0 ? (double)replies / secs : 0.0);
}

/* A UDP socket connected to ip:port, with out[0..size) filled with a pattern to send;
 * -1 (said on stderr) if there is none. */
static int udp_connected(const char *ip, int port, uint8_t *out, size_t size)
{
    struct sockaddr_in to = addr_of(ip, port);
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
        perror("netload: udp socket");
        if (fd >= 0)
            close(fd);
        return -1;
    }
    memset(out, 0x5a, size);
    return fd;
}

static int udp_client(const char *ip, int port, double secs, size_t size)
{
    uint8_t out[MAX_PAYLOAD], in[MAX_PAYLOAD + 1];
    unsigned long replies = 0, lost = 0;
    int fd = udp_connected(ip, port, out, size);

    if (fd < 0)
        return 2;
    double start = now(), end = start + secs;
    for (uint32_t seq = 0; now() < end; seq++) {
        memcpy(out, &seq, sizeof(seq)); /* tells a late answer from this one's */
        if (send(fd, out, size, 0) < 0) {
            lost++;
            continue;
        }
        double deadline = now() + REPLY_TIMEOUT_MS / 1000.0;
        ssize_t n;
        while ((n = recv_timeout(fd, in, sizeof(in), deadline)) >= 0 &&
               ((size_t)n != size || memcmp(in, out, size) != 0))
            ;
        if (n < 0)
            lost++;
        else
            replies++;
    }
    report("udp", ip, replies, lost, now() - start);
    return 0;
}

/* An echo reply to request (id, seq), given the whole IPv4 packet. */
static int is_reply(const uint8_t *pkt, size_t n, uint16_t id, uint16_t seq)
{
    size_t ihl = (size_t)(pkt[0] & 0xf) * 4;
    const struct icmphdr *r = (const struct icmphdr *)(pkt + ihl);

    return n >= ihl + sizeof(*r) && r->type == ICMP_ECHOREPLY && r->un.echo.id == htons(id) &&
           r->un.echo.sequence == htons(seq);
}

static int icmp_socket(void)
{
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);
    if (fd < 0)
        perror("netload: raw socket (needs root)");
    return fd;
}

/* One echo request (id, seq) with `size` bytes of payload; 1 if its reply came within
 * timeout_ms, 0 if not. */
static int icmp_exchange(int fd, const struct sockaddr_in *to, uint16_t id, uint16_t seq,
                         size_t size, int timeout_ms)
{
    uint8_t out[sizeof(struct icmphdr) + MAX_PAYLOAD], in[IP_HDR_MAX + sizeof(out)];
    struct icmphdr *h = (struct icmphdr *)out;
    size_t len = sizeof(*h) + size;

    memset(out, 0x5a, len);
    h->type = ICMP_ECHO;
    h->code = 0;
    h->checksum = 0;
    h->un.echo.id = htons(id);
    h->un.echo.sequence = htons(seq);
    h->checksum = htons(inet_csum(out, len));
    if (sendto(fd, out, len, 0, (const struct sockaddr *)to, sizeof(*to)) < 0)
        return 0;
    double deadline = now() + timeout_ms / 1000.0;
    ssize_t n;
    /* Skip our own request looped back, and anybody else's traffic. */
    while ((n = recv_timeout(fd, in, sizeof(in), deadline)) >= 0 &&
           !is_reply(in, (size_t)n, id, seq))
        ;
    return n >= 0;
}

static int icmp_client(const char *ip, double secs, size_t size)
{
    struct sockaddr_in to = addr_of(ip, 0);
    unsigned long replies = 0, lost = 0;
    uint16_t id = (uint16_t)getpid();
    int fd = icmp_socket();

    if (fd < 0)
        return 2;
    double start = now(), end = start + secs;
    for (uint16_t seq = 0; now() < end; seq++) {
        if (icmp_exchange(fd, &to, id, seq, size, REPLY_TIMEOUT_MS))
            replies++;
        else
            lost++;
    }
    report("icmp", ip, replies, lost, now() - start);
    return 0;
}

static volatile sig_atomic_t stop;

static void on_stop(int sig)
{
    (void)sig;
    stop = 1;
}

static int gap_client(const char *ip, double secs)
{
    struct sockaddr_in to = addr_of(ip, 0);
    unsigned long replies = 0, lost = 0;
    uint16_t id = (uint16_t)getpid();
    int fd = icmp_socket();
    struct sigaction sa = {.sa_handler = on_stop};

    if (fd < 0)
        return 2;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    double start = now(), end = start + secs, last = start, gap = 0;
    for (uint16_t seq = 0; !stop && now() < end; seq++) {
        if (!icmp_exchange(fd, &to, id, seq, 56, GAP_TIMEOUT_MS)) {
            lost++;
            continue;
        }
        double t = now();
        replies++;
        if (replies > 1 && t - last > gap)
            gap = t - last;
        last = t;
    }
    printf("netload: gap %s replies=%lu lost=%lu seconds=%.3f maxgap_ms=%.1f\n", ip, replies,
           lost, now() - start, gap * 1000);
    return 0;
}

static int blast(const char *ip, int port, double secs, size_t size)
{
    uint8_t out[MAX_PAYLOAD];
    unsigned long sent = 0, errors = 0;
    int fd = udp_connected(ip, port, out, size);

    if (fd < 0)
        return 2;
    double start = now(), end = start + secs;
    while (now() < end) {
        if (send(fd, out, size, 0) < 0)
            errors++; /* ENOBUFS, or ECONNREFUSED after an ICMP unreachable */
        else
            sent++;
    }
    double took = now() - start;
    printf("netload: blast %s sent=%lu errors=%lu seconds=%.3f rate=%.1f\n", ip, sent, errors,
           took, took > 0 ? (double)sent / took : 0.0);
    return 0;
}

static int sink(int port)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    static uint8_t buf[65536];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        perror("netload: sink bind");
        return 2;
    }
    for (;;)
        (void)recv(fd, buf, sizeof(buf), 0);
}

static int echo_server(int port)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    uint8_t buf[65536];
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0) {
        perror("netload: echo bind");
        return 2;
    }
    for (;;) {
        struct sockaddr_in from;
        socklen_t flen = sizeof(from);
        ssize_t n = recvfrom(fd, buf, sizeof(buf), 0, (struct sockaddr *)&from, &flen);
        if (n >= 0)
            sendto(fd, buf, (size_t)n, 0, (struct sockaddr *)&from, flen);
    }
}

/* ---- TCP ------------------------------------------------------------------ */

/* A TCP socket connected to ip:port within TCP_TIMEOUT_MS, or -1. */
static int tcp_connect(const char *ip, int port)
{
    struct sockaddr_in to = addr_of(ip, port);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    struct timeval tv = {.tv_sec = TCP_TIMEOUT_MS / 1000};

    if (fd < 0)
        return -1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
    if (connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Read until the peer closes; 0 when it did (within the socket's timeout), -1 if not. */
static int drain_to_close(int fd)
{
    static uint8_t buf[TCP_CHUNK];
    ssize_t n;

    while ((n = recv(fd, buf, sizeof(buf), 0)) > 0)
        ;
    return n == 0 ? 0 : -1;
}

/* One HTTP response on fd: the head, then Content-Length bytes of body (or, with no
 * length, up to the close). 0 when a 200 came whole, -1 if not. */
static int http_response(int fd)
{
    static char buf[HTTP_RESP_MAX + 1];
    size_t have = 0;
    char *end = NULL;

    while (!end) {
        ssize_t n = recv(fd, buf + have, HTTP_RESP_MAX - have, 0);
        if (n <= 0)
            return -1;
        have += (size_t)n;
        buf[have] = 0;
        end = strstr(buf, "\r\n\r\n");
        if (!end && have == HTTP_RESP_MAX)
            return -1;
    }
    if (strncmp(buf, "HTTP/1.1 200", 12) != 0)
        return -1;
    size_t head = (size_t)(end + 4 - buf), body = have - head;
    char *cl = strcasestr(buf, "\r\ncontent-length:");
    if (!cl || cl > end)
        return drain_to_close(fd);
    size_t want = strtoul(cl + 17, NULL, 10);
    while (body < want) {
        ssize_t n = recv(fd, buf, HTTP_RESP_MAX, 0);
        if (n <= 0)
            return -1;
        body += (size_t)n;
    }
    return body == want ? 0 : -1;
}

static int http_client(const char *ip, int port, double secs, int keep)
{
    char req[256];
    unsigned long replies = 0, lost = 0;
    int fd = -1;
    int len = snprintf(req, sizeof(req), "GET / HTTP/1.1\r\nHost: %s\r\n%s\r\n", ip,
                       keep ? "" : "Connection: close\r\n");

    double start = now(), end = start + secs;
    while (now() < end) {
        if (fd < 0 && (fd = tcp_connect(ip, port)) < 0) {
            lost++;
            continue;
        }
        int ok = send(fd, req, (size_t)len, 0) == len && http_response(fd) == 0;
        if (ok && !keep)
            ok = drain_to_close(fd) == 0;
        if (ok)
            replies++;
        else
            lost++;
        if (!ok || !keep) {
            close(fd);
            fd = -1;
        }
    }
    if (fd >= 0)
        close(fd);
    report(keep ? "http-keepalive" : "http-close", ip, replies, lost, now() - start);
    return 0;
}

static void stream_report(const char *kind, const char *ip, unsigned long long bytes, double secs)
{
    printf("netload: %s %s bytes=%llu seconds=%.3f rate=%.3f\n", kind, ip, bytes, secs,
           secs > 0 ? (double)bytes / secs / 1e6 : 0.0);
}

static int tcp_send(const char *ip, int port, double secs)
{
    static uint8_t buf[TCP_CHUNK];
    unsigned long long bytes = 0;
    int fd = tcp_connect(ip, port);

    if (fd < 0) {
        perror("netload: tcpsend connect");
        return 2;
    }
    memset(buf, 0x5a, sizeof(buf));
    double start = now(), end = start + secs;
    while (now() < end) {
        ssize_t n = send(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        bytes += (unsigned long long)n;
    }
    /* Every byte written has reached the peer once it answers our close with its own. */
    shutdown(fd, SHUT_WR);
    if (drain_to_close(fd) < 0)
        fprintf(stderr, "netload: tcpsend: no close from the peer\n");
    stream_report("tcpsend", ip, bytes, now() - start);
    close(fd);
    return 0;
}

static int tcp_recv_stream(const char *ip, int port, double secs)
{
    static uint8_t buf[TCP_CHUNK];
    unsigned long long bytes = 0;
    int fd = tcp_connect(ip, port);

    if (fd < 0) {
        perror("netload: tcprecv connect");
        return 2;
    }
    double start = now(), end = start + secs;
    while (now() < end) {
        ssize_t n = recv(fd, buf, sizeof(buf), 0);
        if (n <= 0)
            break;
        bytes += (unsigned long long)n;
    }
    stream_report("tcprecv", ip, bytes, now() - start);
    close(fd);
    return 0;
}

static int tcp_conns(const char *ip, int port, double secs)
{
    unsigned long replies = 0, lost = 0;
    double start = now(), end = start + secs;

    while (now() < end) {
        int fd = tcp_connect(ip, port);
        if (fd < 0) {
            lost++;
            continue;
        }
        shutdown(fd, SHUT_WR);
        if (drain_to_close(fd) == 0)
            replies++;
        else
            lost++;
        close(fd);
    }
    report("tcpconn", ip, replies, lost, now() - start);
    return 0;
}

/* ---- netload serve: discard, chargen and HTTP on Linux's stack ---------------- */

enum service { DISCARD, CHARGEN, HTTP, NSERVICES };
static const int service_port[NSERVICES] = {[DISCARD] = 9, [CHARGEN] = 19, [HTTP] = 80};

struct conn {
    enum service svc;
    char head[2048];
    size_t head_len;
    char out[SERVE_PAGE + 256];
    size_t out_len, out_off;
    int close_after;
};

static int listener(int port)
{
    struct sockaddr_in me = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    int one = 1;
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);

    if (fd < 0)
        return -1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
    if (bind(fd, (struct sockaddr *)&me, sizeof(me)) < 0 || listen(fd, 128) < 0) {
        close(fd);
        return -1;
    }
    return fd;
}

/* Answer every whole request head in c->head (GET of any path: the page). */
static void http_answer(struct conn *c, const char *page)
{
    char *end;
    while (c->out_len == 0 && (end = strstr(c->head, "\r\n\r\n"))) {
        size_t used = (size_t)(end + 4 - c->head);
        char *conn_close = strcasestr(c->head, "\r\nconnection: close");
        c->close_after = conn_close && conn_close < end;
        c->out_len = (size_t)snprintf(c->out, sizeof(c->out),
                                      "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
                                      "Content-Length: %d\r\n\r\n%s", SERVE_PAGE, page);
        c->out_off = 0;
        memmove(c->head, c->head + used, c->head_len - used + 1);
        c->head_len -= used;
    }
}

static int serve(void)
{
    static struct pollfd fds[NSERVICES + SERVE_MAX];
    static struct conn conns[SERVE_MAX];
    static uint8_t buf[TCP_CHUNK];
    static char page[SERVE_PAGE + 1];
    size_t n = NSERVICES;

    signal(SIGPIPE, SIG_IGN);
    memset(page, 'x', SERVE_PAGE);
    for (size_t i = 0; i + 1 < SERVE_PAGE; i += 64)
        page[i + 63 < SERVE_PAGE ? i + 63 : SERVE_PAGE - 1] = '\n';
    memset(buf, 0x5a, sizeof(buf));
    for (int s = 0; s < NSERVICES; s++) {
        fds[s] = (struct pollfd){.fd = listener(service_port[s]), .events = POLLIN};
        if (fds[s].fd < 0) {
            fprintf(stderr, "netload: serve: cannot listen on port %d\n", service_port[s]);
            return 2;
        }
    }
    for (;;) {
        if (poll(fds, n, -1) < 0)
            continue;
        for (int s = 0; s < NSERVICES; s++) {
            int fd;
            if (!(fds[s].revents & POLLIN))
                continue;
            while (n < NSERVICES + SERVE_MAX &&
                   (fd = accept4(fds[s].fd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
                int one = 1;
                setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                conns[n - NSERVICES] = (struct conn){.svc = (enum service)s};
                fds[n++] = (struct pollfd){.fd = fd,
                                           .events = POLLIN | (s == CHARGEN ? POLLOUT : 0)};
            }
        }
        for (size_t i = NSERVICES; i < n; i++) {
            struct conn *c = &conns[i - NSERVICES];
            int dead = fds[i].revents & (POLLERR | POLLHUP | POLLNVAL) && c->svc != HTTP;
            if (!dead && fds[i].revents & POLLIN) {
                char *into = c->svc == HTTP ? c->head + c->head_len : (char *)buf;
                size_t room = c->svc == HTTP ? sizeof(c->head) - 1 - c->head_len : sizeof(buf);
                ssize_t got = room ? recv(fds[i].fd, into, room, 0) : 0;
                if (got == 0 || (got < 0 && errno != EAGAIN)) {
                    dead = c->out_len == 0 || got < 0;
                    c->close_after = 1;
                } else if (got > 0 && c->svc == HTTP) {
                    c->head_len += (size_t)got;
                    c->head[c->head_len] = 0;
                    http_answer(c, page);
                }
            }
            if (!dead && c->svc == CHARGEN && fds[i].revents & POLLOUT &&
                send(fds[i].fd, buf, sizeof(buf), 0) < 0 && errno != EAGAIN)
                dead = 1;
            if (!dead && c->svc == HTTP && c->out_len) {
                ssize_t put = send(fds[i].fd, c->out + c->out_off, c->out_len - c->out_off, 0);
                if (put > 0)
                    c->out_off += (size_t)put;
                else if (errno != EAGAIN)
                    dead = 1;
                if (c->out_off == c->out_len) {
                    c->out_len = 0;
                    dead = c->close_after;
                    http_answer(c, page);
                }
            }
            if (!dead && c->svc == HTTP)
                fds[i].events = POLLIN | (c->out_len ? POLLOUT : 0);
            if (dead) {
                close(fds[i].fd);
                fds[i] = fds[--n];
                conns[i - NSERVICES] = conns[n - NSERVICES];
                i--;
            }
        }
    }
}


static size_t payload(const char *arg)
{
    return (size_t)atoi(arg) % (MAX_PAYLOAD + 1);
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "udp") == 0)
        return udp_client(argv[2], atoi(argv[3]), atof(argv[4]), payload(argv[5]));
    if (argc == 5 && strcmp(argv[1], "icmp") == 0)
        return icmp_client(argv[2], atof(argv[3]), payload(argv[4]));
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return echo_server(atoi(argv[2]));
    if (argc == 6 && strcmp(argv[1], "blast") == 0)
        return blast(argv[2], atoi(argv[3]), atof(argv[4]), payload(argv[5]));
    if (argc == 3 && strcmp(argv[1], "sink") == 0)
        return sink(atoi(argv[2]));
    if (argc == 4 && strcmp(argv[1], "gap") == 0)
        return gap_client(argv[2], atof(argv[3]));
    if (argc == 6 && strcmp(argv[1], "http") == 0)
        return http_client(argv[2], atoi(argv[3]), atof(argv[4]), atoi(argv[5]));
    if (argc == 5 && strcmp(argv[1], "tcpsend") == 0)
        return tcp_send(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "tcprecv") == 0)
        return tcp_recv_stream(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 5 && strcmp(argv[1], "tcpconn") == 0)
        return tcp_conns(argv[2], atoi(argv[3]), atof(argv[4]));
    if (argc == 2 && strcmp(argv[1], "serve") == 0)
        return serve();
    fprintf(stderr, "usage: netload udp IP PORT SECONDS SIZE | icmp IP SECONDS SIZE | echo PORT |\n"
                    "       blast IP PORT SECONDS SIZE | sink PORT | gap IP SECONDS |\n"
                    "       http IP PORT SECONDS KEEP | tcpsend|tcprecv|tcpconn IP PORT SECONDS |\n"
                    "       serve\n");
    return 2;
}
