"""The boot with a vif and a disk, split: dom0's hotplug scripts against the guest's own part.

libxl runs the stock hotplug scripts (`block` for the disk, `vif-bridge` for the
vif) itself, while the new domain is still paused, and waits for each to exit
before it unpauses the guest. The guest's config names a wrapper of each
(`script=` of the vif and the disk) that runs the stock script and appends its
start and end (dom0's /proc/uptime, 10 ms) to a log in dom0. The hotplug part
of one boot is the union of those intervals; the guest's part is its own clock
(Xenolith's `boot: banner to shell`, Linux's /proc/uptime when its init prints
the marker); the rest is xl's domain building and the console path.
"""

from __future__ import annotations

import re

from xenlab.bench import session
from xenlab.bench.linux_guest import MARKER as LINUX_MARKER
from xenlab.bench.peers import LINUX, XENOLITH, XENOLITH_TINY, Peer
from xenlab.bench.report import Report
from xenlab.host import Host

BANNER = re.compile(r"boot: banner to shell in ([0-9.]+) ms")
HOTPLUG_LOG = f"{session.STAGE}/hotplug.times"
SCRIPTS = ("block", "vif-bridge")
WRAPPER = f"""#!/bin/sh
# make bench: runs the stock hotplug script this file is named after (hp-NAME) and logs
# "NAME ACTION START END STATUS" (dom0's /proc/uptime) to {HOTPLUG_LOG}.
name=${{0##*/hp-}}
start=$(cut -d' ' -f1 /proc/uptime)
/etc/xen/scripts/$name "$@"
rc=$?
echo "$name $1 $start $(cut -d' ' -f1 /proc/uptime) $rc" >>{HOTPLUG_LOG}
exit $rc
"""
SPLIT_FIGURES = ("boot_devices", "boot_hotplug", "boot_devices_guest")


def install_wrappers(host: Host) -> None:
    """Put hp-block and hp-vif-bridge into dom0's STAGE folder."""
    (host.share / "hp-wrapper").write_text(WRAPPER)
    for name in SCRIPTS:
        host.check(f"cp /host/hp-wrapper {session.STAGE}/hp-{name} && "
                   f"chmod +x {session.STAGE}/hp-{name}")


def hotplug_seconds(log: str) -> tuple[float, dict[str, float]] | None:
    """(union of the script runs' intervals, seconds per script) from the wrapper's log;
    None when no script ran."""
    runs = []
    per: dict[str, float] = {}
    for name, _action, start, end, _rc in re.findall(r"^(\S+) (\S+) ([0-9.]+) ([0-9.]+) (\d+)",
                                                      log, re.MULTILINE):
        a, b = float(start), float(end)
        runs.append((a, b))
        per[name] = per.get(name, 0.0) + b - a
    if not runs:
        return None
    total, reach = 0.0, float("-inf")
    for a, b in sorted(runs):
        if b > reach:
            total += b - max(a, reach)
            reach = b
    return total, per


def guest_ms(peer: Peer, booted: session.Booted) -> float | None:
    """The guest's own boot time, from what it printed (None: it prints none)."""
    if peer.kind in (XENOLITH, XENOLITH_TINY):
        m = BANNER.search(booted.text)
        return float(m.group(1)) if m else None
    if peer.kind == LINUX:
        m = re.search(LINUX_MARKER, booted.marker)
        return float(m.group(1)) * 1000 if m else None
    return None


def split_figures(host: Host, report: Report, peer: Peer, disk: str, reps: int, timeout: float,
                  progress: session.Say) -> None:
    """`reps` boots with a vif on xenbr0 and `disk` (read-only) through the wrappers."""
    vif = f"xenbr0,script={session.STAGE}/hp-vif-bridge"
    spec = f"format=raw,vdev=xvda,access=ro,script={session.STAGE}/hp-block,target={disk}"
    total: list[float] = []
    hotplug: list[float] = []
    inside: list[float] = []
    per: dict[str, list[float]] = {}
    for i in range(reps):
        host.check(f"rm -f {HOTPLUG_LOG}")
        b = session.boot(host, peer, f"h-{peer.name}", timeout + 60, vifs=(vif,), disks=(spec,))
        if b.seconds is None:
            progress(f"{peer.name}: boot with devices {i + 1}/{reps} failed: {b.error}")
            continue
        log = host.dom0(f"cat {HOTPLUG_LOG} 2>/dev/null").output
        session.destroy(host, b.name)
        total.append(b.seconds)
        got = hotplug_seconds(log)
        if got is not None:
            hotplug.append(got[0])
            for name, secs in got[1].items():
                per.setdefault(name, []).append(secs)
        if (ms := guest_ms(peer, b)) is not None:
            inside.append(ms)
        progress(f"{peer.name}: boot with devices {i + 1}/{reps}: {b.seconds:.2f} s, hotplug "
                 f"{got[0] if got else float('nan'):.2f} s")
    scripts = ", ".join(f"{n} {sum(v) / len(v):.2f} s" for n, v in sorted(per.items()))
    report.measured(peer.name, "boot_devices", total, f"vif on xenbr0 + read-only disk, "
                    f"{peer.memory_mib} MiB; xl create -c to the ready marker")
    report.measured(peer.name, "boot_hotplug", hotplug, "union of the stock scripts' runs, "
                    f"timed by wrappers in dom0 (/proc/uptime, 10 ms); mean per script: {scripts}")
    if peer.kind in (XENOLITH, XENOLITH_TINY, LINUX):
        how = ("its `boot: banner to shell` line (Xen system time)" if peer.kind != LINUX else
               "/proc/uptime when its init prints the marker (from its clock's start)")
        report.measured(peer.name, "boot_devices_guest", inside, how)
    else:
        report.not_measured(peer.name, "boot_devices_guest", "the peer prints no time of its own")
