"""`python -m xenlab selftest KERNEL`: Xenolith's boot tests for a CI, reported as xtf-runner does.

XTF (the Xen Test Framework) is the model: each test instance boots a guest
whose console ends with `Test result: SUCCESS|SKIP|ERROR|FAILURE` (Xenolith
prints it after every self-test run); a console without one is CRASH. The
runner prints one `NAME RESULT` line per instance under `Combined test
results:` and exits with the worst result's code, as xtf-runner: SUCCESS 0,
SKIP 3, ERROR 4, FAILURE 5, CRASH 6. Instances: `xenolith-dom0` (Xenolith
as dom0, `selftest=all`) and `xenolith-domu` (as a domU with a vif and a
16 MiB disk, `selftest=all`; through the PV shim on a stock flavour, where
`xenolith-dom0` is a SKIP: no 32-bit PV dom0 there). With `--xen-binary` it
is a boot test of someone's own hypervisor, with the dom0 of its nearest
release.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from pathlib import Path

from xenlab.errors import LabError
from xenlab.host import GUEST_MIB, GuestSpec, domain_mib
from xenlab.lab import Lab, no_dom0_message
from xenlab.selftest_results import XTF_RESULT_LINE, xtf_result

RESULTS = ("SUCCESS", "SKIP", "ERROR", "FAILURE", "CRASH")  # least to most severe
EXIT_CODES = {"SUCCESS": 0, "SKIP": 3, "ERROR": 4, "FAILURE": 5, "CRASH": 6}
INSTANCES = ("xenolith-dom0", "xenolith-domu")
DISK_BYTES = 16 * 1024 * 1024


def worst(results: Iterable[str]) -> str:
    """The most severe result (SUCCESS for none)."""
    return max(results, key=RESULTS.index, default="SUCCESS")


def _dom0(lab: Lab, kernel: Path, timeout: float) -> str:
    if lab.flavour.stock and lab.config.xen_binary is None:
        print(f"xenlab: xenolith-dom0: {no_dom0_message(lab.flavour)}")
        return "SKIP"
    with lab.boot_dom0_kernel(kernel, "selftest=all", 64) as run:
        try:
            run.console.expect([XTF_RESULT_LINE.pattern], timeout)
        except LabError:
            pass
        return xtf_result(run.log.read_text(errors="replace"))


def _domu(lab: Lab, kernel: Path, timeout: float, work: Path) -> str:
    disk = work / "xenolith-domu.disk"
    disk.parent.mkdir(parents=True, exist_ok=True)
    disk.write_bytes(b"\0" * DISK_BYTES)
    host = lab.up(memory_mib=2048)
    try:
        guest = host.create(GuestSpec(kernel=kernel, name="xenolith-domu",
                                      memory_mib=domain_mib(GUEST_MIB, host.shim),
                                      cmdline="selftest=all ip=10.0.0.2/24",
                                      vifs=("xenbr0",), disks=((disk, "w"),)))
        try:
            guest.console.expect([XTF_RESULT_LINE.pattern], timeout)
            return xtf_result(str(guest.console.child.after))
        except LabError:
            return "CRASH"
        finally:
            guest.destroy()
    finally:
        host.close()


def run_selftests(lab: Lab, kernel: Path, instances: Iterable[str] = INSTANCES,
                  timeout: float = 600, say: Callable[[str], None] = print) -> int:
    """Run the instances, print XTF's combined results, return xtf-runner's exit code."""
    runners = {"xenolith-dom0": lambda: _dom0(lab, kernel, timeout),
               "xenolith-domu": lambda: _domu(lab, kernel, timeout,
                                              lab.config.build / "lab" / "runner")}
    results: dict[str, str] = {}
    for name in instances:
        start = time.monotonic()
        try:
            results[name] = runners[name]()
        except LabError as exc:  # the lab, not the guest: XTF's ERROR
            say(f"xenlab: {name}: {exc}")
            results[name] = "ERROR"
        say(f"xenlab: {name} {results[name]} ({time.monotonic() - start:.0f} s, "
            f"Xen {lab.flavour.name})")
    say("Combined test results:")
    for name, result in results.items():
        say(f"{name:<30} {result}")
    return EXIT_CODES[worst(results.values())]
