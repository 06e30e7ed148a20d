"""The lab's flavours (xenlab.parts): which Xen, built how, from which Debian release.

A flavour is one Xen release from one Debian release, in one of two builds:
- stock (`4.17`, `4.20`): Debian's own binary hypervisor, as an admin installs
  it with `apt install xen-system-amd64`. It has no 32-bit PV (Debian builds it
  with `# CONFIG_PV32 is not set`), so a 32-bit PV guest runs through the PV
  shim (`xen-shim` from the same release's xen-utils): the flavour's guests
  are shim guests.
- rebuilt (`4.17-pv32`, `4.20-pv32`): Debian's `xen` source package rebuilt
  with CONFIG_PV32=y. Classic 32-bit PV guests, and Xenolith as dom0 (which no
  shim can serve); shim guests work on it too.
Each has a dom0 whose toolstack (xl, xenstored, xenconsoled, their libraries,
the shim) and whose whole userland (busybox, bash, glibc, ...) come from that
same Debian release's packages, so the dom0 image never depends on the host's
own libraries. Every flavour shares the dom0 kernel (Debian 12's Linux 6.1: see
docs/lab-parts.md) and the GRUB PV guest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field

from xenlab.parts.errors import PartsError
from xenlab.parts.pins import Pin

# The userland each dom0 image is made of, pinned per Debian release: what the
# init, the agent and the stock hotplug scripts run (busybox; bash at /bin/bash
# for the scripts' shebang; util-linux flock + losetup; coreutils stat;
# iproute2 ip), and every library those and Xen's tools need. A library
# missing here fails the build and names itself.
BOOKWORM_USERLAND = {
    "busybox-static": "1:1.35.0-4+deb12u1+b1", "bash": "5.2.15-2+b13",
    "util-linux": "2.38.1-5+deb12u3", "mount": "2.38.1-5+deb12u3", "coreutils": "9.1-1",
    "iproute2": "6.1.0-3", "libc6": "2.36-9+deb12u14", "libgcc-s1": "12.2.0-14+deb12u1",
    "libtinfo6": "6.4-4", "zlib1g": "1:1.2.13.dfsg-1", "liblzma5": "5.4.1-1+deb12u2",
    "libzstd1": "1.5.4+dfsg2-5+deb12u1", "libuuid1": "2.38.1-5+deb12u3",
    "libsmartcols1": "2.38.1-5+deb12u3", "libselinux1": "3.4-1+b6",
    "libpcre2-8-0": "10.42-1+deb12u2", "libmnl0": "1.0.4-3", "libelf1": "0.188-2.1",
    "libcap2": "1:2.66-4+deb12u3+b1", "libbpf1": "1:1.1.2-0+deb12u1", "libbsd0": "0.11.7-2",
    "libmd0": "1.0.4-2", "libyajl2": "2.1.0-3+deb12u2",
}
TRIXIE_USERLAND = {
    "busybox-static": "1:1.37.0-6+b9", "bash": "5.2.37-2+b10", "util-linux": "2.41.5-0+deb13u1",
    "mount": "2.41.5-0+deb13u1", "coreutils": "9.7-3", "iproute2": "6.15.0-1",
    "libc6": "2.41-12+deb13u5", "libgcc-s1": "14.2.0-19", "libtinfo6": "6.5+20250216-2",
    "zlib1g": "1:1.3.dfsg+really1.3.1-1+deb13u1", "liblzma5": "5.8.1-1+deb13u2",
    "libzstd1": "1.5.7+dfsg-1+deb13u1", "libuuid1": "2.41.5-0+deb13u1",
    "libsmartcols1": "2.41.5-0+deb13u1", "libselinux1": "3.8.1-1",
    "libpcre2-8-0": "10.46-1~deb13u3", "libmnl0": "1.0.5-3", "libelf1t64": "0.192-4",
    "libcap2": "1:2.75-10+deb13u1+b3", "libbpf1": "1:1.5.0-3", "libyajl2": "2.1.0-5+b2",
}


PV32_SUFFIX = "-pv32"


@dataclass(frozen=True)
class Flavour:
    """One Xen as the lab boots it (see the module's docstring)."""

    name: str                   # "4.17-pv32", "4.20": what --xen / XEN= / LabConfig(xen=) take
    series: str                 # the Xen release: "4.17"
    release: str                # the Debian release of its Xen packages
    xen_version: str            # pinned version of Debian's `xen` (source and binaries)
    userland: Mapping[str, str] = field(default_factory=dict)  # package -> pinned version
    pv32: bool = False          # rebuilt with CONFIG_PV32=y; else Debian's binary (stock)

    @property
    def stock(self) -> bool:
        return not self.pv32

    @property
    def guest_mode(self) -> str:
        """How a 32-bit PV kernel runs here by default: "pv", or "shim" on a stock Xen."""
        return "pv" if self.pv32 else "shim"

    @property
    def xen_pin(self) -> Pin:
        """The `xen` source package (rebuilt) or the hypervisor's binary package (stock)."""
        if self.pv32:
            return Pin("xen", self.xen_version, f"{self.series}.")
        return Pin(self.hypervisor_package, self.xen_version, f"{self.series}.")

    @property
    def hypervisor_package(self) -> str:
        """Debian's binary hypervisor package: the stock image, and the rebuild's config."""
        return f"xen-hypervisor-{self.series}-amd64"

    @property
    def config_path(self) -> str:
        return f"boot/xen-{self.series}-amd64.config"

    @property
    def image_path(self) -> str:
        """The stock hypervisor in its package (gzip'd; QEMU needs it unpacked)."""
        return f"boot/xen-{self.series}-amd64.gz"

    @property
    def tools_dir(self) -> str:
        """Where the toolstack's binaries are (their compiled-in path)."""
        return f"usr/lib/xen-{self.series}/bin"

    @property
    def shim_path(self) -> str:
        """The PV shim in xen-utils: a Xen built for PV-in-PVH with 32-bit PV on."""
        return f"usr/lib/xen-{self.series}/boot/xen-shim"

    @property
    def tool_packages(self) -> list[str]:
        """The toolstack's packages, all of the `xen` source package's version."""
        return [f"xen-utils-{self.series}", "xen-utils-common", "xenstore-utils",
                f"libxenmisc{self.series}", "libxencall1", "libxenevtchn1",
                "libxenforeignmemory1", "libxengnttab1", "libxenstore4", "libxentoollog1",
                "libxendevicemodel1", "libxenhypfs1", "libxentoolcore1"]


def _flavours() -> dict[str, Flavour]:
    releases = [("4.17", "bookworm", "4.17.5+72-g01140da4e8-1", BOOKWORM_USERLAND),
                ("4.20", "trixie", "4.20.4+63-g7abfd2bce2-0+deb13u1", TRIXIE_USERLAND)]
    out = {}
    for series, release, version, userland in releases:
        for pv32 in (True, False):
            name = series + (PV32_SUFFIX if pv32 else "")
            out[name] = Flavour(name, series, release, version, userland, pv32)
    return out


FLAVOURS = _flavours()
# The reference: Debian 12's Xen rebuilt with 32-bit PV, for classic PV guests and
# Xenolith as dom0. Its source is served, and Debian 13 hosts fetch it too (the
# lab's private apt reaches every release), so it is the default everywhere.
DEFAULT_FLAVOUR = "4.17-pv32"


def default_flavour() -> str:
    """The flavour the lab uses when none is named."""
    return DEFAULT_FLAVOUR


def flavour(name: str | None = None) -> Flavour:
    """The flavour called `name` (the host release's for None); PartsError names the choices."""
    key = name or default_flavour()
    if key not in FLAVOURS:
        raise PartsError(f"no lab flavour for Xen {key!r}; choose one of "
                         f"{', '.join(sorted(FLAVOURS))}")
    return FLAVOURS[key]


def nearest_flavour(version: str) -> Flavour:
    """The rebuilt flavour for a hypervisor of Xen `version` ("4.19.1"): the newest release
    not newer than it (its toolstack talks to older and equal hypervisors), else the oldest."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:2])
    rebuilt = [f for f in FLAVOURS.values() if f.pv32]
    fitting = [f for f in rebuilt if key(f.series) <= key(version)]
    if fitting:
        return max(fitting, key=lambda f: key(f.series))
    return min(rebuilt, key=lambda f: key(f.series))
