"""The network load generator (netload.c): built static on the host, parsed from its lines."""

from __future__ import annotations

import re
from pathlib import Path

from xenlab.cprog import build_static

SOURCE = Path(__file__).with_name("netload.c")
LINE = re.compile(r"netload: ([\w-]+) \S+ replies=(\d+) lost=(\d+) seconds=([0-9.]+) rate=([0-9.]+)")
BLAST = re.compile(r"netload: blast \S+ sent=(\d+) errors=(\d+) seconds=([0-9.]+)")
STREAM = re.compile(r"netload: (tcpsend|tcprecv) \S+ bytes=(\d+) seconds=([0-9.]+) "
                    r"rate=([0-9.]+)")
GAP = re.compile(r"netload: gap \S+ replies=(\d+) lost=(\d+) seconds=[0-9.]+ maxgap_ms=([0-9.]+)")


def build_netload(out_dir: Path) -> Path:
    """gcc -static netload.c into `out_dir`; LabError naming what is missing."""
    return build_static(SOURCE, out_dir / "netload")


def parse_rate(output: str) -> tuple[float, int, int] | None:
    """(requests answered per second, answered, lost) from netload's output, None if absent."""
    m = LINE.search(output)
    if not m:
        return None
    return float(m.group(5)), int(m.group(2)), int(m.group(3))


def parse_blast(output: str) -> tuple[int, int, float] | None:
    """(datagrams sent, send errors, seconds) of `netload blast`, None if absent."""
    m = BLAST.search(output)
    return (int(m.group(1)), int(m.group(2)), float(m.group(3))) if m else None


def parse_gap(output: str) -> tuple[float, int, int] | None:
    """(longest time without a reply in ms, replies, lost) of `netload gap`, None if absent
    or when fewer than two replies came (no gap between replies to measure)."""
    m = GAP.search(output)
    if not m or int(m.group(1)) < 2:
        return None
    return float(m.group(3)), int(m.group(1)), int(m.group(2))


def parse_stream(output: str) -> tuple[float, int] | None:
    """(MB/s, bytes) of `netload tcpsend` or `tcprecv`, None if absent or nothing moved."""
    m = STREAM.search(output)
    if not m or int(m.group(2)) == 0:
        return None
    return float(m.group(4)), int(m.group(2))
