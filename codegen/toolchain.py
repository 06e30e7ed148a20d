"""Running the C compiler on the probe (i386, pinned interface version) and finding which Xen the headers are.

Every compiler call goes through `Toolchain`, so the flags that define the
ABI being read (-m32, __XEN_INTERFACE_VERSION__) are in one place.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

from codegen.errors import CodegenError

INTERFACE_VERSION = 0x00040E00


@dataclass(frozen=True)
class CompileResult:
    """Outcome of one compiler run: return code and diagnostics."""

    returncode: int
    stderr: str


@dataclass(frozen=True)
class Toolchain:
    """A gcc-compatible compiler targeting i386 with Xen's interface version pinned."""

    cc: str
    interface_version: int = INTERFACE_VERSION

    def check(self) -> None:
        """Fail with a one-line fix if the compiler is missing or cannot build -m32 code."""
        if shutil.which(self.cc) is None:
            raise CodegenError(f"C compiler '{self.cc}' not found; install gcc and gcc-multilib or pass --cc / CC=")

    @property
    def flags(self) -> list[str]:
        return ["-m32", "-std=gnu11", f"-D__XEN_INTERFACE_VERSION__={self.interface_version:#010x}"]

    def _run(self, args: list[str]) -> subprocess.CompletedProcess[str]:
        try:
            return subprocess.run([self.cc, *args], capture_output=True, text=True, check=False)
        except OSError as e:
            raise CodegenError(f"cannot run C compiler '{self.cc}' ({e.strerror}); install gcc or pass --cc / CC=") from None

    def macros(self, source: Path) -> str:
        """`cc -E -dM` of the probe: every macro definition in effect at its end."""
        r = self._run([*self.flags, "-E", "-dM", str(source)])
        if r.returncode != 0:
            raise CodegenError(f"preprocessing Xen's headers failed: {first_error(r.stderr)}")
        return r.stdout

    def compile(self, source: Path, obj: Path, extra: tuple[str, ...] = ()) -> CompileResult:
        """`cc -m32 -g -c`; the caller decides what a failure means."""
        r = self._run([*self.flags, "-g", "-O0", "-w", "-c", *extra, str(source), "-o", str(obj)])
        if r.returncode != 0 and "-m32" in r.stderr and "unrecognized" in r.stderr:
            raise CodegenError(f"'{self.cc}' cannot compile for i386 (-m32); install gcc-multilib or pass --cc")
        if r.returncode != 0 and re.search(r"(bits/|gnu/stubs-32|stdint)\S*\.h: No such file", r.stderr):
            raise CodegenError(f"'{self.cc}' has no 32-bit C library headers; install gcc-multilib")
        return CompileResult(r.returncode, r.stderr)


def first_error(stderr: str) -> str:
    """The first line of compiler output that says 'error', for one-line messages."""
    for line in stderr.splitlines():
        if "error" in line:
            return line.strip()
    return stderr.strip().splitlines()[0] if stderr.strip() else "no diagnostics"


def error_lines(stderr: str, source: Path) -> set[int]:
    """Line numbers of `source` that the compiler reported errors on."""
    pat = re.compile(re.escape(str(source)) + r":(\d+):(?:\d+:)? error")
    return {int(m.group(1)) for m in pat.finditer(stderr)}


def xen_package_version(header_dir: Path) -> str:
    """The Debian package version that installed these headers (e.g. libxen-dev 4.17.7+...), or 'unknown'."""
    xen_h = (header_dir / "xen.h").resolve()
    if shutil.which("dpkg-query") is None:
        return "unknown"
    owner = subprocess.run(["dpkg-query", "-S", str(xen_h)], capture_output=True, text=True, check=False)
    if owner.returncode != 0 or ":" not in owner.stdout:
        return "unknown (headers not installed by a Debian package)"
    pkg = owner.stdout.split(":", 1)[0].strip()
    ver = subprocess.run(["dpkg-query", "-W", "-f", "${Version}", pkg], capture_output=True, text=True, check=False)
    return f"{pkg} {ver.stdout.strip()}" if ver.returncode == 0 else pkg
