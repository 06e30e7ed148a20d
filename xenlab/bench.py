"""`python -m xenlab bench`: dom0 ready (cold, warm from snapshot), xl create to first byte."""

from __future__ import annotations

import os
import time
from pathlib import Path

from xenlab.host import GuestSpec
from xenlab.lab import Lab, LabConfig
from xenlab.parts import build_grub_pv, default_cache, stderr_progress


def _dom0_ready(lab: Lab, snapshot: bool) -> float:
    if snapshot:
        os.environ.pop("XENLAB_NO_SNAPSHOT", None)
    else:
        os.environ["XENLAB_NO_SNAPSHOT"] = "1"
    start = time.monotonic()
    host = lab.up()
    took = time.monotonic() - start
    host.close()
    os.environ.pop("XENLAB_NO_SNAPSHOT", None)
    return took


def run_bench(kernel: Path | None, config: LabConfig | None = None) -> int:
    """Print the figures; the guest is `kernel` if it exists, else GRUB i386-xen."""
    lab = Lab(config or LabConfig())
    print(f"Xen {lab.flavour.name} lab")
    guest_kernel = kernel if kernel and kernel.exists() else build_grub_pv(default_cache(),
                                                                           stderr_progress)
    cold = _dom0_ready(lab, snapshot=False)
    print(f"dom0 ready, cold boot (no snapshot): {cold:.1f} s")
    warm = _dom0_ready(lab, snapshot=True)
    print(f"dom0 ready, warm (snapshot restore): {warm:.1f} s   (target <= 15 s)")
    host = lab.up()
    try:
        start = time.monotonic()
        guest = host.create(GuestSpec(kernel=guest_kernel, name="bench", memory_mib=32))
        host.console.expect([r"[^\s]"], timeout=60)
        first = time.monotonic() - start
        print(f"xl create -> first console byte ({guest_kernel.name}): {first:.1f} s "
              "(target <= 3 s)")
        guest.destroy()
    finally:
        host.close()
    return 0
