/*
 * addr.c — the interfaces' IPv4 addresses (RFC 791 addresses, RFC 4632
 * prefix notation) from the command line, one per interface in interface
 * order, `ip=10.0.0.2/24,10.1.0.2/24`, routing by subnet, and the text forms
 * of addresses. An interface without an address answers nothing (every IPv4
 * datagram and ARP request on it is dropped by lwIP); boot says so. The
 * addresses are lwIP's once an interface comes up (stack.c).
 */
#include "kernel.h"
#include "net_priv.h"

#define IPV4_MAX_PREFIX 32
#define IP_ARG_MAX 20 /* "255.255.255.255/32" and a NUL */

static struct net_if ifs[NET_IF_MAX];

struct net_if *net_if(unsigned index)
{
    if (index >= NET_IF_MAX)
        return NULL;
    ifs[index].index = index;
    return &ifs[index];
}

bool net_parse_ip(const char *s, uint32_t *ip)
{
    uint32_t v = 0;
    for (int part = 0; part < 4; part++) {
        unsigned n = 0, digits = 0;
        for (; *s >= '0' && *s <= '9'; s++, digits++) {
            n = n * 10 + (unsigned)(*s - '0');
            if (n > 255 || digits >= 3)
                return false;
        }
        if (!digits || (part < 3 && *s++ != '.'))
            return false;
        v = v << 8 | n;
    }
    if (*s)
        return false;
    *ip = v;
    return true;
}

bool net_parse_mac(const char *s, uint8_t mac[ETH_ALEN])
{
    for (unsigned i = 0; i < ETH_ALEN; i++) {
        unsigned v = 0;
        for (unsigned d = 0; d < 2; d++, s++) {
            int x = hex_digit(*s);
            if (x < 0)
                return false;
            v = v << 4 | (unsigned)x;
        }
        mac[i] = (uint8_t)v;
        if (*s != (i + 1 < ETH_ALEN ? ':' : '\0'))
            return false;
        s++;
    }
    return true;
}

/* "10.0.0.2/24" for interface index: 0, or -XEN_EINVAL. */
static int net_set_address(unsigned index, const char *text)
{
    char buf[IP_ARG_MAX];
    struct net_if *ifp = net_if(index);
    if (!ifp || strlcpy(buf, text, sizeof(buf)) >= sizeof(buf))
        return -XEN_EINVAL;
    char *slash = strchr(buf, '/');
    unsigned long prefix = IPV4_MAX_PREFIX;
    if (slash) {
        *slash = '\0';
        if (!parse_ulong(slash + 1, &prefix) || prefix < 1 || prefix > IPV4_MAX_PREFIX)
            return -XEN_EINVAL;
    }
    uint32_t ip;
    if (!net_parse_ip(buf, &ip) || ip == 0)
        return -XEN_EINVAL;
    ifp->ip = ip;
    ifp->prefix = (unsigned)prefix;
    ifp->has_ip = true;
    return 0;
}

bool net_address(unsigned index, uint32_t *ip, unsigned *prefix)
{
    const struct net_if *ifp = net_if(index);
    if (!ifp || !ifp->has_ip)
        return false;
    if (ip)
        *ip = ifp->ip;
    if (prefix)
        *prefix = ifp->prefix;
    return true;
}

static uint32_t netmask(const struct net_if *ifp)
{
    return ifp->prefix >= IPV4_MAX_PREFIX ? ~0u : ~(~0u >> ifp->prefix);
}

static bool net_on_link(const struct net_if *ifp, uint32_t ip)
{
    return ifp->has_ip && ((ip ^ ifp->ip) & netmask(ifp)) == 0;
}

int net_route(uint32_t ip)
{
    for (unsigned i = 0; i < NET_IF_MAX; i++)
        if (ifs[i].link && net_on_link(&ifs[i], ip))
            return (int)i;
    return -1;
}

const char *net_ip_str(uint32_t ip, char buf[16])
{
    snprintf(buf, 16, "%u.%u.%u.%u", ip >> 24, (ip >> 16) & 0xff, (ip >> 8) & 0xff, ip & 0xff);
    return buf;
}

const char *net_mac_str(const uint8_t m[ETH_ALEN], char buf[18])
{
    snprintf(buf, 18, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return buf;
}

static int addr_init(void)
{
    const char *v = cmdline_get("ip");
    char ipb[16], one[IP_ARG_MAX];
    int rc = 0;
    if (!v) {
        printk("net: no IPv4 address (add ip=A.B.C.D/N to the command line)\n");
        return 0;
    }
    for (unsigned index = 0; *v; index++) {
        const char *comma = strchr(v, ',');
        size_t len = comma ? (size_t)(comma - v) : strlen(v);
        if (index >= NET_IF_MAX) {
            printk("net: ip= names more than %u interfaces; the rest is ignored\n", NET_IF_MAX);
            break;
        }
        bool ok = len < sizeof(one);
        if (ok) {
            memcpy(one, v, len);
            one[len] = '\0';
            ok = net_set_address(index, one) == 0;
        }
        if (!ok) {
            printk("net: ip='%.*s' (interface %u) is not an address/prefix like 10.0.0.2/24; "
                   "no address\n", (int)len, v, index);
            rc = -XEN_EINVAL;
        } else if (index == 0) {
            printk("net: address %s/%u\n", net_ip_str(ifs[0].ip, ipb), ifs[0].prefix);
        } else {
            printk("net: address %s/%u on interface %u\n", net_ip_str(ifs[index].ip, ipb),
                   ifs[index].prefix, index);
        }
        v += comma ? len + 1 : len;
    }
    return rc;
}


int net_init(void)
{
    return addr_init(); /* lwIP and its thread come with the first link (net_attach) */
}
