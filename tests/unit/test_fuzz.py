"""A seconds-long smoke of every fuzz target (xenlab.fuzz, tests/fuzz/): each is built
with libFuzzer, ASan and UBSan, replays its seed corpus (the regression inputs of the
crashes found so far among them) and fuzzes briefly; any crash, sanitizer report or
harness check fails. `make fuzz` runs them for longer and measures coverage."""

from __future__ import annotations

import pytest

from xenlab.fuzz import (
    GEN_INCLUDE,
    TARGETS,
    Result,
    Target,
    build_target,
    clang,
    parse_log,
    run_target,
)
from xenlab.hostc import BuildError

SMOKE_S = 2


@pytest.mark.parametrize("target", TARGETS, ids=[t.name for t in TARGETS])
def test_fuzz_smoke(target: Target) -> None:
    if not clang():
        pytest.skip("needs clang with the i386 sanitizer runtimes (scripts/bootstrap.sh)")
    if not GEN_INCLUDE.is_dir():
        pytest.skip("needs the generated headers (make gen)")
    try:
        exe = build_target(target)
    except BuildError as e:
        pytest.fail(str(e))
    r = run_target(target, exe, SMOKE_S)
    assert not r.crash, f"{target.name}: {r.crash}\n(see build/fuzz/{target.name}/fuzz.log)"
    assert r.execs > 0, f"{target.name} ran no inputs"


LOG = """INFO: Seed: 1
#2\tINITED cov: 40 ft: 41 corp: 1/1b exec/s: 0 rss: 31Mb
#70421\tDONE   cov: 45 ft: 60 corp: 9/120b lim: 4096 exec/s: 35210 rss: 40Mb
stat::number_of_executed_units: 70421
stat::average_exec_per_sec:     35210
"""


def test_parse_log() -> None:
    r = parse_log("t", LOG, 0)
    assert (r.execs, r.execs_per_s, r.features, r.crash) == (70421, 35210, 45, "")
    crashed = parse_log("t", LOG + "artifact_prefix='x/'; Test unit written to x/crash-ab\n", 77)
    assert crashed.crash == "x/crash-ab"
    assert parse_log("t", "", 1).crash.startswith("exit status 1")


def test_coverage_figure() -> None:
    assert Result("t", 1, 1, 1, "", (45, 54)).coverage() == "45/54 83.3%"
    assert Result("t", 1, 1, 1, "").coverage() == "-"
