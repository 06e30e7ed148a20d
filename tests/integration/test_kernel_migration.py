"""Save, restore and live migration, as OSSTest runs them on every PV guest
(kernel/xen/suspend.c, control.c, p2m.c; the frontends' suspend steps).

One guest with a vif and a disk, in file order: save/restore twice, `xl migrate`
to this host ten times in a row (`xl migrate -s '' NAME 'xl migrate-receive'`:
an empty ssh command runs the "host" argument), `xl save -c` (a checkpoint: the
guest carries on in the same domain), then `xl mem-set` and a migration (the
published p2m follows the balloon). After every step, judged from dom0: ping
answered, a TCP connection dom0 opened to the echo service before the first
suspend still carries data both ways, the shell answers, data written before is
read back and data written now lands in the image, every device Connected,
`uptime` moved forward, the threads still there, grants and free pages where
they were before the first suspend.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import SECTOR, Shell, domain_mib, domu_shell, make_image, resource_counts
from lifecycle import Baseline, check_carries_on, first_baseline

from xenlab import Host

GUEST = "xmigrate"
GUEST_MIB = 32
GUEST_IP = "10.0.0.2"
SECTORS = 2048
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
STEP_TIMEOUT = 300
MIGRATIONS = 10
# dom0's end of the TCP connection: busybox nc reading a fifo that a sleeping
# writer holds open, so each `echo > fifo` is one more line sent, and the
# connection stays up between steps.
TCP_IN, TCP_OUT = "/run/xenlab/tcp-echo.in", "/run/xenlab/tcp-echo.out"
TCP_PIDS = "/run/xenlab/tcp-echo.pids"
TCP_ECHO_TIMEOUT_S = 30  # retransmission after a resume backs off: a few seconds


@pytest.fixture(scope="module")
def guest(xen_host: Host, kernel_elf: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    image = make_image(tmp_path_factory.mktemp("mig") / "disk.img", b"migration", SECTORS)
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",), disks=((image, "w"),),
                    drop_echo=True) as shell:
        yield shell


def tcp_echo_carries_on(host: Host, what: str) -> None:
    """One more line through the connection; it must come back."""
    line = f"through-{what.replace(' ', '-')}"
    host.check(f"echo {line} > {TCP_IN}")
    deadline = time.monotonic() + TCP_ECHO_TIMEOUT_S
    while line not in host.check(f"cat {TCP_OUT}"):
        assert time.monotonic() < deadline, \
            f"after {what}: the TCP connection did not echo {line!r}: " \
            f"{host.check(f'cat {TCP_OUT}; ps')!r}"
        time.sleep(1)


@pytest.fixture(scope="module")
def baseline(xen_host: Host, guest: Shell) -> Iterator[Baseline]:
    """Before the first suspend: a sector written, every check run once (so the heap has
    grown to what they need), the counts to come back to."""
    base = first_baseline(xen_host, guest, GUEST, GUEST_IP)
    xen_host.check(f"rm -f {TCP_IN} {TCP_OUT}; mkfifo {TCP_IN}; "
                   f"(sleep 100000 > {TCP_IN} & echo $! > {TCP_PIDS}); "
                   f"(nc {GUEST_IP} 7 < {TCP_IN} > {TCP_OUT} 2>&1 & echo $! >> {TCP_PIDS})")
    tcp_echo_carries_on(xen_host, "open")
    assert re.search(rf"tcp {GUEST_IP}:7 10\.0\.0\.1:\d+ ESTABLISHED", guest.run("net"))
    base.grants_in_use, base.free_pages = resource_counts(guest)
    yield base
    xen_host.dom0(f"kill $(cat {TCP_PIDS}); rm -f {TCP_IN} {TCP_OUT} {TCP_PIDS}")


def carries_on(host: Host, shell: Shell, base: Baseline, what: str) -> None:
    """lifecycle.check_carries_on, and dom0's TCP connection to the echo port still echoes."""
    tcp_echo_carries_on(host, what)
    check_carries_on(host, shell, base, what)


def test_feature_suspend_and_p2m_published(xen_host: Host, guest: Shell,
                                           baseline: Baseline) -> None:
    domid = xen_host.domid(GUEST)
    assert xen_host.check(f"xenstore-read /local/domain/{domid}/control/feature-suspend"
                          ).strip() == "1"
    pages = re.search(r"start_info: \S+, (\d+) pages", guest.boot)
    assert pages, guest.boot
    assert f"suspend: p2m published for the toolstack ({pages.group(1)} entries)" in guest.boot


@pytest.mark.timeout(2 * STEP_TIMEOUT)
def test_save_and_restore_twice(xen_host: Host, guest: Shell, baseline: Baseline) -> None:
    for i in range(2):
        xen_host.check(f"xl save {GUEST} /run/{GUEST}.save", timeout=STEP_TIMEOUT)
        xen_host.check(f"xl restore -p /run/{GUEST}.save && rm /run/{GUEST}.save",
                       timeout=STEP_TIMEOUT)
        xen_host.attach_console(GUEST)
        xen_host.check(f"xl unpause {GUEST}")
        guest.console.expect([r"suspend: resumed in a new domain"], 120)
        carries_on(xen_host, guest, baseline, f"restore {i + 1}")


@pytest.mark.timeout(MIGRATIONS * STEP_TIMEOUT)
def test_migrate_ten_times_in_a_row(xen_host: Host, guest: Shell, baseline: Baseline) -> None:
    for i in range(MIGRATIONS):
        xen_host.check(f"xl migrate -s '' {GUEST} 'xl migrate-receive'", timeout=STEP_TIMEOUT)
        xen_host.attach_console(GUEST)
        carries_on(xen_host, guest, baseline, f"migration {i + 1}")


def test_checkpoint_carries_on_in_the_same_domain(xen_host: Host, guest: Shell,
                                                  baseline: Baseline) -> None:
    domid = xen_host.domid(GUEST)
    xen_host.check(f"xl save -c {GUEST} /run/{GUEST}.ckpt && rm /run/{GUEST}.ckpt",
                   timeout=STEP_TIMEOUT)
    guest.console.expect([r"suspend: resumed in the same domain"], 60)
    assert xen_host.domid(GUEST) == domid
    carries_on(xen_host, guest, baseline, "checkpoint")


def test_mem_set_then_migrate(xen_host: Host, guest: Shell, baseline: Baseline) -> None:
    smaller = domain_mib(xen_host, GUEST_MIB) - 8
    xen_host.check(f"xl mem-set {GUEST} {smaller}")
    guest.console.expect([rf"balloon: memory/target {smaller * 1024} KiB: reservation"], 60)
    xen_host.check(f"xl migrate -s '' {GUEST} 'xl migrate-receive'", timeout=STEP_TIMEOUT)
    xen_host.attach_console(GUEST)
    out = xen_host.check(f"xl list {GUEST}")
    assert int(out.strip().splitlines()[-1].split()[2]) == smaller, out
    baseline.free_pages = resource_counts(guest)[1]  # the balloon took pages: a new reference
    carries_on(xen_host, guest, baseline, "migration after mem-set")


WRITER_FIRST, WRITER_COUNT = 200, 1500
PING_INTERVAL_S = 0.2


def test_migrate_while_writing(xen_host: Host, guest: Shell, baseline: Baseline) -> None:
    """A background writer runs through a migration while dom0 pings the guest: every write
    lands, once, in place, and the pings are answered again (the downtime is printed)."""
    out = guest.run(f"blkwriter xvda {WRITER_FIRST} {WRITER_COUNT}")
    assert "blkwriter: writing" in out, out
    pings = "/run/xenlab/migration-ping.log"
    xen_host.check(f"(ping -i {PING_INTERVAL_S} {GUEST_IP} >{pings} 2>&1 &)")
    xen_host.check(f"xl migrate -s '' {GUEST} 'xl migrate-receive'", timeout=STEP_TIMEOUT)
    xen_host.attach_console(GUEST)
    time.sleep(2)
    xen_host.dom0("killall -INT ping")
    summary = re.search(r"(\d+) packets transmitted, (\d+) packets received",
                        xen_host.check(f"sleep 1; cat {pings}"))
    assert summary, "dom0's ping printed no summary"
    sent, answered = int(summary.group(1)), int(summary.group(2))
    assert answered > 0 and sent - answered < sent, f"ping during the migration: {summary[0]}"
    print(f"migration while writing: {sent} pings, {answered} answered: downtime about "
          f"{(sent - answered) * PING_INTERVAL_S:.1f} s")
    deadline = time.monotonic() + STEP_TIMEOUT
    status = guest.run("blkwriter")
    while "running" in status and time.monotonic() < deadline:
        time.sleep(2)
        status = guest.run("blkwriter")
    status = guest.run("blkwriter")  # the writer has ended: this joins it (its stack freed)
    assert f"{WRITER_COUNT} of {WRITER_COUNT} written, 0 errors" in status and "done" in status, \
        status
    found = xen_host.check(
        f"dd if=/run/xenlab/disks/{GUEST}.disk0 bs={SECTOR} skip={WRITER_FIRST} "
        f"count={WRITER_COUNT} 2>/dev/null | tr -d '\\000' | grep -o 'blkwriter sector [0-9]*'")
    sectors = [int(line.split()[-1]) for line in found.split()[2::3]]
    want = list(range(WRITER_FIRST, WRITER_FIRST + WRITER_COUNT))
    wrong = [(want[i] if i < len(want) else None, got) for i, got in enumerate(sectors)
             if i >= len(want) or got != want[i]]
    assert sectors == want, f"{len(sectors)} sectors found, {len(want)} written; " \
                            f"first misplaced (wanted, found): {wrong[:5]}"
    carries_on(xen_host, guest, baseline, "migration while writing")
