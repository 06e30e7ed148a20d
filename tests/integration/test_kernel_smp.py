"""Several vCPUs (kernel/smp.c, kernel/arch/x86_32/smp_boot.c, smp_selftest.c),
judged from dom0 and from the kernel's own lines.

As dom0 with four vCPUs (Xen's dom0_max_vcpus=4-4 on the lab's one physical
CPU), and as a domU with four vCPUs, a vif and a disk: `selftest=all` passes, the smp suites among them (IPI round trip on every
ordered pair, a locked counter over all vCPUs, each vCPU's timer, a port moved
between vCPUs, a vCPU down and up, threads on every vCPU under the kernel
lock, a thread moved between vCPUs, a wake-up across vCPUs, a thread that runs
while a program loops in ring 3 on vCPU 0). As a domU with `vcpus = 4` in 8 MiB, in file
order: `xl vcpu-list` shows four vCPUs with CPU time after `bench smp`; `xl vcpu-set` 4 -> 1 -> 4
while dom0 pings (the kernel takes each secondary down with VCPUOP_down on itself
and back up with VCPUOP_up, and `cpus` and `xl vcpu-list` agree); then save and
restore, three migrations and a checkpoint (`xl save -c`), with a vif and a disk:
the secondaries come back (initialised again in a new domain, VCPUOP_up in the
same one), the IPI suite passes again, dom0's ping is answered, the disk reads.
Through the PV shim: the smp suites pass with four vCPUs.
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, dom0_selftest_all, domu_selftest_all, domu_shell, make_image

from xenlab import ExitReason, GuestSpec, Host, Lab
from xenlab.host import SHIM_MIB
from xenlab.selftest_results import suite_results

GUEST = "xsmp"
GUEST_MIB = 8
GUEST_IP = "10.0.0.2"
VCPUS = 4
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
STEP_TIMEOUT = 300
SMP_SUITES = ("smp_ipi", "smp_lock", "smp_timer", "smp_evtchn", "smp_hotplug", "smp_threads",
              "smp_move", "smp_wake", "smp_ring3")
SECTORS = 2048
MIGRATIONS = 3


def test_dom0_selftest_all_with_four_vcpus(dom0_lab: Lab, kernel_elf: Path) -> None:
    text = dom0_selftest_all(dom0_lab, kernel_elf, vcpus=VCPUS)
    assert f"smp: {VCPUS} of {VCPUS} vCPUs online" in text
    for suite in SMP_SUITES:
        assert re.search(rf"^selftest {suite}: PASS", text, re.MULTILINE), suite


def test_domu_selftest_all_with_four_vcpus(xen_host: Host, kernel_elf: Path,
                                            tmp_path: Path) -> None:
    image = make_image(tmp_path / "disk.img", b"smp-disk", SECTORS)
    text = domu_selftest_all(xen_host, kernel_elf, f"{GUEST}-all", 64,
                             cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",),
                             disks=((image, "w"),), vcpus=VCPUS)
    for suite in SMP_SUITES:
        assert re.search(rf"^selftest {suite}: PASS", text, re.MULTILINE), suite


def test_smp_suites_through_the_shim(xen_host: Host, kernel_elf: Path) -> None:
    """The PV shim (a stock host's only way to run a 32-bit PV guest) with four vCPUs:
    its Xen starts and stops them for the guest."""
    guest = xen_host.create(GuestSpec(kernel=kernel_elf, name=f"{GUEST}-shim",
                                      memory_mib=GUEST_MIB + SHIM_MIB, shim=True, vcpus=VCPUS,
                                      cmdline=f"selftest={','.join(SMP_SUITES)}"))
    try:
        guest.console.expect([r"selftest summary: .*"], BOOT_TIMEOUT)
        text = guest.console.before + guest.console.child.match.group(0)
        results = suite_results(text)
        assert all(results[s].verdict == "PASS" for s in SMP_SUITES), (results, xen_host.log)
        assert guest.wait_shutdown(60) is ExitReason.POWEROFF
    finally:
        guest.destroy()


@pytest.fixture(scope="module")
def guest(xen_host: Host, kernel_elf: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    image = make_image(tmp_path_factory.mktemp("smp") / "disk.img", b"smp-disk", SECTORS)
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",), disks=((image, "w"),),
                    drop_echo=True, vcpus=VCPUS) as shell:
        yield shell


def all_back(host: Host, shell: Shell, what: str) -> None:
    """After a suspend: every vCPU online and answering, the vif and the disk working."""
    wait_states(shell, ["online"] * VCPUS, what)
    verdict, detail = shell.selftest("smp_ipi")
    assert verdict == "PASS", f"{what}: {detail}"
    host.check(f"ping -c 3 -W 5 {GUEST_IP}")
    out = shell.run("blk read xvda 5")
    assert "smp-disk" in out, f"{what}: the disk's sector 5: {out}"
    assert sorted(vcpu_list(host)) == list(range(VCPUS))


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
    assert re.search(r"threads\s+runq\s+cpu time", guest.run("cpus")), "cpus: no threads column"
    # Each thread's vCPU (the last column): main on 0, every secondary's idle thread on its own.
    out = guest.run("threads")
    assert re.search(r"fpu\s+vcpu\s*$", out, re.MULTILINE), out
    for name, cpu in [("main", 0)] + [(f"idle{c}", c) for c in range(1, VCPUS)]:
        assert re.search(rf"^\s*\d+\s+{name}\s+\S+\s+\d+\s+\S+\s+\S+\s+{cpu}\b", out,
                         re.MULTILINE), out


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
    all_back(xen_host, guest, "after restore")
    verdict, detail = guest.selftest("smp_timer")
    assert verdict == "PASS", detail


@pytest.mark.timeout(MIGRATIONS * STEP_TIMEOUT)
def test_migrate_with_four_vcpus(xen_host: Host, guest: Shell) -> None:
    for i in range(MIGRATIONS):
        xen_host.check(f"xl migrate -s '' {GUEST} 'xl migrate-receive'", timeout=STEP_TIMEOUT)
        xen_host.attach_console(GUEST)
        all_back(xen_host, guest, f"after migration {i + 1}")


@pytest.mark.timeout(STEP_TIMEOUT)
def test_checkpoint_with_four_vcpus(xen_host: Host, guest: Shell) -> None:
    xen_host.check(f"xl save -c {GUEST} /run/{GUEST}.ckpt && rm /run/{GUEST}.ckpt",
                   timeout=STEP_TIMEOUT)
    guest.console.expect([r"suspend: resumed in the same domain"], 120)
    all_back(xen_host, guest, "after a checkpoint")
