"""GRUB as a 32-bit PV guest for the lab (xenlab.parts): Debian's grub-i386-xen.bin.

A ready-made i386 PV kernel that exercises the lab's vif and disk plumbing
(LAB-NOTES: boots at 12 MiB, not at 8). Taken from package grub-xen-host (not grub-xen-bin, which has only modules) with
apt-get download + dpkg -x; nothing is installed on the host.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from xenlab.parts import apt
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.progress import Progress, stderr_progress

GRUB_PACKAGE = "grub-xen-host"  # LAB-NOTES says grub-xen-bin; the .bin images are here
GRUB_VERSION = "2.06-13+deb12u2"
GRUB_IMAGE = "usr/lib/grub-xen/grub-i386-xen.bin"


def grub_recipe() -> dict[str, object]:
    return {"part": "grub-pv", "package": [GRUB_PACKAGE, GRUB_VERSION], "image": GRUB_IMAGE}


def build_grub_pv(cache: Path, progress: Progress = stderr_progress) -> Path:
    """Fetch (once) and return the path of grub-i386-xen.bin."""
    final = part_dir(cache, "grub-pv", GRUB_VERSION, recipe_key(grub_recipe()))
    out = final / "grub-i386-xen.bin"

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        deb = apt.download_deb(GRUB_PACKAGE, GRUB_VERSION, cache / "debs", log, progress)
        image = apt.extract_file(deb, GRUB_IMAGE, tmp / "work", log,
                                 "Update GRUB_IMAGE in xenlab/parts/grub.py.")
        shutil.copy2(image, tmp / out.name)
        progress(f"grub-pv: done: {out}")

    build_once(cache, "grub-pv", final, out, build, grub_recipe())
    return out
