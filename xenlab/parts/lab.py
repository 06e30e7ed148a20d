"""All of the lab's parts at once (xenlab.parts): build_all -> LabParts."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from xenlab.parts.dom0 import Dom0Image, build_dom0
from xenlab.parts.grub import build_grub_pv
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.xen import build_xen


@dataclass(frozen=True)
class LabParts:
    """Everything the runtime boots: the hypervisor, the dom0 image, a PV GRUB guest."""

    xen: Path
    dom0: Dom0Image
    grub_pv: Path


def build_all(cache: Path, progress: Progress = stderr_progress,
              xen: str | None = None) -> LabParts:
    """Build (or find in the cache) every part of flavour `xen` (None: the default)."""
    return LabParts(xen=build_xen(cache, progress, xen), dom0=build_dom0(cache, progress, xen),
                    grub_pv=build_grub_pv(cache, progress))
