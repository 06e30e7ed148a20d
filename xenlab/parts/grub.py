"""GRUB as a 32-bit PV guest for the lab (xenlab.parts): Debian's grub-i386-xen.bin.

A ready-made i386 PV kernel that exercises the lab's vif and disk plumbing
(it boots at 12 MiB, not at 8). Taken from package grub-xen-host (not grub-xen-bin, which has only modules) with
apt-get download + dpkg -x; nothing is installed on the host.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from xenlab.parts import apt
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.pins import Pin
from xenlab.parts.progress import Progress, stderr_progress

GRUB_PACKAGE = "grub-xen-host"  # not grub-xen-bin: the .bin images are in this one
GRUB_VERSION = "2.06-13+deb12u2"
GRUB_PIN = Pin(GRUB_PACKAGE, GRUB_VERSION, "2.06-")
GRUB_IMAGE = "usr/lib/grub-xen/grub-i386-xen.bin"


def grub_recipe(version: str = GRUB_VERSION) -> dict[str, object]:
    return {"part": "grub-pv", "package": [GRUB_PACKAGE, version], "image": GRUB_IMAGE}


def grub_dir(cache: Path, version: str = GRUB_VERSION) -> Path:
    return part_dir(cache, "grub-pv", version, recipe_key(grub_recipe(version)))


def build_grub_pv(cache: Path, progress: Progress = stderr_progress) -> Path:
    """Fetch (once) and return the path of grub-i386-xen.bin."""
    name = "grub-i386-xen.bin"
    if (grub_dir(cache) / name).exists():
        return grub_dir(cache) / name
    lab_apt = apt.lab_apt(cache)
    version = lab_apt.resolve(GRUB_PIN, False, lab_apt.log, progress).version
    final = grub_dir(cache, version)
    out = final / name

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        deb = lab_apt.download_deb(GRUB_PACKAGE, version, cache / "debs", log, progress)
        image = apt.extract_file(deb, GRUB_IMAGE, tmp / "work", log,
                                 "Update GRUB_IMAGE in xenlab/parts/grub.py.")
        shutil.copy2(image, tmp / out.name)
        progress(f"grub-pv: done: {out}")

    build_once(cache, "grub-pv", final, out, build, grub_recipe(version))
    return out
