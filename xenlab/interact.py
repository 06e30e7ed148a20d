"""Attach the user's terminal to a console (`boot`/`console` when stdin is a terminal).

pexpect's fdspawn (our console over QEMU's serial socket) has no interact(), so
this is the loop: the terminal in raw mode, bytes copied both ways, Ctrl-]
leaves, and every second `poll()` says whether the guest has ended.
"""

from __future__ import annotations

import os
import re
import select
import sys
import termios
import tty
from collections.abc import Callable

from xenlab.console import Console
from xenlab.exits import ExitReason

ESCAPE = b"\x1d"  # Ctrl-]
POLL_SECONDS = 1.0


def interact(console: Console, poll: Callable[[], ExitReason | None],
             ends: list[tuple[str, ExitReason]] | None = None) -> ExitReason:
    """Copy terminal <-> console until Ctrl-] (DETACHED), `poll()` gives a reason, or
    the output matches one of `ends` (regex, reason), e.g. Xen's dom0 exit lines."""
    child = console.child
    fd_in, fd_out, fd_con = sys.stdin.fileno(), sys.stdout.fileno(), child.child_fd
    sys.stdout.flush()
    if child.buffer:  # what pexpect read but no expect() consumed yet
        os.write(fd_out, child.buffer.encode())
        child.buffer = ""
    tail = ""
    saved = termios.tcgetattr(fd_in)
    tty.setraw(fd_in)
    try:
        while True:
            ready, _, _ = select.select([fd_in, fd_con], [], [], POLL_SECONDS)
            if fd_con in ready:
                data = os.read(fd_con, 4096)
                if not data:
                    return ExitReason.LAB_FAILURE
                os.write(fd_out, data)
                tail = (tail + data.decode("utf-8", "replace"))[-4096:]
                for pattern, reason in ends or ():
                    if re.search(pattern, tail):
                        return reason
            if fd_in in ready:
                data = os.read(fd_in, 1024)
                if ESCAPE in data:
                    os.write(fd_con, data[:data.index(ESCAPE)])
                    return ExitReason.DETACHED
                os.write(fd_con, data)
            if not ready:
                reason = poll()
                if reason is not None:
                    return reason
    finally:
        termios.tcsetattr(fd_in, termios.TCSADRAIN, saved)
