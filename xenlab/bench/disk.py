"""Disk figures: sequential read and write in 1 MiB requests, 4 KiB random reads at queue
depth 1 and 32, for Xenolith (`blk bench`, on blkfront's asynchronous API) and Linux
(diskload, O_DIRECT).

One boot per peer with two disks, both files in dom0's tmpfs that the bench
itself made: `xvda`, sparse and read-only (the reads), and `xvdb`, a scratch
file of zeroes attached read-write (the writes; nothing else uses it, and it
is removed after the step). Xenolith's runs last a time (`blk bench ... SECONDS`),
Linux's an amount; both give a rate.
"""

from __future__ import annotations

import re

from xenlab.bench import session
from xenlab.bench.diskload import parse_diskload
from xenlab.bench.peers import XENOLITH, XENOLITH_PROMPT, Peer
from xenlab.bench.report import Report
from xenlab.host import Host

BLK_BENCH = re.compile(r"blk: bench \S+ (?:seq|rand) (?:read|write) size \d+ qd \d+: (\d+) "
                       r"requests, (\d+) bytes in (\d+) us")
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


def xenolith_run(host: Host, args: str, seconds: int, timeout: float) -> tuple[int, int, float] | None:
    """`blk bench ARGS SECONDS` (DEV seq|rand read|write SIZE QD): (requests, bytes, seconds)."""
    out = session.shell(host, f"blk bench {args} {seconds}", re.escape(XENOLITH_PROMPT),
                        timeout + seconds) or ""
    m = BLK_BENCH.search(out)
    return (int(m.group(1)), int(m.group(2)), int(m.group(3)) / 1e6) if m else None


def disk_runs(ro: str, scratch: str, mib: int, ios: int) -> dict[str, tuple[str, str]]:
    """figure -> (Xenolith's `blk bench` arguments, diskload's arguments), for the read-only
    disk `ro` and the scratch disk `scratch` (Xenolith's names are always xvda, xvdb)."""
    return {
        "disk_seq_read": ("xvda seq read 1m 1", f"{ro} read {mib}"),
        "disk_seq_write": ("xvdb seq write 1m 1", f"{scratch} write {mib}"),
        "disk_rand_qd1": ("xvda rand read 4k 1", f"{ro} randread {ios} 1"),
        "disk_rand_qd32": (f"xvda rand read 4k {DEEP_QD}", f"{ro} randread {ios} {DEEP_QD}"),
    }


def linux_rate(key: str, output: str) -> float | None:
    """The figure `key` (MB/s or IOPS) from diskload's output, None if it printed none."""
    run = parse_diskload(output)
    if run is None:
        return None
    if key.startswith("disk_seq"):
        return run.bytes / BYTES_PER_MB / run.seconds
    return run.ios / run.seconds


def linux_run(host: Host, key: str, args: str, timeout: float) -> float | None:
    """`diskload ARGS` on the Linux peer's console: the figure `key`."""
    # The marker is made by the shell, so the command's own echo does not match it.
    out = session.shell(host, f"{DISKLOAD} {args}; echo diskload-$((40+2))-done",
                        r"diskload-42-done", timeout) or ""
    return linux_rate(key, out)


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
    runs = disk_runs("/dev/xvda", "/dev/xvdb", mib, ios)
    rates: dict[str, list[float]] = {key: [] for key in runs}
    for i in range(reps):
        for key, (xen_args, linux_args) in runs.items():
            rate = None
            if xen:
                got = xenolith_run(host, xen_args, async_seconds, timeout)
                if got and got[2] > 0:
                    requests, nbytes, secs = got
                    rate = nbytes / BYTES_PER_MB / secs if key.startswith("disk_seq") \
                        else requests / secs
            else:
                rate = linux_run(host, key, linux_args, timeout)
            if rate is None:
                progress(f"{peer.name}: {key} {i + 1}/{reps}: no figure")
                continue
            rates[key].append(rate)
            progress(f"{peer.name}: {key} {i + 1}/{reps}: {rate:.1f}")
    session.destroy(host, b.name)
    how = (f"`blk bench` for {async_seconds} s each (blkfront's asynchronous API, Xen system "
           "time)" if xen else
           "diskload, O_DIRECT, CLOCK_MONOTONIC; random reads through native AIO")
    where = f"{mib} MiB files in dom0's tmpfs through blkback (loop)"
    notes = {"disk_seq_read": f"{where}, xvda sparse, read-only; {how}",
             "disk_seq_write": f"{where}, xvdb a scratch image of zeroes; no cache flush; "
                               f"{how}",
             "disk_rand_qd1": f"random 4 KiB places of xvda, one in flight; {how}",
             "disk_rand_qd32": f"random 4 KiB places of xvda, {DEEP_QD} in flight; {how}"}
    for key, values in rates.items():
        report.measured(peer.name, key, values, notes[key])
