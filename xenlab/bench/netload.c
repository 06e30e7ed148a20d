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
 *
 * The clients print one line:
 *   netload: KIND IP replies=N lost=L seconds=T rate=R
 * A request without an answer within REPLY_TIMEOUT_MS counts as lost, so a
 * guest that drops packets costs rate but never hangs the run.
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
#include <unistd.h>

#define REPLY_TIMEOUT_MS 200
#define MAX_PAYLOAD 1472
#define IP_HDR_MAX 60

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static uint16_t csum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    if (n & 1)
        s += (uint32_t)p[n - 1] << 8;
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return htons((uint16_t)~s);
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

static int udp_client(const char *ip, int port, double secs, size_t size)
{
    struct sockaddr_in to = addr_of(ip, port);
    uint8_t out[MAX_PAYLOAD], in[MAX_PAYLOAD + 1];
    unsigned long replies = 0, lost = 0;
    int fd = socket(AF_INET, SOCK_DGRAM, 0);

    if (fd < 0 || connect(fd, (struct sockaddr *)&to, sizeof(to)) < 0) {
        perror("netload: udp socket");
        return 2;
    }
    memset(out, 0x5a, size);
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

static int icmp_client(const char *ip, double secs, size_t size)
{
    struct sockaddr_in to = addr_of(ip, 0);
    uint8_t out[sizeof(struct icmphdr) + MAX_PAYLOAD], in[IP_HDR_MAX + sizeof(out)];
    unsigned long replies = 0, lost = 0;
    uint16_t id = (uint16_t)getpid();
    int fd = socket(AF_INET, SOCK_RAW, IPPROTO_ICMP);

    if (fd < 0) {
        perror("netload: raw socket (needs root)");
        return 2;
    }
    memset(out, 0x5a, sizeof(out));
    double start = now(), end = start + secs;
    for (uint16_t seq = 0; now() < end; seq++) {
        struct icmphdr *h = (struct icmphdr *)out;
        size_t len = sizeof(*h) + size;
        h->type = ICMP_ECHO;
        h->code = 0;
        h->checksum = 0;
        h->un.echo.id = htons(id);
        h->un.echo.sequence = htons(seq);
        h->checksum = csum(out, len);
        if (sendto(fd, out, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
            lost++;
            continue;
        }
        double deadline = now() + REPLY_TIMEOUT_MS / 1000.0;
        ssize_t n;
        /* Skip our own request looped back, and anybody else's traffic. */
        while ((n = recv_timeout(fd, in, sizeof(in), deadline)) >= 0 &&
               !is_reply(in, (size_t)n, id, seq))
            ;
        if (n < 0)
            lost++;
        else
            replies++;
    }
    report("icmp", ip, replies, lost, now() - start);
    return 0;
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

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "udp") == 0)
        return udp_client(argv[2], atoi(argv[3]), atof(argv[4]), (size_t)atoi(argv[5]) % (MAX_PAYLOAD + 1));
    if (argc == 5 && strcmp(argv[1], "icmp") == 0)
        return icmp_client(argv[2], atof(argv[3]), (size_t)atoi(argv[4]) % (MAX_PAYLOAD + 1));
    if (argc == 3 && strcmp(argv[1], "echo") == 0)
        return echo_server(atoi(argv[2]));
    fprintf(stderr, "usage: netload udp IP PORT SECONDS SIZE | icmp IP SECONDS SIZE | echo PORT\n");
    return 2;
}
