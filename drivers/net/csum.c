/*
 * csum.c — completing a checksum the backend left blank (Xen 4.17
 * public/io/netif.h, "Guest receive": NETRXF_csum_blank means the
 * packet's TCP or UDP checksum is not filled in, as Linux's
 * CHECKSUM_PARTIAL; NETRXF_data_validated alone needs nothing: lwIP
 * checks every checksum anyway).
 *
 * We ask for full checksums (feature-no-csum-offload=1), so netback
 * computes them before frames reach us and never sets the flag; a backend
 * that sets it anyway still gets its frames accepted, with the checksum
 * computed here from the whole segment (the field's old content, a partial
 * sum or anything, is ignored), on the stack's own copy. The frame's
 * lengths are checked first: anything that is not a whole, unfragmented
 * TCP or UDP segment over IPv4 is left alone, and lwIP drops it as it
 * would without the flag.
 */
#include "kernel.h"
#include "net_priv.h"
#include "lwip/inet_chksum.h"
#include "lwip/ip4_addr.h"
#include "lwip/pbuf.h"
#include "lwip/prot/ethernet.h"
#include "lwip/prot/ip.h"
#include "lwip/prot/ip4.h"
#include "lwip/prot/tcp.h"
#include "lwip/prot/udp.h"

/* Where the checksum field sits in the transport header, 0 for a protocol
 * without one we fill. */
static size_t csum_offset(u8_t proto)
{
    switch (proto) {
    case IP_PROTO_TCP:
        return offsetof(struct tcp_hdr, chksum);
    case IP_PROTO_UDP:
        return offsetof(struct udp_hdr, chksum);
    default:
        return 0;
    }
}

void net_csum_fill(struct pbuf *p)
{
    if (p->len != p->tot_len || p->len < SIZEOF_ETH_HDR + IP_HLEN)
        return;
    const struct eth_hdr *eh = p->payload;
    if (eh->type != PP_HTONS(ETHTYPE_IP))
        return;
    struct ip_hdr *iph = (struct ip_hdr *)((u8_t *)p->payload + SIZEOF_ETH_HDR);
    size_t ihl = IPH_HL_BYTES(iph), total = lwip_ntohs(IPH_LEN(iph));
    size_t where = csum_offset(IPH_PROTO(iph));
    if (IPH_V(iph) != 4 || ihl < IP_HLEN || total < ihl || SIZEOF_ETH_HDR + total > p->len ||
        (IPH_OFFSET(iph) & PP_HTONS(IP_OFFMASK | IP_MF)) || !where ||
        total - ihl < where + sizeof(u16_t))
        return;
    ip4_addr_t src, dst;
    ip4_addr_copy(src, iph->src);
    ip4_addr_copy(dst, iph->dest);
    u16_t seg_len = (u16_t)(total - ihl);
    u8_t *field = (u8_t *)iph + ihl + where;
    memset(field, 0, sizeof(u16_t));
    if (pbuf_remove_header(p, SIZEOF_ETH_HDR + ihl))
        return;
    /* Only the segment: the buffer may go on with Ethernet's padding. */
    u16_t sum = ip_chksum_pseudo_partial(p, IPH_PROTO(iph), seg_len, seg_len, &src, &dst);
    (void)pbuf_add_header(p, SIZEOF_ETH_HDR + ihl);
    if (sum == 0 && IPH_PROTO(iph) == IP_PROTO_UDP)
        sum = 0xffff; /* RFC 768: a computed 0 is sent as all ones (0 means none) */
    memcpy(field, &sum, sizeof(sum));
}
