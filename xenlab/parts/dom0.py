"""The dom0 image for the lab (xenlab.parts): Debian's 64-bit Linux + an initramfs.

The kernel is Debian 12's linux-image (CONFIG_XEN_DOM0=y, backends as
modules), unpacked with dpkg -x; it serves every flavour. The initramfs
(gzip'd cpio) holds the flavour's Debian userland (busybox, bash, the
tools the hotplug scripts call, glibc and every other library, all from
pinned .debs, none from the host), Xen's toolstack from the flavour's
xen-utils .debs, the stock /etc/xen/scripts, the kernel modules a Xen host
needs, the PV shim, and our /init + control agent (dom0_files/). Recommended dom0
command line: DOM0_CMDLINE. See docs/lab-parts.md.
"""

from __future__ import annotations

import hashlib
import shutil
import stat
from dataclasses import dataclass
from pathlib import Path

from xenlab.parts import apt
from xenlab.parts.cache import (
    fresh_tmp,
    part_dir,
    part_lock,
    publish,
    recipe_key,
    write_info,
)
from xenlab.parts.cpio import Entry, write_initramfs
from xenlab.parts.errors import PartsError
from xenlab.parts.flavours import Flavour, flavour
from xenlab.parts.modules import builtin_modules, index_modules, load_order
from xenlab.parts.pins import Pin
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.rootfs import (
    add_libraries,
    copy_into,
    copy_tree,
    link_busybox,
    make_skeleton,
    tree_file,
)
from xenlab.parts.vmlinux import extract_vmlinux
from xenlab.parts.xen import xen_version

KERNEL_PACKAGE = "linux-image-6.1.0-56-amd64"  # what linux-image-amd64 depends on
KERNEL_VERSION = "6.1.192-2"
# A newer 6.1 ABI (linux-image-6.1.0-NN-amd64) may stand in when this one is gone.
KERNEL_PIN = Pin(KERNEL_PACKAGE, KERNEL_VERSION, "6.1.", family=r"linux-image-6\.1\.0-\d+-amd64")
XEN_TOOLS = ["xl", "xenstored", "xenconsoled", "xenconsole", "xen-init-dom0",
             "libxl-save-helper"]
XENSTORE_TOOLS = ["xenstore", "xenstore-chmod", "xenstore-exists", "xenstore-list",
                  "xenstore-ls", "xenstore-read", "xenstore-rm", "xenstore-watch",
                  "xenstore-write"]

# From the flavour's userland packages (xenlab.parts.flavours): what the
# hotplug scripts need beyond busybox (bash at /bin/bash for their shebang,
# util-linux flock + losetup, coreutils stat, iproute2 ip; docs/lab-parts.md)
# and libgcc_s, which xl needs when a thread exits but no DT_NEEDED names. The
# path is where the image has it; the .debs may spell it without /usr or sbin.
USERLAND_FILES = ["usr/bin/busybox", "usr/bin/bash", "usr/bin/flock", "usr/sbin/losetup",
                  "usr/bin/stat", "usr/bin/ip", "usr/lib/x86_64-linux-gnu/libgcc_s.so.1"]
# busybox applets we do not link: real tools above win, and without brctl the
# vif scripts use `ip` (the path seen working, docs/lab-parts.md).
BUSYBOX_SKIP = {"brctl", "ip", "flock", "losetup", "stat", "bash"}

# Modules in the order a Xen host needs them; dependencies are added first.
DOM0_MODULES = [
    "xen-evtchn", "xen-privcmd", "xenfs", "xen-gntdev", "xen-gntalloc",
    "llc", "stp", "bridge", "loop", "xen-netback", "xen-blkback",
    "virtio_pci", "virtio_console",                  # the control port (xenlab.ctl)
    "9pnet_virtio", "9p",                            # the 9p share (mounted by the runtime)
    "virtio_net",                                    # optional user-mode network (tftp)
]

# What the runtime should pass to the dom0 kernel. Under TCG, rodata=off
# skips the kernel's W+X page-table walk (~10 s) and pci=nommconf the slow
# MMCONFIG probe (~4 s); this is a lab, not a server.
DOM0_CMDLINE = "console=hvc0 quiet rodata=off pci=nommconf"
FILES = Path(__file__).parent / "dom0_files"
# Small /etc files (formats without comments, so they are written from here).
ETC_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/sh\n",
    "etc/group": "root:x:0:\ntty:x:5:\ndisk:x:6:\n",
    "etc/hostname": "dom0\n",
}
CODE = ["dom0.py", "rootfs.py", "cpio.py", "modules.py", "vmlinux.py"]


@dataclass(frozen=True)
class Dom0Versions:
    """The Debian packages one dom0 image is made of: its kernel and Xen's toolstack."""

    flavour: Flavour
    kernel_package: str = KERNEL_PACKAGE
    kernel_version: str = KERNEL_VERSION
    xen_tools: str = ""  # the toolstack's version: the flavour's Xen (its stand-in if any)

    @property
    def tools(self) -> str:
        return self.xen_tools or self.flavour.xen_version

    @property
    def kernel_release(self) -> str:
        """`uname -r` of the kernel (its modules' folder): the package name's tail."""
        return self.kernel_package.removeprefix("linux-image-")


@dataclass(frozen=True)
class Dom0Image:
    """A bootable dom0: Linux kernel, initramfs, and the recipe hash (for snapshot names)."""

    kernel: Path
    initrd: Path
    key: str


def files_digest() -> str:
    """Hash of dom0_files/ and of the builder code: a change there rebuilds the image."""
    h = hashlib.sha256()
    paths = sorted(p for p in FILES.rglob("*") if p.is_file())
    paths += [Path(__file__).parent / name for name in CODE]
    for p in paths:
        h.update(p.name.encode() + b"\0" + p.read_bytes())
    return h.hexdigest()[:16]


def dom0_recipe(v: Dom0Versions) -> dict[str, object]:
    fl = v.flavour
    return {"part": "dom0", "kernel": [v.kernel_package, v.kernel_version],
            "xen_tools": [v.tools, fl.release, fl.tool_packages],
            "userland": dict(fl.userland), "modules": DOM0_MODULES, "files": files_digest()}


def dom0_image(cache: Path, v: Dom0Versions) -> Dom0Image:
    key = recipe_key(dom0_recipe(v))
    final = part_dir(cache, "dom0", f"{v.kernel_version}-xen{v.tools}", key)
    return Dom0Image(final / "vmlinux", final / "initrd.gz", key)


def dom0_versions(cache: Path, fl: Flavour, progress: Progress) -> Dom0Versions:
    """The pinned kernel if served, else its newest 6.1 stand-in; the toolstack of the
    flavour's Xen."""
    kernel_apt = apt.lab_apt(cache)
    kernel = kernel_apt.resolve(KERNEL_PIN, False, kernel_apt.log, progress)
    return Dom0Versions(fl, kernel.package, kernel.version, xen_version(cache, fl, progress))


def build_dom0(cache: Path, progress: Progress = stderr_progress,
               xen: str | None = None) -> Dom0Image:
    """Build (once) and return the dom0 kernel + initramfs of flavour `xen` (None: default)."""
    fl = flavour(xen)
    image = dom0_image(cache, Dom0Versions(fl))
    if image.initrd.exists():
        return image
    versions = dom0_versions(cache, fl, progress)
    recipe = dom0_recipe(versions)
    image = dom0_image(cache, versions)
    final = image.initrd.parent
    if image.initrd.exists():
        return image
    with part_lock(cache, "dom0"):
        if image.initrd.exists():
            return image
        tmp = fresh_tmp(final)
        log = tmp / "build.log"
        progress(f"dom0: building kernel {versions.kernel_version} + initramfs (log {log})")
        work = tmp / "work"
        kernel_tree, tree = _unpack_debs(cache, versions, work, log, progress)
        root = work / "root"
        make_skeleton(root)
        _add_modules(root, kernel_tree, versions, log, progress)
        _add_programs(root, tree, versions.flavour, log, progress)
        progress("dom0: unpacking the kernel's ELF from vmlinuz (spares Xen ~5 s per boot)")
        extract_vmlinux(kernel_tree / "boot" / f"vmlinuz-{versions.kernel_release}",
                        tmp / "vmlinux")
        progress("dom0: packing initramfs (cpio newc, gzip)")
        (tmp / "manifest.txt").write_text(_manifest(root))
        write_initramfs(root, [Entry("dev/console", stat.S_IFCHR | 0o600, rdev=(5, 1))],
                        tmp / "initrd.gz")
        shutil.rmtree(work)
        write_info(tmp, recipe)
        publish(tmp, final)
        progress(f"dom0: done: {image.kernel} {image.initrd} "
                 f"({image.initrd.stat().st_size // 1024} KiB)")
        return image


def unpack_kernel(cache: Path, versions: Dom0Versions, dest: Path, log: Path,
                  progress: Progress) -> Path:
    """The dom0 kernel's package (downloaded once into the cache) unpacked into `dest`;
    its modules' directory there."""
    deb = apt.lab_apt(cache).download_deb(versions.kernel_package, versions.kernel_version,
                                          cache / "debs", log, progress)
    apt.extract_deb(deb, dest, log)
    return dest / "lib" / "modules" / versions.kernel_release


def _unpack_debs(cache: Path, versions: Dom0Versions, work: Path, log: Path,
                 progress: Progress) -> tuple[Path, Path]:
    """Unpack the kernel, and the flavour's toolstack + userland into one tree (the image's
    files and libraries are taken from there)."""
    fl = versions.flavour
    fl_apt = apt.lab_apt(cache, fl.release)
    pkgs = [(p, versions.tools) for p in fl.tool_packages] + list(fl.userland.items())
    fl_debs = [fl_apt.download_deb(p, v, cache / "debs", log, progress) for p, v in pkgs]
    progress(f"dom0: unpacking the kernel, Xen {fl.name}'s tools and Debian {fl.release}'s "
             f"userland ({len(fl_debs)} packages, dpkg -x)")
    kernel_tree, tree = work / "kernel", work / "debs"
    unpack_kernel(cache, versions, kernel_tree, log, progress)
    for deb in fl_debs:
        apt.extract_deb(deb, tree, log)
    return kernel_tree, tree


def _add_modules(root: Path, kernel_tree: Path, versions: Dom0Versions, log: Path,
                 progress: Progress) -> None:
    release = versions.kernel_release
    moddir = kernel_tree / "lib" / "modules" / release
    if not moddir.is_dir():
        raise PartsError(f"{versions.kernel_package} has no {moddir.relative_to(kernel_tree)}; "
                         f"Debian changed its kernel packaging. Log: {log}")
    order = load_order(DOM0_MODULES, index_modules(moddir), builtin_modules(moddir))
    rels = [ko.relative_to(moddir).as_posix() for ko in order]
    for ko, rel in zip(order, rels, strict=True):
        copy_into(root, ko, f"lib/modules/{release}/{rel}")
    (root / "etc" / "xenlab").mkdir(parents=True, exist_ok=True)
    (root / "etc" / "xenlab" / "modules").write_text("\n".join(rels) + "\n")
    progress(f"dom0: {len(rels)} modules: {' '.join(Path(r).stem for r in rels)}")


def _tree_file(tree: Path, rel: str, log: Path) -> Path:
    """`rel` in the unpacked packages, also spelled with bin for sbin and the other way."""
    other = rel.replace("/sbin/", "/bin/") if "/sbin/" in rel else rel.replace("/bin/", "/sbin/")
    found = tree_file(tree, rel) or tree_file(tree, other)
    if found is None:
        raise PartsError(f"no unpacked package has /{rel}; Debian moved it, or its package is "
                         f"missing from the flavour's userland (xenlab/parts/flavours.py). "
                         f"Log: {log}")
    return found


def _add_programs(root: Path, tree: Path, fl: Flavour, log: Path, progress: Progress) -> None:
    for name in XEN_TOOLS:
        copy_into(root, _tree_file(tree, f"{fl.tools_dir}/{name}", log), f"{fl.tools_dir}/{name}")
        (root / "usr/sbin" / name).symlink_to(f"/{fl.tools_dir}/{name}")
    for name in XENSTORE_TOOLS:
        copy_into(root, _tree_file(tree, f"usr/bin/{name}", log), f"usr/bin/{name}")
    copy_tree(root / "etc" / "xen", tree / "etc" / "xen")
    # The PV shim, for `type = "pvh"` + `pvshim = 1` guests (libxl's default
    # pvshim_path is this file).
    copy_into(root, _tree_file(tree, fl.shim_path, log), fl.shim_path)
    for rel in USERLAND_FILES:
        copy_into(root, _tree_file(tree, rel, log), rel)
    linked = link_busybox(root, "usr/bin/busybox", BUSYBOX_SKIP)
    copy_tree(root, FILES)
    for rel, text in ETC_FILES.items():
        (root / rel).write_text(text)
    for script in ("init", "usr/lib/xenlab/xenlab-agent"):
        (root / script).chmod(0o755)
    libs = add_libraries(root, tree, f"Log: {log}")
    progress(f"dom0: {len(XEN_TOOLS) + len(XENSTORE_TOOLS)} Xen tools, {linked} busybox "
             f"applets, {len(libs)} libraries")


def _manifest(root: Path) -> str:
    lines = []
    for p in sorted(root.rglob("*")):
        rel = p.relative_to(root).as_posix()
        if p.is_symlink():
            lines.append(f"{rel} -> {p.readlink()}")
        elif p.is_file():
            lines.append(f"{rel} {p.stat().st_size}")
    return "\n".join(lines) + "\n"
