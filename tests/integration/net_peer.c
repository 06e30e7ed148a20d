/*
 * net_peer.c — dom0's side of test_kernel_netfront.py. Built on the host
 * (gcc -static) and run in the lab's Linux dom0.
 *
 *   net_peer garbage IFNAME DST_MAC DST_IP SRC_IP RANDOM_COUNT
 *       Writes malformed frames with AF_PACKET (raw Ethernet) on IFNAME (the
 *       guest's backend interface vifD.0, whose frames go to the guest):
 *       each kind once, then RANDOM_COUNT frames of random bytes after a
 *       valid Ethernet header. Prints "garbage: <kind>" per kind and
 *       "garbage: sent N frames".
 *   net_peer udp DST_IP PORT TIMEOUT_S
 *       Sends one UDP datagram and waits for the same bytes back:
 *       "udp: echo ok" (exit 0) or "udp: timeout" (exit 3).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "inet_csum.h"

#define FRAME_MAX 1514
#define ETH_HDR 14
#define IP_HDR 20

static int fd;
static struct sockaddr_ll to;
static uint8_t dst_mac[6], src_mac[6] = {0x02, 0, 0, 0, 0, 0x66};
static uint32_t dst_ip, src_ip; /* network order */
static unsigned sent;

static size_t eth(uint8_t *f, uint16_t type)
{
    memcpy(f, dst_mac, 6);
    memcpy(f + 6, src_mac, 6);
    f[12] = (uint8_t)(type >> 8);
    f[13] = (uint8_t)type;
    return ETH_HDR;
}

/* A valid IPv4 + ICMP echo request of icmp_len bytes; returns frame length. */
static size_t ip_icmp(uint8_t *f, size_t icmp_len)
{
    memset(f, 0, FRAME_MAX);
    eth(f, ETH_P_IP);
    uint8_t *ip = f + ETH_HDR, *ic = ip + IP_HDR;
    ip[0] = 0x45;
    ip[2] = (uint8_t)((IP_HDR + icmp_len) >> 8);
    ip[3] = (uint8_t)(IP_HDR + icmp_len);
    ip[8] = 64;
    ip[9] = IPPROTO_ICMP;
    memcpy(ip + 12, &src_ip, 4);
    memcpy(ip + 16, &dst_ip, 4);
    ic[0] = 8;
    for (size_t i = 8; i < icmp_len; i++)
        ic[i] = (uint8_t)i;
    uint16_t c = inet_csum(ic, icmp_len);
    ic[2] = (uint8_t)(c >> 8);
    ic[3] = (uint8_t)c;
    c = inet_csum(ip, IP_HDR);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
    return ETH_HDR + IP_HDR + icmp_len;
}

static void fix_ip_csum(uint8_t *f)
{
    uint8_t *ip = f + ETH_HDR;
    ip[10] = ip[11] = 0;
    uint16_t c = inet_csum(ip, (size_t)(ip[0] & 0xf) * 4 > 60 ? 20 : (size_t)(ip[0] & 0xf) * 4);
    ip[10] = (uint8_t)(c >> 8);
    ip[11] = (uint8_t)c;
}

static void send_frame(const char *kind, const uint8_t *f, size_t len)
{
    if (sendto(fd, f, len, 0, (struct sockaddr *)&to, sizeof(to)) < 0) {
        printf("garbage: %s: sendto: %s\n", kind, strerror(errno));
        return;
    }
    if (kind)
        printf("garbage: %s (%zu bytes)\n", kind, len);
    sent++;
    usleep(20000); /* let netback keep up: we test validation, not queueing */
}

static int garbage(const char *ifname, const char *mac, const char *dip, const char *sip,
                   unsigned nrandom)
{
    uint8_t f[FRAME_MAX];
    if (sscanf(mac, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst_mac[0], &dst_mac[1], &dst_mac[2],
               &dst_mac[3], &dst_mac[4], &dst_mac[5]) != 6 ||
        inet_pton(AF_INET, dip, &dst_ip) != 1 || inet_pton(AF_INET, sip, &src_ip) != 1) {
        fprintf(stderr, "bad MAC or IP\n");
        return 2;
    }
    fd = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (fd < 0) {
        printf("garbage: socket: %s\n", strerror(errno));
        return 2;
    }
    to.sll_family = AF_PACKET;
    to.sll_ifindex = (int)if_nametoindex(ifname);
    to.sll_halen = 6;
    memcpy(to.sll_addr, dst_mac, 6);
    if (!to.sll_ifindex) {
        printf("garbage: no interface %s\n", ifname);
        return 2;
    }
    size_t n;

    n = ip_icmp(f, 64);
    send_frame("truncated ip header", f, ETH_HDR + 10);
    n = ip_icmp(f, 64);
    f[ETH_HDR + 10] ^= 0xff;
    send_frame("bad ip checksum", f, n);
    n = ip_icmp(f, 64);
    f[ETH_HDR + 2] = 0xff; /* total length 65535 */
    f[ETH_HDR + 3] = 0xff;
    fix_ip_csum(f);
    send_frame("huge ip total length", f, n);
    n = ip_icmp(f, 64);
    f[ETH_HDR] = 0x4f; /* ihl 15: 60 bytes of header in a short packet */
    send_frame("ihl past the packet", f, ETH_HDR + 40);
    n = ip_icmp(f, 64);
    f[ETH_HDR] = 0x43; /* ihl 3 */
    fix_ip_csum(f);
    send_frame("ihl 3", f, n);
    n = ip_icmp(f, 64);
    f[ETH_HDR] = 0x65; /* version 6 under the IPv4 type */
    fix_ip_csum(f);
    send_frame("ip version 6", f, n);
    n = ip_icmp(f, 64);
    f[ETH_HDR + 6] = 0x20; /* more fragments */
    fix_ip_csum(f);
    send_frame("ip fragment", f, n);
    n = ip_icmp(f, 64);
    f[ETH_HDR + IP_HDR + 2] ^= 0xff;
    send_frame("bad icmp checksum", f, n);
    n = ip_icmp(f, 4);
    send_frame("icmp too short", f, n);
    n = ip_icmp(f, 64);
    memset(f + ETH_HDR, 0, 40);
    eth(f, ETH_P_ARP);
    f[ETH_HDR + 1] = 1; f[ETH_HDR + 2] = 8; f[ETH_HDR + 4] = 7; /* hlen 7 */
    f[ETH_HDR + 5] = 4; f[ETH_HDR + 7] = 1;
    send_frame("arp hlen 7", f, ETH_HDR + 28);
    eth(f, ETH_P_ARP);
    send_frame("arp truncated", f, ETH_HDR + 6);

    srand(42);
    for (unsigned i = 0; i < nrandom; i++) {
        size_t len = ETH_HDR + 1 + (size_t)rand() % (FRAME_MAX - ETH_HDR - 1);
        eth(f, (i & 1) ? ETH_P_IP : ETH_P_ARP);
        for (size_t j = ETH_HDR; j < len; j++)
            f[j] = (uint8_t)rand();
        if (i % 3 == 0)
            f[ETH_HDR] = 0x45; /* looks like IPv4 a little longer */
        send_frame(NULL, f, len);
    }
    printf("garbage: sent %u frames\n", sent);
    return 0;
}

static int udp(const char *ip, const char *port, const char *timeout)
{
    int s = socket(AF_INET, SOCK_DGRAM, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    struct timeval tv = {.tv_sec = atoi(timeout)};
    static const char msg[] = "xenolith udp echo";
    char buf[64];
    if (s < 0 || inet_pton(AF_INET, ip, &a.sin_addr) != 1)
        return 2;
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    if (sendto(s, msg, sizeof(msg), 0, (struct sockaddr *)&a, sizeof(a)) < 0) {
        printf("udp: sendto: %s\n", strerror(errno));
        return 2;
    }
    ssize_t n = recv(s, buf, sizeof(buf), 0);
    if (n == (ssize_t)sizeof(msg) && !memcmp(buf, msg, sizeof(msg))) {
        printf("udp: echo ok\n");
        return 0;
    }
    printf(n < 0 ? "udp: timeout\n" : "udp: wrong answer\n");
    return 3;
}

int main(int argc, char **argv)
{
    setvbuf(stdout, NULL, _IONBF, 0);
    if (argc == 7 && !strcmp(argv[1], "garbage"))
        return garbage(argv[2], argv[3], argv[4], argv[5], (unsigned)atoi(argv[6]));
    if (argc == 5 && !strcmp(argv[1], "udp"))
        return udp(argv[2], argv[3], argv[4]);
    fprintf(stderr, "usage: net_peer garbage IFNAME DST_MAC DST_IP SRC_IP N | udp IP PORT TIMEOUT_S\n");
    return 2;
}
