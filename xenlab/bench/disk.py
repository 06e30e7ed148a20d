"""Disk figures: sequential read and write in 1 MiB requests, 4 KiB random reads at queue
depth 1 and 32, for Xenolith (`blkbench`) and Linux (diskload, O_DIRECT).

One boot per peer with two disks, both files in dom0's tmpfs that the bench
itself made: `xvda`, sparse and read-only (the reads), and `xvdb`, a scratch
file of zeroes attached read-write (the writes; nothing else uses it, and it
is removed after the step). Xenolith's queue depth 32 comes from `blk bench`
(blkfront's asynchronous API); its other figures from `blkbench`.
"""

from __future__ import annotations

import re

from xenlab.bench import session
from xenlab.bench.diskload import parse_diskload
from xenlab.bench.peers import XENOLITH, XENOLITH_PROMPT, Peer
from xenlab.bench.report import Report
from xenlab.host import Host

BLKBENCH = re.compile(r"blkbench: \S+ (read|write) (\d+) MiB in (\d+) us")
BLKBENCH_RAND = re.compile(r"blkbench: \S+ randread (\d+) x 4 KiB in (\d+) us")
BLK_BENCH = re.compile(r"blk: bench \S+ rand read size 4096 qd (\d+): (\d+) requests, \d+ bytes "
                       r"in (\d+) us")
BYTES_PER_MIB, BYTES_PER_MB = 1 << 20, 10 ** 6
DISK_FIGURES = ("disk_seq_read", "disk_seq_write", "disk_rand_qd1", "disk_rand_qd32")
DEEP_QD = 32
DISKLOAD = "/usr/bin/diskload"


def make_disks(host: Host, mib: int) -> tuple[str, str]:
    """(read-only sparse image, scratch image) in dom0's STAGE folder, `mib` MiB each. The
    scratch image is written whole here: the first peer's writes must not be the ones that
    make tmpfs allocate its pages."""
    ro, scratch = f"{session.STAGE}/disk.img", f"{session.STAGE}/scratch.img"
    host.check(f"dd if=/dev/zero of={ro} bs=1M count=0 seek={mib} 2>/dev/null && "
               f"dd if=/dev/zero of={scratch} bs=1M count={mib} 2>/dev/null", timeout=120)
    return ro, scratch


def xenolith_run(host: Host, args: str, timeout: float) -> tuple[float, float] | None:
    """`blkbench ARGS`: (amount, seconds): MiB for read/write, I/Os for randread."""
    out = session.shell(host, f"blkbench {args}", re.escape(XENOLITH_PROMPT), timeout) or ""
    if m := BLKBENCH.search(out):
        return float(m.group(2)), int(m.group(3)) / 1e6
    if m := BLKBENCH_RAND.search(out):
        return float(m.group(1)), int(m.group(2)) / 1e6
    return None


def xenolith_async(host: Host, qd: int, seconds: int, timeout: float) -> tuple[float, float] | None:
    """`blk bench xvda rand read 4096 QD SECONDS` (blkfront's asynchronous API, QD requests
    in flight): (I/Os, seconds)."""
    out = session.shell(host, f"blk bench xvda rand read 4096 {qd} {seconds}",
                        re.escape(XENOLITH_PROMPT), timeout + seconds) or ""
    m = BLK_BENCH.search(out)
    return (float(m.group(2)), int(m.group(3)) / 1e6) if m else None


def linux_run(host: Host, args: str, timeout: float) -> tuple[float, float] | None:
    """`diskload ARGS` on the Linux peer's console: (MiB or I/Os, seconds)."""
    # The marker is made by the shell, so the command's own echo does not match it.
    out = session.shell(host, f"{DISKLOAD} {args}; echo diskload-$((40+2))-done",
                        r"diskload-42-done", timeout) or ""
    run = parse_diskload(out)
    if run is None:
        return None
    amount = run.ios if run.kind == "randread" else run.bytes / BYTES_PER_MIB
    return amount, run.seconds


def disk_figures(host: Host, report: Report, peer: Peer, disks: tuple[str, str], mib: int,
                 ios: int, reps: int, timeout: float, progress: session.Say,
                 async_seconds: int = 3) -> None:
    ro, scratch = disks
    b = session.boot(host, peer, f"d-{peer.name}", timeout + 60,
                     disks=(f"file:{ro},xvda,r", f"file:{scratch},xvdb,w"))
    if b.seconds is None:
        for key in DISK_FIGURES:
            report.not_measured(peer.name, key, f"the guest did not boot with disks: {b.error}")
        return
    xen = peer.kind == XENOLITH
    runs = {  # figure -> (command arguments, rate: MB/s from MiB, or I/Os per second)
        "disk_seq_read": ("xvda" if xen else "/dev/xvda read", mib),
        "disk_seq_write": ("xvdb write" if xen else "/dev/xvdb write", mib),
        "disk_rand_qd1": ("xvda randread" if xen else "/dev/xvda randread", ios),
    }
    if not xen:
        runs["disk_rand_qd32"] = ("/dev/xvda randread", ios)
    rates: dict[str, list[float]] = {key: [] for key in runs}
    deep: dict[int, list[float]] = {1: [], DEEP_QD: []}  # Xenolith's blk bench, by queue depth
    for i in range(reps):
        for qd in deep if xen else ():
            got = xenolith_async(host, qd, async_seconds, timeout)
            if got is None or got[1] <= 0:
                progress(f"{peer.name}: blk bench qd {qd} {i + 1}/{reps}: no figure")
                continue
            deep[qd].append(got[0] / got[1])
            progress(f"{peer.name}: blk bench rand read qd {qd} {i + 1}/{reps}: "
                     f"{deep[qd][-1]:.0f} IOPS")
        for key, (args, n) in runs.items():
            qd = DEEP_QD if key == "disk_rand_qd32" else 1
            full = f"{args} {n}" + (f" {qd}" if not xen and "randread" in args else "")
            got = xenolith_run(host, full, timeout) if xen else linux_run(host, full, timeout)
            if got is None or got[1] <= 0:
                progress(f"{peer.name}: {key} {i + 1}/{reps}: no figure")
                continue
            amount, secs = got
            rate = amount * BYTES_PER_MIB / BYTES_PER_MB / secs if key.startswith("disk_seq") \
                else amount / secs
            rates[key].append(rate)
            progress(f"{peer.name}: {key} {i + 1}/{reps}: {rate:.1f}")
    session.destroy(host, b.name)
    how = ("blkbench (Xen system time)" if xen else
           "diskload, O_DIRECT, CLOCK_MONOTONIC; random reads through native AIO")
    where = f"{mib} MiB files in dom0's tmpfs through blkback (loop)"
    notes = {"disk_seq_read": f"{where}, xvda sparse, read-only; {how}",
             "disk_seq_write": f"{where}, xvdb a scratch image of zeroes; no cache flush; "
                               f"{how}",
             "disk_rand_qd1": f"{ios} reads at fixed-seed random 4 KiB places of xvda; {how}",
             "disk_rand_qd32": f"{ios} reads, {DEEP_QD} in flight; {how}"}
    for key, values in rates.items():
        report.measured(peer.name, key, values, notes[key])
    if xen:
        qd1 = f"{sorted(deep[1])[len(deep[1]) // 2]:.0f}" if deep[1] else "n/a"
        report.measured(peer.name, "disk_rand_qd32", deep[DEEP_QD],
                        f"`blk bench xvda rand read 4096 {DEEP_QD} {async_seconds}` (blkfront's "
                        f"asynchronous API, {DEEP_QD} requests in flight, Xen system time); the "
                        f"same at queue depth 1: {qd1} IOPS (median), against blkbench's "
                        f"synchronous calls in disk_rand_qd1")
