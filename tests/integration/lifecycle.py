"""One guest's life cycle, judged as an admin would after each save, restore or migration.

`check_carries_on` (after every step): dom0's ping answered, the shell answers, data
written before is read back and data written now lands in the image (read by dom0),
every device Connected, `uptime` moved forward, the threads still there, grants and free
pages where they were before the first suspend (`Baseline`).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from kshell import SECTOR, Shell, resource_counts

from xenlab import Host

THREADS = ("main", "idle", "xenstore", "control", "balloon", "net", "blk-xvda")


@dataclass
class Baseline:
    """What a guest must come back to after each step: its name and address, uptime (moves
    on), grants in use and free pages (as before the first suspend), steps taken."""

    name: str
    ip: str
    uptime: float
    grants_in_use: int
    free_pages: int
    steps: int = 0


def uptime(shell: Shell) -> float:
    m = re.search(r"up (\d+)\.(\d{3}) s", shell.run("uptime"))
    assert m
    return int(m.group(1)) + int(m.group(2)) / 1000


def sector_text(host: Host, name: str, sector: int) -> bytes:
    """Sector `sector` of guest `name`'s first disk as dom0 reads it (trailing zeros cut)."""
    out = host.check(f"dd if=/run/xenlab/disks/{name}.disk0 bs={SECTOR} skip={sector} "
                     "count=1 2>/dev/null | od -An -tx1 -v")
    return bytes.fromhex("".join(out.split())).rstrip(b"\0")


def check_carries_on(host: Host, shell: Shell, base: Baseline, what: str) -> None:
    """Everything an admin would look at after one save/restore/migration."""
    base.steps += 1
    sector = 100 + base.steps
    res = host.dom0(f"ping -c 3 -W 5 {base.ip}", timeout=90)
    assert res.status == 0, f"after {what}: dom0's ping not answered:\n{res.output}"
    shell.alive()
    out = shell.run("blk read xvda 7")
    assert 'blk: text "written-before-any-suspend"' in out, f"after {what}: {out}"
    out = shell.run(f"blk write xvda {sector} {what.replace(' ', '-')}")
    assert "blk: wrote" in out, f"after {what}: {out}"
    assert sector_text(host, base.name, sector) == what.replace(" ", "-").encode(), what
    domid = host.domid(base.name)
    states = host.check(f"xenstore-ls /local/domain/{domid}/device")
    found = re.findall(r"^\s+state = \"(\d+)\"", states, re.MULTILINE)
    assert found == ["4", "4"], f"after {what}: device states {found}:\n{states}"
    now = uptime(shell)
    assert now > base.uptime, f"after {what}: uptime {now} not past {base.uptime}"
    base.uptime = now
    threads = shell.run("threads")
    for name in THREADS:
        assert re.search(rf"^\s*\d+\s+{name}\s", threads, re.MULTILINE), f"{name}:\n{threads}"
    assert resource_counts(shell) == (base.grants_in_use, base.free_pages), \
        f"after {what}: grants in use / free pages {resource_counts(shell)}, before the first " \
        f"suspend {(base.grants_in_use, base.free_pages)}"


def first_baseline(host: Host, shell: Shell, name: str, ip: str) -> Baseline:
    """Before the first suspend: a sector written, every check run once (so the heap has
    grown to what they need), the counts to come back to."""
    out = shell.run("blk write xvda 7 written-before-any-suspend")
    assert "blk: wrote" in out, out
    base = Baseline(name, ip, uptime(shell), *resource_counts(shell))
    check_carries_on(host, shell, base, "boot")
    base.grants_in_use, base.free_pages = resource_counts(shell)
    return base
