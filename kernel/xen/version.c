/*
 * version.c — what Xen says about itself (interface manual: "Hypercalls":
 * HYPERVISOR_xen_version). XENVER_version returns major << 16 | minor;
 * XENVER_extraversion, _capabilities fill fixed-size strings, which
 * truncate (16 bytes of extraversion: Debian's ".5+72-g01140da4e8" loses its
 * tail); Xen 4.20 added XENVER_extraversion2, _capabilities2 (xen_varbuf_t:
 * a length in, the bytes out, no NUL), which older Xen answers with -ENOSYS,
 * so we ask those first and fall back (docs/porting-guide.md, "Xen releases").
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

/* Xen 4.20's struct xen_varbuf (public/version.h) with room for our longest
 * string; older headers, which the build host may have, do not declare it. */
#define VARBUF_MAX 1024
struct xen_varbuf_space {
    uint32_t len;          /* IN: size of buf */
    char buf[VARBUF_MAX];  /* OUT: the bytes, not NUL-terminated */
};
_Static_assert(sizeof(struct xen_varbuf_space) == 4 + VARBUF_MAX, "xen_varbuf layout");

int xen_version_subop2(int cmd)
{
    switch (cmd) {
    case XENVER_extraversion: return XENVER_extraversion2;
    case XENVER_capabilities: return XENVER_capabilities2;
    default: return -1;
    }
}

long xen_version_text_legacy(int cmd, char *out, size_t len)
{
    static union {
        xen_extraversion_t extra;
        xen_capabilities_info_t caps;
    } u;
    memset(&u, 0, sizeof(u));
    long rc = HYPERVISOR_xen_version(cmd, &u);
    if (rc < 0)
        return rc;
    u.caps[sizeof(u.caps) - 1] = '\0';
    if (cmd == XENVER_extraversion)
        u.extra[sizeof(u.extra) - 1] = '\0';
    strlcpy(out, u.caps, len);
    return (long)strlen(out);
}

long xen_version_text(int cmd, char *out, size_t len, bool *whole)
{
    static struct xen_varbuf_space vb;
    int cmd2 = xen_version_subop2(cmd);
    *whole = false;
    if (len == 0)
        return -XEN_EINVAL;
    vb.len = sizeof(vb.buf);
    long rc = cmd2 < 0 ? -XEN_ENOSYS : HYPERVISOR_xen_version(cmd2, &vb);
    if (rc == -XEN_ENOSYS)
        return xen_version_text_legacy(cmd, out, len);
    if (rc < 0)
        return rc;
    size_t n = (size_t)rc < sizeof(vb.buf) ? (size_t)rc : sizeof(vb.buf);
    n = n < len - 1 ? n : len - 1;
    memcpy(out, vb.buf, n);
    out[n] = '\0';
    *whole = true;
    return (long)n;
}

/* Copies Xen's strings into the caller's buffers, always NUL-terminated;
 * `how` says which subops answered ("extraversion2" or "extraversion"). */
static void xen_strings(char *extra, size_t extra_len, char *caps, size_t caps_len,
                        const char **how)
{
    bool whole = false, caps_whole = false;
    if (xen_version_text(XENVER_extraversion, extra, extra_len, &whole) < 0)
        strlcpy(extra, "?", extra_len);
    if (xen_version_text(XENVER_capabilities, caps, caps_len, &caps_whole) < 0)
        strlcpy(caps, "?", caps_len);
    *how = whole ? "XENVER_extraversion2" : "XENVER_extraversion, at most 15 bytes";
}

static int cmd_info(int argc, char **argv)
{
    const struct start_info *si = start_info;
    unsigned v = xen_version_number();
    char extra[128], caps[128];
    const char *how;
    struct xen_feature_info fi = {.submap_idx = 0};

    xen_strings(extra, sizeof(extra), caps, sizeof(caps), &how);
    long frc = HYPERVISOR_xen_version(XENVER_get_features, &fi);

    printk("Xenolith %s, running as %s\n", XENOLITH_VERSION, xen_is_dom0() ? "dom0" : "domU");
    printk("xen: version %u.%u%s (%s)\n", v >> XENVER_MAJOR_SHIFT, v & XENVER_MINOR_MASK, extra,
           how);
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
