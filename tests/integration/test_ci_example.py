"""Another project's CI (tests/ci_example, docs/ci.md): its pytest, in a process of its
own and a folder outside this clone, boots its kernel under real Xen through the lab's
pytest plugin alone (fixture `boot_kernel`, marker `xenlab`). Its kernel here is
Xenolith's tiny build; one domU boot."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_example_project_boots_its_kernel_through_the_plugin(tiny_kernel_elf: Path,
                                                             tmp_path: Path) -> None:
    project = tmp_path / "project"
    shutil.copytree(ROOT / "tests" / "ci_example", project)
    report = tmp_path / "report.xml"
    res = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          f"--junitxml={report}"], cwd=project,
                         env={**os.environ, "KERNEL": str(tiny_kernel_elf)},
                         capture_output=True, text=True, timeout=900, check=False)
    assert res.returncode == 0, res.stdout + res.stderr
    assert "1 passed" in res.stdout, res.stdout
    cases = ET.parse(report).getroot().iter("testcase")
    assert [c.get("name") for c in cases] == ["test_boots_answers_and_powers_off"]
    # The plugin's default place for runs and logs: the project's build/xenlab.
    logs = list((project / "build" / "xenlab" / "logs").iterdir())
    assert logs, "no run folder under the project's build/xenlab/logs"
    assert any("booting as domU" in (log / "serial.log").read_text(errors="replace")
               for log in logs), logs
