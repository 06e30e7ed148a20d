"""Serial console over QEMU's socket chardev, with pexpect: match markers, not lines.

QEMU's serial blocks (and so Xen, dom0 and the guest behind it) when nobody
reads its socket. A pump thread therefore reads the socket all the time into
an unbounded buffer, and pexpect reads that buffer through a socket pair:
a test that looks away (a long agent command, a sleep) never stalls a guest.

The pump is also what writes `serial.log` (SerialRecord), from the bytes it
received, before pexpect sees them: QEMU's own chardev `logfile=` writes a
byte twice whenever the socket answers EAGAIN (it logs the byte as if the
write had failed for good, then the UART sends it again), so the lab never
asks QEMU for a log (docs/lab.md, "A byte-exact console").
"""

from __future__ import annotations

import socket
import threading
import time
from pathlib import Path

import pexpect
from pexpect import fdpexpect

from xenlab.errors import LabError

SEND_CHUNK = 32      # bytes per write: a quarter of Xen's console input ring
SEND_PAUSE = 0.02    # seconds between chunks (1.6 KB/s)


class SerialRecord:
    """serial.log: every byte the lab's reader received, in order, flushed as it comes."""

    def __init__(self, path: Path) -> None:
        self.file = open(path, "ab")  # noqa: SIM115 - open for the reader's life

    def write(self, data: bytes) -> None:
        """Append `data`; after close (the console is going away) there is nowhere to."""
        if not self.file.closed:
            self.file.write(data)
            self.file.flush()

    def close(self) -> None:
        self.file.close()


def log_end(log: Path) -> int:
    """Where the next byte of a serial log will go: a mark for `log_since`."""
    return log.stat().st_size if log.exists() else 0


def log_since(log: Path, start: int = 0) -> str:
    """What a serial log received from byte `start` on (a guest's part of its host's log)."""
    with open(log, "rb") as f:
        f.seek(start)
        return f.read().decode(errors="replace")


class Console:
    """pexpect-like access to one console; `log` is where the full text is kept, written
    by this console when `record` (the reader of QEMU's socket), else by the reader it is
    attached through (xenlab.serial_keeper)."""

    def __init__(self, sock: socket.socket, log: Path, record: bool = True) -> None:
        self.sock = sock
        self.log = log
        self._record = SerialRecord(log) if record else None
        self._pump, self._near = socket.socketpair()
        self._pending = bytearray()
        self._ready = threading.Condition()
        self._closed = False
        for target in (self._from_qemu, self._to_pexpect, self._to_qemu):
            threading.Thread(target=target, daemon=True).start()
        self.child = fdpexpect.fdspawn(self._near.fileno(), encoding="utf-8",
                                       codec_errors="replace", timeout=30)

    def _from_qemu(self) -> None:
        """QEMU -> buffer; never blocks on the reader side."""
        while True:
            try:
                data = self.sock.recv(65536)
            except OSError:
                data = b""
            with self._ready:
                if not data:
                    self._closed = True
                else:
                    if self._record is not None:
                        self._record.write(data)
                    self._pending += data
                self._ready.notify()
            if not data:
                return

    def _to_pexpect(self) -> None:
        """Buffer -> pexpect's end of the socket pair (may block: only this thread waits)."""
        while True:
            with self._ready:
                while not self._pending and not self._closed:
                    self._ready.wait()
                chunk, closed = bytes(self._pending), self._closed
                self._pending.clear()
            try:
                if chunk:
                    self._pump.sendall(chunk)
                if closed:
                    self._pump.shutdown(socket.SHUT_WR)
                    return
            except OSError:
                return

    def _to_qemu(self) -> None:
        """What pexpect sends -> QEMU's serial input."""
        while True:
            try:
                data = self._pump.recv(4096)
                if not data:
                    return
                self.sock.sendall(data)
            except OSError:
                return

    def expect(self, patterns: str | list[str], timeout: float = 30, window: int | None = None
               ) -> int:
        """Wait for one of `patterns` (regexes); LabError naming the log on timeout or EOF.

        `window`: match only within the last `window` bytes of what arrived (plus the
        newest read), for waits across megabytes (each read would search all of it)."""
        try:
            return int(self.child.expect(patterns, timeout=timeout, searchwindowsize=window))
        except pexpect.TIMEOUT:
            raise LabError(f"timed out after {timeout:.0f} s waiting for {patterns!r} on the "
                           f"console; full log: {self.log}") from None
        except pexpect.EOF:
            raise LabError(f"console closed (QEMU gone?) while waiting for {patterns!r}; "
                           f"full log: {self.log}") from None

    def expect_exact(self, text: str, timeout: float = 30) -> None:
        self.expect([_escape(text)], timeout)

    def send(self, text: str) -> None:
        """Type `text`, paced like a fast typist on a serial line.

        Xen keeps console input for dom0 in a 128-byte ring (common/console.c,
        SERIAL_RX_SIZE) and drops what does not fit; under TCG a busy dom0 (or a
        Xenolith dom0) may drain it slowly, so long input goes in small chunks.
        """
        for start in range(0, len(text), SEND_CHUNK):
            if start:
                time.sleep(SEND_PAUSE)
            self.child.send(text[start:start + SEND_CHUNK])

    @property
    def before(self) -> str:
        """What came before the last match, without the carriage return the PV shim adds after
        each line feed: its console (xen/drivers/char/xen_pv_console.c, pv_ring_puts) sends
        "\n\r" for every "\n" the guest wrote, so a shim guest's lines would start with "\r"."""
        return str(self.child.before).replace("\n\r", "\n")

    def close(self) -> None:
        for sock in (self.sock, self._pump, self._near):
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            sock.close()
        if self._record is not None:
            with self._ready:
                self._record.close()


def _escape(text: str) -> str:
    import re
    return re.escape(text)
