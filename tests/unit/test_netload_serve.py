"""netload, built and run on this machine: its TCP clients against its own `serve` (the Linux
bench peer's and the limit's server) over loopback. `serve` takes the well-known ports (9, 19,
80), so the test runs only as root and when they are free."""

from __future__ import annotations

import os
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from xenlab.bench.netload import build_netload, parse_rate, parse_stream

PORTS = (9, 19, 80)


def _free(port: int) -> bool:
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


@pytest.fixture(scope="module")
def netload(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Path]:
    if os.geteuid() != 0 or not all(_free(p) for p in PORTS):
        pytest.skip("netload serve needs root and ports 9, 19 and 80 free")
    exe = build_netload(tmp_path_factory.mktemp("netload"))
    server = subprocess.Popen([str(exe), "serve"])
    try:
        deadline = time.monotonic() + 10
        while _free(80) and time.monotonic() < deadline:
            time.sleep(0.05)
        yield exe
    finally:
        server.terminate()
        server.wait(10)


def run(exe: Path, *args: str) -> str:
    return subprocess.run([str(exe), *args], capture_output=True, text=True, timeout=60,
                          check=True).stdout


@pytest.mark.parametrize("keep", ["1", "0"])
def test_http_requests_all_answered(netload: Path, keep: str) -> None:
    got = parse_rate(run(netload, "http", "127.0.0.1", "80", "0.3", keep))
    assert got is not None and got[1] > 10 and got[2] == 0, got


@pytest.mark.parametrize(("kind", "port"), [("tcpsend", "9"), ("tcprecv", "19")])
def test_streams_move_bytes(netload: Path, kind: str, port: str) -> None:
    got = parse_stream(run(netload, kind, "127.0.0.1", port, "0.3"))
    assert got is not None and got[1] > 1 << 20, got


def test_connections_open_and_close(netload: Path) -> None:
    got = parse_rate(run(netload, "tcpconn", "127.0.0.1", "9", "0.3"))
    assert got is not None and got[1] > 10 and got[2] == 0, got


def test_a_raw_request_gets_the_page(netload: Path) -> None:
    with socket.create_connection(("127.0.0.1", 80), timeout=5) as s:
        s.sendall(b"GET /x HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200 OK") and b"Content-Length: 512" in head
    assert len(body) == 512
