/*
 * netfront_cmd.c — the `net` shell command: each vif (netfront's state,
 * MAC, rings, event channel, its interface's IPv4 address, its counters
 * and drops), then the stack's (net_show: lwIP's counters per protocol,
 * memory, TCP connections). `net rescan` connects vifs not connected yet
 * (after a detach, or `xl network-attach`), then shows the same.
 */
#include "kernel.h"
#include "net.h"
#include "netfront.h"
#include "shell.h"

static void show_vif(unsigned index)
{
    struct netfront_info in;
    struct netfront_stats ns;
    char macb[18], ipb[16];
    uint32_t ip;
    unsigned prefix;
    netfront_get_info(index, &in);
    netfront_get_stats(index, &ns);
    char which[8] = ""; /* vif 0 keeps the short form "net: vif device/vif/0" */
    if (index)
        snprintf(which, sizeof(which), "%u", index);
    if (in.state == NETFRONT_CONNECTED)
        printk("net: vif%s %s: %s, backend %s (dom %u)\n", which, in.node, in.state_name,
               in.backend, (unsigned)in.backend_id);
    else
        printk("net: vif%s %s: %s%s%s\n", which, in.node[0] ? in.node : "-", in.state_name,
               in.why[0] ? ": " : "", in.why);
    if (net_address(index, &ip, &prefix))
        printk("  mac %s  ip %s/%u\n", net_mac_str(in.mac, macb), net_ip_str(ip, ipb), prefix);
    else
        printk("  mac %s  ip none (boot with ip=A.B.C.D/N)\n", net_mac_str(in.mac, macb));
    if (in.state == NETFRONT_CONNECTED)
        printk("  rings: tx ref %d (%u slots, %u in flight), rx ref %d (%u slots, %u posted), "
               "event channel %u (%lu events)\n",
               in.tx_ring_ref, in.tx_ring_size, in.tx_in_flight, in.rx_ring_ref, in.rx_ring_size,
               in.rx_posted, (unsigned)in.evtchn, ns.events);
    printk("  link: rx %lu packets %lu bytes, tx %lu packets %lu bytes (%lu completed)\n",
           ns.rx_packets, ns.rx_bytes, ns.tx_packets, ns.tx_bytes, ns.tx_completed);
    for (unsigned d = 0; d < NF_DROP_NR; d++)
        if (ns.drops[d])
            printk("    netfront %-18s %lu\n", netfront_drop_name(d), ns.drops[d]);
}

static int cmd_net(int argc, char **argv)
{
    struct netfront_info in;
    int rc = 0;
    if (argc == 2 && !strcmp(argv[1], "rescan")) {
        rc = netfront_rescan();
        if (rc == -XEN_EBUSY)
            printk("net: rescan: a detach is still running; try again\n");
        else if (rc)
            printk("net: rescan: %s\n", xen_errname(rc));
    } else if (argc != 1) {
        printk("usage: net | net rescan\n");
        return 1;
    }
    unsigned long nf_total = 0;
    for (unsigned i = 0; i < NETFRONT_MAX; i++) {
        struct netfront_stats ns;
        netfront_get_stats(i, &ns);
        for (unsigned d = 0; d < NF_DROP_NR; d++)
            nf_total += ns.drops[d];
        if (netfront_get_info(i, &in) || i == 0)
            show_vif(i);
    }
    printk("  drops: %lu netfront\n", nf_total);
    net_show();
    return rc ? 1 : 0;
}
SHELL_COMMAND(net, "net", "net [rescan]",
              "network: each vif's state, MAC, IPv4 address, counters; the stack's counters, "
              "drops by reason; rescan: connect new vifs", cmd_net);
