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
 *
 * The request/response clients print one line:
 *   netload: KIND IP replies=N lost=L seconds=T rate=R
 * A request without an answer within REPLY_TIMEOUT_MS counts as lost, so a
 * guest that drops packets costs rate but never hangs the run. The others:
 *   netload: blast IP sent=N errors=E seconds=T rate=R   (datagrams sent per s)
 *   netload: gap IP replies=N lost=L seconds=T maxgap_ms=G
 */
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
#include <unistd.h>

#include "inet_csum.h"

#define REPLY_TIMEOUT_MS 200
#define GAP_TIMEOUT_MS 20
#define MAX_PAYLOAD 1472
#define IP_HDR_MAX 60

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
    fprintf(stderr, "usage: netload udp IP PORT SECONDS SIZE | icmp IP SECONDS SIZE | echo PORT |\n"
                    "       blast IP PORT SECONDS SIZE | sink PORT | gap IP SECONDS\n");
    return 2;
}
