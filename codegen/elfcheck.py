"""Checking a kernel ELF against what Xen's domain builder requires of a 32-bit PAE PV guest.

`python -m codegen.elfcheck KERNEL.elf [--abi build/gen/python/xen_abi.py] [--brief]`
prints the Xen notes and the size by section and exits 0, or prints one line
per problem and exits 1. Checked: ELF32, EM_386, ET_EXEC; the "Xen" notes in
PT_NOTE (GUEST_OS, XEN_VERSION "xen-3.0", LOADER "generic", PAE_MODE "yes" or
"bimodal", VIRT_BASE, PADDR_OFFSET, ENTRY, HYPERCALL_PAGE, FEATURES); entry
point and hypercall page inside a PT_LOAD segment, the hypercall page
page-aligned; every loaded byte below HYPERVISOR_VIRT_START (from the
generated Python mirror) and not below VIRT_BASE.
"""

from __future__ import annotations

import argparse
import importlib.util
import sys
from dataclasses import dataclass, field
from pathlib import Path
from types import ModuleType

from elftools.common.exceptions import ELFError
from elftools.elf.elffile import ELFFile

from codegen.elfnotes import Note, note_names, xen_notes

DEFAULT_ABI = Path("build/gen/python/xen_abi.py")
REQUIRED_STRINGS = {"GUEST_OS": None, "XEN_VERSION": ("xen-3.0",), "LOADER": ("generic",), "PAE_MODE": ("yes", "bimodal", "yes,bimodal"),
                    "FEATURES": None}
REQUIRED_NUMBERS = ("VIRT_BASE", "PADDR_OFFSET", "ENTRY", "HYPERCALL_PAGE")


@dataclass
class Report:
    """The outcome: problems (each one line), notes and section sizes for the summary."""

    problems: list[str] = field(default_factory=list)
    notes: list[Note] = field(default_factory=list)
    sizes: dict[str, int] = field(default_factory=dict)


def load_abi(path: Path) -> ModuleType:
    """Import the generated mirror xen_abi.py from its path."""
    if not path.is_file():
        raise FileNotFoundError(f"{path} not found; run 'make gen' first or pass --abi")
    spec = importlib.util.spec_from_file_location("xen_abi", path)
    assert spec is not None and spec.loader is not None
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _in_load(loads: list[tuple[int, int]], addr: int, length: int = 1) -> bool:
    return any(start <= addr and addr + length <= start + size for start, size in loads)


def section_sizes(elf: ELFFile) -> dict[str, int]:
    """Allocated bytes by kind: text (exec), rodata (read-only), data (writable), bss (no bits)."""
    sizes = {"text": 0, "rodata": 0, "data": 0, "bss": 0}
    for sec in elf.iter_sections():
        flags = sec["sh_flags"]
        if not flags & 0x2:  # SHF_ALLOC
            continue
        if sec["sh_type"] == "SHT_NOBITS":
            kind = "bss"
        elif flags & 0x4:  # SHF_EXECINSTR
            kind = "text"
        elif flags & 0x1:  # SHF_WRITE
            kind = "data"
        else:
            kind = "rodata"
        sizes[kind] += sec["sh_size"]
    sizes["total"] = sum(sizes.values())
    return sizes


def _check_notes(rep: Report, notes: list[Note], known_features: set[str]) -> dict[str, int]:
    by_name = {n.name: n for n in notes}
    numbers: dict[str, int] = {}
    for name, allowed in REQUIRED_STRINGS.items():
        note = by_name.get(name)
        if note is None:
            rep.problems.append(f"missing Xen ELF note XEN_ELFNOTE_{name} (a string)")
            continue
        text = note.text()
        if text is None:
            rep.problems.append(f"note XEN_ELFNOTE_{name} is not a NUL-terminated string")
        elif allowed is not None and text not in allowed:
            want = " or ".join(repr(a) for a in allowed)
            rep.problems.append(f"note XEN_ELFNOTE_{name} is {text!r}; Xen needs {want}")
    features = by_name.get("FEATURES")
    text = features.text() if features else None
    for feat in filter(None, (text or "").split("|")):
        if f"XENFEAT_{feat.removeprefix('!')}" not in known_features:
            rep.problems.append(f"note XEN_ELFNOTE_FEATURES names unknown feature {feat.removeprefix('!')!r} (see XENFEAT_* in abi/consts.h)")
    for name in REQUIRED_NUMBERS:
        note = by_name.get(name)
        if note is None:
            rep.problems.append(f"missing Xen ELF note XEN_ELFNOTE_{name} (a number)")
            continue
        value = note.number()
        if value is None:
            rep.problems.append(f"note XEN_ELFNOTE_{name} has {len(note.desc)} bytes; a number must have 4 or 8")
        else:
            numbers[name] = value
    return numbers


def check(path: Path, abi: ModuleType) -> Report:
    """Run every check on the ELF file at `path`."""
    rep = Report()
    hv_start = int(abi.CONSTANTS["HYPERVISOR_VIRT_START"])
    page = int(abi.CONSTANTS.get("XEN_PAGE_SIZE", 4096))
    try:
        f = path.open("rb")
    except OSError as e:
        rep.problems.append(f"cannot open: {e.strerror}")
        return rep
    with f:
        try:
            elf = ELFFile(f)
        except ELFError:
            rep.problems.append("not an ELF file")
            return rep
        if elf.elfclass != 32:
            rep.problems.append(f"ELF class is ELFCLASS{elf.elfclass}; a 32-bit PV kernel must be ELFCLASS32 (-m32, ld -m elf_i386)")
            return rep
        if elf["e_machine"] != "EM_386":
            rep.problems.append(f"machine is {elf['e_machine']}; Xen's x86_32 PV loader needs EM_386")
        if elf["e_type"] != "ET_EXEC":
            rep.problems.append(f"type is {elf['e_type']}; the kernel must be a static executable (ET_EXEC, link with -no-pie)")
        names = note_names(abi.CONSTANTS)
        notes, nsegs, parsed_ok = xen_notes(elf, names)
        rep.notes = notes
        rep.sizes = section_sizes(elf)
        loads = [(s["p_vaddr"], s["p_memsz"]) for s in elf.iter_segments() if s["p_type"] == "PT_LOAD"]
    if nsegs == 0:
        rep.problems.append("no PT_NOTE segment; put the Xen notes in a PT_NOTE program header (PHDRS ... PT_NOTE)")
        return rep
    if not parsed_ok:
        rep.problems.append("a PT_NOTE segment is malformed (note sizes run past its end)")
    if not notes:
        rep.problems.append("no notes named \"Xen\" in the PT_NOTE segments")
        return rep
    numbers = _check_notes(rep, notes, {n for n in abi.CONSTANTS if n.startswith("XENFEAT_")})
    if not loads:
        rep.problems.append("no PT_LOAD segment")
        return rep
    if "ENTRY" in numbers and not _in_load(loads, numbers["ENTRY"]):
        rep.problems.append(f"entry point {numbers['ENTRY']:#x} (XEN_ELFNOTE_ENTRY) is outside every PT_LOAD segment")
    if "HYPERCALL_PAGE" in numbers:
        hp = numbers["HYPERCALL_PAGE"]
        if hp % page:
            rep.problems.append(f"hypercall page {hp:#x} (XEN_ELFNOTE_HYPERCALL_PAGE) is not aligned to {page} bytes")
        if not _in_load(loads, hp, page):
            rep.problems.append(f"hypercall page {hp:#x}..{hp + page:#x} is not inside a PT_LOAD segment")
    for start, size in loads:
        if start + size > hv_start:
            rep.problems.append(
                f"PT_LOAD {start:#x}..{start + size:#x} reaches HYPERVISOR_VIRT_START {hv_start:#x} (the PAE hypervisor hole)"
            )
        if "VIRT_BASE" in numbers and start < numbers["VIRT_BASE"]:
            rep.problems.append(f"PT_LOAD at {start:#x} is below VIRT_BASE {numbers['VIRT_BASE']:#x}")
    if "VIRT_BASE" in numbers and numbers["VIRT_BASE"] >= hv_start:
        rep.problems.append(f"VIRT_BASE {numbers['VIRT_BASE']:#x} is not below HYPERVISOR_VIRT_START {hv_start:#x}")
    if "VIRT_BASE" in numbers and "PADDR_OFFSET" in numbers and numbers["PADDR_OFFSET"] > numbers["VIRT_BASE"]:
        rep.problems.append(f"PADDR_OFFSET {numbers['PADDR_OFFSET']:#x} is above VIRT_BASE {numbers['VIRT_BASE']:#x}")
    return rep


def format_report(rep: Report, brief: bool) -> str:
    lines: list[str] = []
    if not brief:
        lines.append(f"{'note':<16} {'type':>4}  value")
        for n in sorted(rep.notes, key=lambda n: n.type):
            lines.append(f"{n.name:<16} {n.type:>4}  {n.shown()}")
        lines.append("")
        lines.append(f"{'section':<8} {'bytes':>10}")
    for kind, size in rep.sizes.items():
        lines.append(f"{kind:<8} {size:>10}" if not brief else f"{kind}={size}")
    return "\n".join(lines) if not brief else " ".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codegen.elfcheck", description="Check a Xen 32-bit PAE PV kernel ELF.")
    ap.add_argument("kernel", type=Path)
    ap.add_argument("--abi", type=Path, default=DEFAULT_ABI, help="generated Python mirror (build/gen/python/xen_abi.py)")
    ap.add_argument("--brief", action="store_true", help="one summary line instead of the tables")
    args = ap.parse_args(argv)
    try:
        abi = load_abi(args.abi)
    except FileNotFoundError as e:
        print(f"elfcheck: {e}", file=sys.stderr)
        return 1
    rep = check(args.kernel, abi)
    if rep.problems:
        for p in rep.problems:
            print(f"elfcheck: {args.kernel}: {p}", file=sys.stderr)
        return 1
    out = format_report(rep, args.brief)
    print(f"elfcheck: {args.kernel}: OK {out}" if args.brief else f"elfcheck: {args.kernel}: OK\n{out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
