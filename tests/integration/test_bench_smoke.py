"""`make bench` in its quickest mode (one repetition, coarse bisection, 1 s of load), so it
cannot rot. The figures decide nothing here: only that the run finished and wrote a report
in which every peer has every figure, measured or explained, and the charts."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from xenlab import Host
from xenlab.bench import BenchOptions, Plan, run_bench
from xenlab.bench.figures import FIGURES


# The whole quick bench: 13 to 16 minutes on a shared 2-core machine, more than the suite's
# default backstop.
@pytest.mark.timeout(1800)
def test_quick_bench_writes_a_complete_report(xen_host: Host, kernel_elf: Path,
                                              tiny_kernel_elf: Path, tmp_path: Path) -> None:
    out = tmp_path / "bench"
    assert run_bench(BenchOptions(kernel=kernel_elf, tiny=tiny_kernel_elf, plan=Plan.quick(),
                                  out=out), host=xen_host) == 0
    data = json.loads((out / "report.json").read_text())
    assert data["peers"] == ["xenolith", "xenolith-shim", "xenolith-tiny", "linux", "grub",
                             "limit"]
    assert "lab_failure" not in data["meta"], data["meta"]
    have = {(r["peer"], r["figure"]): r for r in data["records"]}
    for peer in data["peers"]:
        for fig in FIGURES:
            rec = have.get((peer, fig.key))
            assert rec is not None, f"{peer}/{fig.key} missing from report.json"
            assert rec["median"] is not None or rec["note"].startswith("not measured: "), rec
            assert rec["median"] != 0 or rec["n"] > 0, rec
    assert have[("xenolith", "boot")]["median"] is not None
    assert have[("xenolith-shim", "boot")]["median"] is not None
    # Xenolith's HTTP server and the limit (a namespace of dom0's, no guest) both answered.
    assert have[("xenolith", "http_keepalive")]["median"] is not None
    assert have[("limit", "http_keepalive")]["median"] is not None
    md = (out / "report.md").read_text()
    assert "| xl create to ready marker (TCG) |" in md and "| of the limit |" in md
    assert {p.name for p in out.glob("*.png")} >= {"boot.png", "image.png"}
