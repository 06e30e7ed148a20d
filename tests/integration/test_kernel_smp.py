"""Several vCPUs (kernel/smp.c, kernel/arch/x86_32/smp_boot.c, smp_selftest.c),
judged from dom0 and from the kernel's own lines.

As dom0 with four vCPUs (Xen's dom0_max_vcpus=4-4 on the lab's one physical
CPU): `selftest=all` passes, the smp suites among them (IPI round trip on every
ordered pair, a locked counter over all vCPUs, each vCPU's timer, a port moved
between vCPUs, a vCPU down and up). As a domU with `vcpus = 4` in 8 MiB, in file
order: `xl vcpu-list` shows four vCPUs with CPU time after `bench smp`; `xl vcpu-set` 4 -> 1 -> 4
while dom0 pings (the kernel takes each secondary down with VCPUOP_down on itself
and back up with VCPUOP_up, and `cpus` and `xl vcpu-list` agree); then save and
restore: the secondaries come back (initialised again in the new domain) and the
IPI suite passes again.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, dom0_selftest_all, domu_shell

from xenlab import Host, Lab

GUEST = "xsmp"
GUEST_MIB = 8
GUEST_IP = "10.0.0.2"
VCPUS = 4
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
STEP_TIMEOUT = 300
SMP_SUITES = ("smp_ipi", "smp_lock", "smp_timer", "smp_evtchn", "smp_hotplug")


def test_dom0_selftest_all_with_four_vcpus(dom0_lab: Lab, kernel_elf: Path) -> None:
    text = dom0_selftest_all(dom0_lab, kernel_elf, vcpus=VCPUS)
    assert f"smp: {VCPUS} of {VCPUS} vCPUs online" in text
    for suite in SMP_SUITES:
        assert re.search(rf"^selftest {suite}: PASS", text, re.MULTILINE), suite


@pytest.fixture(scope="module")
def guest(xen_host: Host, kernel_elf: Path) -> Iterator[Shell]:
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",), drop_echo=True,
                    vcpus=VCPUS) as shell:
        yield shell


def vcpu_list(host: Host) -> dict[int, tuple[str, float]]:
    """`xl vcpu-list NAME`: vCPU -> (state, CPU seconds), for the vCPUs Xen lists."""
    out = host.check(f"xl vcpu-list {GUEST}")
    rows = {}
    for line in out.splitlines():
        f = line.split()
        if len(f) >= 6 and f[0] == GUEST and f[2].isdigit():
            rows[int(f[2])] = (f[4], float(f[5]))
    return rows


def cpus_states(shell: Shell) -> list[str]:
    return re.findall(r"^\s*\d+\s+(absent|offline|online|leaving|down)\s", shell.run("cpus"),
                      re.MULTILINE)


def wait_states(shell: Shell, want: list[str], what: str) -> None:
    deadline = time.monotonic() + COMMAND_TIMEOUT
    while (got := cpus_states(shell)) != want:
        assert time.monotonic() < deadline, f"{what}: `cpus` says {got}, want {want}"
        time.sleep(1)


def test_every_vcpu_runs(xen_host: Host, guest: Shell) -> None:
    assert f"smp: {VCPUS} of {VCPUS} vCPUs online" in guest.boot
    assert cpus_states(guest) == ["online"] * VCPUS
    verdict, detail = guest.selftest("smp_lock")
    assert verdict == "PASS", detail
    out = guest.run("bench smp", timeout=STEP_TIMEOUT)
    assert re.search(rf"bench smp: {VCPUS} vCPUs: \d+ rounds in \d+ ms", out), out
    assert len(re.findall(r"bench smp: ipi round trip 0 -> \d: mean \d+ us", out)) == VCPUS - 1
    rows = vcpu_list(xen_host)
    assert sorted(rows) == list(range(VCPUS)), rows
    assert all(state != "--p" and secs > 0 for state, secs in rows.values()), rows


@pytest.mark.timeout(3 * STEP_TIMEOUT)
def test_vcpu_set_down_and_up_while_pinging(xen_host: Host, guest: Shell) -> None:
    xen_host.check(f"ping -c 2 -W 5 {GUEST_IP}")
    xen_host.check(f"xl vcpu-set {GUEST} 1")
    wait_states(guest, ["online"] + ["down"] * (VCPUS - 1), "after vcpu-set 1")
    xen_host.check(f"ping -c 3 -W 5 {GUEST_IP}")
    rows = vcpu_list(xen_host)
    assert [rows[i][0] for i in range(1, VCPUS)] == ["--p"] * (VCPUS - 1), rows
    # --ignore-host: xl refuses more vCPUs than the host's physical CPUs (the lab has one).
    xen_host.check(f"xl vcpu-set --ignore-host {GUEST} {VCPUS}")
    wait_states(guest, ["online"] * VCPUS, f"after vcpu-set {VCPUS}")
    xen_host.check(f"ping -c 3 -W 5 {GUEST_IP}")
    verdict, detail = guest.selftest("smp_ipi")
    assert verdict == "PASS", detail


@pytest.mark.timeout(2 * STEP_TIMEOUT)
def test_save_and_restore_with_four_vcpus(xen_host: Host, guest: Shell) -> None:
    xen_host.check(f"xl save {GUEST} /run/{GUEST}.save", timeout=STEP_TIMEOUT)
    xen_host.check(f"xl restore -p /run/{GUEST}.save && rm /run/{GUEST}.save",
                   timeout=STEP_TIMEOUT)
    xen_host.attach_console(GUEST)
    xen_host.check(f"xl unpause {GUEST}")
    guest.console.expect([r"suspend: resumed in a new domain"], 120)
    wait_states(guest, ["online"] * VCPUS, "after restore")
    for suite in ("smp_ipi", "smp_timer"):
        verdict, detail = guest.selftest(suite)
        assert verdict == "PASS", f"{suite}: {detail}"
    xen_host.check(f"ping -c 3 -W 5 {GUEST_IP}")
    assert sorted(vcpu_list(xen_host)) == list(range(VCPUS))
