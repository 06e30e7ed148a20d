"""The Linux peer: Debian's 6.1 kernel (the dom0's own) as a 64-bit PV domU, and its initramfs.

The initramfs is the lab's own, small: busybox (the lab's pinned package), the netfront and blkfront
modules from the same kernel package, netload (the UDP echo server on port 7,
a sink that drops what comes to UDP port 9, and `serve`: TCP discard 9, chargen
19 and HTTP 80, the TCP services Xenolith has), diskload (O_DIRECT disk load),
and an init that brings up eth0 at `benchip=` from the kernel command line and
prints READY with the kernel's uptime (MARKER: its own boot time, as far as
its clock counts). It is a cached part (`bench-linux-initrd-*` in the lab cache).
"""

from __future__ import annotations

import hashlib
import stat
from pathlib import Path

from xenlab.parts import apt
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.cpio import Entry, write_initramfs
from xenlab.parts.dom0 import Dom0Versions, dom0_versions, unpack_kernel
from xenlab.parts.errors import PartsError
from xenlab.parts.flavours import flavour
from xenlab.parts.modules import builtin_modules, index_modules, load_order
from xenlab.parts.progress import Progress
from xenlab.parts.rootfs import copy_into, link_busybox, make_skeleton, tree_file

READY = "XENLAB-BENCH-LINUX-READY"
MARKER = rf"{READY} uptime ([0-9.]+) s"  # group 1: /proc/uptime when init got there
MODULES = ["xen-netfront", "xen-blkfront"]
INIT = f"""#!/bin/sh
# The Linux bench peer's init: devices, eth0 at benchip=, its servers, READY.
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for m in $(cat /etc/bench/modules); do insmod /lib/modules/$m; done
ip link set lo up
ip=$(sed -n 's/.*benchip=\\([0-9.]*\\).*/\\1/p' /proc/cmdline)
if [ -n "$ip" ] && ip link show eth0 >/dev/null 2>&1; then
  ip addr add "$ip/24" dev eth0 && ip link set eth0 up && (/usr/bin/netload echo 7 &) &&
    (/usr/bin/netload sink 9 &) && (/usr/bin/netload serve &)
fi
echo "{READY} uptime $(cut -d' ' -f1 /proc/uptime) s"
exec /bin/sh
"""


BUSYBOX = "busybox-static"  # from the lab's pinned userland, as in the dom0 image


def initrd_recipe(versions: Dom0Versions, tools: list[Path]) -> dict[str, object]:
    return {"part": "bench-linux-initrd", "kernel": [versions.kernel_package,
                                                     versions.kernel_version],
            "busybox": [versions.flavour.release, versions.flavour.userland[BUSYBOX]],
            "modules": MODULES, "init": hashlib.sha256(INIT.encode()).hexdigest()[:16],
            **{t.name: hashlib.sha256(t.read_bytes()).hexdigest()[:16] for t in tools}}


def build_linux_initrd(cache: Path, tools: list[Path], progress: Progress) -> Path:
    """Build (once per recipe) and return the Linux peer's initramfs; `tools` (netload,
    diskload: static programs) go to /usr/bin under their own names."""
    versions = dom0_versions(cache, flavour(), progress)
    recipe = initrd_recipe(versions, tools)
    final = part_dir(cache, "bench-linux-initrd", versions.kernel_version, recipe_key(recipe))
    out = final / "initrd.gz"

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        progress(f"bench: building the Linux peer's initramfs (log {log})")
        root = tmp / "work" / "root"
        moddir = unpack_kernel(cache, versions, tmp / "work" / "kernel", log, progress)
        make_skeleton(root)
        rels = []
        for ko in load_order(MODULES, index_modules(moddir), builtin_modules(moddir)):
            rel = ko.relative_to(moddir).as_posix()
            copy_into(root, ko, f"lib/modules/{rel}")
            rels.append(rel)
        (root / "etc" / "bench").mkdir(parents=True)
        (root / "etc" / "bench" / "modules").write_text("\n".join(rels) + "\n")
        fl = versions.flavour
        bb = apt.lab_apt(cache, fl.release).download_deb(BUSYBOX, fl.userland[BUSYBOX],
                                                          cache / "debs", log, progress)
        apt.extract_deb(bb, tmp / "work" / "busybox", log)
        busybox = tree_file(tmp / "work" / "busybox", "usr/bin/busybox")
        if busybox is None:
            raise PartsError(f"{bb.name} has no busybox binary; log: {log}")
        copy_into(root, busybox, "usr/bin/busybox")
        link_busybox(root, "usr/bin/busybox", set())
        for tool in tools:
            copy_into(root, tool, f"usr/bin/{tool.name}", 0o755)
        (root / "init").write_text(INIT)
        (root / "init").chmod(0o755)
        write_initramfs(root, [Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))],
                        tmp / out.name)

    build_once(cache, "bench-linux-initrd", final, out, build, recipe)
    return out
