"""The kernel's pure C built for the host: harnesses compiled together with the kernel's
own, unchanged source files, as 32-bit code like the kernel (the generated ABI headers
assert i386 sizes).

Two users: tests/unit/test_host_c.py (gcc, host_c/ harnesses with a main) and
xenlab.fuzz (clang with libFuzzer and sanitizers, tests/fuzz/ targets). Kernel files get
tests/unit/host_c/rename.h first, which gives the kernel's C library functions names of
their own so that a harness reports with the host's; a harness includes it itself, after
the host's headers. The link uses --gc-sections, so a kernel file may reference parts of
the kernel the harness does not provide as long as the code under test does not.
"""

from __future__ import annotations

import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

# Xenolith's source tree: the clone this module lives in, or (xenlab installed as a
# package, whose folder has no kernel/ beside it) the current directory, a clone.
_HERE = Path(__file__).resolve().parents[1]
ROOT = _HERE if (_HERE / "kernel").is_dir() else Path.cwd()
HOST_C = ROOT / "tests" / "unit" / "host_c"
GEN_INCLUDE = ROOT / "build" / "gen" / "include"
CFLAGS = ("-m32", "-std=c11", "-O1", "-g", "-Wall", "-Wextra", "-Werror",
          "-Wno-unused-parameter", "-fno-strict-aliasing", "-ffunction-sections",
          "-fdata-sections", "-DXENOLITH_DRIVERS=1", "-DXENOLITH_SELFTESTS=0")


class BuildError(RuntimeError):
    """A compile or link failed; the message has the command and the compiler's output."""


@dataclass(frozen=True)
class Harness:
    name: str
    sources: tuple[Path, ...]       # the harness's own files (they include rename.h)
    kernel_files: tuple[str, ...]   # relative to the repository, compiled unchanged


def _run(cmd: list[str], what: str) -> None:
    res = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if res.returncode:
        raise BuildError(f"{what} failed:\n{' '.join(cmd)}\n{res.stderr}")


def build(cc: Sequence[str], harness: Harness, out: Path,
          flags: Sequence[str] = (), link_flags: Sequence[str] = ()) -> Path:
    """Compile and link one harness into `out` with the compiler command `cc` (e.g.
    ["gcc"] or ["nice", "-n", "19", "clang"]); `flags` go to every compile and the link,
    `link_flags` to the link."""
    out.mkdir(parents=True, exist_ok=True)
    kernel_dirs = dict.fromkeys((ROOT / f).parent for f in harness.kernel_files)
    includes = [f"-I{HOST_C}", *(f"-I{s.parent}" for s in harness.sources),
                f"-I{ROOT / 'kernel' / 'include'}", f"-I{ROOT / 'kernel'}", f"-I{GEN_INCLUDE}",
                *(f"-I{d}" for d in kernel_dirs)]
    objects = []
    # Objects named by path: a harness may be named as the kernel file it fuzzes.
    units = [(src, src.stem, False) for src in harness.sources]
    units += [(ROOT / f, "k-" + f.replace("/", "-")[:-2], True)
              for f in harness.kernel_files]
    for src, stem, renamed in units:
        obj = out / f"{stem}.o"
        rename = ["-include", str(HOST_C / "rename.h")] if renamed else []
        _run([*cc, *CFLAGS, *flags, *rename, *includes, "-c", str(src), "-o", str(obj)],
             f"compiling {src.name} for {harness.name}")
        objects.append(str(obj))
    exe = out / harness.name
    _run([*cc, "-m32", *flags, *link_flags, "-Wl,--gc-sections", "-o", str(exe), *objects],
         f"linking {harness.name}")
    return exe
