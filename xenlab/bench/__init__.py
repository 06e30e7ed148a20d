"""`make bench`: Xenolith against its peers in one lab run (see docs/performance.md).

    run_bench(BenchOptions(kernel, tiny, peers, plan)) -> 0
writes build/bench/report.json, report.md and PNG charts, and prints a summary.
"""

from xenlab.bench.plan import BenchOptions, Plan
from xenlab.bench.runner import run_bench

__all__ = ["BenchOptions", "Plan", "run_bench"]
