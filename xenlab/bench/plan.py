"""How much `make bench` repeats: the full run, or the quick one (`--quick`, the smoke test's)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Plan:
    """Repetitions and sizes of one run; `quick()` is the smallest that still fills the report."""

    boot_reps: int = 10
    mmu_reps: int = 5
    net_reps: int = 3
    net_seconds: float = 5.0
    floor_step_mib: int = 1  # bisection resolution (Linux's is LINUX_FLOOR_STEP times this)
    boot_timeout: float = 180.0
    disk_mib: int = 32  # read sequentially per repetition (a sparse file in dom0's tmpfs)
    disk_reps: int = 3
    suspend_reps: int = 3  # save + restore + migrate, each
    split_reps: int = 5  # boots with a vif and a disk, hotplug scripts timed
    rand_ios: int = 1000  # 4 KiB random reads per repetition and queue depth
    quick_mode: bool = False  # the smoke's run: the slowest steps only for Xenolith, or skipped

    @classmethod
    def quick(cls) -> Plan:
        return cls(boot_reps=1, mmu_reps=1, net_reps=1, net_seconds=1.0, floor_step_mib=8,
                   disk_mib=4, disk_reps=1, suspend_reps=1, split_reps=1, rand_ios=100,
                   quick_mode=True)


@dataclass(frozen=True)
class BenchOptions:
    """What to compare and where the report goes."""

    kernel: Path
    tiny: Path | None = None
    peers: str = ""  # user peers, "name=path:marker ..."
    plan: Plan = Plan()
    out: Path = Path("build/bench")
    linux: bool = True
    grub: bool = True
    shim: bool = True  # Xenolith through the PV shim too: the shim's cost as a ratio
    limit: bool = True  # the host with no guest beside network and disk figures (limit.py)
