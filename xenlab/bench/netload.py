"""The network load generator (netload.c): built static on the host, parsed from its line."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from xenlab.errors import LabError

SOURCE = Path(__file__).with_name("netload.c")
LINE = re.compile(r"netload: (\w+) \S+ replies=(\d+) lost=(\d+) seconds=([0-9.]+) rate=([0-9.]+)")


def build_netload(out_dir: Path) -> Path:
    """gcc -static netload.c into `out_dir`; LabError naming what is missing."""
    if not shutil.which("gcc"):
        raise LabError("gcc is needed to build netload.c (scripts/bootstrap.sh installs it)")
    out_dir.mkdir(parents=True, exist_ok=True)
    out = out_dir / "netload"
    res = subprocess.run(["gcc", "-static", "-O2", "-Wall", "-Wextra", "-o", str(out), str(SOURCE)],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        raise LabError(f"building {SOURCE} failed: {res.stderr.strip()}")
    return out


def parse_rate(output: str) -> tuple[float, int, int] | None:
    """(requests answered per second, answered, lost) from netload's output, None if absent."""
    m = LINE.search(output)
    if not m:
        return None
    return float(m.group(5)), int(m.group(2)), int(m.group(3))
