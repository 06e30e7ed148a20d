/*
 * version_selftest.c — self-test of version.c (HYPERVISOR_xen_version) as it
 * differs between Xen releases (docs/porting-guide.md, "Xen releases"):
 * from Xen 4.20 the non-truncating XENVER_extraversion2 / _capabilities2
 * answer a size request (NULL) and a fill with the same length, and the
 * legacy subop's string is a prefix of theirs (the whole string when it
 * fits); before 4.20 all four XENVER_*2 subops are -ENOSYS and the legacy
 * ones are what there is. From Xen 4.18 submap 0 of XENVER_get_features
 * also has XENFEAT_runstate_phys_area and XENFEAT_vcpu_time_phys_area.
 */
#include "kernel.h"
#include "selftest.h"

#define XEN_4_18 0x40012u
#define XEN_4_20 0x40014u

static const int subops2[] = {XENVER_extraversion2, XENVER_capabilities2, XENVER_changeset2,
                              XENVER_commandline2};

SELFTEST(version)
{
    unsigned v = xen_version_number();
    ST_EXPECT(r, v >= 0x40011u, "XENVER_version %#x: older than Xen 4.17", v);
    bool newer = v >= XEN_4_20;

    static char whole[2][1024], legacy[1024];
    const int cmds[] = {XENVER_extraversion, XENVER_capabilities};
    unsigned whole_len[2] = {0, 0};
    for (unsigned i = 0; i < 2; i++) {
        bool got_whole;
        long n = xen_version_text(cmds[i], whole[i], sizeof(whole[i]), &got_whole);
        long m = xen_version_text_legacy(cmds[i], legacy, sizeof(legacy));
        ST_EXPECT(r, n >= 0 && m >= 0, "subop %d: %s / legacy %s", cmds[i], xen_errname(n),
                  xen_errname(m));
        ST_EXPECT(r, got_whole == newer, "subop %d answered %s on Xen %#x", cmds[i],
                  got_whole ? "whole" : "legacy only", v);
        ST_EXPECT(r, strncmp(whole[i], legacy, strlen(legacy)) == 0,
                  "legacy '%s' is not a prefix of '%s'", legacy, whole[i]);
        if (newer) {
            long size = HYPERVISOR_xen_version(xen_version_subop2(cmds[i]), NULL);
            ST_EXPECT(r, size == n, "size request %ld, fill %ld", size, n);
        }
        whole_len[i] = (unsigned)n;
    }
    for (unsigned i = 0; !newer && i < sizeof(subops2) / sizeof(subops2[0]); i++) {
        long rc = HYPERVISOR_xen_version(subops2[i], NULL);
        ST_EXPECT(r, rc == -XEN_ENOSYS, "XENVER subop %d gave %s on Xen %#x, not -ENOSYS",
                  subops2[i], xen_errname(rc), v);
    }

    struct xen_feature_info fi = {.submap_idx = 0};
    long frc = HYPERVISOR_xen_version(XENVER_get_features, &fi);
    ST_EXPECT(r, frc == 0, "get_features: %s", xen_errname(frc));
    unsigned phys_area = (1u << XENFEAT_runstate_phys_area) | (1u << XENFEAT_vcpu_time_phys_area);
    ST_EXPECT(r, ((fi.submap & phys_area) == phys_area) == (v >= XEN_4_18),
              "features %#x on Xen %#x: runstate/vcpu_time phys_area bits %s", fi.submap, v,
              (fi.submap & phys_area) ? "set" : "clear");
    ST_PASS(r, "Xen %u.%u: extraversion '%s' (%u bytes), capabilities %u bytes, via %s; "
            "features %#x", v >> 16, v & 0xffffu, whole[0], whole_len[0], whole_len[1],
            newer ? "XENVER_*2" : "legacy subops (XENVER_*2 -ENOSYS)", fi.submap);
}
