/*
 * version.c — what Xen says about itself (interface manual: "Hypercalls":
 * HYPERVISOR_xen_version). XENVER_version returns major << 16 | minor;
 * XENVER_extraversion, _capabilities fill fixed-size strings;
 * XENVER_get_features fills one 32-bit submap of XENFEAT_* bits.
 * Also the `info` shell command: start_info, Xen, mode, memory, uptime.
 */
#include "kernel.h"
#include "mm.h"
#include "shell.h"
#include "time.h"

#define XENVER_MAJOR_SHIFT 16
#define XENVER_MINOR_MASK 0xffffu

unsigned xen_version_number(void)
{
    long v = HYPERVISOR_xen_version(XENVER_version, NULL);
    return v < 0 ? 0 : (unsigned)v;
}

/* Copies Xen's strings into the caller's buffers, always NUL-terminated. */
static void xen_strings(char *extra, size_t extra_len, char *caps, size_t caps_len)
{
    static xen_extraversion_t xv;
    static xen_capabilities_info_t xc;
    memset(xv, 0, sizeof(xv));
    memset(xc, 0, sizeof(xc));
    if (HYPERVISOR_xen_version(XENVER_extraversion, xv) < 0)
        strlcpy(xv, "?", sizeof(xv));
    if (HYPERVISOR_xen_version(XENVER_capabilities, xc) < 0)
        strlcpy(xc, "?", sizeof(xc));
    xv[sizeof(xv) - 1] = '\0';
    xc[sizeof(xc) - 1] = '\0';
    strlcpy(extra, xv, extra_len);
    strlcpy(caps, xc, caps_len);
}

static int cmd_info(int argc, char **argv)
{
    const struct start_info *si = start_info;
    unsigned v = xen_version_number();
    char extra[sizeof(xen_extraversion_t)], caps[128];
    struct xen_feature_info fi = {.submap_idx = 0};

    xen_strings(extra, sizeof(extra), caps, sizeof(caps));
    long frc = HYPERVISOR_xen_version(XENVER_get_features, &fi);

    printk("Xenolith %s, running as %s\n", XENOLITH_VERSION, xen_is_dom0() ? "dom0" : "domU");
    printk("xen: version %u.%u%s\n", v >> XENVER_MAJOR_SHIFT, v & XENVER_MINOR_MASK, extra);
    printk("xen: capabilities %s\n", caps);
    if (frc == 0)
        printk("xen: features submap 0 = 0x%08x\n", fi.submap);
    else
        printk("xen: get_features failed: %s\n", xen_errname(frc));
    printk("start_info: magic %.32s flags 0x%x\n", si->magic, (unsigned)si->flags);
    printk("start_info: nr_pages %lu (%lu MiB) shared_info ma 0x%lx\n", (unsigned long)si->nr_pages,
           (unsigned long)si->nr_pages >> (20 - PAGE_SHIFT), (unsigned long)si->shared_info);
    printk("start_info: pt_base 0x%lx nr_pt_frames %lu mfn_list 0x%lx\n",
           (unsigned long)si->pt_base, (unsigned long)si->nr_pt_frames,
           (unsigned long)si->mfn_list);
    printk("start_info: store mfn 0x%lx evtchn %u\n", (unsigned long)si->store_mfn,
           (unsigned)si->store_evtchn);
    if (xen_is_dom0())
        printk("start_info: console (dom0) info_off %u info_size %u\n",
               (unsigned)si->console.dom0.info_off, (unsigned)si->console.dom0.info_size);
    else
        printk("start_info: console mfn 0x%lx evtchn %u\n",
               (unsigned long)si->console.domU.mfn, (unsigned)si->console.domU.evtchn);
    printk("image: 0x%lx-0x%lx (%lu KiB)\n", (unsigned long)_stext, (unsigned long)_end,
           ((unsigned long)_end - (unsigned long)_stext) >> 10);
    printk("memory: %lu of %lu pages free\n", page_free_count(), (unsigned long)si->nr_pages);
    uint64_t up_ms = (monotonic_ns() - kernel_banner_ns) / NSEC_PER_MSEC;
    printk("uptime: %lu.%03lu s since the banner\n", (unsigned long)(up_ms / 1000),
           (unsigned long)(up_ms % 1000));
    printk("cmdline: '%s'\n", kernel_cmdline);
    return 0;
}
SHELL_COMMAND(info, "info", "info", "start_info, Xen version and features, memory", cmd_info);
