/*
 * net_cmd.c — the stack's side of the shell: `ping IP [COUNT]` (ICMP echo,
 * RFC 792, over an lwIP raw pcb, with the round-trip time from
 * monotonic_ns), `arp` (lwIP's ARP table), and net_show, the stack's part
 * of `net` (lwIP's counters per protocol, its memory and pools, the TCP
 * connections; the link's part is netfront's, drivers/netfront/
 * netfront_cmd.c). What is read of lwIP is copied in the stack's thread
 * (net_call) and printed after, so printing never races the stack.
 */
#include "kernel.h"
#include "net_priv.h"
#include "sched.h"
#include "shell.h"
#include "time.h"
#include "wait.h"
#include "lwip/etharp.h"
#include "lwip/inet_chksum.h"
#include "lwip/init.h"
#include "lwip/memp.h"
#include "lwip/prot/icmp.h"
#include "lwip/prot/ip4.h"
#include "lwip/raw.h"
#include "lwip/stats.h"
#include "lwip/priv/tcp_priv.h"

#define PING_ID 0x584e /* "XN" */
#define PING_PAYLOAD 56  /* the classic 64-byte ICMP message */
#define PING_TIMEOUT_MS 2000
#define PING_INTERVAL_MS 200
#define PING_MAX_COUNT 1000
#define ECHO_PATTERN_START 0x20 /* payload bytes of our requests: 0x20, 0x21, ... */
#define SHOW_CONNS 16 /* connections `net` lists */

/* ---- ping ------------------------------------------------------------------ */

/* The one ping in flight (the shell runs one command at a time). */
static struct {
    struct raw_pcb *pcb;
    uint32_t dst;
    uint16_t id, seq;
    size_t payload;
    bool waiting, done;
    uint64_t sent_ns, rtt_ns;
    unsigned ttl;
    size_t bytes;
    struct thread *waiter;
} ping;

static u8_t ping_recv(void *arg, struct raw_pcb *pcb, struct pbuf *p, const ip_addr_t *addr)
{
    struct ip_hdr iph;
    struct icmp_echo_hdr e;
    (void)arg;
    (void)pcb;
    if (pbuf_copy_partial(p, &iph, sizeof(iph), 0) != sizeof(iph))
        return 0;
    u16_t hlen = (u16_t)(IPH_HL(&iph) * 4);
    if (pbuf_copy_partial(p, &e, sizeof(e), hlen) != sizeof(e))
        return 0;
    if (e.type != ICMP_ER || !ping.waiting || lwip_ntohs(e.id) != ping.id ||
        lwip_ntohs(e.seqno) != ping.seq || ip4_addr_get_u32(ip_2_ip4(addr)) != lwip_htonl(ping.dst))
        return 0; /* not ours: lwIP's ICMP sees it */
    ping.rtt_ns = monotonic_ns() - ping.sent_ns;
    ping.ttl = IPH_TTL(&iph);
    ping.bytes = p->tot_len - hlen;
    ping.done = true;
    ping.waiting = false;
    if (ping.waiter)
        thread_wake(ping.waiter);
    pbuf_free(p);
    return 1;
}

static int ping_send(void *arg)
{
    (void)arg;
    if (!ping.pcb) {
        ping.pcb = raw_new(IP_PROTO_ICMP);
        if (!ping.pcb)
            return -XEN_ENOMEM;
        raw_recv(ping.pcb, ping_recv, NULL);
    }
    size_t len = sizeof(struct icmp_echo_hdr) + ping.payload;
    struct pbuf *p = pbuf_alloc(PBUF_IP, (u16_t)len, PBUF_RAM);
    if (!p)
        return -XEN_ENOMEM;
    struct icmp_echo_hdr *e = p->payload;
    e->type = ICMP_ECHO;
    e->code = 0;
    e->chksum = 0;
    e->id = lwip_htons(ping.id);
    e->seqno = lwip_htons(ping.seq);
    for (size_t i = 0; i < ping.payload; i++)
        ((uint8_t *)(e + 1))[i] = (uint8_t)(ECHO_PATTERN_START + i);
    e->chksum = inet_chksum(e, (u16_t)len);
    ip_addr_t dst;
    ip_addr_set_ip4_u32(&dst, lwip_htonl(ping.dst));
    ping.done = false;
    ping.waiting = true;
    ping.sent_ns = monotonic_ns();
    err_t err = raw_sendto(ping.pcb, p, &dst);
    pbuf_free(p);
    if (err != ERR_OK) {
        ping.waiting = false;
        return err == ERR_RTE ? -XEN_ENXIO : -XEN_EIO;
    }
    return 0;
}

static int ping_cancel(void *arg)
{
    (void)arg;
    ping.waiting = false;
    return 0;
}

static bool echo_came(void *arg)
{
    (void)arg;
    return ping.done;
}

int net_ping(uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len,
             unsigned long timeout_ms, uint64_t *rtt_ns, unsigned *ttl, size_t *bytes)
{
    if (payload_len > ETH_DATA_LEN - IP_HLEN - sizeof(struct icmp_echo_hdr))
        return -XEN_E2BIG;
    ping.dst = dst;
    ping.id = id;
    ping.seq = seq;
    ping.payload = payload_len;
    ping.waiter = thread_current();
    int rc = net_call(ping_send, NULL);
    if (!rc)
        rc = wait_until(echo_came, NULL, deadline_ms(timeout_ms));
    ping.waiter = NULL;
    if (rc) {
        (void)net_call(ping_cancel, NULL);
        return rc;
    }
    *rtt_ns = ping.rtt_ns;
    *ttl = ping.ttl;
    *bytes = ping.bytes;
    return 0;
}

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
    if (net_route(dst) < 0) {
        bool any_ip = false;
        for (unsigned i = 0; i < NET_IF_MAX; i++)
            any_ip |= net_address(i, NULL, NULL);
        if (!any_ip)
            printk("ping: no IPv4 address (boot with ip=A.B.C.D/N)\n");
        else
            printk("ping: %s: no interface on its subnet (no gateway)\n", ipb);
        return 1;
    }
    unsigned long received = 0;
    printk("PING %s: %u data bytes\n", ipb, PING_PAYLOAD);
    for (unsigned long i = 0; i < count; i++) {
        uint16_t s = ++seq;
        uint64_t rtt;
        unsigned ttl;
        size_t bytes;
        int rc = net_ping(dst, PING_ID, s, PING_PAYLOAD, PING_TIMEOUT_MS, &rtt, &ttl, &bytes);
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

/* ---- arp ------------------------------------------------------------------- */

struct arp_copy {
    struct arp_entry *out;
    unsigned max, n;
};

static int arp_copy(void *arg)
{
    struct arp_copy *a = arg;
    for (size_t i = 0; i < ARP_TABLE_SIZE && a->n < a->max; i++) {
        ip4_addr_t *ip;
        struct netif *nif;
        struct eth_addr *mac;
        if (!etharp_get_entry(i, &ip, &nif, &mac))
            continue;
        struct arp_entry *e = &a->out[a->n++];
        e->index = ((struct net_if *)nif->state)->index;
        e->ip = lwip_ntohl(ip4_addr_get_u32(ip));
        memcpy(e->mac, mac->addr, ETH_ALEN);
    }
    return 0;
}

unsigned arp_cache_copy(struct arp_entry *out, unsigned max)
{
    struct arp_copy a = {out, max, 0};
    (void)net_call(arp_copy, &a);
    return a.n;
}

static int cmd_arp(int argc, char **argv)
{
    struct arp_entry e[ARP_TABLE_SIZE];
    char ipb[16], macb[18];
    (void)argc;
    (void)argv;
    unsigned n = arp_cache_copy(e, ARP_TABLE_SIZE);
    printk("arp: %u entries\n", n);
    for (unsigned i = 0; i < n; i++)
        printk("  %-15s %s  interface %u\n", net_ip_str(e[i].ip, ipb),
               net_mac_str(e[i].mac, macb), e[i].index);
    return 0;
}
SHELL_COMMAND(arp, "arp", "arp", "the ARP cache (IPv4 neighbours and their MACs)", cmd_arp);

/* ---- net ------------------------------------------------------------------- */

static const char *const pool_names[] = {
#define LWIP_MEMPOOL(name, num, size, desc) desc,
#include "lwip/priv/memp_std.h"
};

static const char *const tcp_states[] = {
    [CLOSED] = "CLOSED", [LISTEN] = "LISTEN", [SYN_SENT] = "SYN_SENT",
    [SYN_RCVD] = "SYN_RCVD", [ESTABLISHED] = "ESTABLISHED", [FIN_WAIT_1] = "FIN_WAIT_1",
    [FIN_WAIT_2] = "FIN_WAIT_2", [CLOSE_WAIT] = "CLOSE_WAIT", [CLOSING] = "CLOSING",
    [LAST_ACK] = "LAST_ACK", [TIME_WAIT] = "TIME_WAIT",
};

struct conn_line {
    uint32_t local, remote;
    uint16_t lport, rport;
    enum tcp_state state;
};

struct show {
    struct stats_ st;
    struct stats_mem pools[MEMP_MAX];
    struct conn_line conns[SHOW_CONNS];
    unsigned nconns, more;
    unsigned long refused, udp_echoed, udp_discarded, tcp_bytes, tcp_open;
    unsigned long tcp_discarded, tcp_generated;
};

static void conns_of(struct show *s, struct tcp_pcb *list)
{
    for (struct tcp_pcb *pcb = list; pcb; pcb = pcb->next) {
        if (s->nconns == SHOW_CONNS) {
            s->more++;
            continue;
        }
        s->conns[s->nconns++] = (struct conn_line){
            lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->local_ip))),
            lwip_ntohl(ip4_addr_get_u32(ip_2_ip4(&pcb->remote_ip))),
            pcb->local_port, pcb->remote_port, pcb->state};
    }
}

static int show_copy(void *arg)
{
    struct show *s = arg;
    s->st = lwip_stats;
    for (unsigned i = 0; i < MEMP_MAX; i++)
        if (lwip_stats.memp[i]) /* NULL until lwIP starts (the first link) */
            s->pools[i] = *lwip_stats.memp[i];
    conns_of(s, tcp_active_pcbs);
    conns_of(s, tcp_tw_pcbs);
    s->refused = net_mem_refused();
    net_echo_stats(&s->udp_echoed, &s->udp_discarded, &s->tcp_bytes, &s->tcp_open);
    net_stream_stats(&s->tcp_discarded, &s->tcp_generated);
    return 0;
}

static void show_proto(const char *name, const struct stats_proto *p)
{
    printk("  lwip %-4s recv %u xmit %u drop %u chkerr %u lenerr %u memerr %u rterr %u "
           "proterr %u opterr %u err %u\n", name, p->recv, p->xmit, p->drop, p->chkerr,
           p->lenerr, p->memerr, p->rterr, p->proterr, p->opterr, p->err);
}

static unsigned long drops_of(const struct stats_ *st)
{
    return (unsigned long)st->link.drop + st->etharp.drop + st->ip.drop + st->icmp.drop +
           st->udp.drop + st->tcp.drop;
}

void net_get_stats(struct net_stats *out)
{
    static struct show s; /* the shell runs one command at a time */
    memset(&s, 0, sizeof(s));
    (void)net_call(show_copy, &s);
    *out = (struct net_stats){
        .rx_frames = s.st.link.recv, .tx_frames = s.st.link.xmit, .drops = drops_of(&s.st),
        .echo_requests_answered = s.st.icmp.xmit, .udp_echoed = s.udp_echoed,
        .tcp_echoed_bytes = s.tcp_bytes, .tcp_connections = s.tcp_open,
        .mem_used = s.st.mem.used, .mem_max = s.st.mem.max, .mem_refused = s.refused,
    };
}

void net_show(void)
{
    static struct show s;
    char a[16], b[16];
    memset(&s, 0, sizeof(s));
    (void)net_call(show_copy, &s);
    printk("  stack: lwIP %s, rx %u frames, tx %u frames; echoed %lu udp datagrams, "
           "%lu tcp bytes (%lu connections open); discarded %lu udp datagrams\n",
           LWIP_VERSION_STRING, s.st.link.recv, s.st.link.xmit, s.udp_echoed, s.tcp_bytes,
           s.tcp_open, s.udp_discarded);
    printk("  streams: discarded %lu tcp bytes (port 9), generated %lu (chargen, port 19)\n",
           s.tcp_discarded, s.tcp_generated);
    show_proto("link", &s.st.link);
    show_proto("arp", &s.st.etharp);
    show_proto("ip", &s.st.ip);
    show_proto("icmp", &s.st.icmp);
    show_proto("udp", &s.st.udp);
    show_proto("tcp", &s.st.tcp);
    printk("  memory: %u bytes in use (most %u, bound %u), %lu allocations refused\n",
           (unsigned)s.st.mem.used, (unsigned)s.st.mem.max, NET_MEM_MAX, s.refused);
    for (unsigned i = 0; i < MEMP_MAX; i++)
        if (s.pools[i].used || s.pools[i].max)
            printk("    pool %-16s used %u most %u\n", pool_names[i], (unsigned)s.pools[i].used,
                   (unsigned)s.pools[i].max);
    printk("  gratuitous ARP sent %lu (one each time a link comes up)\n", net_gratuitous_arps());
    printk("  drops: %lu stack\n", drops_of(&s.st));
    for (unsigned i = 0; i < s.nconns; i++) {
        const struct conn_line *c = &s.conns[i];
        printk("  tcp %s:%u %s:%u %s\n", net_ip_str(c->local, a), c->lport,
               net_ip_str(c->remote, b), c->rport,
               (unsigned)c->state < sizeof(tcp_states) / sizeof(tcp_states[0]) ?
               tcp_states[c->state] : "?");
    }
    if (s.more)
        printk("  tcp: %u more connections\n", s.more);
}
