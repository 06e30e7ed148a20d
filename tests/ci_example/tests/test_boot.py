"""The kernel boots as a domU under real Xen, answers on its console and powers off.

$KERNEL names the kernel ELF the project's build made (default build/kernel.elf)."""

import os
import re
from pathlib import Path

import pytest

from xenlab import ExitReason

KERNEL = Path(os.environ.get("KERNEL", "build/kernel.elf"))


@pytest.mark.xenlab(timeout=600)
def test_boots_answers_and_powers_off(boot_kernel):
    run = boot_kernel(KERNEL, mode="domu", vifs=("xenbr0",))
    run.console.expect([r"booting as domU"], timeout=120)
    run.console.expect([re.escape("xenolith> ")], timeout=120)
    run.console.send("info\r")
    run.console.expect([r"xen: version 4\.\d+"], timeout=30)
    run.console.send("shutdown\r")
    assert run.wait_exit(timeout=60) is ExitReason.POWEROFF
    assert "booting as domU" in run.text()
