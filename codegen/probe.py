"""The probe translation unit: includes Xen's public headers, anchors the declared types in DWARF, and evaluates constants.

Layouts come from DWARF: one global object per declared struct, enum and
typedef forces the compiler to describe it completely. Constants are
evaluated by the compiler itself, not by us: each candidate macro becomes
one line of a `const` table `{ (long long)(NAME), KIND(NAME) }` whose bytes
we read back from the object's .rodata, where KIND is a `_Generic` code for
the expression's C type (so `0x7FF0U` stays unsigned, `-1` stays signed).
A macro that is not an integer constant expression makes the compiler
report an error on its line; that line is dropped and the probe is rebuilt.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from pathlib import Path

from elftools.elf.elffile import ELFFile

from codegen.errors import CodegenError
from codegen.toolchain import Toolchain, error_lines, first_error

KINDS = {1: "int", 2: "unsigned int", 3: "long", 4: "unsigned long", 5: "long long", 6: "unsigned long long"}
_ENTRY = struct.Struct("<qi")  # i386: long long is 4-aligned inside a struct: 12 bytes


@dataclass
class Probe:
    """Source text of the probe and which line stands for which declared item or constant."""

    header_dir: Path
    headers: tuple[str, ...]
    anchors: list[tuple[str, str]] = field(default_factory=list)  # (kind, name)
    exprs: list[tuple[str, str]] = field(default_factory=list)  # (label, C expression)

    def source(self) -> tuple[str, dict[int, tuple[str, str]], dict[int, int]]:
        """Return (text, line -> anchor, line -> index into exprs)."""
        lines = ["/* Xenolith codegen probe: generated, do not edit. */", "#include <stdint.h>", "#include <stddef.h>"]
        lines += [f'#include "{(self.header_dir / h).resolve()}"' for h in self.headers]
        anchor_at: dict[int, tuple[str, str]] = {}
        for i, (kind, name) in enumerate(self.anchors):
            decl = {"struct": f"struct {name}", "union": f"union {name}", "enum": f"enum {name}", "typedef": name}[kind]
            lines.append(f"{decl} xenolith_probe_anchor_{i};")
            anchor_at[len(lines)] = (kind, name)
        lines += [
            "#define XP_KIND(x) _Generic((x), _Bool: 1, char: 1, signed char: 1, unsigned char: 1, short: 1, \\",
            "    unsigned short: 1, int: 1, unsigned int: 2, long: 3, unsigned long: 4, long long: 5, \\",
            "    unsigned long long: 6, default: 0)",
            "struct xenolith_probe_const { long long v; int kind; };",
            "const struct xenolith_probe_const xenolith_probe_consts[] = {",
        ]
        expr_at: dict[int, int] = {}
        for i, (_, expr) in enumerate(self.exprs):
            lines.append(f"  {{ (long long)({expr}), XP_KIND({expr}) }},")
            expr_at[len(lines)] = i
        lines += ["  { 0, 0 }", "};", ""]
        return "\n".join(lines), anchor_at, expr_at


@dataclass(frozen=True)
class ProbeResult:
    """The compiled probe: its object file and each evaluated expression as (value, C type)."""

    obj: Path
    values: dict[str, tuple[int, str]]
    dropped: tuple[str, ...]


def _read_consts(obj: Path, labels: list[str]) -> dict[str, tuple[int, str]]:
    with obj.open("rb") as f:
        elf = ELFFile(f)
        symtab = elf.get_section_by_name(".symtab")
        syms = symtab.get_symbol_by_name("xenolith_probe_consts") if symtab else None
        if not syms:
            raise CodegenError("probe object has no constant table; the compiler is not gcc-compatible (pass --cc gcc)")
        sym = syms[0]
        data = elf.get_section(sym["st_shndx"]).data()
        raw = data[sym["st_value"] : sym["st_value"] + sym["st_size"]]
    if len(raw) != _ENTRY.size * (len(labels) + 1):
        raise CodegenError("probe constant table has an unexpected size; the compiler is not an i386 gcc (pass --cc gcc)")
    out: dict[str, tuple[int, str]] = {}
    for i, label in enumerate(labels):
        value, kind = _ENTRY.unpack_from(raw, i * _ENTRY.size)
        if kind not in KINDS:
            continue  # not an integer expression (pointer, float...)
        if KINDS[kind].startswith("unsigned"):
            bits = 32 if kind in (2, 4) else 64
            value &= (1 << bits) - 1
        out[label] = (value, KINDS[kind])
    return out


def build_probe(tool: Toolchain, probe: Probe, workdir: Path, max_rounds: int = 6) -> ProbeResult:
    """Compile the probe, dropping constant lines the compiler rejects; unknown anchors are errors."""
    src = workdir / "probe.c"
    obj = workdir / "probe.o"
    dropped: list[str] = []
    for _ in range(max_rounds):
        text, anchor_at, expr_at = probe.source()
        src.write_text(text)
        res = tool.compile(src, obj)
        if res.returncode == 0:
            labels = [label for label, _ in probe.exprs]
            return ProbeResult(obj, _read_consts(obj, labels), tuple(dropped))
        bad = error_lines(res.stderr, src)
        missing = [f"{k} {n}" if k != "typedef" else n for ln, (k, n) in anchor_at.items() if ln in bad]
        if missing:
            raise CodegenError(
                f"not declared by Xen's headers: {', '.join(missing)}; remove it from the declared list or add its header to 'headers'"
            )
        bad_exprs = {expr_at[ln] for ln in bad if ln in expr_at}
        if not bad_exprs:
            raise CodegenError(f"compiling Xen's headers for i386 failed: {first_error(res.stderr)}")
        dropped += [probe.exprs[i][0] for i in sorted(bad_exprs)]
        probe.exprs = [e for i, e in enumerate(probe.exprs) if i not in bad_exprs]
    raise CodegenError("probe still fails after dropping non-constant macros; narrow the constant patterns in the declared list")
