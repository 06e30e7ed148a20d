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

from xenlab import junit
from xenlab.console import log_end, log_since
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


def _dom0(lab: Lab, kernel: Path, timeout: float) -> tuple[str, str]:
    """The instance's result and what its console printed."""
    if lab.flavour.stock and lab.config.xen_binary is None:
        print(f"xenlab: xenolith-dom0: {no_dom0_message(lab.flavour)}")
        return "SKIP", ""
    with lab.boot_dom0_kernel(kernel, "selftest=all", 64) as run:
        try:
            run.console.expect([XTF_RESULT_LINE.pattern], timeout)
        except LabError:
            pass
        text = log_since(run.log)
        return xtf_result(text), text


def _domu(lab: Lab, kernel: Path, timeout: float, work: Path) -> tuple[str, str]:
    disk = work / "xenolith-domu.disk"
    disk.parent.mkdir(parents=True, exist_ok=True)
    disk.write_bytes(b"\0" * DISK_BYTES)
    host = lab.up(memory_mib=2048)
    try:
        mark = log_end(host.log)
        guest = host.create(GuestSpec(kernel=kernel, name="xenolith-domu",
                                      memory_mib=domain_mib(GUEST_MIB, host.shim),
                                      cmdline="selftest=all ip=10.0.0.2/24",
                                      vifs=("xenbr0",), disks=((disk, "w"),)))
        try:
            guest.console.expect([XTF_RESULT_LINE.pattern], timeout)
            result = xtf_result(str(guest.console.child.after))
        except LabError:
            result = "CRASH"
        guest.destroy()
        return result, log_since(host.log, mark)
    finally:
        host.close()


def run_selftests(lab: Lab, kernel: Path, instances: Iterable[str] = INSTANCES,
                  timeout: float = 600, say: Callable[[str], None] = print,
                  junit_path: Path | None = None) -> int:
    """Run the instances, print XTF's combined results, return xtf-runner's exit code;
    `junit_path`: a JUnit report there, a case per instance and per suite line it printed."""
    runners = {"xenolith-dom0": lambda: _dom0(lab, kernel, timeout),
               "xenolith-domu": lambda: _domu(lab, kernel, timeout,
                                              lab.config.build / "lab" / "runner")}
    results: dict[str, str] = {}
    cases: list[junit.Case] = []
    for name in instances:
        start = time.monotonic()
        text = ""
        try:
            results[name], text = runners[name]()
        except LabError as exc:  # the lab, not the guest: XTF's ERROR
            say(f"xenlab: {name}: {exc}")
            results[name] = "ERROR"
        seconds = time.monotonic() - start
        say(f"xenlab: {name} {results[name]} ({seconds:.0f} s, Xen {lab.flavour.name})")
        cases += [junit.Case(name, name, results[name], seconds=seconds),
                  *junit.suite_cases(name, text)]
    return combined_results(results, say, junit_path, cases, f"xenlab selftest {kernel.name}")


def combined_results(results: dict[str, str], say: Callable[[str], None],
                     junit_path: Path | None, cases: list[junit.Case], suite: str) -> int:
    """Print xtf-runner's `Combined test results:` table, write the JUnit report if
    asked, return xtf-runner's exit code (that of the worst result)."""
    say("Combined test results:")
    for name, result in results.items():
        say(f"{name:<40} {result}")
    if junit_path is not None:
        junit.write(junit_path, suite, cases)
        say(f"xenlab: JUnit report {junit_path} ({len(cases)} cases)")
    return EXIT_CODES[worst(results.values())]
