"""xenlab.selftest_results: the one reader of the kernel's self-test lines (kernel/selftest.c)."""

from __future__ import annotations

from xenlab.selftest_results import (
    KnownFailure,
    Summary,
    known_failures,
    of_files,
    problems,
    suite_list,
    suite_results,
    summary,
    xtf_result,
)

LISTING = """\
suite start_of_day both kernel/core_selftest.c\r\r
suite events both kernel/xen/evtchn/evtchn_selftest.c\r
suite evtchn_storm both kernel/xen/evtchn/evtchn_selftest.c\r
suite xenstore domU kernel/xen/xenstore/xenstore_selftest.c\r
suite fpu both kernel/arch/x86_32/fpu_selftest.c\r
"""
RUN = """\
selftest start_of_day: PASS dom0, 16384 pages\r
selftest events: PASS bind, send, mask\r
selftest evtchn_storm: SKIP 30 sends took 900 ms, no window saw more than 64\r
selftest xenstore: SKIP domU only\r
selftest fpu: PASS \r
selftest summary: 3 passed, 0 failed, 2 skipped\r
Test result: SUCCESS\r
"""


def test_suite_lines_verdict_and_detail() -> None:
    results = suite_results(RUN)
    assert [r.verdict for r in results.values()] == ["PASS", "PASS", "SKIP", "SKIP", "PASS"]
    assert results["xenstore"].detail == "domU only"
    assert results["fpu"].detail == ""
    assert "summary" not in results  # the summary line is not a suite


def test_summary_with_and_without_skipped() -> None:
    assert summary(RUN) == Summary(3, 0, 2)
    assert summary("selftest summary: 0 passed, 1 failed\n") == Summary(0, 1, 0)
    assert summary("nothing") is None


def test_xtf_result_is_the_last_or_crash() -> None:
    assert xtf_result(RUN) == "SUCCESS"
    assert xtf_result("Test result: SUCCESS\nTest result: SKIP\n") == "SKIP"
    assert xtf_result("*** FATAL page fault\n") == "CRASH"


def test_listing_and_files() -> None:
    suites = suite_list(LISTING)
    assert [s.name for s in suites] == ["start_of_day", "events", "evtchn_storm", "xenstore", "fpu"]
    xs = suites[3]
    assert xs.where == "domU" and xs.runs_in("domU") and not xs.runs_in("dom0")
    assert of_files(suites, ("evtchn", "fpu")) == ["events", "evtchn_storm", "fpu"]
    assert of_files(suites, ("core",)) == ["start_of_day"]


def test_whole_run_problems() -> None:
    assert problems(LISTING + RUN, "dom0") == []
    # In a domU the xenstore suite runs: its SKIP is then fine (a suite may skip), but a
    # FAIL, a missing line or a domU-only suite that ran in dom0 is not.
    assert problems(LISTING + RUN, "domU") == []
    broken = RUN.replace("selftest xenstore: SKIP domU only", "selftest xenstore: PASS ran")
    assert problems(LISTING + broken, "dom0") == ["xenstore: PASS in dom0, but it runs in domU"]
    failing = RUN.replace("events: PASS", "events: FAIL")
    assert problems(LISTING + failing, "dom0") == ["events: FAIL bind, send, mask"]
    assert problems(LISTING + RUN.replace("selftest fpu: PASS \r\n", ""), "dom0") == \
        ["fpu: no result line"]
    assert problems(RUN, "dom0") == ["no `suite` lines: not a `selftest=all` run?"]


def test_a_known_failure_is_excused_only_by_its_detail() -> None:
    known = KnownFailure("fpu", r"came back as page faults \(error 0x3, cr2 0;", "the lab")
    as_known = RUN.replace("selftest fpu: PASS ", "selftest fpu: FAIL 4 of 4 stores came back "
                           "as page faults (error 0x3, cr2 0; the entry is at 0xc00a3008)")
    assert problems(LISTING + as_known, "dom0", [known]) == []
    assert known_failures(LISTING + as_known, [known]) == [known]
    other = RUN.replace("selftest fpu: PASS ", "selftest fpu: FAIL st0 lost")
    assert problems(LISTING + other, "dom0", [known]) == ["fpu: FAIL st0 lost"]
    assert known_failures(LISTING + other, [known]) == []
    assert known_failures(LISTING + RUN, [known]) == []
