/*
 * stack.c — lwIP on the kernel (lwIP 2.1 with NO_SYS=1: "mainloop mode"):
 * the stack's one thread, one lwIP netif per link, frames in and out.
 *
 * The thread ("net") waits in wait_until for a kick or lwIP's next timer
 * (sys_timeouts_sleeptime); woken, it runs the calls other threads queued
 * (net_call), polls every link that is up (frames go through net_input to
 * the netif's input, ethernet_input), then sys_check_timeouts. It is the
 * only caller of lwIP, and lwIP never blocks, so nothing needs a lock.
 *
 * A netif per interface: Ethernet, ARP, MTU 1500, the address from ip=;
 * its linkoutput copies the frame (one pbuf: LWIP_NETIF_TX_SINGLE_PBUF)
 * into the link's xmit. Received frames are copied once into a pbuf;
 * runts are padded to Ethernet's 60 octets, so that lwIP, which trusts the
 * link for header lengths (ARP), never reads past what came; frames longer
 * than the MTU are dropped (link length error). After each frame the
 * counters of every protocol are compared: a malformed frame's drop prints
 * a rate-limited "net: drop" line naming the protocol and the counter.
 */
#include "kernel.h"
#include "net_priv.h"
#include "sched.h"
#include "time.h"
#include "wait.h"
#include "lwip/etharp.h"
#include "lwip/init.h"
#include "lwip/pbuf.h"
#include "lwip/stats.h"
#include "lwip/priv/tcp_priv.h"
#include "lwip/timeouts.h"
#include "netif/ethernet.h"

#define NET_MSG_BURST 5 /* drop lines a second */

struct net_call_req {
    int (*fn)(void *);
    void *arg;
    int rc;
    volatile bool done;
    struct thread *caller; /* woken when done */
    struct net_call_req *next;
};

static struct thread *stack_thread;
static volatile bool kicked;
static struct net_call_req *calls, **calls_tail = &calls;

bool net_in_stack(void)
{
    return stack_thread && thread_current() == stack_thread;
}

void net_kick(void)
{
    kicked = true;
    if (stack_thread)
        thread_wake(stack_thread);
}

static void run_calls(void)
{
    while (calls) {
        struct net_call_req *c = calls;
        calls = c->next;
        if (!calls)
            calls_tail = &calls;
        c->rc = c->fn(c->arg);
        c->done = true;
        thread_wake(c->caller);
    }
}

static bool call_done(void *arg)
{
    return ((struct net_call_req *)arg)->done;
}

int net_call(int (*fn)(void *), void *arg)
{
    if (!stack_thread || net_in_stack())
        return fn(arg); /* before the thread exists (boot), or already in it */
    struct net_call_req c = {.fn = fn, .arg = arg, .caller = thread_current()};
    *calls_tail = &c;
    calls_tail = &c.next;
    net_kick();
    (void)wait_until(call_done, &c, WAIT_FOREVER);
    return c.rc;
}

/* ---- drop accounting --------------------------------------------------------- */

static struct ratelimit drop_messages = RATELIMIT_INIT("net", "drop", NET_MSG_BURST);

static const struct {
    const char *name;
    size_t offset;
} protos[] = {
    {"link", offsetof(struct stats_, link)}, {"arp", offsetof(struct stats_, etharp)},
    {"ip", offsetof(struct stats_, ip)},     {"icmp", offsetof(struct stats_, icmp)},
    {"udp", offsetof(struct stats_, udp)},   {"tcp", offsetof(struct stats_, tcp)},
};

static const struct stats_proto *proto_stats(unsigned i)
{
    return (const struct stats_proto *)((const char *)&lwip_stats + protos[i].offset);
}

/* The error counters of a protocol, named as `net` prints them. */
static const char *const err_names[] = {"chkerr", "lenerr", "memerr", "rterr", "proterr",
                                        "opterr", "err"};

static void err_counts(const struct stats_proto *s, unsigned long *out)
{
    const STAT_COUNTER v[] = {s->chkerr, s->lenerr, s->memerr, s->rterr, s->proterr,
                               s->opterr, s->err};
    for (unsigned k = 0; k < sizeof(v) / sizeof(v[0]); k++)
        out[k] = v[k];
}

static void drop_line(const char *reason, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    ratelimit_vprintk(&drop_messages, reason, fmt, ap);
    va_end(ap);
}

#define NPROTOS (sizeof(protos) / sizeof(protos[0]))
#define NERRS (sizeof(err_names) / sizeof(err_names[0]))

struct err_snapshot {
    unsigned long n[NPROTOS][NERRS];
};

static void snapshot(struct err_snapshot *s)
{
    for (unsigned i = 0; i < NPROTOS; i++)
        err_counts(proto_stats(i), s->n[i]);
}

/* Say which counters moved since `before` (a frame was refused). */
static void report_drops(const struct err_snapshot *before, unsigned index, const uint8_t *frame,
                         size_t len)
{
    uint16_t type = (uint16_t)(frame[ETH_HLEN - 2] << 8 | frame[ETH_HLEN - 1]);
    if (type != ETH_P_IP && type != ETH_P_ARP)
        return; /* IPv6 and the like: ordinary traffic, not for us (counted, not said) */
    struct err_snapshot after;
    char reason[24];
    snapshot(&after);
    for (unsigned i = 0; i < NPROTOS; i++)
        for (unsigned k = 0; k < NERRS; k++)
            if (after.n[i][k] != before->n[i][k]) {
                snprintf(reason, sizeof(reason), "%s-%s", protos[i].name, err_names[k]);
                drop_line(reason, "%u-byte frame on interface %u", (unsigned)len, index);
            }
}

unsigned long net_drop_count(const char *name)
{
    unsigned long n[NERRS];
    char reason[24];
    for (unsigned i = 0; i < NPROTOS; i++) {
        err_counts(proto_stats(i), n);
        for (unsigned k = 0; k < NERRS; k++) {
            snprintf(reason, sizeof(reason), "%s-%s", protos[i].name, err_names[k]);
            if (!strcmp(reason, name))
                return n[k];
        }
    }
    return 0;
}

/* ---- frames in and out ------------------------------------------------------- */

static err_t linkoutput(struct netif *nif, struct pbuf *p)
{
    struct net_if *ifp = nif->state;
    const struct net_link *link = ifp->link;
    if (!link)
        return ERR_IF;
    LWIP_ASSERT("one pbuf per frame", p->len == p->tot_len);
    int rc = link->xmit(link->dev, p->payload, p->len);
    if (rc) {
        LINK_STATS_INC(link.drop);
        return rc == -XEN_ENOBUFS ? ERR_MEM : ERR_IF;
    }
    LINK_STATS_INC(link.xmit);
    return ERR_OK;
}

static err_t netif_setup(struct netif *nif)
{
    struct net_if *ifp = nif->state;
    nif->name[0] = 'v';
    nif->name[1] = 'f';
    nif->mtu = ETH_DATA_LEN;
    nif->hwaddr_len = ETH_ALEN;
    memcpy(nif->hwaddr, ifp->link->mac, ETH_ALEN);
    nif->flags = NETIF_FLAG_BROADCAST | NETIF_FLAG_ETHARP | NETIF_FLAG_ETHERNET;
    nif->output = etharp_output;
    nif->linkoutput = linkoutput;
    return ERR_OK;
}

void net_input(unsigned index, const void *frame, size_t len, bool csum_blank)
{
    struct net_if *ifp = net_if(index);
    if (!ifp || !ifp->link || !ifp->added)
        return;
    LINK_STATS_INC(link.recv);
    if (len < ETH_HLEN || len > ETH_FRAME_LEN) {
        LINK_STATS_INC(link.lenerr);
        LINK_STATS_INC(link.drop);
        drop_line("link-lenerr", "%u-byte frame on interface %u (Ethernet needs %u..%u)",
                  (unsigned)len, index, ETH_HLEN, ETH_FRAME_LEN);
        return;
    }
    size_t padded = len < ETH_ZLEN ? ETH_ZLEN : len;
    struct pbuf *p = pbuf_alloc(PBUF_RAW, (u16_t)padded, PBUF_RAM);
    if (!p) {
        LINK_STATS_INC(link.memerr);
        LINK_STATS_INC(link.drop);
        return;
    }
    memcpy(p->payload, frame, len);
    if (padded > len)
        memset((uint8_t *)p->payload + len, 0, padded - len);
    if (csum_blank)
        net_csum_fill(p);
    struct err_snapshot before;
    snapshot(&before);
    if (ifp->netif.input(p, &ifp->netif) != ERR_OK)
        pbuf_free(p);
    report_drops(&before, index, frame, len);
}

struct inject_req {
    unsigned index;
    const void *frame;
    size_t len;
    bool csum_blank;
};

static int do_inject(void *arg)
{
    struct inject_req *r = arg;
    net_input(r->index, r->frame, r->len, r->csum_blank);
    return 0;
}

void net_inject(unsigned index, const void *frame, size_t len, bool csum_blank)
{
    struct inject_req r = {index, frame, len, csum_blank};
    (void)net_call(do_inject, &r);
}

/* ---- interfaces up and down -------------------------------------------------- */

static unsigned long gratuitous_arps;

struct attach_req {
    unsigned index;
    const struct net_link *link;
};

/* A link going away takes the netif's link down, not the netif: its
 * connections stay (lwIP would abort every TCP connection of an address
 * that goes), to carry on when a link comes back (a resume, a re-attach). */
static void netif_down(struct net_if *ifp)
{
    if (ifp->added)
        netif_set_link_down(&ifp->netif);
}

static int do_attach(void *arg)
{
    struct attach_req *r = arg;
    struct net_if *ifp = net_if(r->index);
    char ipb[16], macb[18];
    netif_down(ifp);
    ifp->link = r->link;
    if (!r->link)
        return 0;
    if (!ifp->added) {
        ip4_addr_t ip, mask, gw;
        ip4_addr_set_zero(&gw);
        ip4_addr_set_u32(&ip, ifp->has_ip ? lwip_htonl(ifp->ip) : 0);
        ip4_addr_set_u32(&mask, ifp->has_ip && ifp->prefix
                                    ? lwip_htonl(~0u << (32 - ifp->prefix)) : 0);
        if (!netif_add(&ifp->netif, &ip, &mask, &gw, ifp, netif_setup, ethernet_input)) {
            printk("net: %s: lwIP refused the interface\n", r->link->name);
            ifp->link = NULL;
            return -XEN_ENOMEM;
        }
        ifp->added = true;
        netif_set_up(&ifp->netif);
    }
    memcpy(ifp->netif.hwaddr, r->link->mac, ETH_ALEN); /* a re-attached vif has a new MAC */
    netif_set_link_up(&ifp->netif); /* sends the gratuitous ARP when it has an address */
    if (ifp->has_ip) {
        gratuitous_arps++;
        printk("net: %s up: gratuitous ARP for %s at %s\n", r->link->name,
               net_ip_str(ifp->ip, ipb), net_mac_str(r->link->mac, macb));
    }
    return 0;
}

unsigned long net_gratuitous_arps(void)
{
    return gratuitous_arps;
}

void net_attach(unsigned index, const struct net_link *link)
{
    struct net_if *ifp = net_if(index);
    if (!ifp)
        return;
    if (!link)
        ifp->link = NULL; /* at once: no more xmit or poll, whatever runs now */
    struct attach_req r = {index, link};
    if (net_in_stack() && !link) {
        /* From inside lwIP (a link that broke while sending): the netif
         * goes at the top of the loop, outside lwIP. */
        ifp->link = NULL;
        kicked = true;
        return;
    }
    if (link && !stack_thread && net_stack_start()) {
        printk("net: %s: no thread for the stack; interface down\n", link->name);
        return;
    }
    (void)net_call(do_attach, &r);
}

const struct net_link *net_link(unsigned index)
{
    const struct net_if *ifp = net_if(index);
    return ifp ? ifp->link : NULL;
}

bool net_any_link(void)
{
    for (unsigned i = 0; i < NET_IF_MAX; i++)
        if (net_link(i))
            return true;
    return false;
}

/* ---- services ----------------------------------------------------------------- */

bool net_tcp_listen(u16_t port, tcp_accept_fn accept, const char *name)
{
    struct tcp_pcb *t = tcp_new();
    if (!t || tcp_bind(t, IP4_ADDR_ANY, port) != ERR_OK) {
        printk("%s: cannot bind TCP port %u; no server\n", name, port);
        if (t)
            tcp_close(t);
        return false;
    }
    struct tcp_pcb *l = tcp_listen(t);
    if (!l) {
        printk("%s: cannot listen on TCP port %u; no server\n", name, port);
        tcp_close(t);
        return false;
    }
    tcp_accept(l, accept);
    return true;
}

/* ---- the thread -------------------------------------------------------------- */

static bool woken(void *arg)
{
    (void)arg;
    return kicked || calls;
}

static void stack_loop(void *arg)
{
    (void)arg;
    net_echo_start();
    net_stream_start();
    net_http_start();
    for (;;) {
        kicked = false;
        run_calls();
        for (unsigned i = 0; i < NET_IF_MAX; i++) {
            struct net_if *ifp = net_if(i);
            if (ifp->added && !ifp->link && netif_is_link_up(&ifp->netif))
                netif_down(ifp); /* went down from inside lwIP */
            else if (ifp->link && ifp->link->poll)
                ifp->link->poll(ifp->link->dev);
        }
        /* A TCP segment the link refused (every tx buffer in flight: ERR_MEM)
         * stays queued in lwIP; the poll above may have freed buffers, so
         * send it now rather than after the peer's next ACK or a retransmit. */
        tcp_txnow();
        sys_check_timeouts();
        u32_t ms = sys_timeouts_sleeptime();
        uint64_t deadline = ms == SYS_TIMEOUTS_SLEEPTIME_INFINITE ? WAIT_FOREVER : deadline_ms(ms);
        if (!woken(NULL))
            (void)wait_until(woken, NULL, deadline);
    }
}

/* lwIP and its thread, when the first link comes (a kernel without a vif,
 * dom0 mode, has neither: no memory, no timer wakeups). */
int net_stack_start(void)
{
    static bool initialized;
    if (!initialized)
        lwip_init();
    initialized = true;
    stack_thread = thread_create("net", stack_loop, NULL);
    return stack_thread ? 0 : -XEN_ENOMEM;
}
