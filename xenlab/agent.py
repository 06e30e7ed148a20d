"""Client of dom0's control agent (virtio-serial `xenlab.ctl`, XENLAB-CMD/XENLAB-RES)."""

from __future__ import annotations

import base64
import secrets
import socket
import time
from dataclasses import dataclass
from pathlib import Path

from xenlab.errors import LabError


@dataclass(frozen=True)
class CommandResult:
    """A dom0 command's exit status and its stdout+stderr."""

    status: int
    output: str


def encode_request(token: str, command: str) -> bytes:
    return f"XENLAB-CMD {token} {base64.b64encode(command.encode()).decode()}\n".encode()


def parse_answer(line: str, token: str) -> CommandResult | None:
    """The result if `line` answers `token`, else None (other lines are ignored)."""
    words = line.strip().split(" ")
    if len(words) < 3 or words[0] != "XENLAB-RES" or words[1] != token:
        return None
    payload = words[3] if len(words) > 3 else ""
    return CommandResult(int(words[2]), base64.b64decode(payload).decode(errors="replace"))


class Agent:
    """Runs commands in dom0, one at a time."""

    def __init__(self, sock_path: Path, log: Path) -> None:
        self.sock_path = sock_path
        self.log = log
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(str(sock_path))
        self.buf = b""

    def run(self, command: str, timeout: float = 60) -> CommandResult:
        token = secrets.token_hex(6)
        self.sock.sendall(encode_request(token, command))
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                res = parse_answer(line.decode(errors="replace"), token)
                if res is not None:
                    return res
            left = deadline - time.monotonic()
            if left <= 0:
                raise LabError(f"dom0 did not answer {command!r} within {timeout:.0f} s; "
                               f"serial log: {self.log}")
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except TimeoutError:
                continue
            if not data:
                raise LabError(f"control channel closed while running {command!r}; "
                               f"serial log: {self.log}")
            self.buf += data

    def close(self) -> None:
        self.sock.close()
