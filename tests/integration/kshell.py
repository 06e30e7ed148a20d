"""The kernel's shell (`xenolith> `) as integration tests talk to it.

`Shell` wraps one console: `run(command)` sends a line and returns what came
back before the next prompt; `selftest(suite)` runs one suite and returns
(PASS|FAIL, detail). `domu_shell` and `dom0_shell` boot Xenolith to its
prompt and yield a `Shell` (the domU is destroyed afterwards).

Imported by the test modules next to it as `from kshell import ...` (pytest's
default "prepend" import mode puts tests/integration on sys.path).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from xenlab import Guest, GuestSpec, Host, Lab
from xenlab.console import Console

PROMPT = "xenolith> "
DEFAULT_COMMAND_TIMEOUT = 120


@dataclass
class Shell:
    """The kernel's shell on one console; `log` is the file to read when a test fails."""

    console: Console
    log: Path
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    guest: Guest | None = None  # the domU, when the shell is a domU's

    def run(self, command: str, timeout: float | None = None) -> str:
        """Send one command line; return what came back before the next prompt (echo included)."""
        self.console.send(command + "\r")
        self.console.expect([re.escape(PROMPT)], self.command_timeout if timeout is None else timeout)
        return self.console.before

    def selftest(self, suite: str) -> tuple[str, str]:
        """Run one suite from the shell: (PASS|FAIL, detail)."""
        out = self.run(f"selftest {suite}")
        m = re.search(rf"selftest {suite}: (PASS|FAIL)([^\r\n]*)", out)
        assert m, f"no result line for suite {suite!r} in:\n{out}\nlog: {self.log}"
        return m.group(1), m.group(2).strip()

    def alive(self) -> None:
        out = self.run("echo alive")
        assert re.search(r"^alive\r*$", out, re.MULTILINE), f"shell did not answer: {out!r}; log {self.log}"


@contextlib.contextmanager
def domu_shell(host: Host, kernel: Path, name: str, memory_mib: int, boot_timeout: float,
               command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> Iterator[Shell]:
    """Xenolith as a domU of the Linux dom0 (console through `xl console`), at its prompt."""
    guest = host.create(GuestSpec(kernel=kernel, name=name, memory_mib=memory_mib))
    try:
        guest.console.expect([re.escape(PROMPT)], timeout=boot_timeout)
        yield Shell(guest.console, host.log, command_timeout, guest)
    finally:
        guest.destroy()


@contextlib.contextmanager
def dom0_shell(lab: Lab, kernel: Path, cmdline: str, memory_mib: int, boot_timeout: float,
               command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> Iterator[Shell]:
    """Xenolith as dom0 (its console is Xen's serial line), at its prompt."""
    with lab.boot_dom0_kernel(kernel, cmdline, memory_mib) as run:
        run.console.expect([re.escape(PROMPT)], timeout=boot_timeout)
        yield Shell(run.console, run.log, command_timeout)
