"""Segments, debug registers and privileged I/O under real Xen.

Kernel side: kernel/arch/x86_32/gdt.c (own GDT, set_gdt, update_descriptor),
kernel/arch/x86_32/debugreg.c (set_debugreg/get_debugreg watchpoints, #DB) and
kernel/xen/physdev.c (PHYSDEVOP_set_iopl, the CMOS RTC). Boots are slow, so one
dom0-mode boot and one domU serve all the tests of this module; each test
talks to the kernel's shell (`xenolith> `) and waits for the next prompt.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import kshell
import pytest
from kshell import Shell

from xenlab import Host, Lab

BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
PART = ("gdt", "debugreg", "physdev")  # <stem>_selftest.c: this part's suites
MAX_RTC_SKEW_MS = 2000
WATCH_HIT = re.compile(r"debugreg: watchpoint hit at eip 0x[0-9a-f]+ \((watched_write)\+0x[0-9a-f]+\)")


@pytest.fixture(scope="module")
def dom0_shell(dom0_lab: Lab, kernel_elf: Path) -> Iterator[Shell]:
    """Xenolith as dom0 (its console is Xen's serial line), at its prompt."""
    with kshell.dom0_shell(dom0_lab, kernel_elf, "", 256, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        yield sh


@pytest.fixture(scope="module")
def domu_shell(xen_host: Host, kernel_elf: Path) -> Iterator[Shell]:
    """Xenolith as a domU of the Linux dom0, its console through `xl console`."""
    with kshell.domu_shell(xen_host, kernel_elf, "xsegs", 32, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        yield sh


def test_dom0_suites_pass(dom0_shell: Shell) -> None:
    failed = {n: r for n, r in dom0_shell.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {dom0_shell.log})"


def test_dom0_physdev_suite_reads_the_rtc(dom0_shell: Shell) -> None:
    result, detail = dom0_shell.selftest("physdev")
    assert result == "PASS" and detail.startswith("dom0: RTC "), detail


def test_dom0_rtc_matches_wall_clock(dom0_shell: Shell) -> None:
    out = dom0_shell.run("rtc")
    assert re.search(r"rtc: CMOS RTC +\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC", out), out
    assert re.search(r"rtc: wall clock \d{4}-\d\d-\d\d \d\d:\d\d:\d\d\.\d{3} UTC", out), out
    skew = re.search(r"rtc: RTC - wall clock = (-?\d+) ms", out)
    assert skew, out
    assert abs(int(skew.group(1))) <= MAX_RTC_SKEW_MS, out


def test_dom0_gdt_command_lists_our_entries(dom0_shell: Shell) -> None:
    out = dom0_shell.run("gdt")
    assert re.search(r"gdt: mfn 0x[0-9a-f]+ mapped read-only, 5 of 7168 slots", out), out
    assert re.search(r"1  0x0009  00cfbb000000ffff .* code .* kernel code", out), out
    assert re.search(r"3  0x0019  [0-9a-f]{16} .* data .* per-CPU", out), out
    assert re.search(r"segment registers: cs 0x0009 ds 0x0011 es 0x0011 fs 0x0019", out), out
    assert "Xen's FLAT_KERNEL_CS 0xe019" in out, out


def test_dom0_watch_demo_reports_each_write(dom0_shell: Shell) -> None:
    out = dom0_shell.run("watch")
    assert len(WATCH_HIT.findall(out)) == 2, out
    assert "watch: 2 hits for 2 writes and 1 read" in out, out


def test_dom0_gdt_off_keeps_xens_flat_selectors(dom0_lab: Lab, kernel_elf: Path) -> None:
    with kshell.dom0_shell(dom0_lab, kernel_elf, "gdt=off", 256, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        out = sh.run("gdt")
    assert "gdt: not installed (gdt=off)" in out, out
    assert "segment registers: cs 0xe019" in out, out


def test_domu_rtc_is_refused_and_shell_survives(domu_shell: Shell) -> None:
    out = domu_shell.run("rtc")
    assert re.search(r"rtc: [^\r\n]*refused by Xen \([^\r\n]*\): not dom0", out), out
    after = domu_shell.run("gdt")  # the shell still answers
    assert "segment registers:" in after, after


def test_domu_physdev_suite_passes_on_refusal(domu_shell: Shell) -> None:
    result, detail = domu_shell.selftest("physdev")
    assert result == "PASS", detail
    assert detail.startswith("domU: refusal expected and seen:"), detail


def test_domu_suites_pass(domu_shell: Shell) -> None:
    failed = {n: r for n, r in domu_shell.run_suites(PART).items() if r.verdict != "PASS"}
    assert not failed, f"{failed} (log: {domu_shell.log})"


def test_domu_watch_demo_reports_each_write(domu_shell: Shell) -> None:
    out = domu_shell.run("watch")
    assert len(WATCH_HIT.findall(out)) == 2, out
