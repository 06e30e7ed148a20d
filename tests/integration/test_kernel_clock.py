"""The guest's clock against the clock of the machine running QEMU (kernel/xen/time.c).

dom0's clock is no reference (it is a PV guest's clock too), so every sample of the
guest's `uptime` is bracketed by this process's own monotonic clock: the guest read
its clock after the command was sent and before its answer came back. From that:
the clock never goes back, never steps further than this machine's clock moved
(`uptime` prints milliseconds: 1 ms of slack, and the rate tolerance), never stands
still while this machine's clock moves, and runs at this machine's rate within 5%.
Each of several boots takes SAMPLES samples over about WATCH_S seconds; the boot's
own banner-to-shell figure and `bench mmu` are never 0.
"""

from __future__ import annotations

import itertools
import re
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from kshell import Shell, domu_shell

from xenlab import Host

BOOTS = 10
SAMPLES = 200
WATCH_S = 10.0
RATE_TOLERANCE = 0.05
PRINT_SLACK_S = 0.002  # uptime prints whole ms; one on each side
BOOT_TIMEOUT = 120


@dataclass(frozen=True)
class Sample:
    sent: float   # this machine's monotonic clock when the command went out
    guest: float  # the guest's uptime, seconds
    back: float   # this machine's clock when the answer was in


def uptime(shell: Shell) -> Sample:
    sent = time.monotonic()
    out = shell.run("uptime")
    back = time.monotonic()
    m = re.search(r"up (\d+)\.(\d{3}) s", out)
    assert m, f"no uptime in {out!r}; log {shell.log}"
    return Sample(sent, int(m.group(1)) + int(m.group(2)) / 1000, back)


def clock_faults(samples: list[Sample]) -> list[str]:
    """Every way the guest's clock disagrees with this machine's, one line each."""
    faults = []
    for i, (a, b) in enumerate(itertools.pairwise(samples)):
        moved = b.guest - a.guest
        most = (b.back - a.sent) * (1 + RATE_TOLERANCE) + PRINT_SLACK_S
        least = (b.sent - a.back) * (1 - RATE_TOLERANCE) - PRINT_SLACK_S
        if moved < 0:
            faults.append(f"sample {i + 1}: went back {-moved * 1000:.0f} ms")
        elif moved > most:
            faults.append(f"sample {i + 1}: stepped {moved * 1000:.0f} ms while this machine's "
                          f"clock moved at most {most * 1000:.0f} ms")
        elif moved < least:
            faults.append(f"sample {i + 1}: moved {moved * 1000:.0f} ms while this machine's "
                          f"clock moved at least {least * 1000:.0f} ms")
    first, last = samples[0], samples[-1]
    host_span = (last.sent + last.back - first.sent - first.back) / 2
    rate = (last.guest - first.guest) / host_span
    if abs(rate - 1) > RATE_TOLERANCE:
        faults.append(f"rate {rate:.3f} of this machine's over {host_span:.1f} s")
    return faults


def figure(pattern: str, text: str) -> float:
    m = re.search(pattern, text)
    assert m, f"no {pattern!r} in:\n{text}"
    return float(m.group(1))


@pytest.mark.timeout(BOOTS * 120)
def test_clock_follows_this_machine(xen_host: Host, kernel_elf: Path) -> None:
    pause = WATCH_S / SAMPLES
    report = []
    for boot in range(BOOTS):
        with domu_shell(xen_host, kernel_elf, f"clock{boot}", 16, BOOT_TIMEOUT,
                        drop_echo=True) as shell:
            banner = figure(r"boot: banner to shell in ([0-9.]+) ms", shell.boot)
            samples = []
            for _ in range(SAMPLES):
                samples.append(uptime(shell))
                time.sleep(pause)
            faults = clock_faults(samples)
            if boot == 0:
                bench = shell.run("bench mmu", timeout=300)
                times = [float(t) for t in re.findall(r"hypercalls, (\d+) us", bench)]
                assert len(times) == 2 and min(times) > 0, f"bench mmu: {bench}"
            report.append(f"boot {boot}: banner to shell {banner} ms; "
                          f"{len(faults)} faults{': ' if faults else ''}{'; '.join(faults[:5])}")
            assert banner > 0, report[-1]
    assert all(" 0 faults" in line for line in report), "\n".join(report)
