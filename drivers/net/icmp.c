/*
 * icmp.c — ICMP echo (RFC 792; RFC 1122 3.2.2.6: an echo reply carries the
 * request's identifier, sequence number and data unchanged). Input checks
 * the length (8-byte header) and the checksum over the whole message;
 * echo requests to our own address are answered, echo replies complete a
 * ping that waits in icmp_wait_echo; other types are counted and dropped.
 * Requests to a broadcast address are not answered (RFC 1122 allows it).
 */
#include "kernel.h"
#include "net_priv.h"
#include "time.h"
#include "sched.h"
#include "wait.h"

#define ECHO_PATTERN_START 0x20 /* payload bytes of our requests: 0x20, 0x21, ... */

/* The one ping in flight (the shell runs one command at a time). */
static struct {
    uint16_t id, seq;
    bool waiting, done;
    uint64_t sent_ns, rtt_ns;
    unsigned ttl;
    size_t bytes;
    struct thread *waiter; /* in icmp_wait_echo, woken by the reply */
} ping;

static void answer_echo(struct net_if *ifp, const struct ipv4_hdr *ip, const uint8_t *p, size_t len)
{
    static uint8_t reply[IPV4_MAX_PAYLOAD];
    if (len > sizeof(reply))
        return; /* cannot happen: the IPv4 layer bounds len by the MTU */
    memcpy(reply, p, len);
    struct icmp_echo e;
    memcpy(&e, reply, sizeof(e));
    e.type = ICMP_ECHO_REPLY;
    e.code = 0;
    e.csum = 0;
    memcpy(reply, &e, sizeof(e));
    uint16_t c = net16(inet_csum(reply, len));
    memcpy(reply + offsetof(struct icmp_echo, csum), &c, sizeof(c));
    if (ipv4_output(ifp, ip_get(ip->src), IPPROTO_ICMP, reply, len) == 0)
        net_stats.echo_requests_answered++;
}

void icmp_input(struct net_if *ifp, const struct ipv4_hdr *ip, const uint8_t *p, size_t len)
{
    net_stats.rx_icmp++;
    if (len < ICMP_HLEN) {
        net_drop(NET_DROP_ICMP_SHORT, "%u bytes, header needs %u", (unsigned)len, ICMP_HLEN);
        return;
    }
    if (inet_fold(inet_sum(p, len, 0)) != 0xffff) {
        net_drop(NET_DROP_ICMP_CSUM, "checksum over %u bytes is wrong", (unsigned)len);
        return;
    }
    struct icmp_echo e;
    memcpy(&e, p, sizeof(e));
    if (e.type == ICMP_ECHO_REQUEST && e.code == 0 && net_is_local(ifp, ip_get(ip->dst), false)) {
        answer_echo(ifp, ip, p, len);
        return;
    }
    if (e.type == ICMP_ECHO_REPLY && e.code == 0) {
        net_stats.echo_replies_seen++;
        if (ping.waiting && net16(e.id) == ping.id && net16(e.seq) == ping.seq) {
            ping.rtt_ns = monotonic_ns() - ping.sent_ns;
            ping.ttl = ip->ttl;
            ping.bytes = len;
            ping.done = true;
            ping.waiting = false;
            if (ping.waiter)
                thread_wake(ping.waiter);
        }
        return;
    }
    net_drop(NET_DROP_ICMP_TYPE, "type %u code %u", e.type, e.code);
}

int icmp_send_echo(uint32_t dst, uint16_t id, uint16_t seq, size_t payload_len)
{
    static uint8_t msg[IPV4_MAX_PAYLOAD];
    if (payload_len > sizeof(msg) - ICMP_HLEN)
        return -XEN_E2BIG;
    struct icmp_echo e = {.type = ICMP_ECHO_REQUEST, .id = net16(id), .seq = net16(seq)};
    memcpy(msg, &e, sizeof(e));
    for (size_t i = 0; i < payload_len; i++)
        msg[ICMP_HLEN + i] = (uint8_t)(ECHO_PATTERN_START + i);
    uint16_t c = net16(inet_csum(msg, ICMP_HLEN + payload_len));
    memcpy(msg + offsetof(struct icmp_echo, csum), &c, sizeof(c));
    ping.id = id;
    ping.seq = seq;
    ping.done = false;
    ping.waiting = true;
    ping.sent_ns = monotonic_ns();
    int index = net_route(dst);
    int rc = index < 0 ? -XEN_ENXIO
                       : ipv4_output(net_if((unsigned)index), dst, IPPROTO_ICMP, msg,
                                     ICMP_HLEN + payload_len);
    if (rc)
        ping.waiting = false;
    return rc;
}

static bool echo_came(void *arg)
{
    const uint16_t *id_seq = arg;
    return ping.done && ping.id == id_seq[0] && ping.seq == id_seq[1];
}

int icmp_wait_echo(uint16_t id, uint16_t seq, unsigned long timeout_ms, uint64_t *rtt_ns,
                   unsigned *ttl, size_t *bytes)
{
    uint16_t id_seq[2] = {id, seq};
    ping.waiter = thread_current();
    int rc = wait_until(echo_came, id_seq, deadline_ms(timeout_ms));
    ping.waiter = NULL;
    if (rc) {
        ping.waiting = false;
        return rc;
    }
    *rtt_ns = ping.rtt_ns;
    *ttl = ping.ttl;
    *bytes = ping.bytes;
    return 0;
}
