"""The guests `make bench` compares: Xenolith (classic and through the PV shim), its tiny
build, Linux, GRUB, and the user's own.

A user peer is given as `name=path:marker` (PEERS="a=/x/k.elf:READY b=..."): a PV
kernel and the text it prints once it is up. Image sizes come from the ELF
program headers (pyelftools): what the domain builder loads (p_memsz of every
PT_LOAD segment: text, data and bss).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

XENOLITH, XENOLITH_TINY, LINUX, GRUB, USER = "xenolith", "xenolith-tiny", "linux", "grub", "user"
XENOLITH_SHIM = "xenolith-shim"  # a peer's name: Xenolith's kind, inside the PV shim
XENOLITH_PROMPT = "xenolith> "


@dataclass(frozen=True)
class Peer:
    """One guest: its kernel (and initramfs), ready marker, memory, and what it can do."""

    name: str
    kind: str
    kernel: Path
    marker: str  # a regular expression seen once the guest is up
    memory_mib: int = 32  # for the boot and network figures
    ramdisk: Path | None = None
    cmdline: str = ""
    floor_range: tuple[int, int] = (2, 64)  # (assumed to fail, must pass), MiB
    ip: str | None = None  # the guest answers UDP echo (port 7) and ICMP here
    boots: bool = True  # False: image figures only
    shim: bool | None = None  # inside the PV shim (type=pvh, pvshim=1); None: the host's way

    def images(self) -> list[Path]:
        return [self.kernel] + ([self.ramdisk] if self.ramdisk else [])


def parse_peers(text: str) -> list[Peer]:
    """User peers from `name=path:marker ...` (whitespace separated); ValueError if malformed."""
    peers = []
    for item in text.split():
        name, eq, rest = item.partition("=")
        path, colon, marker = rest.rpartition(":")
        if not (eq and colon and name and path and marker):
            raise ValueError(f"peer {item!r}: expected name=path:marker")
        if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_.-]*", name):
            raise ValueError(f"peer {item!r}: a name is letters, digits, '.', '_' or '-'")
        peers.append(Peer(name, USER, Path(path), re.escape(marker), memory_mib=64,
                          floor_range=(2, 256)))
    return peers


def file_kib(paths: list[Path]) -> float:
    return sum(p.stat().st_size for p in paths) / 1024


SHF_ALLOC = 0x2
TEXT_DATA = (".text", ".rodata", ".data")


def text_data_kib(kernel: Path) -> float | None:
    """KiB of .text + .rodata + .data (what the size target counts), None if not ELF."""
    try:
        with kernel.open("rb") as fh:
            return sum(s["sh_size"] for s in ELFFile(fh).iter_sections()
                       if s["sh_flags"] & SHF_ALLOC and s.name in TEXT_DATA) / 1024
    except ELFError:
        return None


def loaded_kib(kernel: Path) -> float | None:
    """KiB the domain builder loads from `kernel` (sum of PT_LOAD p_memsz), None if not ELF."""
    try:
        with kernel.open("rb") as fh:
            elf = ELFFile(fh)
            return sum(s["p_memsz"] for s in elf.iter_segments() if s["p_type"] == "PT_LOAD") / 1024
    except ELFError:
        return None
