"""Command line of the lab's part builders: `python -m xenlab.parts path NAME | build | sources`.

`[--xen 4.17|4.20] path NAME` prints the path of one part of that flavour (building it first when missing);
progress goes to stderr, so stdout is only the path. `sources RELEASE`
prints the host's apt entries for that Debian release in the one-line
format (what scripts/fresh-check.sh writes into a new root). `flavour-of
BINARY` prints the flavour a hypervisor of your own stands for.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable
from pathlib import Path

from xenlab.parts.apt_sources import (
    derived_entries,
    host_release,
    one_line,
    read_host_sources,
    release_entries,
)
from xenlab.parts.cache import default_cache
from xenlab.parts.dom0 import build_dom0
from xenlab.parts.errors import PartsError
from xenlab.parts.flavours import DEFAULT_FLAVOUR, FLAVOURS, nearest_flavour
from xenlab.parts.grub import build_grub_pv
from xenlab.parts.lab import build_all
from xenlab.parts.lwip import build_lwip_source
from xenlab.parts.progress import Progress, stderr_progress
from xenlab.parts.xen import binary_version, build_xen


def _paths() -> dict[str, Callable[[Path, Progress, str | None], Path]]:
    return {
        "xen": build_xen,
        "dom0-kernel": lambda cache, progress, xen: build_dom0(cache, progress, xen).kernel,
        "dom0-initrd": lambda cache, progress, xen: build_dom0(cache, progress, xen).initrd,
        "grub-pv": lambda cache, progress, _: build_grub_pv(cache, progress),
        "lwip-src": lambda cache, progress, _: build_lwip_source(cache, progress),
    }


def main(argv: list[str] | None = None) -> int:
    names = _paths()
    parser = argparse.ArgumentParser(prog="python -m xenlab.parts",
                                     description="Build and cache the lab's parts.")
    parser.add_argument("--xen", choices=sorted(FLAVOURS),
                        default=os.environ.get("XENLAB_XEN") or None,
                        help=f"the flavour (default $XENLAB_XEN, else {DEFAULT_FLAVOUR})")
    sub = parser.add_subparsers(dest="cmd", required=True)
    p_path = sub.add_parser("path", help="print the path of a part (building it if missing)")
    p_path.add_argument("name", choices=sorted(names))
    sub.add_parser("build", help="build every part (with progress)")
    p_src = sub.add_parser("sources", help="the host's apt entries for a Debian release "
                                           "(derived from its own release's when it has "
                                           "none), one-line format")
    p_src.add_argument("release")
    p_of = sub.add_parser("flavour-of", help="the flavour whose dom0 a hypervisor ELF of "
                                             "your own gets (its nearest release)")
    p_of.add_argument("binary", type=Path)
    args = parser.parse_args(argv)
    cache = default_cache()
    try:
        if args.cmd == "flavour-of":
            version = binary_version(args.binary)
            if not version:
                raise PartsError(f"{args.binary} does not say its Xen version (no .config "
                                 f"beside it, no 'Xen X.Y.Z' in it); pass --xen")
            print(nearest_flavour(version).name)
        elif args.cmd == "sources":
            host = read_host_sources()
            entries = release_entries(host, args.release) or \
                derived_entries(host, args.release, host_release())
            if not entries:
                raise PartsError(f"the host's apt sources have no entry for {args.release}")
            print(one_line(entries), end="")
        elif args.cmd == "path":
            print(names[args.name](cache, stderr_progress, args.xen))
        else:
            parts = build_all(cache, stderr_progress, args.xen)
            stderr_progress(f"all parts ready: xen={parts.xen} dom0-kernel={parts.dom0.kernel} "
                            f"dom0-initrd={parts.dom0.initrd} grub-pv={parts.grub_pv}")
    except PartsError as exc:
        print(f"xenlab.parts: error: {exc}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
