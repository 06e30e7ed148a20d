"""Command line of the generator: `python -m codegen [--xen-include DIR] [--out DIR] [--manifest FILE] [--cc CC]`."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from codegen.errors import CodegenError
from codegen.generate import Inputs, generate
from codegen.manifest import DEFAULT_MANIFEST, load_manifest


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codegen", description="Generate Xenolith's Xen ABI headers.")
    ap.add_argument("--xen-include", type=Path, default=Path("/usr/include/xen"), help="Xen public headers (dir with xen.h)")
    ap.add_argument("--out", type=Path, default=Path("build/gen"), help="output directory (build/gen)")
    ap.add_argument("--manifest", type=Path, default=DEFAULT_MANIFEST, help="declared list (codegen/abi.toml)")
    ap.add_argument("--cc", default=os.environ.get("CC") or "gcc", help="gcc-compatible compiler (default $CC or gcc)")
    ap.add_argument("-q", "--quiet", action="store_true")
    args = ap.parse_args(argv)
    try:
        inp = Inputs(args.xen_include, args.out, load_manifest(args.manifest), args.cc)
        files = generate(inp)
    except CodegenError as e:
        print(f"codegen: error: {e}", file=sys.stderr)
        return 1
    if not args.quiet:
        print(f"codegen: {len(files)} files in {args.out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
