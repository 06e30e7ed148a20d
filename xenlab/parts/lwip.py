"""lwIP's source for the kernel's network stack (xenlab.parts): Debian's `lwip` source package.

Xenolith's TCP/IP stack is lwIP, built freestanding for i386 by the kernel's
own make rules (mk/lwip.mk) from the project's lwipopts.h and port
(drivers/lwip/port/). Debian's binary packages are lwIP's Unix port, no use
in a kernel, so the build takes the source package (deb-src, with Debian's
patches applied by dpkg-source) through the lab's private apt, pinned like
Xen's, and keeps the unpacked tree in the cache: nothing of lwIP is in the
repository. This part is only that tree; what is compiled from it, and how,
is the kernel's.
"""

from __future__ import annotations

from pathlib import Path

from xenlab.parts import apt, pins
from xenlab.parts.cache import build_once, part_dir, recipe_key
from xenlab.parts.errors import PartsError
from xenlab.parts.pins import Pin
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.run import run

LWIP_SOURCE = "lwip"
LWIP_VERSION = "2.1.3+dfsg1-2"
LWIP_PIN = Pin(LWIP_SOURCE, LWIP_VERSION, "2.1.3+dfsg1-")
RECIPE_REVISION = 1  # bump when the unpacking steps change in a way the fields below miss
# Files the kernel's build compiles or includes: a tree without them is not lwIP 2.1.
LWIP_MARKERS = ("src/core/tcp.c", "src/core/ipv4/etharp.c", "src/netif/ethernet.c",
                "src/include/lwip/init.h")


def lwip_recipe(version: str = LWIP_VERSION) -> dict[str, object]:
    return {"part": "lwip-src", "revision": RECIPE_REVISION, "source": [LWIP_SOURCE, version]}


def lwip_dir(cache: Path, version: str = LWIP_VERSION) -> Path:
    return part_dir(cache, "lwip-src", version, recipe_key(lwip_recipe(version)))


def build_lwip_source(cache: Path, progress: Progress = stderr_progress) -> Path:
    """Fetch and unpack (once) Debian's lwIP source; return the tree (it has `src/`).

    The pinned version, else its stand-in (pins.py); when the mirror lists a version but its
    download fails (a 404 for a file the index names), the next served version of the series
    is tried, newest first."""
    tree = lwip_dir(cache) / "lwip"
    if tree.is_dir():
        return tree
    lab_apt = apt.lab_apt(cache)
    first = lab_apt.resolve(LWIP_PIN, True, lab_apt.log, progress)
    served = pins.candidates(LWIP_PIN, lab_apt.served(LWIP_PIN, True))
    order = [first.version] + [c.version for c in served if c.version != first.version]
    failures = []
    for version in order:
        try:
            return _unpacked(cache, lab_apt, version, progress)
        except FetchError as exc:
            failures.append(f"{version}: {exc}")
            progress(f"lwip: source {version} could not be downloaded ({exc})")
    raise PartsError("no served lwip source of the series " + LWIP_PIN.series + "x could be "
                     "downloaded (a mirror may list a source package in its index and still "
                     "answer 404 for its files):\n" + "\n".join(failures) +
                     "\nPin another 2.1.x version in xenlab/parts/lwip.py.")


class FetchError(PartsError):
    """The source of one version could not be downloaded (the next may be tried)."""


def _unpacked(cache: Path, lab_apt: apt.Apt, version: str, progress: Progress) -> Path:
    """The unpacked tree of `version`, built once; FetchError when its download fails."""
    final = lwip_dir(cache, version)
    out = final / "lwip"

    def build(tmp: Path) -> None:
        log = tmp / "build.log"
        try:
            dsc = lab_apt.fetch_source(LWIP_SOURCE, version, cache / "src" / f"lwip-{version}",
                                       log, progress)
        except PartsError as exc:
            raise FetchError(str(exc).splitlines()[0]) from exc
        progress("lwip: unpacking source and applying Debian's patches (dpkg-source -x)")
        run(["dpkg-source", "--no-check", "-x", dsc, tmp / "lwip"], log,
            hint="dpkg-source needs package dpkg-dev; a damaged download can be removed from "
                 f"{dsc.parent} to fetch it again.")
        check_tree(tmp / "lwip", log)
        progress(f"lwip: done: {out}")

    build_once(cache, "lwip-src", final, out, build, lwip_recipe(version))
    return out


def check_tree(tree: Path, log: Path) -> None:
    """Raise PartsError unless `tree` has the files the kernel's build uses."""
    missing = [m for m in LWIP_MARKERS if not (tree / m).is_file()]
    if missing:
        raise PartsError(f"the lwip source in {tree} lacks {', '.join(missing)}: Debian changed "
                         f"the package's layout. Log: {log}. Pin a 2.1.x version in "
                         f"xenlab/parts/lwip.py.")
