"""`python -m xenlab bench`: every peer's figures in one lab run, then the report and charts.

One Xen + Linux dom0 host serves the whole run; each step boots the peers
that can do it, one at a time, and records a value or the reason there is
none. Progress lines (`bench: ...`) go to stderr as it goes.
"""

from __future__ import annotations

import re
import sys
import time
from dataclasses import replace
from pathlib import Path

from xenlab.bench import session
from xenlab.bench.devices import (
    SPLIT_FIGURES,
    guest_ms,
    install_wrappers,
    split_figures,
)
from xenlab.bench.disk import DISK_FIGURES, disk_figures, make_disks
from xenlab.bench.diskload import build_diskload
from xenlab.bench.figures import FIGURES, LIMITED
from xenlab.bench.floor import memory_floor
from xenlab.bench.limit import LIMIT, disk_limit, net_limit, veth_module
from xenlab.bench.linux_guest import MARKER as LINUX_MARKER
from xenlab.bench.linux_guest import build_linux_initrd
from xenlab.bench.netload import build_netload
from xenlab.bench.network import HTTP_PORT, NET_FIGURES, net_figures
from xenlab.bench.peers import (
    GRUB,
    LINUX,
    XENOLITH,
    XENOLITH_PROMPT,
    XENOLITH_SHIM,
    XENOLITH_TINY,
    Peer,
    file_kib,
    loaded_kib,
    parse_peers,
    text_data_kib,
)
from xenlab.bench.plan import BenchOptions
from xenlab.bench.report import Report
from xenlab.bench.suspend import BIG, SUSPEND_FIGURES, downtime_or_skip, suspend_figures
from xenlab.errors import GuestError, LabError
from xenlab.host import SHIM_MIB, Host
from xenlab.kernelcheck import check_pv_kernel
from xenlab.lab import Lab, LabConfig
from xenlab.parts import build_dom0, build_grub_pv, default_cache

Say = session.Say
XENOLITH_IP, LINUX_IP = "10.0.0.2", "10.0.0.3"
MMU = re.compile(r"bench mmu: (single|batched) \([^)]*\): .*?, (\d+) hypercalls, (\d+) us")
MULTICALL = re.compile(r"bench multicall: (single|batched) \([^)]*\): (\d+) calls, "
                       r"(\d+) hypercalls, (\d+) us")
SMP_RUN = re.compile(r"bench smp: (\d+) vCPUs?: \d+ rounds in (\d+) ms")
SMP_IPI = re.compile(r"bench smp: ipi round trip 0 -> \d+: mean (\d+) us")
SMP_VCPUS = 4
SMP_FIGURES = ("smp_1", "smp_2", "smp_4", "smp_speedup", "ipi_rtt")
MMU_FIGURES = ("mmu_single", "mmu_batched", "mmu_speedup", "mc_separate", "mc_batched",
               "mc_speedup")
SELFTEST = r"selftest summary: (\d+) passed, (\d+) failed"
SELFTEST_SLOWER = 3  # selftest=all takes minutes on a loaded machine: its timeout is longer
GRUB_MARKER = r"GNU GRUB"
LINUX_FLOOR_STEP = 8  # Linux's floor is searched in 8 MiB steps: each probe is a ~15 s boot


def say(line: str) -> None:
    print(f"bench: {line}", file=sys.stderr, flush=True)


def make_peers(opts: BenchOptions, tools: list[Path], progress: Say) -> list[Peer]:
    cache = default_cache()
    peers = [Peer(XENOLITH, XENOLITH, opts.kernel, re.escape(XENOLITH_PROMPT), memory_mib=32,
                  cmdline="", floor_range=(2, 32), ip=XENOLITH_IP)]
    if opts.shim:
        # The domain's memory holds the shim's own (about 22 MiB): the guest gets at least 32
        # MiB of it. Below 22 MiB the shim cannot start: the floor's bisection starts there.
        peers.append(Peer(XENOLITH_SHIM, XENOLITH, opts.kernel, re.escape(XENOLITH_PROMPT),
                          memory_mib=32 + SHIM_MIB, floor_range=(22, 32 + SHIM_MIB),
                          ip=XENOLITH_IP, shim=True))
    if opts.tiny:
        peers.append(Peer(XENOLITH_TINY, XENOLITH_TINY, opts.tiny, re.escape(XENOLITH_PROMPT),
                          memory_mib=32, floor_range=(2, 32)))
    if opts.linux:
        parts_say = lambda line: progress(f"parts: {line}")
        dom0 = build_dom0(cache, parts_say)
        initrd = build_linux_initrd(cache, tools, parts_say)
        peers.append(Peer(LINUX, LINUX, dom0.kernel, LINUX_MARKER, memory_mib=256, ramdisk=initrd,
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
        if (ms := guest_ms(peer, b)) is not None:
            inside.append(ms)
        progress(f"{peer.name}: boot {i + 1}/{reps}: {b.seconds:.2f} s")
    report.measured(peer.name, "boot", times, "no devices; xl create -c to the ready marker "
                    f"{peer.marker!r}, {peer.memory_mib} MiB")
    if peer.kind in (XENOLITH, XENOLITH_TINY):
        report.measured(peer.name, "boot_guest", inside, "the kernel's own `boot: banner to "
                        "shell` line (Xen system time)")
    elif peer.kind == LINUX:
        report.measured(peer.name, "boot_guest", inside, "/proc/uptime when its init prints the "
                        "marker (its clock starts early in its boot, not at its entry)")
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


def http_smoke(host: Host, peer: Peer, mib: int, timeout: float) -> bool:
    """Boot at `mib` with a vif and the HTTP server on; dom0 fetches / from it."""
    assert peer.ip
    name = f"fh-{peer.name}"
    b = session.boot(host, peer, name, timeout, memory_mib=mib, vifs=("xenbr0",),
                     cmdline=f"ip={peer.ip}/24 http={HTTP_PORT}")
    if b.seconds is None:
        return False
    # busybox's wget crashes on -T: the time limit is timeout's
    res = host.dom0(f"timeout 30 wget -q -O - http://{peer.ip}:{HTTP_PORT}/", timeout=90)
    session.destroy(host, name)
    return res.status == 0 and "Xenolith" in res.output


def floor_figure(host: Host, report: Report, peer: Peer, step: int, timeout: float,
                 progress: Say, figure: str = "memory_floor") -> None:
    """The floor of `figure`: memory_floor (selftest=all or the shell), or memory_floor_http
    (the HTTP server answers dom0)."""
    low, high = peer.floor_range
    if peer.kind == LINUX:
        step *= LINUX_FLOOR_STEP
    check_fn = http_smoke if figure == "memory_floor_http" else smoke

    def passes(mib: int) -> bool:
        ok = check_fn(host, peer, mib, timeout)
        progress(f"{peer.name}: {figure} memory={mib}: {'passes' if ok else 'fails'}")
        return ok
    res = memory_floor(passes, low, high, step)
    tried = ", ".join(f"{m}:{'ok' if ok else 'no'}" for m, ok in res.probes)
    if res.floor is None:
        report.not_measured(peer.name, figure, f"did not pass even at {high} MiB "
                            f"(probes {tried})")
    else:
        check = {XENOLITH: "selftest=all passes", LINUX: "its shell answers",
                 XENOLITH_TINY: "its shell answers"}.get(peer.kind, "ready marker")
        if figure == "memory_floor_http":
            check = f"with a vif and http={HTTP_PORT}, dom0's wget gets /"
        report.measured(peer.name, figure, [res.floor],
                        f"{check}; bisection in ({low}, {high}] to {step} MiB, probes {tried}")


def http_floor_step(host: Host, report: Report, peer: Peer, opts: BenchOptions) -> None:
    """The floor with the HTTP server on: Xenolith's (the quick mode: the classic one only)."""
    plan = opts.plan
    if peer.kind != XENOLITH or not peer.ip:
        report.not_measured(peer.name, "memory_floor_http", "Xenolith's own HTTP server "
                            "(`http=`); the Linux peer's floor above runs its servers only "
                            "with a vif")
    elif plan.quick_mode and peer.name != XENOLITH:
        report.not_measured(peer.name, "memory_floor_http", "skipped in the quick mode")
    else:
        say(f"{peer.name}: memory floor with HTTP")
        floor_figure(host, report, peer, plan.floor_step_mib, plan.boot_timeout, say,
                     "memory_floor_http")


def mmu_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                progress: Say) -> None:
    """`bench mmu` and `bench multicall`, `reps` times each, in one guest."""
    b = session.boot(host, peer, f"m-{peer.name}", timeout)
    if b.seconds is None:
        for key in MMU_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot: {b.error}")
        return
    single, batched, calls = [], [], ""
    separate, multi, mc_calls = [], [], ""
    for i in range(reps):
        out = session.shell(host, "bench mmu", re.escape(XENOLITH_PROMPT), timeout) or ""
        got = {m.group(1): (int(m.group(2)), int(m.group(3))) for m in MMU.finditer(out)}
        if "single" in got and "batched" in got and got["batched"][1] > 0:
            single.append(got["single"][1] / 1000)
            batched.append(got["batched"][1] / 1000)
            calls = f"{got['single'][0]} vs {got['batched'][0]} hypercalls"
            progress(f"{peer.name}: bench mmu {i + 1}/{reps}: {single[-1]:.1f} ms vs "
                     f"{batched[-1]:.1f} ms")
        out = session.shell(host, "bench multicall", re.escape(XENOLITH_PROMPT), timeout) or ""
        mc = {m.group(1): (int(m.group(2)), int(m.group(3)), int(m.group(4)))
              for m in MULTICALL.finditer(out)}
        if "single" in mc and "batched" in mc and mc["batched"][2] > 0:
            separate.append(mc["single"][2] / 1000)
            multi.append(mc["batched"][2] / 1000)
            mc_calls = (f"{mc['single'][0]} update_va_mapping calls: {mc['single'][1]} vs "
                        f"{mc['batched'][1]} hypercalls")
            progress(f"{peer.name}: bench multicall {i + 1}/{reps}: {separate[-1]:.1f} ms vs "
                     f"{multi[-1]:.1f} ms")
    session.destroy(host, b.name)
    report.measured(peer.name, "mmu_single", single, calls)
    report.measured(peer.name, "mmu_batched", batched, calls)
    report.measured(peer.name, "mmu_speedup", [s / b for s, b in zip(single, batched, strict=True)],
                    "per repetition, single / batched")
    report.measured(peer.name, "mc_separate", separate, mc_calls)
    report.measured(peer.name, "mc_batched", multi, mc_calls)
    report.measured(peer.name, "mc_speedup", [s / b for s, b in zip(separate, multi, strict=True)],
                    "per repetition, separate / batched")


def smp_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                progress: Say) -> None:
    """`bench smp`, `reps` times, in one guest with SMP_VCPUS vCPUs: the workload's time on
    1, 2 and 4 vCPUs, the speed-up, and the mean IPI round trip."""
    b = session.boot(host, peer, f"s-{peer.name}", timeout, vcpus=SMP_VCPUS)
    if b.seconds is None:
        for key in SMP_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot: {b.error}")
        return
    runs: dict[int, list[float]] = {1: [], 2: [], 4: []}
    rtts: list[float] = []
    for i in range(reps):
        out = session.shell(host, "bench smp", re.escape(XENOLITH_PROMPT), timeout) or ""
        got = {int(m.group(1)): float(m.group(2)) for m in SMP_RUN.finditer(out)}
        ipis = [float(m.group(1)) for m in SMP_IPI.finditer(out)]
        if all(k in got and got[k] > 0 for k in runs) and ipis:
            for k, times in runs.items():
                times.append(got[k])
            rtts.append(sum(ipis) / len(ipis))
            progress(f"{peer.name}: bench smp {i + 1}/{reps}: {got[1]:.0f} ms on 1 vCPU, "
                     f"{got[4]:.0f} ms on 4; IPI round trip {rtts[-1]:.0f} us")
    session.destroy(host, b.name)
    how = f"one guest with vcpus = {SMP_VCPUS}; the same rounds split over the vCPUs"
    for k, times in runs.items():
        report.measured(peer.name, f"smp_{k}", times, how)
    report.measured(peer.name, "smp_speedup",
                    [a / b for a, b in zip(runs[1], runs[4], strict=True)],
                    "per repetition, 1 vCPU / 4 vCPUs; bounded by the lab's one physical CPU")
    report.measured(peer.name, "ipi_rtt", rtts, "mean over vCPUs 1-3, 100 pings each")


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
    say("building netload, diskload and the peers' images")
    netload, diskload = build_netload(opts.out), build_diskload(opts.out)
    peers = make_peers(opts, [netload, diskload], say)
    veth = veth_module(default_cache(), lambda line: say(f"parts: {line}")) if opts.limit \
        else None
    for p in peers:
        report.add_peer(p.name)
    if veth:
        report.add_peer(LIMIT)
        for fig in FIGURES:
            if fig.key not in LIMITED:
                report.not_measured(LIMIT, fig.key, "the host without a guest: a limit is only "
                                    "beside network and disk figures")
    image_figures(report, peers)
    booting = [p for p in peers if p.boots]
    try:
        if host is not None:
            session_steps(host, report, booting, opts, [netload, diskload], veth)
        else:
            say("starting Xen + dom0")
            own = Lab(LabConfig()).up(memory_mib=2048)
            try:
                session_steps(own, report, booting, opts, [netload, diskload], veth)
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
                  tools: list[Path], veth: Path | None) -> None:
    """Every step, in order; `tools` (netload, diskload) are staged in dom0 first, `veth`
    (None: no limit) sets up the limit's namespace."""
    plan = opts.plan
    for tool in tools:
        (host.share / tool.name).write_bytes(tool.read_bytes())
        host.check(f"mkdir -p {session.STAGE} && cp /host/{tool.name} {session.STAGE}/ && "
                   f"chmod +x {session.STAGE}/{tool.name}")
    dom0_netload, dom0_diskload = f"{session.STAGE}/netload", f"{session.STAGE}/diskload"
    for p in peers:
        say(f"{p.name}: staging {', '.join(str(i) for i in p.images())}")
        session.stage(host, p)
    install_wrappers(host)
    for p in peers:
        say(f"{p.name}: boot x{plan.boot_reps}")
        boot_figures(host, report, p, plan.boot_reps, plan.boot_timeout, say)
    for p in peers:
        split_step(host, report, p, opts)
    for what, figures, keys, command in (
            (f"bench mmu, bench multicall x{plan.mmu_reps}", mmu_figures, MMU_FIGURES, "bench"),
            (f"bench smp x{plan.mmu_reps} ({SMP_VCPUS} vCPUs)", smp_figures, SMP_FIGURES,
             "bench smp")):
        for p in peers:
            if p.kind == XENOLITH:
                say(f"{p.name}: {what}")
                figures(host, report, p, plan.mmu_reps, plan.boot_timeout, say)
            else:
                for key in keys:
                    report.not_measured(p.name, key, f"Xenolith's own `{command}` command")
    for p in peers:
        if p.ip:
            say(f"{p.name}: network x{plan.net_reps}")
            # The quick mode measures TCP through the shim only in the full run.
            net_figures(host, report, p, dom0_netload, plan.net_reps, plan.net_seconds,
                        plan.boot_timeout, say, tcp=not (plan.quick_mode and p.shim))
        else:
            for key in NET_FIGURES:
                report.not_measured(p.name, key, "the peer has no network stack here")
    if veth:
        say(f"{LIMIT}: network x{plan.net_reps}")
        net_limit(host, report, veth, dom0_netload, plan.net_reps, plan.net_seconds, say)
    disks = make_disks(host, plan.disk_mib)
    for p in peers:
        if p.kind in (XENOLITH, LINUX):
            say(f"{p.name}: disk x{plan.disk_reps}")
            disk_figures(host, report, p, disks, plan.disk_mib, plan.rand_ios, plan.disk_reps,
                         plan.boot_timeout, say, 1 if plan.quick_mode else 3)
        else:
            for key in DISK_FIGURES:
                report.not_measured(p.name, key, "the peer has no disk benchmark here")
    if veth:
        say(f"{LIMIT}: disk x{plan.disk_reps}")
        disk_limit(host, report, disks, dom0_diskload, plan.disk_mib, plan.rand_ios,
                   plan.disk_reps, say)
    host.check(f"rm -f {disks[1]}")  # the scratch image
    for p in peers:
        if p.kind in (XENOLITH, XENOLITH_TINY, LINUX):
            say(f"{p.name}: save, restore, migrate x{plan.suspend_reps}")
            suspend_figures(host, report, p, plan.suspend_reps, plan.boot_timeout,
                            not plan.quick_mode, say)
        else:
            for key in [*SUSPEND_FIGURES, *BIG.values()]:
                report.not_measured(p.name, key, "not tried: the peer may not answer the "
                                    "toolstack's suspend request")
    for p in peers:
        downtime_or_skip(host, report, p, dom0_netload, plan.suspend_reps, plan.boot_timeout,
                         plan.quick_mode, say)
    for p in peers:
        say(f"{p.name}: memory floor")
        floor_figure(host, report, p, plan.floor_step_mib, plan.boot_timeout, say)
        http_floor_step(host, report, p, opts)


def split_step(host: Host, report: Report, peer: Peer, opts: BenchOptions) -> None:
    """The boot with devices, split (xenlab/bench/devices.py); the quick mode: Xenolith only."""
    plan = opts.plan
    if peer.kind == XENOLITH_TINY:
        for key in SPLIT_FIGURES:
            report.not_measured(peer.name, key, "the tiny build has no drivers")
    elif plan.quick_mode and peer.kind != XENOLITH:
        for key in SPLIT_FIGURES:
            report.not_measured(peer.name, key, "skipped in the quick mode")
    else:
        say(f"{peer.name}: boot with a vif and a disk x{plan.split_reps}")
        disk = f"{session.STAGE}/split.img"
        host.check(f"dd if=/dev/zero of={disk} bs=1M count=0 seek=16 2>/dev/null")
        split_figures(host, report, peer, disk, plan.split_reps, plan.boot_timeout, say)
