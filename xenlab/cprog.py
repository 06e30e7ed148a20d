"""The lab's small static C programs that run in dom0 or in a bench guest (netload.c,
diskload.c, the tests' peers): built on this machine with gcc -static, with the lab's
shared headers (xenlab/include: inet_csum.h) on the include path."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from xenlab.errors import LabError

STATIC_INCLUDE = Path(__file__).with_name("include")
CFLAGS = ("-static", "-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror")


def build_static(source: Path, out: Path) -> Path:
    """gcc -static `source` into `out`; LabError naming what went wrong."""
    if not shutil.which("gcc"):
        raise LabError(f"gcc is needed to build {source.name} (scripts/bootstrap.sh installs it)")
    out.parent.mkdir(parents=True, exist_ok=True)
    res = subprocess.run(["gcc", *CFLAGS, f"-I{STATIC_INCLUDE}", "-o", str(out), str(source)],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        raise LabError(f"building {source} failed: {res.stderr.strip()}")
    return out
