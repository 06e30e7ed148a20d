"""The lab's flavours (xenlab.parts): which Xen release, from which Debian release.

A flavour is one Xen release rebuilt with CONFIG_PV32=y from one Debian
release's `xen` source package, with a dom0 whose toolstack (xl, xenstored,
xenconsoled and their libraries) and whose whole userland (busybox, bash,
glibc, ...) come from that same Debian release's packages, so the dom0 image
never depends on the host's own libraries. Both flavours share the dom0
kernel (Debian 12's Linux 6.1: see docs/lab-parts.md) and the GRUB PV guest.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from xenlab.parts.apt_sources import host_release
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


@dataclass(frozen=True)
class Flavour:
    """One Xen release as the lab builds it (see the module's docstring)."""

    name: str                   # "4.17": what --xen / XEN= / LabConfig(xen=) take
    release: str                # the Debian release of its Xen packages
    xen_version: str            # pinned version of Debian's `xen` source package
    userland: Mapping[str, str] = field(default_factory=dict)  # package -> pinned version

    @property
    def xen_pin(self) -> Pin:
        return Pin("xen", self.xen_version, f"{self.name}.")

    @property
    def config_package(self) -> str:
        """The binary hypervisor package whose config the rebuild starts from."""
        return f"xen-hypervisor-{self.name}-amd64"

    @property
    def config_path(self) -> str:
        return f"boot/xen-{self.name}-amd64.config"

    @property
    def tools_dir(self) -> str:
        """Where the toolstack's binaries are (their compiled-in path)."""
        return f"usr/lib/xen-{self.name}/bin"

    @property
    def tool_packages(self) -> list[str]:
        """The toolstack's packages, all of the `xen` source package's version."""
        return [f"xen-utils-{self.name}", "xen-utils-common", "xenstore-utils",
                f"libxenmisc{self.name}", "libxencall1", "libxenevtchn1",
                "libxenforeignmemory1", "libxengnttab1", "libxenstore4", "libxentoollog1",
                "libxendevicemodel1", "libxenhypfs1", "libxentoolcore1"]


FLAVOURS = {
    "4.17": Flavour("4.17", "bookworm", "4.17.5+72-g01140da4e8-1", BOOKWORM_USERLAND),
    "4.20": Flavour("4.20", "trixie", "4.20.4+63-g7abfd2bce2-0+deb13u1", TRIXIE_USERLAND),
}
DEFAULT_FLAVOUR = "4.17"  # what Debian 12 ships; the default on a host of another release


def default_flavour(os_release: Path = Path("/etc/os-release")) -> str:
    """The flavour of the host's own Debian release (4.20 on Debian 13), else 4.17."""
    mine = host_release(os_release)
    return next((f.name for f in FLAVOURS.values() if f.release == mine), DEFAULT_FLAVOUR)


def flavour(name: str | None = None) -> Flavour:
    """The flavour called `name` (the host release's for None); PartsError names the choices."""
    key = name or default_flavour()
    if key not in FLAVOURS:
        raise PartsError(f"no lab flavour for Xen {key!r}; choose one of "
                         f"{', '.join(sorted(FLAVOURS))}")
    return FLAVOURS[key]


def nearest_flavour(version: str) -> Flavour:
    """The flavour for a hypervisor of Xen `version` ("4.19.1"): the newest release not newer
    than it (its toolstack talks to older and equal hypervisors), else the oldest one."""
    def key(v: str) -> tuple[int, ...]:
        return tuple(int(x) for x in re.findall(r"\d+", v)[:2])
    fitting = [f for f in FLAVOURS.values() if key(f.name) <= key(version)]
    if fitting:
        return max(fitting, key=lambda f: key(f.name))
    return min(FLAVOURS.values(), key=lambda f: key(f.name))
