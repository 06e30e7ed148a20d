"""The Linux peer's disk load (diskload.c): built static on the host, parsed from its line."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from xenlab.cprog import build_static

SOURCE = Path(__file__).with_name("diskload.c")
LINE = re.compile(r"diskload: (\w+) \S+ bytes=(\d+) ios=(\d+) qd=(\d+) seconds=([0-9.]+)")


@dataclass(frozen=True)
class DiskRun:
    """One diskload run: what, how many bytes in how many transfers, and how long."""

    kind: str
    bytes: int
    ios: int
    qd: int
    seconds: float


def build_diskload(out_dir: Path) -> Path:
    return build_static(SOURCE, out_dir / "diskload")


def parse_diskload(output: str) -> DiskRun | None:
    m = LINE.search(output)
    if not m or float(m.group(5)) <= 0:
        return None
    return DiskRun(m.group(1), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                   float(m.group(5)))
