"""`xenlab xtf`'s reading of an XTF tree (selection, instance names, configs) and the
JUnit reports (xenlab.junit); no boots. The boots: tests/integration/test_xtf.py."""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from xenlab import junit
from xenlab.errors import LabError
from xenlab.exits import ExitReason
from xenlab.xtf import instances, spec_of


def xtf_tree(root: Path) -> Path:
    """A tree as XTF's `make` leaves it: info.json, kernels and xl configs per test."""
    tests = {"example": ("special", ["pv64", "pv32pae", "hvm64"], []),
             "pv-iopl": ("functional", ["pv64", "pv32pae"], ["hypercall", "vmassist"]),
             "xsa-1": ("xsa", ["pv64", "hvm32"], [])}
    for name, (category, envs, variations) in tests.items():
        d = root / "tests" / name
        d.mkdir(parents=True)
        (d / "info.json").write_text(json.dumps({"name": name, "category": category,
                                                 "environments": envs,
                                                 "variations": variations}))
        for env in envs:
            (d / f"test-{env}-{name}").write_bytes(b"\x7fELF")
            for var in variations or [""]:
                stem = f"test-{env}-{name}" + (f"~{var}" if var else "")
                extra = f'\ncmdline="{var}"\n' if var else ""
                (d / f"{stem}.cfg").write_text(
                    f'name="{stem}"\n\nvcpus=2 \n\ntype="pv"\nloader="generic" # Legacy\n\n'
                    f'memory=128\nkernel="/elsewhere/{stem}"\nmax_event_channels=4096\n{extra}')
    return root


def test_selection_is_xtf_runners(tmp_path: Path) -> None:
    tree = xtf_tree(tmp_path)
    assert [i.name for i in instances(tree)] == [
        "test-pv64-pv-iopl~hypercall", "test-pv64-pv-iopl~vmassist",
        "test-pv32pae-pv-iopl~hypercall", "test-pv32pae-pv-iopl~vmassist", "test-pv64-xsa-1"]
    assert [i.name for i in instances(tree, ["pv64", "hvm64"], tests=["example"])] == [
        "test-pv64-example", "test-hvm64-example"]
    assert [i.name for i in instances(tree, ["pv32pae"], ["special"])] == [
        "test-pv32pae-example"]
    with pytest.raises(LabError, match="not a built XTF tree"):
        instances(tmp_path / "none")
    (tmp_path / "tests" / "example" / "info.json").write_text("{")
    with pytest.raises(LabError, match="not an XTF info.json"):
        instances(tree)


def test_config_becomes_a_guest_spec(tmp_path: Path) -> None:
    inst = instances(xtf_tree(tmp_path), ["pv32pae"])[0]
    spec, left_out = spec_of(inst, host_shim=True)
    assert (spec.name, spec.memory_mib, spec.cmdline, spec.shim) == (
        "test-pv32pae-pv-iopl-hypercall", 128, "hypercall", True)
    assert spec.kernel == inst.kernel  # the tree's kernel, not the path the config names
    assert "max_event_channels" in left_out
    pv64 = instances(tmp_path, ["pv64"])[0]
    assert spec_of(pv64, host_shim=True)[0].shim is False  # 64-bit PV needs no shim


def test_junit_report_counts_and_marks_results(tmp_path: Path) -> None:
    console = ("selftest gdt: PASS\nselftest netfront: SKIP domU only\n"
               "selftest traps: FAIL lost #GP\n")
    cases = [*junit.suite_cases("dom0", console), junit.exit_case("dom0", ExitReason.CRASH),
             junit.Case("pv64", "test-pv64-x", "CRASH")]
    path = tmp_path / "r.xml"
    junit.write(path, "xenlab boot k", cases, tmp_path / "serial.log")
    suite = ET.parse(path).getroot().find("testsuite")
    assert suite is not None
    assert {k: suite.get(k) for k in ("tests", "failures", "errors", "skipped")} == {
        "tests": "5", "failures": "2", "errors": "1", "skipped": "1"}
    by_name = {c.get("name"): c for c in suite.iter("testcase")}
    assert list(by_name["gdt"]) == []
    assert by_name["netfront"].find("skipped").get("message") == "domU only"  # type: ignore[union-attr]
    assert by_name["traps"].find("failure").get("message") == "FAIL lost #GP"  # type: ignore[union-attr]
    assert by_name["boot"].find("failure") is not None
    assert by_name["test-pv64-x"].find("error") is not None
