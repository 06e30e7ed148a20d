"""The CLI explains broken kernels quickly and leaves no QEMU behind on timeout or Ctrl-C."""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import pexpect

from xenlab import Lab
from xenlab.selftest_results import suite_list

ROOT = Path(__file__).resolve().parents[2]


def _xenlab(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "xenlab", *args], cwd=ROOT, text=True,
                          capture_output=True, timeout=timeout, check=False)


def _lab_qemus() -> set[str]:
    """QEMUs of this tree's lab (pid + command line). Tests compare before/after, since
    the session's shared host (`xen_host`) may be running too."""
    out = subprocess.run(["pgrep", "-af", "qemu-system"], capture_output=True, text=True,
                         check=False).stdout
    return {line for line in out.splitlines() if str(ROOT / "build" / "lab") in line}


def test_not_elf_is_refused(tmp_path: Path) -> None:
    bad = tmp_path / "notelf.bin"
    bad.write_bytes(b"hello, not a kernel\n" * 10)
    res = _xenlab("boot", str(bad), "--mode", "dom0", timeout=60)
    assert res.returncode != 0
    assert "not an ELF file" in res.stderr


def test_elf_without_xen_notes_is_refused(tmp_path: Path) -> None:
    res = _xenlab("boot", "/bin/true", timeout=60)
    assert res.returncode != 0
    assert "no Xen ELF notes" in res.stderr


def test_dom0_mode_crash_is_reported(grub_pv: Path, dom0_lab: Lab) -> None:
    # GRUB i386-xen is not made to be dom0: Xen reports "Hardware Dom0 crashed".
    res = _xenlab("boot", str(grub_pv), "--mode", "dom0", "--timeout", "60")
    assert res.returncode == 2, res.stderr
    assert "crash" in res.stderr.splitlines()[-1]
    assert "Hardware Dom0 crashed" in res.stdout


def test_timeout_leaves_no_qemu(grub_pv: Path) -> None:
    # GRUB waits at its prompt forever: the boot must time out.
    before = _lab_qemus()
    res = _xenlab("boot", str(grub_pv), "--timeout", "8", timeout=300)
    assert res.returncode == 4, res.stderr
    assert "timeout" in res.stderr.splitlines()[-1]
    assert _lab_qemus() - before == set()


CTRL_C_EXIT_S = 180


def test_ctrl_c_leaves_no_qemu(grub_pv: Path) -> None:
    before = _lab_qemus()
    proc = subprocess.Popen([sys.executable, "-m", "xenlab", "boot", str(grub_pv),
                             "--timeout", "120"], cwd=ROOT, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    time.sleep(6)
    assert _lab_qemus() - before, "QEMU should be running by now"
    proc.send_signal(signal.SIGINT)
    # Not a timing check: on a loaded machine QEMU's teardown (QMP quit, waiting for the
    # process, the run folder's cleanup) has been seen to take over 30 s.
    proc.communicate(timeout=CTRL_C_EXIT_S)
    time.sleep(0.5)
    assert _lab_qemus() - before == set()


def test_interactive_boot_and_ctrl_bracket(kernel_elf: Path) -> None:
    """What `make run` does: a terminal attached to the guest's console; Ctrl-] leaves
    (exit status 7), the guest is destroyed and its QEMU is gone."""
    before = _lab_qemus()
    child = pexpect.spawn(sys.executable, ["-m", "xenlab", "boot", str(kernel_elf), "--mode",
                                           "domu", "--vif"],
                          cwd=str(ROOT), encoding="utf-8", timeout=180)
    try:
        child.expect_exact("xenolith> ")
        child.send("echo typed at a terminal\r")
        child.expect(r"\n\r?typed at a terminal\r*\n")  # \r after \n: the PV shim's console
        child.expect_exact("xenolith> ")
        child.send("\x1d")
        child.expect(r"xenlab: guest ended: detached \(exit status 7\)")
        child.expect(pexpect.EOF)
    finally:
        child.close(force=True)
    assert child.exitstatus == 7
    assert _lab_qemus() - before == set()


def junit_cases(path: Path) -> dict[tuple[str, str], list[str]]:
    """A JUnit file's cases: (classname, name) -> the tags inside (failure, skipped, ...)."""
    return {(c.get("classname", ""), c.get("name", "")): [e.tag for e in c]
            for c in ET.parse(path).getroot().iter("testcase")}


def test_selftest_runner_reports_as_xtf_runner(kernel_elf: Path, tiny_kernel_elf: Path,
                                              dom0_lab: Lab, tmp_path: Path) -> None:
    """`xenlab selftest`: XTF's combined-results lines and exit codes (xenlab/runner.py),
    and --junit: a case for the instance and one per suite line."""
    report = tmp_path / "selftest.xml"
    res = _xenlab("selftest", str(kernel_elf), "--only", "xenolith-dom0", "--junit",
                  str(report), timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Combined test results:" in res.stdout
    assert re.search(r"^xenolith-dom0\s+SUCCESS$", res.stdout, re.MULTILINE), res.stdout
    cases = junit_cases(report)
    assert cases[("xenolith-dom0", "xenolith-dom0")] == []
    assert cases[("xenolith-dom0", "gdt")] == [] and len(cases) > 10, cases
    # The tiny kernel has no self-tests: its run is a failure (XTF's FAILURE, exit 5).
    res = _xenlab("selftest", str(tiny_kernel_elf), "--only", "xenolith-dom0", timeout=600)
    assert res.returncode == 5, res.stdout + res.stderr
    assert re.search(r"^xenolith-dom0\s+FAILURE$", res.stdout, re.MULTILINE), res.stdout


def test_up_lab_records_its_serial_line_unattended(kernel_elf: Path) -> None:
    """`xenlab up` leaves Xen + dom0 running with no process of ours attached: its keeper
    (xenlab.serial_keeper) still records every byte, so a guest `create`d and left alone
    boots on the record; `down` ends QEMU and the keeper with it."""
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    # A folder of its own (`up` keeps its state in ./build), with a short path: a unix
    # socket's path has at most 107 bytes.
    tmp_path = Path(tempfile.mkdtemp(prefix="xl-up-", dir="/tmp"))

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "xenlab", *args], cwd=tmp_path, env=env,
                              text=True, capture_output=True, timeout=300, check=False)

    up = cli("up")
    assert up.returncode == 0, up.stderr
    run_dir = Path(json.loads((tmp_path / "build/lab/current").read_text())["run_dir"])
    keeper = f"xenlab.serial_keeper {run_dir}"
    try:
        listed = cli("dom0", "xl list")
        assert listed.returncode == 0 and "Domain-0" in listed.stdout, listed.stderr
        created = cli("create", str(kernel_elf.resolve()), "--name", "kept", "--memory", "32")
        assert created.returncode == 0, created.stderr
        deadline = time.monotonic() + 120
        log = run_dir / "serial.log"
        while not re.search(r"Xenolith \S+ booting as domU(?s:.*)xenolith> ",
                            log.read_text(errors="replace")):
            assert time.monotonic() < deadline, f"no guest boot in {log}"
            time.sleep(1)
        assert cli("dom0", "xl destroy kept").returncode == 0
    finally:
        down = cli("down")
    assert down.returncode == 0 and "stopped" in down.stdout, down.stderr
    shutil.rmtree(tmp_path, ignore_errors=True)
    deadline = time.monotonic() + 30
    while subprocess.run(["pgrep", "-f", keeper], capture_output=True, check=False).returncode == 0:
        assert time.monotonic() < deadline, "the keeper outlived its QEMU"
        time.sleep(0.5)


def test_boot_junit_has_a_case_per_suite(kernel_elf: Path, dom0_lab: Lab, tmp_path: Path) -> None:
    """`xenlab boot --junit FILE`: each suite the kernel lists has its case (a SKIP for one
    of the other mode), and the boot's own case passes when the kernel powered off."""
    report = tmp_path / "boot.xml"
    res = _xenlab("boot", str(kernel_elf), "--mode", "dom0", "--cmdline", "selftest=all",
                  "--junit", str(report), timeout=600)
    assert res.returncode == 0, res.stdout + res.stderr
    cases = junit_cases(report)
    listed = suite_list(res.stdout)
    assert listed, res.stdout
    for suite in listed:
        tags = cases[("dom0", suite.name)]
        assert tags in ([], ["skipped"]) if suite.runs_in("dom0") else tags == ["skipped"], (
            suite, tags)
    assert cases[("dom0", "boot")] == []
    assert len(cases) == len(listed) + 1, cases
