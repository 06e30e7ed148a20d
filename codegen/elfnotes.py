"""Xen ELF notes of a guest kernel: reading the "Xen" notes from PT_NOTE segments and decoding their values.

Note types are Xen's XEN_ELFNOTE_* numbers (from the generated Python
mirror). String notes are NUL-terminated; numeric notes are little-endian
and 4 or 8 bytes long (both are accepted by Xen's libelf).
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from elftools.elf.elffile import ELFFile

# Which notes carry strings (the rest are numbers), by XEN_ELFNOTE_ name.
STRING_NOTES = frozenset({"GUEST_OS", "GUEST_VERSION", "XEN_VERSION", "LOADER", "PAE_MODE", "FEATURES", "BSD_SYMTAB"})


@dataclass(frozen=True)
class Note:
    """One "Xen" note: its type number, its XEN_ELFNOTE_ name (without prefix) and its raw descriptor."""

    type: int
    name: str
    desc: bytes

    @property
    def is_string(self) -> bool:
        return self.name in STRING_NOTES

    def text(self) -> str | None:
        """The string value, or None if it is not NUL-terminated text."""
        if not self.desc.endswith(b"\0"):
            return None
        try:
            return self.desc[:-1].decode("ascii")
        except UnicodeDecodeError:
            return None

    def number(self) -> int | None:
        """The numeric value, or None if the descriptor is not 4 or 8 bytes."""
        if len(self.desc) == 4:
            return int(struct.unpack("<I", self.desc)[0])
        if len(self.desc) == 8:
            return int(struct.unpack("<Q", self.desc)[0])
        return None

    def shown(self) -> str:
        if self.is_string:
            t = self.text()
            return repr(t) if t is not None else f"<bad string {self.desc!r}>"
        n = self.number()
        return f"{n:#x}" if n is not None else f"<bad number: {len(self.desc)} bytes>"


def note_names(constants: dict[str, int | str]) -> dict[int, str]:
    """XEN_ELFNOTE_ number -> short name, from the mirror's constants."""
    out: dict[int, str] = {}
    for name, value in constants.items():
        if name.startswith("XEN_ELFNOTE_") and isinstance(value, int) and name != "XEN_ELFNOTE_MAX":
            out.setdefault(value, name.removeprefix("XEN_ELFNOTE_"))
    return out


def parse_notes(data: bytes) -> tuple[list[tuple[str, int, bytes]], bool]:
    """(name, type, desc) of each note in a PT_NOTE payload, and whether the payload was well formed."""
    notes: list[tuple[str, int, bytes]] = []
    pos = 0
    while pos + 12 <= len(data):
        namesz, descsz, ntype = struct.unpack_from("<III", data, pos)
        pos += 12
        name_end = pos + namesz
        desc_start = pos + ((namesz + 3) & ~3)
        desc_end = desc_start + descsz
        if desc_end > len(data):
            return notes, False
        name = data[pos:name_end].rstrip(b"\0").decode("latin-1")
        notes.append((name, ntype, data[desc_start:desc_end]))
        pos = desc_start + ((descsz + 3) & ~3)
    return notes, pos >= len(data) or not data[pos:].strip(b"\0")


def xen_notes(elf: ELFFile, names: dict[int, str]) -> tuple[list[Note], int, bool]:
    """The "Xen" notes of every PT_NOTE segment, the number of PT_NOTE segments, and whether all parsed."""
    out: list[Note] = []
    segments = 0
    ok = True
    for seg in elf.iter_segments():
        if seg["p_type"] != "PT_NOTE":
            continue
        segments += 1
        parsed, good = parse_notes(seg.data())
        ok = ok and good
        out += [Note(t, names.get(t, f"#{t}"), d) for n, t, d in parsed if n == "Xen"]
    return out, segments, ok
