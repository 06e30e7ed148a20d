"""The limit: what the host reaches with no guest on the way, beside every network and disk
figure, so that each peer shows as a fraction of it.

Network: dom0 against a network namespace of its own on the same bridge
(xenbr0), through a veth pair: the namespace runs the Linux peer's servers
(netload echo 7, sink 9, serve: discard 9, chargen 19, HTTP 80) and dom0 sends
the same loads to it as to the guests. The veth module comes from the dom0
kernel's own package (a cached part; the dom0 image does not carry it).

Disk: dom0 runs the Linux peer's diskload (O_DIRECT) on the same backing files
the guests get, through a loop device as blkback's `file:` disks are (tmpfs
itself takes no O_DIRECT).
"""

from __future__ import annotations

from pathlib import Path

from xenlab.bench import session
from xenlab.bench.disk import DISK_FIGURES, disk_runs, linux_rate
from xenlab.bench.network import (
    LINUX_UDP,
    LINUX_UDP_COUNT,
    NET_FIGURES,
    Target,
    measure,
)
from xenlab.bench.report import LIMIT, Report
from xenlab.errors import LabError
from xenlab.host import Host
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.dom0 import dom0_versions, unpack_kernel
from xenlab.parts.errors import PartsError
from xenlab.parts.flavours import flavour
from xenlab.parts.modules import index_modules
from xenlab.parts.progress import Progress

NS, LIMIT_IP = "xenlab-limit", "10.0.0.9"
VETH_HOST, VETH_NS = "vlimit0", "vlimit1"
PIDS = f"{session.STAGE}/limit.pids"
SERVERS = ("echo 7", "sink 9", "serve")  # netload's, as the Linux peer's init starts them


def veth_module(cache: Path, progress: Progress) -> Path:
    """veth.ko of the dom0 kernel (built once per kernel version, from its package)."""
    versions = dom0_versions(cache, flavour(), progress)
    recipe = {"part": "bench-veth", "kernel": [versions.kernel_package, versions.kernel_version]}
    final = part_dir(cache, "bench-veth", versions.kernel_version, recipe_key(recipe))
    out = final / "veth.ko"

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        progress(f"bench: taking veth.ko from the dom0 kernel's package (log {log})")
        moddir = unpack_kernel(cache, versions, tmp / "work" / "kernel", log, progress)
        ko = index_modules(moddir).get("veth")
        if ko is None:
            raise PartsError(f"{versions.kernel_package} has no veth.ko; log: {log}")
        (tmp / out.name).write_bytes(ko.read_bytes())

    build_once(cache, "bench-veth", final, out, build, recipe)
    return out


def limit_up(host: Host, veth: Path, netload: str) -> None:
    """The namespace on xenbr0 at LIMIT_IP, its servers started."""
    (host.share / "veth.ko").write_bytes(veth.read_bytes())
    limit_down(host)  # what an interrupted run may have left
    inside = f"ip netns exec {NS}"
    host.check(f"(grep -q '^veth ' /proc/modules || insmod /host/veth.ko) && "
               f"ip netns add {NS} && ip link add {VETH_HOST} type veth peer name {VETH_NS} && "
               f"ip link set {VETH_NS} netns {NS} && ip link set {VETH_HOST} master xenbr0 && "
               f"ip link set {VETH_HOST} up && {inside} ip link set lo up && "
               f"{inside} ip addr add {LIMIT_IP}/24 dev {VETH_NS} && "
               f"{inside} ip link set {VETH_NS} up")
    for server in SERVERS:
        host.check(f"{inside} {netload} {server} >/dev/null 2>&1 & echo $! >>{PIDS}")


def limit_down(host: Host) -> None:
    """Stop the servers, remove the namespace and the veth pair (fine if half made)."""
    host.dom0(f"[ -f {PIDS} ] && kill $(cat {PIDS}); rm -f {PIDS}; ip netns del {NS}; "
              f"ip link del {VETH_HOST}; true")


def limit_udp_received(host: Host) -> int | None:
    res = host.dom0(f"ip netns exec {NS} {LINUX_UDP_COUNT}")
    m = LINUX_UDP.search(res.output)
    return int(m.group(1)) if m else None


def net_limit(host: Host, report: Report, veth: Path, netload: str, reps: int, seconds: float,
              progress: session.Say) -> None:
    try:
        limit_up(host, veth, netload)
    except LabError as exc:  # a failure to set up is this figure's note
        limit_down(host)
        for key in NET_FIGURES:
            report.not_measured(LIMIT, key, f"the namespace could not be set up: {exc}")
        return
    try:
        target = Target(LIMIT, LIMIT_IP, lambda: limit_udp_received(host),
                        "a network namespace of dom0 on xenbr0 (veth; Udp InDatagrams; netload "
                        "serve on Linux's stack), no guest")
        measure(host, report, target, netload, reps, seconds, progress)
    finally:
        limit_down(host)


def disk_limit(host: Host, report: Report, disks: tuple[str, str], diskload: str, mib: int,
               ios: int, reps: int, progress: session.Say) -> None:
    """diskload in dom0 on loop devices of the guests' backing files."""
    ro, scratch = disks
    try:
        loops = (host.check(f"losetup -f --show -r {ro}").strip(),
                 host.check(f"losetup -f --show {scratch}").strip())
    except LabError as exc:  # a failure to attach is this figure's note
        for key in DISK_FIGURES:
            report.not_measured(LIMIT, key, f"no loop device: {exc}")
        return
    rates: dict[str, list[float]] = {key: [] for key in DISK_FIGURES}
    try:
        for i in range(reps):
            for key, (_, args) in disk_runs(loops[0], loops[1], mib, ios).items():
                rate = linux_rate(key, host.dom0(f"{diskload} {args}", timeout=600).output)
                if rate is None:
                    progress(f"{LIMIT}: {key} {i + 1}/{reps}: no figure")
                    continue
                rates[key].append(rate)
                progress(f"{LIMIT}: {key} {i + 1}/{reps}: {rate:.1f}")
    finally:
        host.dom0(f"losetup -d {loops[0]} {loops[1]}; true")
    for key, values in rates.items():
        report.measured(LIMIT, key, values, "dom0, diskload (O_DIRECT) on a loop device of the "
                        "same backing file, no guest")
