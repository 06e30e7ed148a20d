/*
 * net_cmd.c — shell commands of the IPv4 stack: `ping IP [COUNT]` (ICMP
 * echo, RFC 792, with the round-trip time from monotonic_ns) and `arp`
 * (the cache). `net`, which also shows the link, is netfront's
 * (drivers/netfront/netfront_cmd.c).
 */
#include "kernel.h"
#include "net.h"
#include "shell.h"
#include "time.h"

#define PING_ID 0x584e /* "XN" */
#define PING_PAYLOAD 56  /* the classic 64-byte ICMP message */
#define PING_TIMEOUT_MS 2000
#define PING_INTERVAL_MS 200
#define PING_MAX_COUNT 1000
#define ARP_RESOLVE_MS 3000

static int cmd_ping(int argc, char **argv)
{
    uint32_t dst;
    unsigned long count = 1;
    char ipb[16];
    static uint16_t seq;

    if (argc < 2 || argc > 3 || !net_parse_ip(argv[1], &dst) ||
        (argc == 3 && (!parse_ulong(argv[2], &count) || !count || count > PING_MAX_COUNT))) {
        printk("usage: ping A.B.C.D [COUNT 1..%u]\n", PING_MAX_COUNT);
        return 1;
    }
    if (!net_any_link()) {
        printk("ping: no network link (no vif, detached, or not connected: see `net`)\n");
        return 1;
    }
    net_ip_str(dst, ipb);
    int index = net_route(dst);
    if (index < 0) {
        bool any_ip = false;
        for (unsigned i = 0; i < NET_IF_MAX; i++)
            any_ip |= net_address(i, NULL, NULL);
        if (!any_ip)
            printk("ping: no IPv4 address (boot with ip=A.B.C.D/N)\n");
        else
            printk("ping: %s: no interface on its subnet (no gateway)\n", ipb);
        return 1;
    }
    if (!arp_resolve((unsigned)index, dst, ARP_RESOLVE_MS)) {
        printk("ping: %s: no ARP reply\n", ipb);
        return 1;
    }
    unsigned long received = 0;
    printk("PING %s: %u data bytes\n", ipb, PING_PAYLOAD);
    for (unsigned long i = 0; i < count; i++) {
        uint16_t s = ++seq;
        uint64_t rtt;
        unsigned ttl;
        size_t bytes;
        int rc = icmp_send_echo(dst, PING_ID, s, PING_PAYLOAD);
        if (!rc)
            rc = icmp_wait_echo(PING_ID, s, PING_TIMEOUT_MS, &rtt, &ttl, &bytes);
        if (rc) {
            printk("ping: icmp_seq=%u: %s\n", s,
                   rc == -XEN_ETIMEDOUT ? "no reply" : xen_errname(rc));
        } else {
            uint32_t frac;
            uint64_t us = udiv64_32(rtt, NSEC_PER_USEC, NULL);
            uint64_t ms = udiv64_32(us, 1000, &frac);
            printk("%u bytes from %s: icmp_seq=%u ttl=%u time=%llu.%03u ms\n", (unsigned)bytes,
                   ipb, s, ttl, (unsigned long long)ms, (unsigned)frac);
            received++;
        }
        if (i + 1 < count)
            sleep_ms(PING_INTERVAL_MS);
    }
    printk("--- %s ping statistics ---\n%lu packets transmitted, %lu received, %lu%% packet loss\n",
           ipb, count, received, (count - received) * 100 / count);
    return received ? 0 : 1;
}
SHELL_COMMAND(ping, "ping", "ping A.B.C.D [COUNT]", "ICMP echo requests, replies with round-trip time",
              cmd_ping);

static int cmd_arp(int argc, char **argv)
{
    struct arp_entry e[ARP_CACHE_SIZE];
    uint64_t now = monotonic_ns();
    char ipb[16], macb[18];
    (void)argc;
    (void)argv;
    for (unsigned index = 0; index < NET_IF_MAX; index++) {
        unsigned n = arp_cache_copy(index, e, ARP_CACHE_SIZE);
        if (!n && !net_link(index))
            continue;
        printk("arp: interface %u: %u entries\n", index, n);
        for (unsigned i = 0; i < n; i++)
            printk("  %-15s %s  %llus ago\n", net_ip_str(e[i].ip, ipb),
                   net_mac_str(e[i].mac, macb),
                   (unsigned long long)udiv64_32(now - e[i].updated_ns, NSEC_PER_SEC, NULL));
    }
    return 0;
}
SHELL_COMMAND(arp, "arp", "arp", "the ARP cache (IPv4 neighbours and their MACs)", cmd_arp);
