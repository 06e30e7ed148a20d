"""The lab's pytest plugin as Xenolith's tests use it: `boot_kernel` in dom0 mode (the
domU mode: tests/integration/test_ci_example.py, another project's tree)."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path

import pytest

from xenlab import ExitReason
from xenlab.pytest_plugin import KernelRun


@pytest.mark.xenlab(timeout=300)
def test_boot_kernel_as_dom0_powers_off(boot_kernel: Callable[..., KernelRun],
                                        tiny_kernel_elf: Path) -> None:
    run = boot_kernel(tiny_kernel_elf, mode="dom0", memory_mib=64)
    run.console.expect([r"Xenolith \S+ booting as dom0"], 120)
    run.console.expect([re.escape("xenolith> ")], 120)
    run.console.send("shutdown\r")
    assert run.wait_exit(60) is ExitReason.POWEROFF, f"log: {run.log}"
    assert "booting as dom0" in run.text()
    assert run.dom0 is not None and run.guest is None
