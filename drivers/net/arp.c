/*
 * arp.c — ARP for IPv4 over Ethernet (RFC 826). Input follows the RFC's
 * "packet reception" algorithm: check hardware/protocol type and lengths;
 * if the sender is in the cache, refresh it ("merge"); if we are the
 * target, add the sender if it was not there, and answer a request with a
 * reply. Requests for other hosts are dropped (quietly: on a bridge they
 * are ordinary traffic). Each interface has its own small cache, which
 * replaces its oldest entry.
 * When a link comes up we send one gratuitous ARP (arp_announce), so that
 * the same merge step on our neighbours replaces a MAC they still hold for
 * our address (a re-attached vif has a new one).
 */
#include "kernel.h"
#include "net_priv.h"
#include "time.h"
#include "sched.h"
#include "wait.h"

#define ARP_RETRY_MS 200

static const uint8_t broadcast[ETH_ALEN] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

static struct arp_entry *find(struct net_if *ifp, uint32_t ip)
{
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++)
        if (ifp->arp[i].valid && ifp->arp[i].ip == ip)
            return &ifp->arp[i];
    return NULL;
}

static void update(struct net_if *ifp, struct arp_entry *e, uint32_t ip,
                   const uint8_t mac[ETH_ALEN])
{
    e->ip = ip;
    memcpy(e->mac, mac, ETH_ALEN);
    e->updated_ns = monotonic_ns();
    e->valid = true;
    if (ifp->arp_waiter)
        thread_wake(ifp->arp_waiter);
}

static void insert(struct net_if *ifp, uint32_t ip, const uint8_t mac[ETH_ALEN])
{
    struct arp_entry *cache = ifp->arp, *victim = &cache[0];
    for (unsigned i = 0; i < ARP_CACHE_SIZE; i++) {
        if (!cache[i].valid) {
            victim = &cache[i];
            break;
        }
        if (cache[i].updated_ns < victim->updated_ns)
            victim = &cache[i];
    }
    update(ifp, victim, ip, mac);
}

bool arp_lookup(unsigned index, uint32_t ip, uint8_t mac[ETH_ALEN])
{
    struct net_if *ifp = net_if(index);
    struct arp_entry *e = ifp ? find(ifp, ip) : NULL;
    if (e && mac)
        memcpy(mac, e->mac, ETH_ALEN);
    return e != NULL;
}

unsigned arp_cache_copy(unsigned index, struct arp_entry *out, unsigned max)
{
    const struct net_if *ifp = net_if(index);
    unsigned n = 0;
    for (unsigned i = 0; ifp && i < ARP_CACHE_SIZE && n < max; i++)
        if (ifp->arp[i].valid)
            out[n++] = ifp->arp[i];
    return n;
}

static int arp_send(struct net_if *ifp, uint16_t op, const uint8_t eth_dst[ETH_ALEN],
                    const uint8_t tha[ETH_ALEN], uint32_t tpa)
{
    const struct net_link *l = ifp->link;
    uint32_t me = ifp->ip;
    if (!l || !ifp->has_ip)
        return -XEN_ENODEV;
    struct arp_pkt a = {
        .htype = net16(ARP_HRD_ETHER), .ptype = net16(ETH_P_IP),
        .hlen = ETH_ALEN, .plen = 4, .op = net16(op),
    };
    memcpy(a.sha, l->mac, ETH_ALEN);
    ip_put(a.spa, me);
    memcpy(a.tha, tha, ETH_ALEN);
    ip_put(a.tpa, tpa);
    return eth_output(ifp, eth_dst, ETH_P_ARP, &a, sizeof(a));
}

int arp_request(struct net_if *ifp, uint32_t ip)
{
    static const uint8_t unknown[ETH_ALEN];
    int rc = arp_send(ifp, ARP_OP_REQUEST, broadcast, unknown, ip);
    if (!rc)
        net_stats.arp_requests_sent++;
    return rc;
}

/* RFC 5227's "ARP announcement": a request with our address as both sender
 * and target, target MAC zero, broadcast. Nobody answers; a host with an
 * entry for us merges our MAC into it (Linux takes it as a gratuitous ARP,
 * sender == target, and overrides the entry). */
int arp_announce(struct net_if *ifp)
{
    static const uint8_t unknown[ETH_ALEN];
    if (!ifp->has_ip)
        return -XEN_ENODEV;
    int rc = arp_send(ifp, ARP_OP_REQUEST, broadcast, unknown, ifp->ip);
    if (!rc)
        net_stats.gratuitous_arps_sent++;
    return rc;
}

void arp_input(struct net_if *ifp, const uint8_t *p, size_t len)
{
    net_stats.rx_arp++;
    if (len < ARP_LEN) {
        net_drop(NET_DROP_ARP_SHORT, "%u bytes, ARP needs %u", (unsigned)len, ARP_LEN);
        return;
    }
    struct arp_pkt a;
    memcpy(&a, p, sizeof(a));
    uint16_t op = net16(a.op);
    if (net16(a.htype) != ARP_HRD_ETHER || net16(a.ptype) != ETH_P_IP || a.hlen != ETH_ALEN ||
        a.plen != 4 || (op != ARP_OP_REQUEST && op != ARP_OP_REPLY)) {
        net_drop(NET_DROP_ARP_FORMAT, "htype %u ptype %#x hlen %u plen %u op %u",
                 net16(a.htype), net16(a.ptype), a.hlen, a.plen, op);
        return;
    }
    uint32_t spa = ip_get(a.spa), tpa = ip_get(a.tpa);
    if (!ifp->has_ip) {
        net_drop(NET_DROP_NO_ADDRESS, "arp");
        return;
    }
    bool sender_ok = spa != 0 && !(a.sha[0] & 1); /* not a probe, not multicast */
    struct arp_entry *e = sender_ok ? find(ifp, spa) : NULL;
    if (e)
        update(ifp, e, spa, a.sha); /* merge */
    if (!net_is_local(ifp, tpa, false)) {
        net_drop(NET_DROP_ARP_OTHER_HOST, "for another host");
        return;
    }
    if (sender_ok && !e)
        insert(ifp, spa, a.sha);
    if (op == ARP_OP_REQUEST && arp_send(ifp, ARP_OP_REPLY, a.sha, a.sha, spa) == 0)
        net_stats.arp_replies_sent++;
}

struct wanted {
    struct net_if *ifp;
    uint32_t ip;
};

static bool resolved(void *arg)
{
    struct wanted *w = arg;
    return find(w->ifp, w->ip) != NULL;
}

bool arp_resolve(unsigned index, uint32_t ip, unsigned long timeout_ms)
{
    struct wanted w = {net_if(index), ip};
    uint64_t deadline = deadline_ms(timeout_ms);
    if (!w.ifp)
        return false;
    w.ifp->arp_waiter = thread_current(); /* update() wakes it */
    while (!resolved(&w)) {
        if (monotonic_ns() >= deadline || arp_request(w.ifp, ip))
            break;
        (void)wait_until(resolved, &w, deadline_ms(ARP_RETRY_MS));
    }
    w.ifp->arp_waiter = NULL;
    return resolved(&w);
}
