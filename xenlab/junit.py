"""JUnit XML, the report every CI reads: one <testsuite> per command run, one <testcase>
per result (a self-test suite's line, an XTF test instance, a boot's end).

Results are Xenolith's suite verdicts (PASS, FAIL, SKIP) or XTF's (SUCCESS, SKIP, ERROR,
FAILURE, CRASH): a pass is a bare <testcase>, SKIP gets <skipped>, FAIL and FAILURE
<failure>, ERROR and CRASH <error>. Suite lines are read by xenlab.selftest_results.
"""

from __future__ import annotations

import xml.etree.ElementTree as ET
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from xenlab.exits import ExitReason
from xenlab.selftest_results import suite_results

PASSED = ("PASS", "SUCCESS")
FAILED = ("FAIL", "FAILURE")


@dataclass(frozen=True)
class Case:
    """One <testcase>: `classname` groups cases (a boot mode, a runner instance)."""

    classname: str
    name: str
    result: str
    detail: str = ""
    seconds: float = 0.0


def suite_cases(classname: str, console: str) -> list[Case]:
    """One case per self-test suite line the console printed."""
    return [Case(classname, r.name, r.verdict, r.detail)
            for r in suite_results(console).values()]


def exit_case(classname: str, reason: ExitReason, seconds: float = 0.0) -> Case:
    """The boot's own case: a pass when the kernel powered off."""
    result = "PASS" if reason is ExitReason.POWEROFF else "FAIL"
    return Case(classname, "boot", result, f"the kernel ended: {reason.name.lower()}", seconds)


def write(path: Path, suite: str, cases: Iterable[Case], log: Path | None = None) -> None:
    """Write the JUnit file at `path` (`log`: the serial log, named in <system-out>)."""
    cases = list(cases)
    root = ET.Element("testsuites")
    counts = {"tests": len(cases),
              "failures": sum(c.result in FAILED for c in cases),
              "errors": sum(c.result not in (*PASSED, *FAILED, "SKIP") for c in cases),
              "skipped": sum(c.result == "SKIP" for c in cases)}
    ts = ET.SubElement(root, "testsuite", name=suite,
                       time=f"{sum(c.seconds for c in cases):.1f}",
                       **{k: str(v) for k, v in counts.items()})
    for c in cases:
        tc = ET.SubElement(ts, "testcase", classname=c.classname, name=c.name,
                           time=f"{c.seconds:.1f}")
        if c.result == "SKIP":
            ET.SubElement(tc, "skipped", message=c.detail)
        elif c.result in FAILED:
            ET.SubElement(tc, "failure", message=f"{c.result} {c.detail}".strip())
        elif c.result not in PASSED:
            ET.SubElement(tc, "error", message=f"{c.result} {c.detail}".strip())
    if log is not None:
        ET.SubElement(ts, "system-out").text = f"serial log: {log}"
    ET.indent(root)
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(root).write(path, encoding="utf-8", xml_declaration=True)
