"""Byte-exact consoles: predictable output in volume, read back whole through every path
the tests read (docs/lab.md, "A byte-exact console").

- dom0: Xenolith as dom0, `bench console LINES` through CONSOLEIO_write -> Xen's serial
  driver -> QEMU's 16550 -> the lab's reader.
- domU: Xenolith as a domU: its console ring -> xenconsoled -> `xl console` on dom0's
  hvc0 -> dom0's CONSOLEIO_write -> the same serial.
- Xen's own lines: `xl debug-keys hhhhhhhh` (Xen's printk, `(XEN) ` prefix), compared
  with the same lines in Xen's console ring (`xl dmesg -c`), a copy that never crosses
  the serial line.
Xenolith's patterns are checked in the stream the test's console read and in serial.log,
Xen's lines in serial.log. Any doubled, dropped or altered byte fails. $XENOLITH_CONSOLE_KIB sets the size of each
(default 128; `make test-long`: 10240, 10 MiB a path).
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest
from kshell import BOOT_TIMEOUT, Shell, dom0_shell, domu_shell

from xenlab import Host, Lab
from xenlab.console_pattern import (
    END,
    LINE_BYTES,
    PatternCheck,
    check_pattern,
    compare_lines,
    text_lines,
)

KIB = int(os.environ.get("XENOLITH_CONSOLE_KIB", "128"))
LINES = KIB * 1024 // LINE_BYTES
# The slowest path seen carries about 5 KB/s under TCG on a loaded machine; a wait
# allows a fifth of that.
WAIT = 60 + KIB * 1024 / 1000
pytestmark = pytest.mark.timeout(int(3 * WAIT + 600))
XEN_LINE = "(XEN) "
HELP_KEY_LINE = "'h' pressed"
# One `xl debug-keys hhhhhhhh` presses 'h' eight times in one hypercall (about 13 KB of
# Xen's lines: Xen's 16 KiB console ring holds them until `xl dmesg -c` reads them);
# starting xl is the slow part under TCG.
HELP_PER_READ = 8
READS_PER_CALL = 16  # press-and-read rounds per agent command


def pattern_through(sh: Shell) -> tuple[PatternCheck, PatternCheck]:
    """`bench console LINES` on a shell at its prompt: the check of what the console read,
    and of serial.log from where it stood. The shell is at its prompt again after it."""
    log, console = sh.log, sh.console
    start = log.stat().st_size
    console.send(f"bench console {LINES}\r")
    console.expect([END.pattern], timeout=WAIT, window=256)
    streamed = check_pattern(console.before + str(console.child.after))
    sh.wait_prompt(30)
    return streamed, check_pattern(_log_since(log, start))


def _log_since(log: Path, start: int) -> str:
    """serial.log from byte `start` on."""
    with open(log, "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


def assert_exact(streamed: PatternCheck, logged: PatternCheck, log: Path) -> None:
    assert streamed.exact, f"console stream: {streamed.describe()}; log {log}"
    assert logged.exact, f"serial.log: {logged.describe()}; log {log}"
    assert streamed.lines == LINES and streamed.bytes == LINES * LINE_BYTES


def test_dom0_console_is_byte_exact(dom0_lab: Lab, kernel_elf: Path) -> None:
    with dom0_shell(dom0_lab, kernel_elf, "", 64, BOOT_TIMEOUT) as sh:
        streamed, logged = pattern_through(sh)
        sh.alive()
    assert_exact(streamed, logged, sh.log)


def test_domu_console_is_byte_exact(xen_host: Host, kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "exact-domu", 32, BOOT_TIMEOUT) as sh:
        streamed, logged = pattern_through(sh)
        sh.alive()
    assert_exact(streamed, logged, sh.log)


def test_xen_own_lines_are_byte_exact(xen_host: Host) -> None:
    """Xen's printk through its serial driver, against Xen's own record of the same lines."""
    log = xen_host.log
    xen_host.check("xl dmesg -c >/dev/null")
    start = log.stat().st_size
    want: list[str] = []
    while sum(len(ln) + 1 for ln in want) < KIB * 1024:
        ring = xen_host.check(f"for r in $(seq {READS_PER_CALL}); do "
                              f"xl debug-keys {'h' * HELP_PER_READ}; xl dmesg -c; done",
                              timeout=600)
        batch = [ln for ln in text_lines(ring) if ln.startswith(XEN_LINE)]
        presses = HELP_PER_READ * READS_PER_CALL
        assert sum(HELP_KEY_LINE in ln for ln in batch) == presses, (
            f"Xen's ring does not hold the {presses} key presses: {ring[-500:]!r}")
        want += batch
    got = _xen_lines_after(log, start, want[-1], len(want))
    check = PatternCheck(lines=len(want), bytes=sum(len(ln) + 1 for ln in want))
    compare_lines(check, want, got)
    assert check.exact, f"Xen's lines on the serial line: {check.describe()}; log {log}"


def _xen_lines_after(log: Path, start: int, last: str, count: int) -> list[str]:
    """Xen's lines in serial.log from `start` on, once `count` of them have come through
    (the serial line lags Xen's ring) and the last one is `last`."""
    deadline = time.monotonic() + WAIT
    while True:
        lines = [ln for ln in text_lines(_log_since(log, start)) if ln.startswith(XEN_LINE)]
        if len(lines) >= count and last in lines[count - 1:]:
            return lines
        assert time.monotonic() < deadline, (
            f"{len(lines)} of Xen's {count} lines on the serial line after {WAIT:.0f} s; "
            f"log {log}")
        time.sleep(1)
