"""Ring 3 under real Xen: processes with their own address spaces, the system-call gate,
user faults that end the process and never the kernel, preemption by the timer.

Kernel side: kernel/user/ (process.c, syscall.c, run_cmd.c, programs.S, user_selftest.c),
kernel/arch/x86_32/user/ (addrspace.c, ring3.S), kernel/arch/x86_32/ring3.h, the programs
in user/. Judged from the console: what the programs print, the line the kernel prints
when a process ends, `ps`, and that the shell answers afterwards. A dom0-mode boot (its
console is Xen's serial line) and a domU of the Linux dom0 (the console ring).
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, dom0_shell, domain_mib, domu_shell

from xenlab import GuestSpec, Host, Lab
from xenlab.host import SHIM_MIB

BOOT_TIMEOUT = 120
COMMAND_TIMEOUT = 60
GUEST_MIB = 32
DOM0_MIB = 64
PART = ("user",)  # kernel/user/user_selftest.c
GUEST = f"xuser-{os.getpid()}"
SAVE_TIMEOUT = 300
USER_CS = 0xE02B  # FLAT_RING3_CS (public/arch-x86/xen-x86_32.h)


@pytest.fixture(scope="module")
def dom0(dom0_lab: Lab, kernel_elf: Path) -> Iterator[Shell]:
    with dom0_shell(dom0_lab, kernel_elf, "", DOM0_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        yield sh


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path) -> Iterator[Shell]:
    with domu_shell(xen_host, kernel_elf, GUEST, domain_mib(xen_host, GUEST_MIB), BOOT_TIMEOUT,
                    COMMAND_TIMEOUT) as sh:
        yield sh
        assert sh.guest is not None and sh.guest.reason() is None, "a program stopped the guest"


def run(sh: Shell, command: str) -> str:
    """The command's output, lines without their carriage returns."""
    return sh.run(command).replace("\r", "")


def ended(out: str, name: str) -> re.Match[str]:
    m = re.search(rf"^process (\d+) \({name}\) (.*)$", out, re.MULTILINE)
    assert m, f"no end line for {name} in:\n{out}"
    return m


def check_hello(sh: Shell) -> None:
    out = run(sh, "run hello")
    m = re.search(r"^hello from ring (\d): pid (\d+), cs (0x[0-9a-f]+), CPL (\d)$", out, re.MULTILINE)
    assert m, out
    assert m.group(1) == "3" and m.group(4) == "3" and int(m.group(3), 16) == USER_CS, out
    assert ended(out, "hello").group(2) == "exited with status 0", out
    assert ended(out, "hello").group(1) == m.group(2), out  # getpid is its pid


def check_fault(sh: Shell) -> None:
    out = run(sh, "run fault")
    assert "fault: writing to kernel memory at 0xc0000000" in out, out
    why = ended(out, "fault").group(2)
    assert re.fullmatch(r"killed: page fault at 0xc0000000 \(protection violation, write, user "
                        r"mode\), eip 0x004[0-9a-f]{5}", why), why
    assert "the write went through" not in out, out
    out = run(sh, "run badop")
    assert re.search(r"killed: general protection \(vector 13\)", ended(out, "badop").group(2)), out
    sh.alive()


def check_spin(sh: Shell) -> None:
    out = run(sh, "run spin")
    assert "spin: spinning in ring 3 until killed" in out, out
    m = re.search(r"^process (\d+) \(spin\) running in the background", out, re.MULTILINE)
    assert m, out
    pid = m.group(1)
    # The shell answers while spin computes: only the timer can take the CPU from it.
    before = run(sh, "ps")
    row = re.search(rf"^\s*{pid}\s+spin\s+running\s+(\d+)\s+(\d+)", before, re.MULTILINE)
    assert row, before
    assert int(row.group(1)) == 1 and int(row.group(2)) > 0, before  # one write; preempted
    out = run(sh, f"kill {pid}")
    assert ended(out, "spin").group(2) == "killed: by kill", out
    assert "no processes" in run(sh, "ps")
    sh.alive()


def test_dom0_hello(dom0: Shell) -> None:
    check_hello(dom0)


def test_dom0_fault_ends_the_process_not_the_kernel(dom0: Shell) -> None:
    check_fault(dom0)


def test_dom0_spin_is_preempted(dom0: Shell) -> None:
    check_spin(dom0)


def test_dom0_suites_pass(dom0: Shell) -> None:
    failed = {n: r for n, r in dom0.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {dom0.log})"


def test_domu_programs(domu: Shell) -> None:
    check_hello(domu)
    check_fault(domu)
    check_spin(domu)


def test_domu_suites_pass(domu: Shell) -> None:
    failed = {n: r for n, r in domu.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {domu.log})"


@pytest.mark.timeout(2 * SAVE_TIMEOUT)
def test_domu_program_survives_save_and_restore(domu: Shell, xen_host: Host) -> None:
    out = run(domu, "run spin &")
    pid = re.search(r"^process (\d+) \(spin\) running in the background", out, re.MULTILINE)
    assert pid, out
    xen_host.check(f"xl save {GUEST} /run/{GUEST}.save", timeout=SAVE_TIMEOUT)
    xen_host.check(f"xl restore -p /run/{GUEST}.save && rm /run/{GUEST}.save", timeout=SAVE_TIMEOUT)
    xen_host.attach_console(GUEST)
    xen_host.check(f"xl unpause {GUEST}")
    domu.console.expect([r"suspend: resumed in a new domain"], 120)
    rows = []
    for _ in range(2):
        ps = run(domu, "ps")
        row = re.search(rf"^\s*{pid.group(1)}\s+spin\s+running\s+\d+\s+(\d+)", ps, re.MULTILINE)
        assert row, ps
        rows.append(int(row.group(1)))
    assert rows[1] > rows[0], f"spin is not being preempted after the restore: {rows}"
    check_hello(domu)  # a new address space in the new domain
    assert ended(run(domu, f"kill {pid.group(1)}"), "spin").group(2) == "killed: by kill"


def test_domu_through_the_shim(xen_host: Host, kernel_elf: Path) -> None:
    guest = xen_host.create(GuestSpec(kernel=kernel_elf, name=f"{GUEST}-shim",
                                      memory_mib=GUEST_MIB + SHIM_MIB, shim=True))
    try:
        sh = Shell(guest.console, xen_host.log, COMMAND_TIMEOUT, guest)
        sh.boot = sh.wait_prompt(BOOT_TIMEOUT)
        check_hello(sh)
        check_fault(sh)
        check_spin(sh)
        failed = {n: r for n, r in sh.run_suites(PART).items() if r.verdict != "PASS"}
        assert not failed, f"{failed} (log: {xen_host.log})"
        assert sh.selftest("mm_m2p")[0] == "PASS"  # the shim's Xen answers for the M2P
        assert guest.reason() is None, "a program stopped the guest"
    finally:
        guest.destroy()
