/*
 * netif_input.c — fuzzes the kernel's own part of taking a frame from a
 * link into the stack (drivers/net/stack.c: net_input, its drop
 * accounting report_drops and net_drop_count; Ethernet framing per IEEE
 * 802.3): frames of any length and content on any interface, up or not,
 * the pbuf allocation failing, and what lwIP does with a frame (takes it
 * or not, which of its error counters move): that is where the kernel's
 * code ends and lwIP's begins, so lwIP is played here (its headers and
 * statistics are real, its code is not linked), fed exactly what
 * net_input hands it. Each input first sets the interfaces' addresses
 * from an `ip=` value (drivers/net/addr.c: addr_init, net_parse_ip).
 *
 * stack.c and addr.c are included, not linked, to reach their statics.
 * The input: the `ip=` value, which interfaces are up, then a script of
 * frames (interface, length, bytes) each with lwIP's verdict.
 * Checks: an address taken is not 0.0.0.0, its prefix 1..32, and reads
 * back from its text form; a frame reaches lwIP only on an interface that is up, only
 * between ETH_HLEN and ETH_FRAME_LEN bytes, padded with zeros to
 * ETH_ZLEN, its bytes as the link gave them, in one pbuf; a frame refused
 * there is counted as a link length error; every pbuf is freed once
 * (by net_input when lwIP refuses the frame, else by lwIP);
 * net_drop_count reads the counters lwIP moved under the names `net`
 * prints. A frame the backend flagged NETRXF_csum_blank (drivers/net/
 * csum.c: net_csum_fill) reaches lwIP with at most its 2-byte checksum
 * field changed, and the checksum is taken over bytes of the frame only.
 */
#include <stdio.h>
#include <stdlib.h>

#include "fuzz_input.h"
#include "rename.h"
#include "stack.c"
#include "addr.c"
#include "csum.c"

#define MAX_FRAMES 16
#define FRAME_MAX (ETH_FRAME_LEN + 64)

static struct fuzz_in *script;
static long pbufs_out;
static bool alloc_fails;
static const uint8_t *sent_frame; /* the frame net_input was given */
static size_t sent_len;
static bool sent_csum_blank;
static unsigned reached;           /* frames lwIP was handed */

/* ---- lwIP, as stack.c's input path sees it ------------------------------- */

struct stats_ lwip_stats;

struct pbuf *pbuf_alloc(pbuf_layer layer, u16_t length, pbuf_type type)
{
    FUZZ_ASSERT(layer == PBUF_RAW && type == PBUF_RAM);
    if (alloc_fails)
        return NULL;
    struct pbuf *p = calloc(1, sizeof(*p) + length);
    FUZZ_ASSERT(p);
    p->payload = p + 1;
    p->len = p->tot_len = length;
    p->ref = 1;
    pbufs_out++;
    return p;
}

u8_t pbuf_free(struct pbuf *p)
{
    FUZZ_ASSERT(p && p->ref == 1 && pbufs_out > 0);
    p->ref = 0;
    pbufs_out--;
    free(p);
    return 1;
}

/* One of lwIP's error counters, as the input picks it. */
static STAT_COUNTER *counter(unsigned proto, unsigned kind)
{
    struct stats_proto *s = (struct stats_proto *)((char *)&lwip_stats + protos[proto].offset);
    STAT_COUNTER *c[] = {&s->chkerr, &s->lenerr, &s->memerr, &s->rterr, &s->proterr,
                         &s->opterr, &s->err};
    return c[kind % NERRS];
}

/* lwIP's ethernet_input: what it was given, then its verdict. */
static err_t lwip_input(struct pbuf *p, struct netif *nif)
{
    size_t padded = sent_len < ETH_ZLEN ? ETH_ZLEN : sent_len;
    FUZZ_ASSERT(sent_frame && p->next == NULL && p->len == p->tot_len && p->tot_len == padded);
    unsigned changed = 0;
    for (size_t i = 0; i < sent_len; i++)
        changed += ((uint8_t *)p->payload)[i] != sent_frame[i];
    FUZZ_ASSERT(changed <= (sent_csum_blank ? sizeof(u16_t) : 0));
    for (size_t i = sent_len; i < padded; i++)
        FUZZ_ASSERT(((uint8_t *)p->payload)[i] == 0);
    reached++;
    uint8_t moved = fin_u8(script);
    for (unsigned k = 0; k < moved % 3; k++) /* a drop: some counters move */
        (*counter(fin_u8(script) % NPROTOS, fin_u8(script)))++;
    if (fin_u8(script) & 1)
        return ERR_VAL; /* refused: the caller frees it */
    pbuf_free(p); /* taken: lwIP frees it when done */
    return ERR_OK;
}

/* The pbuf header moves and the pseudo-header sum csum.c uses: the sum
 * reads every byte it is given, so a length past the frame is a report. */
u8_t pbuf_remove_header(struct pbuf *p, size_t n)
{
    if (n > p->len)
        return 1;
    p->payload = (uint8_t *)p->payload + n;
    p->len = (u16_t)(p->len - n);
    p->tot_len = (u16_t)(p->tot_len - n);
    return 0;
}

u8_t pbuf_add_header(struct pbuf *p, size_t n)
{
    FUZZ_ASSERT((uint8_t *)p->payload - n >= (uint8_t *)(p + 1));
    p->payload = (uint8_t *)p->payload - n;
    p->len = (u16_t)(p->len + n);
    p->tot_len = (u16_t)(p->tot_len + n);
    return 0;
}

u16_t lwip_htons(u16_t n)
{
    return __builtin_bswap16(n);
}

u16_t ip_chksum_pseudo_partial(struct pbuf *p, u8_t proto, u16_t proto_len, u16_t chksum_len,
                               const ip_addr_t *src, const ip_addr_t *dest)
{
    FUZZ_ASSERT(chksum_len <= p->len && proto_len == chksum_len);
    u32_t sum = proto + src->addr + dest->addr;
    for (u16_t i = 0; i < chksum_len; i++)
        sum += ((const uint8_t *)p->payload)[i];
    return (u16_t)sum;
}

/* ---- the kernel around stack.c ------------------------------------------- */

#define IP_VALUE_MAX 96
static char ip_value[IP_VALUE_MAX + 1];
static bool ip_given;

const char *cmdline_get(const char *key)
{
    FUZZ_ASSERT(!strcmp(key, "ip"));
    return ip_given ? ip_value : NULL;
}

static const struct net_link link = {.name = "vif0", .mac = {0, 0x16, 0x3e, 0, 0, 1}};

/* Only net_input's path runs: the rest of stack.c (attach, the thread)
 * references these. */
void netif_set_link_down(struct netif *netif) {}
void netif_set_link_up(struct netif *netif) {}
void netif_set_up(struct netif *netif) {}
struct netif *netif_add(struct netif *netif, const ip4_addr_t *ipaddr, const ip4_addr_t *netmask,
                        const ip4_addr_t *gw, void *state, netif_init_fn init, netif_input_fn input)
{
    return NULL;
}
err_t etharp_output(struct netif *netif, struct pbuf *q, const ip4_addr_t *ipaddr)
{
    return ERR_IF;
}
err_t ethernet_input(struct pbuf *p, struct netif *netif)
{
    return ERR_IF;
}
u32_t lwip_htonl(u32_t n)
{
    return __builtin_bswap32(n);
}
void lwip_init(void) {}
void sys_check_timeouts(void) {}
u32_t sys_timeouts_sleeptime(void)
{
    return SYS_TIMEOUTS_SLEEPTIME_INFINITE;
}
void net_echo_start(void) {}
void net_http_start(void) {}
void net_stream_start(void) {}
const ip_addr_t ip_addr_any;
struct tcp_pcb *tcp_new(void)
{
    return NULL;
}
err_t tcp_bind(struct tcp_pcb *pcb, const ip_addr_t *ipaddr, u16_t port)
{
    return ERR_IF;
}
struct tcp_pcb *tcp_listen_with_backlog(struct tcp_pcb *pcb, u8_t backlog)
{
    return NULL;
}
void tcp_accept(struct tcp_pcb *pcb, tcp_accept_fn accept) {}
err_t tcp_close(struct tcp_pcb *pcb)
{
    return ERR_OK;
}
void tcp_txnow(void) {}

static void one_frame(struct fuzz_in *in)
{
    static uint8_t frame[FRAME_MAX];
    unsigned index = fin_u8(in) % (NET_IF_MAX + 1);
    size_t len = fin_u16(in) % FRAME_MAX;
    fin_bytes(in, frame, len);
    struct net_if *ifp = net_if(index);
    bool up = ifp && ifp->link && ifp->added;
    unsigned before = reached;
    STAT_COUNTER lenerr = lwip_stats.link.lenerr;
    alloc_fails = fin_u8(in) == 0xff;
    sent_frame = frame;
    sent_len = len;
    sent_csum_blank = fin_u8(in) & 1;
    net_input(index, frame, len, sent_csum_blank);
    sent_frame = NULL;
    bool fits = len >= ETH_HLEN && len <= ETH_FRAME_LEN;
    FUZZ_ASSERT(reached == before + (up && fits && !alloc_fails));
    if (up && !fits)
        FUZZ_ASSERT(lwip_stats.link.lenerr == lenerr + 1);
    FUZZ_ASSERT(pbufs_out == 0);
    FUZZ_ASSERT(net_drop_count("link-lenerr") == lwip_stats.link.lenerr);
    FUZZ_ASSERT(net_drop_count("tcp-chkerr") == lwip_stats.tcp.chkerr);
    FUZZ_ASSERT(net_drop_count("no-such") == 0);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct fuzz_in in = {data, size};
    script = &in;
    memset(&lwip_stats, 0, sizeof(lwip_stats));
    memset(ifs, 0, sizeof(ifs));
    size_t n = fin_u8(&in) % (IP_VALUE_MAX + 1);
    ip_given = n > 0;
    memset(ip_value, 0, sizeof(ip_value));
    fin_bytes(&in, ip_value, n ? n - 1 : 0);
    (void)net_init();
    for (unsigned i = 0; i < NET_IF_MAX; i++) {
        uint32_t ip, back;
        unsigned prefix;
        char text[16];
        if (!net_address(i, &ip, &prefix))
            continue;
        FUZZ_ASSERT(ip && prefix >= 1 && prefix <= IPV4_MAX_PREFIX);
        FUZZ_ASSERT(net_parse_ip(net_ip_str(ip, text), &back) && back == ip);
    }
    /* Interfaces up or not, from the first byte. */
    uint8_t up = fin_u8(&in);
    for (unsigned i = 0; i < NET_IF_MAX; i++) {
        struct net_if *ifp = net_if(i);
        memset(&ifp->netif, 0, sizeof(ifp->netif));
        ifp->link = up & (1u << i) ? &link : NULL;
        ifp->added = up & (0x10u << i);
        ifp->netif.input = lwip_input;
        ifp->netif.state = ifp;
    }
    for (unsigned t = 0; t < MAX_FRAMES && in.n; t++)
        one_frame(&in);
    return 0;
}
