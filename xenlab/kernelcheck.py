"""Reject files that cannot be PV kernels before booting them (not ELF, no Xen notes)."""

from __future__ import annotations

from pathlib import Path

from xenlab.errors import GuestError


def check_pv_kernel(path: Path) -> None:
    """Raise GuestError unless `path` is an ELF with Xen ELF notes (or `__xen_guest`)."""
    if not path.is_file():
        raise GuestError(f"kernel {path} does not exist: build it (make kernel) or fix the path")
    data = path.read_bytes()
    if data[:4] != b"\x7fELF":
        raise GuestError(f"kernel {path} is not an ELF file (starts with {data[:4]!r}): "
                         "pass the unstripped ELF image the build produced")
    if b"Xen\x00" not in data and b"__xen_guest" not in data and b"GUEST_OS=" not in data:
        raise GuestError(f"kernel {path} is ELF but has no Xen ELF notes (no 'Xen' note "
                         "or __xen_guest section): Xen cannot boot it as a PV guest; add "
                         "XEN_ELFNOTE_* notes to the linker script")
