"""`python -m xenlab bench`: every peer's figures in one lab run, then the report and charts.

One Xen + Linux dom0 host serves the whole run; each step boots the peers
that can do it, one at a time, and records a value or the reason there is
none. Progress lines (`bench: ...`) go to stderr as it goes.
"""

from __future__ import annotations

import re
import sys
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

from xenlab.bench import session
from xenlab.bench.floor import memory_floor
from xenlab.bench.linux_guest import READY, build_linux_initrd
from xenlab.bench.netload import build_netload, parse_rate
from xenlab.bench.peers import (
    GRUB,
    LINUX,
    XENOLITH,
    XENOLITH_PROMPT,
    XENOLITH_TINY,
    Peer,
    file_kib,
    loaded_kib,
    parse_peers,
    text_data_kib,
)
from xenlab.bench.plan import BenchOptions
from xenlab.bench.report import Report
from xenlab.errors import GuestError, LabError
from xenlab.host import Host
from xenlab.kernelcheck import check_pv_kernel
from xenlab.lab import Lab, LabConfig
from xenlab.parts import build_dom0, build_grub_pv, default_cache

Say = Callable[[str], None]
XENOLITH_IP, LINUX_IP = "10.0.0.2", "10.0.0.3"
BANNER = re.compile(r"boot: banner to shell in ([0-9.]+) ms")
MMU = re.compile(r"bench mmu: (single|batched) \([^)]*\): .*?, (\d+) hypercalls, (\d+) us")
SELFTEST = r"selftest summary: (\d+) passed, (\d+) failed"
SELFTEST_SLOWER = 3  # selftest=all takes minutes on a loaded machine: its timeout is longer
GRUB_MARKER = r"GNU GRUB"
LINUX_FLOOR_STEP = 8  # Linux's floor is searched in 8 MiB steps: each probe is a ~15 s boot
BLKBENCH = re.compile(r"blkbench: \S+ read (\d+) MiB in (\d+) us")
UPTIME = re.compile(r"disk-([0-9.]+)-([0-9.]+)-done")
BYTES_PER_MIB, BYTES_PER_MB = 1 << 20, 10 ** 6


def say(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


def make_peers(opts: BenchOptions, netload: Path, progress: Say) -> list[Peer]:
    cache = default_cache()
    peers = [Peer(XENOLITH, XENOLITH, opts.kernel, re.escape(XENOLITH_PROMPT), memory_mib=32,
                  cmdline="", floor_range=(2, 32), ip=XENOLITH_IP)]
    if opts.tiny:
        peers.append(Peer(XENOLITH_TINY, XENOLITH_TINY, opts.tiny, re.escape(XENOLITH_PROMPT),
                          memory_mib=32, floor_range=(2, 32)))
    if opts.linux:
        parts_say = lambda line: progress(f"parts: {line}")
        dom0 = build_dom0(cache, parts_say)
        initrd = build_linux_initrd(cache, netload, parts_say)
        peers.append(Peer(LINUX, LINUX, dom0.kernel, READY, memory_mib=256, ramdisk=initrd,
                          cmdline=f"console=hvc0 quiet rodata=off benchip={LINUX_IP}",
                          floor_range=(64, 256), ip=LINUX_IP))
    if opts.grub:
        peers.append(Peer(GRUB, GRUB, build_grub_pv(cache, progress), GRUB_MARKER,
                          memory_mib=16, floor_range=(2, 32)))
    try:
        users = parse_peers(opts.peers)
    except ValueError as exc:
        raise GuestError(f"PEERS: {exc}") from None
    for p in users:
        check_pv_kernel(p.kernel)  # a bad path or a non-PV file fails here, before any boot
    return peers + users


def image_figures(report: Report, peers: list[Peer]) -> None:
    for p in peers:
        report.measured(p.name, "image_file", [file_kib(p.images())],
                        "kernel + initramfs" if p.ramdisk else "")
        kib = loaded_kib(p.kernel)
        if kib is None:
            report.not_measured(p.name, "image_loaded", "the kernel is not an ELF file")
        elif p.ramdisk:
            report.measured(p.name, "image_loaded", [kib],
                            "kernel only (the initramfs is loaded as a module)")
        else:
            td = text_data_kib(p.kernel)
            report.measured(p.name, "image_loaded", [kib],
                            f".text+.rodata+.data alone: {td:.1f} KiB" if td else "")


def boot_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                 progress: Say) -> None:
    times, inside = [], []
    for i in range(reps):
        b = session.boot(host, peer, f"b-{peer.name}", timeout)
        if b.seconds is None:
            progress(f"{peer.name}: boot {i + 1}/{reps} failed: {b.error}")
            continue
        session.destroy(host, b.name)
        times.append(b.seconds)
        if m := BANNER.search(b.text):
            inside.append(float(m.group(1)))
        progress(f"{peer.name}: boot {i + 1}/{reps}: {b.seconds:.2f} s")
    report.measured(peer.name, "boot", times, "no devices; xl create -c to the ready marker "
                    f"{peer.marker!r}, {peer.memory_mib} MiB")
    if peer.kind in (XENOLITH, XENOLITH_TINY):
        report.measured(peer.name, "boot_guest", inside, "the kernel's own `boot: banner to "
                        "shell` line (Xen system time)")
    else:
        report.not_measured(peer.name, "boot_guest", "the peer prints no time of its own")


def smoke(host: Host, peer: Peer, mib: int, timeout: float) -> bool:
    """Boot at `mib` and check the peer works (selftest=all, or its shell answers)."""
    name = f"f-{peer.name}"
    if peer.kind == XENOLITH:
        b = session.boot(host, replace(peer, marker=SELFTEST), name, timeout * SELFTEST_SLOWER,
                         memory_mib=mib, cmdline="selftest=all")
        if b.seconds is None:
            return False
        session.destroy(host, name)
        m = re.search(SELFTEST, b.marker)
        return bool(m and m.group(2) == "0")
    b = session.boot(host, peer, name, timeout, memory_mib=mib)
    if b.seconds is None:
        return False
    ok = True
    if peer.kind in (XENOLITH_TINY, LINUX):
        ok = session.shell(host, "echo alive-$((6*7))" if peer.kind == LINUX else "echo alive-42",
                           r"alive-42\r*\n", 30) is not None
    session.destroy(host, name)
    return ok


def floor_figure(host: Host, report: Report, peer: Peer, step: int, timeout: float,
                 progress: Say) -> None:
    low, high = peer.floor_range
    if peer.kind == LINUX:
        step *= LINUX_FLOOR_STEP

    def passes(mib: int) -> bool:
        ok = smoke(host, peer, mib, timeout)
        progress(f"{peer.name}: memory={mib}: {'passes' if ok else 'fails'}")
        return ok
    res = memory_floor(passes, low, high, step)
    tried = ", ".join(f"{m}:{'ok' if ok else 'no'}" for m, ok in res.probes)
    if res.floor is None:
        report.not_measured(peer.name, "memory_floor", f"did not pass even at {high} MiB "
                            f"(probes {tried})")
    else:
        check = {XENOLITH: "selftest=all passes", LINUX: "its shell answers",
                 XENOLITH_TINY: "its shell answers"}.get(peer.kind, "ready marker")
        report.measured(peer.name, "memory_floor", [res.floor],
                        f"{check}; bisection in ({low}, {high}] to {step} MiB, probes {tried}")


def mmu_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                progress: Say) -> None:
    b = session.boot(host, peer, f"m-{peer.name}", timeout)
    if b.seconds is None:
        for key in ("mmu_single", "mmu_batched", "mmu_speedup"):
            report.not_measured(peer.name, key, f"the guest did not boot: {b.error}")
        return
    single, batched, calls = [], [], ""
    for i in range(reps):
        out = session.shell(host, "bench mmu", re.escape(XENOLITH_PROMPT), timeout) or ""
        got = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in MMU.finditer(out)}
        if "single" in got and "batched" in got and got["batched"][1] > 0:
            single.append(got["single"][1] / 1000)
            batched.append(got["batched"][1] / 1000)
            calls = f"{got['single'][0]} vs {got['batched'][0]} hypercalls"
            progress(f"{peer.name}: bench mmu {i + 1}/{reps}: {single[-1]:.1f} ms vs "
                     f"{batched[-1]:.1f} ms")
    session.destroy(host, b.name)
    report.measured(peer.name, "mmu_single", single, calls)
    report.measured(peer.name, "mmu_batched", batched, calls)
    report.measured(peer.name, "mmu_speedup", [s / b for s, b in zip(single, batched, strict=True)],
                    "per repetition, single / batched")


def net_figures(host: Host, report: Report, peer: Peer, netload: str, reps: int, seconds: float,
                timeout: float, progress: Say) -> None:
    assert peer.ip
    cmdline = f"ip={peer.ip}/24" if peer.kind == XENOLITH else None
    b = session.boot(host, peer, f"n-{peer.name}", timeout + 60, cmdline=cmdline, vifs=("xenbr0",))
    if b.seconds is None:
        for key in ("udp_rr", "icmp_rr"):
            report.not_measured(peer.name, key, f"the guest did not boot with a vif: {b.error}")
        return
    # The first exchange waits for ARP (and for the Linux peer's echo server to start).
    host.dom0(f"ping -c 3 -W 2 {peer.ip} >/dev/null; {netload} udp {peer.ip} 7 1 64 >/dev/null",
              timeout=60)
    rates: dict[str, list[float]] = {"udp_rr": [], "icmp_rr": []}
    lost: dict[str, int] = {"udp_rr": 0, "icmp_rr": 0}
    for i in range(reps):
        for key, args in (("udp_rr", f"udp {peer.ip} 7 {seconds} 64"),
                          ("icmp_rr", f"icmp {peer.ip} {seconds} 64")):
            res = host.dom0(f"{netload} {args}", timeout=seconds + 60)
            got = parse_rate(res.output)
            if got is None or got[1] == 0:
                progress(f"{peer.name}: {key} {i + 1}/{reps}: no answer ({res.output.strip()})")
                continue
            rates[key].append(got[0])
            lost[key] += got[2]
            progress(f"{peer.name}: {key} {i + 1}/{reps}: {got[0]:.0f}/s")
    session.destroy(host, b.name)
    for key, values in rates.items():
        report.measured(peer.name, key, values, f"one request in flight for {seconds:g} s per "
                        f"repetition from dom0 over xenbr0; {lost[key]} lost in all")


def disk_figure(host: Host, report: Report, peer: Peer, disk: str, mib: int, reps: int,
                timeout: float, progress: Say) -> None:
    """Sequential read of the whole disk in 1 MiB requests: Xenolith's `blkbench`, Linux's
    `dd iflag=direct` (O_DIRECT, timed by /proc/uptime around it)."""
    b = session.boot(host, peer, f"d-{peer.name}", timeout + 60, disks=(f"file:{disk},xvda,r",))
    if b.seconds is None:
        report.not_measured(peer.name, "disk_seq_read", f"the guest did not boot with a disk: "
                            f"{b.error}")
        return
    rates = []
    for i in range(reps):
        seconds = None
        if peer.kind == XENOLITH:
            out = session.shell(host, f"blkbench xvda {mib}", re.escape(XENOLITH_PROMPT),
                                timeout) or ""
            if m := BLKBENCH.search(out):
                seconds = int(m.group(2)) / 1e6
        else:
            cmd = ("read a b </proc/uptime; dd if=/dev/xvda of=/dev/null bs=1M "
                   f"count={mib} iflag=direct 2>/dev/null; read c d </proc/uptime; "
                   'echo "disk-$a-$c-done"')
            session.shell(host, cmd, UPTIME.pattern, timeout)
            if m := UPTIME.search(str(host.console.child.after)):
                seconds = float(m.group(2)) - float(m.group(1))
        if not seconds:
            progress(f"{peer.name}: disk {i + 1}/{reps}: no figure")
            continue
        rates.append(mib * BYTES_PER_MIB / BYTES_PER_MB / seconds)
        progress(f"{peer.name}: disk {i + 1}/{reps}: {rates[-1]:.1f} MB/s")
    session.destroy(host, b.name)
    how = "blkbench" if peer.kind == XENOLITH else "dd bs=1M iflag=direct, /proc/uptime (10 ms)"
    report.measured(peer.name, "disk_seq_read", rates, f"{mib} MiB sparse file in dom0's tmpfs "
                    f"through blkback, read-only; {how}")


SUSPEND_FIGURES = ("save", "restore", "migrate")


def timed(host: Host, command: str, timeout: float) -> float:
    start = time.monotonic()
    host.check(command, timeout=timeout)
    return time.monotonic() - start


def suspend_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                    progress: Say) -> None:
    """`xl save`, `xl restore` and `xl migrate -s '' NAME 'xl migrate-receive'` (to this host:
    an empty ssh command runs the "host" argument) of one booted guest, no devices."""
    b = session.boot(host, peer, f"s-{peer.name}", timeout)
    if b.seconds is None:
        for key in SUSPEND_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot: {b.error}")
        return
    got: dict[str, list[float]] = {key: [] for key in SUSPEND_FIGURES}
    image = f"{session.STAGE}/{b.name}.save"
    try:
        for i in range(reps):
            got["save"].append(timed(host, f"xl save {b.name} {image}", timeout))
            got["restore"].append(timed(host, f"xl restore {image} && rm {image}", timeout))
            got["migrate"].append(timed(host, f"xl migrate -s '' {b.name} 'xl migrate-receive'",
                                        timeout))
            progress(f"{peer.name}: save {got['save'][-1]:.1f} s, restore "
                     f"{got['restore'][-1]:.1f} s, migrate {got['migrate'][-1]:.1f} s "
                     f"({i + 1}/{reps})")
    except LabError as exc:
        progress(f"{peer.name}: suspend figures stopped: {str(exc).splitlines()[0]}")
    session.destroy(host, b.name)
    for key in SUSPEND_FIGURES:
        if got[key]:
            report.measured(peer.name, key, got[key], f"{peer.memory_mib} MiB, no devices")
        else:
            report.not_measured(peer.name, key, "the toolstack refused it (see the progress "
                                "lines)")


def run_bench(opts: BenchOptions, host: Host | None = None) -> int:
    """Measure, write build/bench/{report.json,report.md,*.png}, print the summary.

    `host`: a Xen + dom0 already up (left running); by default the run starts its own."""
    from xenlab.bench.charts import write_charts
    from xenlab.bench.report import summary, write
    plan = opts.plan
    started = time.monotonic()
    report = Report(meta={"date": time.strftime("%Y-%m-%d %H:%M:%S"),
                          "emulation": "QEMU TCG (no KVM): absolute times are slow, compare "
                                       "ratios", "plan": str(plan)})
    say("building netload and the peers' images")
    netload = build_netload(opts.out)
    peers = make_peers(opts, netload, say)
    for p in peers:
        report.add_peer(p.name)
    image_figures(report, peers)
    booting = [p for p in peers if p.boots]
    try:
        if host is not None:
            session_steps(host, report, booting, opts, netload)
        else:
            say("starting Xen + dom0")
            own = Lab(LabConfig()).up(memory_mib=2048)
            try:
                session_steps(own, report, booting, opts, netload)
            finally:
                own.close()
    except LabError as exc:
        say(f"lab failure, the report keeps what was measured: {exc}")
        report.meta["lab_failure"] = str(exc).splitlines()[0]
    report.meta["seconds"] = round(time.monotonic() - started)
    report.complete("the run stopped before this step (see lab_failure)")
    paths = write(report, opts.out, XENOLITH)
    paths += write_charts(report, opts.out)
    print(summary(report))
    say("wrote " + " ".join(str(p) for p in paths))
    return 0


def session_steps(host: Host, report: Report, peers: list[Peer], opts: BenchOptions,
                  netload: Path) -> None:
    plan = opts.plan
    (host.share / "netload").write_bytes(netload.read_bytes())
    host.check(f"mkdir -p {session.STAGE} && cp /host/netload {session.STAGE}/ && "
               f"chmod +x {session.STAGE}/netload")
    dom0_netload = f"{session.STAGE}/netload"
    for p in peers:
        say(f"{p.name}: staging {', '.join(str(i) for i in p.images())}")
        session.stage(host, p)
    for p in peers:
        say(f"{p.name}: boot x{plan.boot_reps}")
        boot_figures(host, report, p, plan.boot_reps, plan.boot_timeout, say)
    for p in peers:
        if p.kind == XENOLITH:
            say(f"{p.name}: bench mmu x{plan.mmu_reps}")
            mmu_figures(host, report, p, plan.mmu_reps, plan.boot_timeout, say)
        else:
            for key in ("mmu_single", "mmu_batched", "mmu_speedup"):
                report.not_measured(p.name, key, "Xenolith's own `bench mmu` command")
    for p in peers:
        if p.ip:
            say(f"{p.name}: network x{plan.net_reps}")
            net_figures(host, report, p, dom0_netload, plan.net_reps, plan.net_seconds,
                        plan.boot_timeout, say)
        else:
            for key in ("udp_rr", "icmp_rr"):
                report.not_measured(p.name, key, "the peer has no network stack here")
    disk = f"{session.STAGE}/disk.img"
    host.check(f"dd if=/dev/zero of={disk} bs=1M count=0 seek={plan.disk_mib} 2>/dev/null")
    for p in peers:
        if p.kind in (XENOLITH, LINUX):
            say(f"{p.name}: disk x{plan.disk_reps}")
            disk_figure(host, report, p, disk, plan.disk_mib, plan.disk_reps, plan.boot_timeout,
                        say)
        else:
            report.not_measured(p.name, "disk_seq_read", "the peer has no disk benchmark here")
    for p in peers:
        if p.kind in (XENOLITH, XENOLITH_TINY, LINUX):
            say(f"{p.name}: save, restore, migrate x{plan.suspend_reps}")
            suspend_figures(host, report, p, plan.suspend_reps, plan.boot_timeout, say)
        else:
            for key in SUSPEND_FIGURES:
                report.not_measured(p.name, key, "not tried: the peer may not answer the "
                                    "toolstack's suspend request")
    for p in peers:
        say(f"{p.name}: memory floor")
        floor_figure(host, report, p, plan.floor_step_mib, plan.boot_timeout, say)
