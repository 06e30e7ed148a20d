"""The kernel's start of day under real Xen, as dom0 and as a domU: banner, prompt, command
line report, `selftest=all` ending in poweroff, and fatal paths seen as crashes.

Kernel side: kernel/arch/x86_32/{entry.S,setup.c,traps.c,elfnote.S,backtrace.c},
kernel/{main,cmdline,selftest,panic,symbols}.c, kernel/xen/console/console*.c, kernel/xen/shutdown.c.
What is asserted is what a user sees: console markers (architecture.md), the lab's
dom0 exit line ("Hardware Dom0 halted|crashed") and `xl list -v`'s shutdown reason.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from pathlib import Path

import pytest
from kshell import BANNER, PROMPT, dom0_selftest_all, domain_mib, domu_selftest_all

from xenlab import ExitReason, GuestSpec, Host, Lab

BOOT_TIMEOUT = 120
EXIT_TIMEOUT = 60
GUEST_MIB = 32
DOM0_MIB = 64
UNKNOWN_KEY = "xenolith_no_such_key"
FATAL_PF = (r"\*\*\* FATAL page fault \(vector 14\) error 0x[0-9a-f]+ at eip "
            r"0x[0-9a-f]{8} <cmd_fault\+0x[0-9a-f]+>")


def guest_name(what: str) -> str:
    return f"xkb-{what}-{os.getpid()}"


def expect_boot(console_expect: Callable[..., int], mode: str) -> None:
    console_expect([BANNER.format(mode=mode)], BOOT_TIMEOUT)
    console_expect([re.escape(f"cmdline: unknown key '{UNKNOWN_KEY}' (ignored)")], BOOT_TIMEOUT)
    console_expect([re.escape(PROMPT)], BOOT_TIMEOUT)


def test_dom0_banner_unknown_key_and_prompt(dom0_lab: Lab, kernel_elf: Path) -> None:
    with dom0_lab.boot_dom0_kernel(kernel_elf, f"{UNKNOWN_KEY}=1", DOM0_MIB) as run:
        expect_boot(run.console.expect, "dom0")
        run.console.send("echo dom0 answers\r")
        run.console.expect([r"dom0 answers\r*\n"], 30)
        run.console.expect([re.escape(PROMPT)], 30)


def test_domu_banner_unknown_key_and_prompt(xen_host: Host, kernel_elf: Path) -> None:
    guest = xen_host.create(GuestSpec(kernel=kernel_elf, name=guest_name("banner"),
                                      memory_mib=domain_mib(xen_host, GUEST_MIB), cmdline=f"{UNKNOWN_KEY}=1 quiet"))
    try:
        expect_boot(guest.console.expect, "domU")
        guest.console.send("echo domU answers\r")
        guest.console.expect([r"domU answers\r*\n"], 30)
        guest.console.expect([re.escape(PROMPT)], 30)
        assert guest.reason() is None
    finally:
        guest.destroy()


def test_dom0_tiny_kernel_reaches_shell(dom0_lab: Lab, tiny_kernel_elf: Path) -> None:
    """`make tiny` (mk/kernel.mk): boots, answers `info`, and says it has no self-tests."""
    with dom0_lab.boot_dom0_kernel(tiny_kernel_elf, "", DOM0_MIB) as run:
        run.console.expect([BANNER.format(mode="dom0")], BOOT_TIMEOUT)
        run.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        run.console.send("info\r")
        run.console.expect([r"xen: version 4\.\d+"], 30)
        run.console.expect([r"image: 0x[0-9a-f]+-0x[0-9a-f]+ \(\d+ KiB\)"], 30)
        run.console.expect([re.escape(PROMPT)], 30)
        run.console.send("selftest all\r")
        run.console.expect([r"selftest: this kernel was built without self-tests"], 30)
        run.console.expect([r"selftest summary: 0 passed, 1 failed"], 30)
        run.console.expect([r"Test result: FAILURE"], 30)
        run.console.expect([re.escape(PROMPT)], 30)


def test_dom0_selftest_all_powers_off(dom0_lab: Lab, kernel_elf: Path) -> None:
    dom0_selftest_all(dom0_lab, kernel_elf)


def test_domu_selftest_all_powers_off(xen_host: Host, kernel_elf: Path) -> None:
    domu_selftest_all(xen_host, kernel_elf, guest_name("selftest"))


def expect_fatal_dump(console_expect: Callable[..., int], before: Callable[[], str]) -> str:
    """The page-fault dump of `fault pf`; returns its text."""
    console_expect([FATAL_PF], EXIT_TIMEOUT)
    console_expect([r"shutdown: crash"], EXIT_TIMEOUT)
    dump = before()
    assert re.search(r"cr2 0x00001000 \(not present, read, kernel mode\)", dump), dump
    assert re.search(r"backtrace:\s+0x[0-9a-f]{8} <cmd_fault\+0x[0-9a-f]+>", dump), dump
    assert re.search(r"<shell_run\+0x[0-9a-f]+>", dump), dump
    return dump


def test_dom0_fault_pf_crashes_with_dump(dom0_lab: Lab, kernel_elf: Path) -> None:
    with dom0_lab.boot_dom0_kernel(kernel_elf, "", DOM0_MIB) as run:
        run.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        run.console.send("fault pf\r")
        expect_fatal_dump(run.console.expect, lambda: run.console.before)
        assert run.wait_exit(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {run.log}"


def test_domu_fault_pf_crashes_with_dump(xen_host: Host, kernel_elf: Path) -> None:
    guest = xen_host.create(GuestSpec(kernel=kernel_elf, name=guest_name("fault"),
                                      memory_mib=domain_mib(xen_host, GUEST_MIB)))
    try:
        guest.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        guest.console.send("fault pf\r")
        expect_fatal_dump(guest.console.expect, lambda: guest.console.before)
        assert guest.wait_shutdown(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {xen_host.log}"
    finally:
        guest.destroy()


@pytest.mark.parametrize(("command", "reason"), [("shutdown crash", ExitReason.CRASH),
                                                 ("shutdown reboot", ExitReason.REBOOT),
                                                 ("shutdown", ExitReason.POWEROFF)])
def test_domu_shutdown_reason(xen_host: Host, kernel_elf: Path, command: str,
                              reason: ExitReason) -> None:
    word = command.split()[-1]
    guest = xen_host.create(GuestSpec(kernel=kernel_elf, name=guest_name(word),
                                      memory_mib=domain_mib(xen_host, GUEST_MIB)))
    try:
        guest.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        guest.console.send(command + "\r")
        guest.console.expect([r"shutdown: \w+"], EXIT_TIMEOUT)
        assert guest.wait_shutdown(EXIT_TIMEOUT) is reason, f"log: {xen_host.log}"
    finally:
        guest.destroy()


@pytest.mark.parametrize(("kind", "fatal"), [
    ("ud", r"\*\*\* FATAL invalid opcode \(vector 6\)"),
    ("gp", r"\*\*\* FATAL general protection \(vector 13\)"),
    ("de", r"\*\*\* FATAL divide error \(vector 0\)"),
    ("panic", r"\*\*\* FATAL panic: requested with the shell's fault command"),
])
def test_dom0_other_fatal_paths_crash(dom0_lab: Lab, kernel_elf: Path, kind: str, fatal: str) -> None:
    with dom0_lab.boot_dom0_kernel(kernel_elf, "quiet", DOM0_MIB) as run:
        run.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        run.console.send(f"fault {kind}\r")
        run.console.expect([fatal], EXIT_TIMEOUT)
        run.console.expect([r"shutdown: crash"], EXIT_TIMEOUT)
        assert re.search(r"backtrace:\s+0x[0-9a-f]{8} <\w+\+0x[0-9a-f]+>", run.console.before)
        assert run.wait_exit(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {run.log}"


def test_dom0_info_reports_xens_whole_version(dom0_lab: Lab, kernel_elf: Path) -> None:
    """`info` gives Xen's version as Xen's banner does: whole through XENVER_extraversion2
    from Xen 4.20, else through the legacy subop, which keeps at most 15 bytes of it
    (kernel/xen/version.c; porting guide, "Xen releases")."""
    with dom0_lab.boot_dom0_kernel(kernel_elf, "quiet", DOM0_MIB) as run:
        run.console.expect([re.escape(PROMPT)], BOOT_TIMEOUT)
        run.console.send("info\r")
        run.console.expect([r"xen: version (\d+)\.(\d+)(\S*) \(([^)]*)\)"], 30)
        major, minor, extra, how = run.console.child.match.groups()
        run.console.expect([re.escape(PROMPT)], 30)
        banner = re.search(r"Xen version (\d+)\.(\d+)(\S*) ", run.log.read_text(errors="replace"))
    assert banner, f"no Xen banner; log: {run.log}"
    assert (major, minor) == banner.group(1, 2), f"log: {run.log}"
    if (int(major), int(minor)) >= (4, 20):
        assert how == "XENVER_extraversion2", how
        assert extra == banner.group(3), f"{extra!r} vs Xen's {banner.group(3)!r}"
    else:
        assert how.startswith("XENVER_extraversion,"), how
        assert banner.group(3).startswith(extra) and len(extra) == min(15, len(banner.group(3)))
