"""Serial console over QEMU's socket chardev, with pexpect: match markers, not lines."""

from __future__ import annotations

import socket
from pathlib import Path

import pexpect
from pexpect import fdpexpect

from xenlab.errors import LabError


class Console:
    """pexpect-like access to one console; `log` is where the full text is kept."""

    def __init__(self, sock: socket.socket, log: Path) -> None:
        self.sock = sock
        self.log = log
        self.child = fdpexpect.fdspawn(sock.fileno(), encoding="utf-8", codec_errors="replace",
                                       timeout=30)

    def expect(self, patterns: str | list[str], timeout: float = 30) -> int:
        """Wait for one of `patterns` (regexes); LabError naming the log on timeout or EOF."""
        try:
            return int(self.child.expect(patterns, timeout=timeout))
        except pexpect.TIMEOUT:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {patterns!r} on the "
                           f"console; full log: {self.log}") from None
        except pexpect.EOF:
            raise LabError(f"console closed (QEMU gone?) while waiting for {patterns!r}; "
                           f"full log: {self.log}") from None

    def expect_exact(self, text: str, timeout: float = 30) -> None:
        self.expect([_escape(text)], timeout)

    def send(self, text: str) -> None:
        self.child.send(text)

    @property
    def before(self) -> str:
        return str(self.child.before)

    def close(self) -> None:
        self.sock.close()


def _escape(text: str) -> str:
    import re
    return re.escape(text)
