"""Xenolith's self-test lines, read in one place (the kernel prints them: kernel/selftest.c).

One line per suite run, `selftest NAME: PASS|FAIL|SKIP detail`; a run's summary,
`selftest summary: N passed, M failed, K skipped`; XTF's result line, `Test result:
SUCCESS|SKIP|ERROR|FAILURE` (the last one a console printed is the run's, as xtf-runner
reads it; none at all is CRASH); and, for `selftest list` / `selftest=list`, one line per
suite, `suite NAME dom0|domU|both FILE` (also printed before an `all` run). Used by the integration tests (kshell.py) and
by `xenlab selftest` (runner.py).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

SUITE_LINE = re.compile(r"selftest (\w+): (PASS|FAIL|SKIP)\b ?([^\r\n]*)")
SUMMARY_LINE = re.compile(r"selftest summary: (\d+) passed, (\d+) failed(?:, (\d+) skipped)?")
XTF_RESULT_LINE = re.compile(r"Test result: (SUCCESS|SKIP|ERROR|FAILURE)")
LIST_LINE = re.compile(r"^suite (\w+) (dom0|domU|both) (\S+)\r*$", re.MULTILINE)
MODES = ("dom0", "domU")


@dataclass(frozen=True)
class SuiteResult:
    """One suite's line: its verdict (PASS, FAIL or SKIP) and the detail after it."""

    name: str
    verdict: str
    detail: str


@dataclass(frozen=True)
class KnownFailure:
    """A suite's FAIL that the lab causes, not the kernel: the FAIL's detail matches
    `detail` (a regex), and `why` says what in the lab does it (docs/lab.md)."""

    suite: str
    detail: str
    why: str

    def matches(self, result: SuiteResult) -> bool:
        return (result.name == self.suite and result.verdict == "FAIL"
                and re.search(self.detail, result.detail) is not None)


@dataclass(frozen=True)
class Summary:
    passed: int
    failed: int
    skipped: int


@dataclass(frozen=True)
class Suite:
    """A suite as `selftest list` gives it: where it runs (dom0, domU or both) and its file."""

    name: str
    where: str
    file: str

    def runs_in(self, mode: str) -> bool:
        """Whether the suite runs in `mode` (dom0 or domU); elsewhere it reports SKIP."""
        return self.where in ("both", mode)


def suite_results(text: str) -> dict[str, SuiteResult]:
    """Every suite line in `text`, by suite name (a suite run twice: its last line)."""
    return {m.group(1): SuiteResult(m.group(1), m.group(2), m.group(3).strip())
            for m in SUITE_LINE.finditer(text)}


def suite_result(text: str, name: str) -> SuiteResult | None:
    """The line of suite `name` in `text`, or None."""
    return suite_results(text).get(name)


def summary(text: str) -> Summary | None:
    """The last summary line in `text` (a kernel without the skipped count gives 0)."""
    found = SUMMARY_LINE.findall(text)
    if not found:
        return None
    passed, failed, skipped = found[-1]
    return Summary(int(passed), int(failed), int(skipped or 0))


def xtf_result(text: str) -> str:
    """The last `Test result:` in `text`, or CRASH when there is none (xtf-runner's rule)."""
    found = XTF_RESULT_LINE.findall(text)
    return found[-1] if found else "CRASH"


def suite_list(text: str) -> list[Suite]:
    """The suites a `selftest list` printed, in the kernel's order."""
    return [Suite(*m.groups()) for m in LIST_LINE.finditer(text)]


def of_files(suites: Iterable[Suite], stems: Iterable[str]) -> list[str]:
    """Names of the suites defined in files whose name is `<stem>_selftest.c` (or
    `<stem>_selftest_fpu.c`) for one of `stems`: a test module's part."""
    wanted = set(stems)
    return [s.name for s in suites
            if re.sub(r"_selftest(_fpu)?\.c$", "", s.file.rsplit("/", 1)[-1]) in wanted]


def known_failures(text: str, known: Iterable[KnownFailure]) -> list[KnownFailure]:
    """Those of `known` that happened in `text`."""
    results = suite_results(text)
    return [k for k in known if k.suite in results and k.matches(results[k.suite])]


def problems(text: str, mode: str, known: Iterable[KnownFailure] = ()) -> list[str]:
    """What is wrong with a whole run (`selftest=all`) in `mode`: a listed suite
    without a result line, a FAIL (but one of `known`), a suite declared for the other
    mode that did not SKIP, or no PASS at all. Empty when the run is right. The console
    the text came through is byte-exact (docs/lab.md), so a name is matched exactly."""
    listed = suite_list(text)
    results = suite_results(text)
    excused = {k.suite for k in known_failures(text, known)}
    found: list[str] = [] if listed else ["no `suite` lines: not a `selftest=all` run?"]
    for suite in listed:
        r = results.get(suite.name)
        if r is None:
            found.append(f"{suite.name}: no result line")
        elif r.verdict == "FAIL" and suite.name not in excused:
            found.append(f"{suite.name}: FAIL {r.detail}")
        elif not suite.runs_in(mode) and r.verdict != "SKIP":
            found.append(f"{suite.name}: {r.verdict} in {mode}, but it runs in {suite.where}")
    if not any(r.verdict == "PASS" for r in results.values()):
        found.append("no suite passed")
    return found
