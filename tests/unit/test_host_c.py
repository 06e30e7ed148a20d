"""The kernel's pure C, built for the host and run here: no Xen, no boot, seconds.

Each harness in host_c/ is compiled with the host's gcc, as 32-bit code like the
kernel (the generated ABI headers assert i386 sizes), together with the unchanged
kernel files it tests; host_c/rename.h gives the kernel's C library functions names of
their own, so the harness reports with the host's. The build links with
--gc-sections, so a kernel file may reference parts of the kernel the harness does not
provide as long as the function under test does not.
"""

from __future__ import annotations

import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HOST_C = Path(__file__).with_name("host_c")
GEN_INCLUDE = ROOT / "build" / "gen" / "include"
CFLAGS = ("-m32", "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
          "-Wno-unused-parameter", "-fno-strict-aliasing", "-ffunction-sections",
          "-fdata-sections", "-DXENOLITH_DRIVERS=1", "-DXENOLITH_SELFTESTS=0")


@dataclass(frozen=True)
class Harness:
    name: str
    kernel_files: tuple[str, ...]  # relative to the repository


HARNESSES = (
    Harness("printk_test", ("kernel/printk.c", "kernel/lib.c")),
    Harness("parse_test", ("kernel/lib.c",)),
    Harness("cmdline_test", ("kernel/cmdline.c", "kernel/lib.c", "kernel/printk.c")),
    Harness("calendar_test", ("kernel/calendar.c",)),
    Harness("netfront_rx_test", ("drivers/netfront/ring.c",)),
)


def _compiler() -> str:
    gcc = shutil.which("gcc")
    if not gcc or not GEN_INCLUDE.is_dir():
        pytest.skip("needs gcc with 32-bit support (make bootstrap) and the generated "
                    "headers (make gen)")
    return gcc


def _run(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    assert res.returncode == 0, f"{what} failed:\n{' '.join(cmd)}\n{res.stderr}"


def build(gcc: str, harness: Harness, out: Path) -> Path:
    """Compile and link one harness into `out`. Kernel files get host_c/rename.h first;
    the harness includes it itself, after the host's headers."""
    includes = [f"-I{HOST_C}", f"-I{ROOT / 'kernel' / 'include'}", f"-I{ROOT / 'kernel'}",
                f"-I{GEN_INCLUDE}", *(f"-I{(ROOT / f).parent}" for f in harness.kernel_files)]
    objects = []
    for src, renamed in [(HOST_C / f"{harness.name}.c", False), (HOST_C / "check.c", False),
                         *((ROOT / f, True) for f in harness.kernel_files)]:
        obj = out / f"{src.stem}.o"
        rename = ["-include", str(HOST_C / "rename.h")] if renamed else []
        _run([gcc, *CFLAGS, *rename, *includes, "-c", str(src), "-o", str(obj)],
             f"compiling {src.name} for {harness.name}")
        objects.append(str(obj))
    exe = out / harness.name
    _run([gcc, "-m32", "-Wl,--gc-sections", "-o", str(exe), *objects], f"linking {harness.name}")
    return exe


@pytest.mark.parametrize("harness", HARNESSES, ids=[h.name for h in HARNESSES])
def test_host_c(harness: Harness, tmp_path: Path) -> None:
    exe = build(_compiler(), harness, tmp_path)
    res = subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 0, f"{harness.name}:\n{res.stdout}{res.stderr}"
    assert res.stdout.strip().splitlines()[-1].startswith("ok "), res.stdout
