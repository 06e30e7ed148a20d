"""A seconds-long smoke of every fuzz target (xenlab.fuzz, tests/fuzz/): each is built
with libFuzzer, ASan and UBSan, replays its seed corpus (the regression inputs of the
crashes found so far among them) and fuzzes briefly; any crash, sanitizer report or
harness check fails. `make fuzz` runs them for longer and measures coverage."""

from __future__ import annotations

import pytest

from xenlab.fuzz import GEN_INCLUDE, TARGETS, Target, build_target, clang, run_target
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
