/*
 * addr.c — our IPv4 address (RFC 791 addresses, RFC 4632 prefix notation)
 * from the command line `ip=10.0.0.2/24`, and the text forms of addresses.
 * Without `ip=` the stack has no address: it answers nothing (every IPv4
 * datagram and ARP request is dropped as "no-address") and says so at boot.
 */
#include "kernel.h"
#include "net_priv.h"

CMDLINE_PARAM(ip, "ip", "IPv4 address/prefix of the first vif, e.g. ip=10.0.0.2/24");

#define IPV4_MAX_PREFIX 32

static uint32_t our_ip;
static unsigned our_prefix;
static bool have_ip;

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

int net_set_address(const char *text)
{
    char buf[20];
    if (strlcpy(buf, text, sizeof(buf)) >= sizeof(buf))
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
    our_ip = ip;
    our_prefix = (unsigned)prefix;
    have_ip = true;
    return 0;
}

bool net_address(uint32_t *ip, unsigned *prefix)
{
    if (ip)
        *ip = our_ip;
    if (prefix)
        *prefix = our_prefix;
    return have_ip;
}

static uint32_t netmask(void)
{
    return our_prefix >= IPV4_MAX_PREFIX ? ~0u : ~(~0u >> our_prefix);
}

bool net_is_local(uint32_t ip, bool broadcast_ok)
{
    if (!have_ip)
        return false;
    if (ip == our_ip)
        return true;
    if (!broadcast_ok)
        return false;
    return ip == ~0u || (our_prefix < IPV4_MAX_PREFIX - 1 && ip == (our_ip | ~netmask()));
}

bool net_on_link(uint32_t ip)
{
    return have_ip && ((ip ^ our_ip) & netmask()) == 0;
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

int net_addr_init(void)
{
    const char *v = cmdline_get("ip");
    char ipb[16];
    if (!v) {
        printk("net: no IPv4 address (add ip=A.B.C.D/N to the command line)\n");
        return 0;
    }
    if (net_set_address(v)) {
        printk("net: ip='%s' is not an address/prefix like 10.0.0.2/24; no address\n", v);
        return -XEN_EINVAL;
    }
    printk("net: address %s/%u\n", net_ip_str(our_ip, ipb), our_prefix);
    return 0;
}
