"""The kernel's pure C, built for the host and run here: no Xen, no boot, seconds.

Each harness in host_c/ is compiled with the host's gcc together with the unchanged
kernel files it tests (xenlab.hostc.build: 32-bit, host_c/rename.h, --gc-sections) and
run; it prints "ok N checks" and exits 0 when every check holds.
"""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from xenlab.hostc import GEN_INCLUDE, HOST_C, BuildError, Harness, build


def _harness(name: str, *kernel_files: str) -> Harness:
    return Harness(name, (HOST_C / f"{name}.c", HOST_C / "check.c"), kernel_files)


HARNESSES = (
    _harness("printk_test", "kernel/printk.c", "kernel/lib.c"),
    _harness("parse_test", "kernel/lib.c"),
    _harness("cmdline_test", "kernel/cmdline.c", "kernel/lib.c", "kernel/printk.c"),
    _harness("calendar_test", "kernel/calendar.c"),
    _harness("netfront_rx_test", "drivers/netfront/ring.c"),
)


def _compiler() -> str:
    gcc = shutil.which("gcc")
    if not gcc or not GEN_INCLUDE.is_dir():
        pytest.skip("needs gcc with 32-bit support (make bootstrap) and the generated "
                    "headers (make gen)")
    return gcc


@pytest.mark.parametrize("harness", HARNESSES, ids=[h.name for h in HARNESSES])
def test_host_c(harness: Harness, tmp_path: Path) -> None:
    try:
        exe = build([_compiler()], harness, tmp_path)
    except BuildError as e:
        pytest.fail(str(e))
    res = subprocess.run([str(exe)], capture_output=True, text=True, check=False, timeout=60)
    assert res.returncode == 0, f"{harness.name}:\n{res.stdout}{res.stderr}"
    assert res.stdout.strip().splitlines()[-1].startswith("ok "), res.stdout
