"""Save, restore and migration figures: `xl save`, `xl restore` and `xl migrate -s '' NAME
'xl migrate-receive'` (to this host: an empty ssh command runs the "host" argument), each
timed from dom0 around the command, at the peer's bench size and at 256 MiB; and the ping
downtime of a migration: `netload gap` (ICMP echo every reply + up to 20 ms) runs in dom0
while a guest with a vif migrates, and reports the longest time without a reply.
"""

from __future__ import annotations

import time

from xenlab.bench import session
from xenlab.bench.netload import parse_gap
from xenlab.bench.peers import LINUX, XENOLITH, Peer
from xenlab.bench.report import Report
from xenlab.errors import LabError
from xenlab.host import Host

SUSPEND_FIGURES = ("save", "restore", "migrate")
BIG_MIB = 256
BIG = {key: f"{key}_{BIG_MIB}" for key in SUSPEND_FIGURES}
MIGRATE = "xl migrate -s '' {name} 'xl migrate-receive'"
GAP_SETTLE = 1  # seconds of pings before and after the migration


def timed(host: Host, command: str, timeout: float) -> float:
    start = time.monotonic()
    host.check(command, timeout=timeout)
    return time.monotonic() - start


def suspend_times(host: Host, peer: Peer, mib: int, reps: int, timeout: float,
                  progress: session.Say) -> dict[str, list[float]] | str:
    """{figure: seconds per repetition} of one booted guest without devices at `mib` MiB,
    or why there are none."""
    b = session.boot(host, peer, f"s-{peer.name}", timeout, memory_mib=mib)
    if b.seconds is None:
        return f"the guest did not boot at {mib} MiB: {b.error}"
    got: dict[str, list[float]] = {key: [] for key in SUSPEND_FIGURES}
    image = f"{session.STAGE}/{b.name}.save"
    try:
        for i in range(reps):
            got["save"].append(timed(host, f"xl save {b.name} {image}", timeout))
            got["restore"].append(timed(host, f"xl restore {image} && rm {image}", timeout))
            got["migrate"].append(timed(host, MIGRATE.format(name=b.name), timeout))
            progress(f"{peer.name} ({mib} MiB): save {got['save'][-1]:.1f} s, restore "
                     f"{got['restore'][-1]:.1f} s, migrate {got['migrate'][-1]:.1f} s "
                     f"({i + 1}/{reps})")
    except LabError as exc:
        progress(f"{peer.name}: suspend figures stopped: {str(exc).splitlines()[0]}")
    host.dom0(f"rm -f {image}")
    session.destroy(host, b.name)
    return got


def record(report: Report, peer: Peer, keys: dict[str, str], got: dict[str, list[float]] | str,
           note: str) -> None:
    for key, figure in keys.items():
        if isinstance(got, str):
            report.not_measured(peer.name, figure, got)
        elif got[key]:
            report.measured(peer.name, figure, got[key], note)
        else:
            report.not_measured(peer.name, figure, "the toolstack refused it (see the progress "
                                "lines)")


def suspend_figures(host: Host, report: Report, peer: Peer, reps: int, timeout: float,
                    big: bool, progress: session.Say) -> None:
    """At the bench size and (`big`) at BIG_MIB; Linux's bench size is BIG_MIB already, and
    below it Linux does not boot, so its runs count for both."""
    same = {key: key for key in SUSPEND_FIGURES}
    got = suspend_times(host, peer, peer.memory_mib, reps, timeout, progress)
    record(report, peer, same, got, f"{peer.memory_mib} MiB, no devices")
    if peer.memory_mib == BIG_MIB:
        record(report, peer, BIG, got, f"{BIG_MIB} MiB, no devices (the same runs as "
               f"{', '.join(SUSPEND_FIGURES)}: the peer's bench size)")
    elif big:
        record(report, peer, BIG, suspend_times(host, peer, BIG_MIB, reps, timeout, progress),
               f"{BIG_MIB} MiB, no devices")
    else:
        record(report, peer, BIG, "skipped in the quick mode", "")


def downtime_figure(host: Host, report: Report, peer: Peer, netload: str, reps: int,
                    timeout: float, progress: session.Say) -> None:
    """Ping downtime of `xl migrate` of a guest with a vif, at its bench size."""
    assert peer.ip
    cmdline = f"ip={peer.ip}/24" if peer.kind == XENOLITH else None
    gaps: list[float] = []
    notes = []
    for i in range(reps):
        b = session.boot(host, peer, f"g-{peer.name}", timeout + 60, cmdline=cmdline,
                         vifs=("xenbr0",))
        if b.seconds is None:
            progress(f"{peer.name}: downtime {i + 1}/{reps}: no boot: {b.error}")
            continue
        host.dom0(f"ping -c 3 -W 2 {peer.ip} >/dev/null", timeout=60)
        out = f"{session.STAGE}/gap.out"
        res = host.dom0(f"{netload} gap {peer.ip} 600 >{out} 2>&1 & p=$!; sleep {GAP_SETTLE}; "
                        f"{MIGRATE.format(name=b.name)}; rc=$?; sleep {GAP_SETTLE}; "
                        f"kill -INT $p; wait $p; cat {out}; exit $rc", timeout=timeout)
        session.destroy(host, b.name)
        got = parse_gap(res.output)
        if res.status or got is None:
            progress(f"{peer.name}: downtime {i + 1}/{reps}: no figure ({res.output.strip()[-200:]})")
            continue
        gaps.append(got[0])
        notes.append(f"{got[1]} replies, {got[2]} lost")
        progress(f"{peer.name}: downtime {i + 1}/{reps}: {got[0]:.0f} ms")
    report.measured(peer.name, "migrate_downtime", gaps, f"{peer.memory_mib} MiB with a vif; "
                    f"longest time between ICMP echo replies in dom0 (one in flight, 20 ms "
                    f"timeout) across xl migrate to this host: {'; '.join(notes)}")


def downtime_or_skip(host: Host, report: Report, peer: Peer, netload: str, reps: int,
                     timeout: float, quick: bool, progress: session.Say) -> None:
    if not peer.ip:
        report.not_measured(peer.name, "migrate_downtime", "the peer has no network stack here")
    elif quick and peer.kind == LINUX:
        report.not_measured(peer.name, "migrate_downtime", "skipped in the quick mode")
    else:
        progress(f"{peer.name}: ping downtime of a migration x{reps}")
        downtime_figure(host, report, peer, netload, reps, timeout, progress)
