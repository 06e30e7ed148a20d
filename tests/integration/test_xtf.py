"""`xenlab xtf XTF_DIR` against a built XTF tree ($XTF_DIR: `git clone` XTF, `make`;
Debian does not package it): XTF's example in pv64 and pv32pae, two guests of one lab
host, reported as xtf-runner reports them, with a JUnit file."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def xtf_dir() -> Path:
    path = os.environ.get("XTF_DIR")
    if not path:
        pytest.skip("XTF_DIR is not set: give a built XTF tree (git clone XTF's source, "
                    "make); Debian does not package XTF")
    if not (Path(path) / "tests" / "example" / "info.json").is_file():
        pytest.skip(f"XTF_DIR={path} is not a built XTF tree (no tests/example/info.json)")
    return Path(path)


def test_xtf_example_runs_as_xtf_runner_reports(xtf_dir: Path, tmp_path: Path) -> None:
    report = tmp_path / "xtf.xml"
    res = subprocess.run([sys.executable, "-m", "xenlab", "xtf", str(xtf_dir), "--test",
                          "example", "--junit", str(report)], cwd=ROOT, capture_output=True,
                         text=True, timeout=600, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "Environment: PV 64bit (Long mode 4 levels)" in res.stdout, res.stdout
    assert "Environment: PV 32bit (PAE 3 levels)" in res.stdout, res.stdout
    table = res.stdout.split("Combined test results:\n", 1)[1]
    assert re.findall(r"^(test-\S+)\s+(\w+)$", table, re.MULTILINE) == [
        ("test-pv64-example", "SUCCESS"), ("test-pv32pae-example", "SUCCESS")], res.stdout
    cases = list(ET.parse(report).getroot().iter("testcase"))
    assert [(c.get("classname"), c.get("name"), list(c)) for c in cases] == [
        ("pv64", "test-pv64-example", []), ("pv32pae", "test-pv32pae-example", [])]
