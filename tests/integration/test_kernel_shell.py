"""The kernel's shell under real Xen: commands, bad input, hypercall counts.

Kernel side: kernel/shell.c (line editing, refusing bad lines), the commands registered
by kernel/xen/{hypercall,version,shutdown}.c and kernel/selftest.c. One 32 MiB domU
serves every test here (input through `xl console`, i.e. xenconsoled and the console
ring); a dom0-mode boot checks that input through Xen's serial (CONSOLEIO_read) works
the same. After each refused line the shell must still answer.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, dom0_shell, domu_shell, guest_pages

from xenlab import Host, Lab

BOOT_TIMEOUT = 120
COMMAND_TIMEOUT = 60
GUEST_MIB = 32
DOM0_MIB = 64
MAX_LINE = 255
CORE_COMMANDS = ("help", "info", "hypercalls", "selftest", "shutdown", "fault", "echo")


@pytest.fixture(scope="module")
def shell(xen_host: Host, kernel_elf: Path) -> Iterator[Shell]:
    with domu_shell(xen_host, kernel_elf, f"xks-{os.getpid()}", GUEST_MIB, BOOT_TIMEOUT,
                    COMMAND_TIMEOUT) as sh:
        yield sh
        assert sh.guest is not None and sh.guest.reason() is None, \
            "the shell tests must not stop the guest"


def test_help_lists_core_commands(shell: Shell) -> None:
    out = shell.run("help")
    for name in CORE_COMMANDS:
        assert re.search(rf"^  {name}\b", out, re.MULTILINE), f"{name} missing from help:\n{out}"
    assert "usage: shutdown [poweroff|halt|reboot|crash]" in shell.run("help shutdown")


def test_info_reports_domu_and_xen(shell: Shell, xen_host: Host) -> None:
    out = shell.run("info")
    assert "running as domU" in out, out
    xl = xen_host.check("xl info")
    major, minor = (re.search(rf"^{k}\s*: (\d+)", xl, re.MULTILINE).group(1)  # type: ignore[union-attr]
                    for k in ("xen_major", "xen_minor"))
    assert re.search(rf"xen: version {major}\.{minor}\b", out), (out, xl)
    assert "xen-3.0-x86_32p" in out, out
    pages = guest_pages(shell, xen_host, GUEST_MIB)
    assert re.search(rf"start_info: nr_pages {pages} \(", out), out


def test_unknown_command(shell: Shell) -> None:
    out = shell.run("frobnicate now")
    assert "unknown command 'frobnicate' (try help)" in out, out
    shell.alive()


def test_long_line_is_refused_whole(shell: Shell) -> None:
    out = shell.run("echo " + "x" * 4096)
    assert f"error: line too long (max {MAX_LINE})" in out, out[-300:]
    assert "x" * (MAX_LINE + 1) not in out, "more than a line's worth was echoed or run"
    shell.alive()


def test_line_of_max_length_is_accepted(shell: Shell) -> None:
    word = "y" * (MAX_LINE - len("echo "))
    out = shell.run("echo " + word)
    assert re.search(rf"^{word}\r*$", out, re.MULTILINE), out[-400:]


@pytest.mark.parametrize(("data", "byte"), [("ab\x01\x02cd", 0x01), ("bell\x07", 0x07),
                                            ("echo \x1b[A", 0x1b)])
def test_non_printable_bytes_are_refused(shell: Shell, data: str, byte: int) -> None:
    out = shell.run(data)
    assert f"error: non-printable byte 0x{byte:02x} in line (line ignored)" in out, out
    shell.alive()


def test_backspace_edits_the_line(shell: Shell) -> None:
    out = shell.run("echo abX\x7fc")
    assert re.search(r"^abc\r*$", out, re.MULTILINE), out


def test_hypercall_counts_move(shell: Shell) -> None:
    def counts() -> dict[str, int]:
        out = shell.run("hypercalls")
        found = {m.group(1): int(m.group(2))
                 for m in re.finditer(r"^\s+\d+ (\w+)\s+(\d+)\r*$", out, re.MULTILINE)}
        total = re.search(r"total (\d+)", out)
        assert found and total, out
        found["total"] = int(total.group(1))
        return found

    first = counts()
    shell.run("info")  # makes xen_version hypercalls
    second = counts()
    assert second["xen_version"] > first.get("xen_version", 0), (first, second)
    assert second["total"] > first["total"], (first, second)
    assert "set_trap_table" in first, first


def test_selftest_command_runs_one_suite(shell: Shell) -> None:
    out = shell.run("selftest hypercall_count")
    assert re.search(r"selftest hypercall_count: PASS", out), out
    assert "selftest summary: 1 passed, 0 failed" in out, out
    out = shell.run("selftest no_such_suite")
    assert "selftest: no suite named 'no_such_suite'" in out, out


def test_selftest_command_takes_a_list(shell: Shell) -> None:
    out = shell.run("selftest cmdline,console")
    assert re.search(r"selftest cmdline: PASS", out) and re.search(r"selftest console: PASS", out), out
    assert "selftest summary: 2 passed, 0 failed" in out, out
    out = shell.run("selftest cmdline,nosuch")
    assert "selftest cmdline: PASS" in out, out
    assert "selftest: no suite named 'nosuch'" in out, out
    assert "selftest summary: 1 passed, 1 failed" in out, out


def test_dom0_shell_reads_serial_input(dom0_lab: Lab, kernel_elf: Path) -> None:
    with dom0_shell(dom0_lab, kernel_elf, "", DOM0_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        assert "unknown command 'nope' (try help)" in sh.run("nope")
        out = sh.run("info")
        assert "running as dom0" in out, out
        assert "error: non-printable byte 0x01" in sh.run("a\x01")
        sh.alive()
