"""The lab's console plumbing on the host, no boot: the pattern checker, the reader that
writes serial.log, and the keeper of a detached lab (xenlab.serial_keeper)."""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import time
from pathlib import Path

from xenlab.console import Console
from xenlab.console_pattern import END, check_pattern, pattern_line
from xenlab.machine import attach_console, run_socket

ROOT = Path(__file__).resolve().parents[2]


def _pattern_text(lines: int) -> str:
    body = "".join(pattern_line(n) + "\r\n" for n in range(lines))
    return (f"console pattern: begin {lines} lines of 64 bytes\r\n{body}"
            f"console pattern: end {lines} lines, {lines * 64} bytes in 1 us\r\n")


def test_pattern_checker_counts_each_kind_of_damage() -> None:
    text = _pattern_text(50)
    assert check_pattern(text).exact
    i = text.index("pat 00000010") + 20
    damaged = text[:i] + text[i] + text[i:]
    j = damaged.index("pat 00000020") + 30
    damaged = damaged[:j] + damaged[j + 1:]
    k = damaged.index("pat 00000030") + 40
    damaged = damaged[:k] + "#" + damaged[k + 1:]
    m = damaged.index("pat 00000040")
    damaged = damaged[:m] + damaged[m + 66:]
    check = check_pattern(damaged)
    assert (check.doubled, check.dropped, check.altered) == (1, 1 + 65, 1), check.describe()
    assert re.search(r"line 10\b", check.examples[0]), check.examples
    assert not check.exact


def test_console_records_exactly_what_it_reads(tmp_path: Path) -> None:
    """serial.log is the reader's: every byte, once, in order, before pexpect sees it."""
    qemu, ours = socket.socketpair()
    log = tmp_path / "serial.log"
    console = Console(ours, log)
    text = _pattern_text(2000)
    for start in range(0, len(text), 997):
        qemu.sendall(text[start:start + 997].encode())
    console.expect([END.pattern], timeout=10, window=256)
    assert console.before.startswith("console pattern: begin 2000")
    assert check_pattern(console.before + str(console.child.after) + "\r\n").exact
    assert log.read_bytes() == text.encode()
    console.send("typed\r")
    assert qemu.recv(64) == b"typed\r"
    console.close()
    qemu.close()


def test_keeper_records_and_relays(tmp_path: Path) -> None:
    """A detached lab's keeper logs what QEMU's serial sends, with or without a client,
    relays it to the newest client, and passes what that client types back to QEMU."""
    server = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    server.bind(str(run_socket(tmp_path, "serial")))
    server.listen(1)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    keeper = subprocess.Popen([sys.executable, "-m", "xenlab.serial_keeper", str(tmp_path)],
                              env=env)
    try:
        qemu, _ = server.accept()
        deadline = time.monotonic() + 10
        while not run_socket(tmp_path, "console").exists():
            assert time.monotonic() < deadline
            time.sleep(0.05)
        qemu.sendall(b"before anyone attached\n")
        console = attach_console(tmp_path)
        qemu.sendall(b"dom0# ")
        console.expect([r"dom0# "], timeout=10)
        console.send("xl list\r")
        assert qemu.recv(64) == b"xl list\r"
        console.close()
        again = attach_console(tmp_path)
        qemu.sendall(b"second client\n")
        again.expect([r"second client"], timeout=10)
        again.close()
        qemu.close()
        assert keeper.wait(timeout=10) == 0
        assert (tmp_path / "serial.log").read_bytes() == \
            b"before anyone attached\ndom0# second client\n"
    finally:
        keeper.kill()
        server.close()
