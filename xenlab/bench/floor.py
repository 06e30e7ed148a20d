"""The memory floor: the smallest memory= (MiB) at which a guest boots and passes its check.

Found by bisection between a size known (or assumed) to fail and one that must
pass; each probe is one real boot, so the step (resolution) bounds their number.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field


@dataclass
class FloorResult:
    """The floor found (None: even `high` failed), and every probe as (MiB, passed)."""

    floor: int | None
    probes: list[tuple[int, bool]] = field(default_factory=list)


def memory_floor(passes: Callable[[int], bool], low: int, high: int, step: int = 1
                 ) -> FloorResult:
    """Bisect for the smallest size in (low, high] that passes, to within `step` MiB.

    `low` is taken to fail without being tried (the domain builder's limit, or a
    size known to be too small); `high` is tried first and must pass. Assumes
    that a size that passes implies every larger size passes.
    """
    if step < 1 or low >= high:
        raise ValueError(f"bad bisection range ({low}, {high}] step {step}")
    result = FloorResult(None)

    def probe(mib: int) -> bool:
        ok = passes(mib)
        result.probes.append((mib, ok))
        return ok

    if not probe(high):
        return result
    while high - low > step:
        mid = (low + high) // 2
        if probe(mid):
            high = mid
        else:
            low = mid
    result.floor = high
    return result
