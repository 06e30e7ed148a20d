"""Constants: selecting Xen's macros by the declared name patterns and spelling their values as C and Python.

The preprocessor (`cc -E -dM`) lists every macro; the declared patterns pick
object-like ones. String-literal macros are copied as written (e.g.
XS_WRITE_NONE). Every other candidate is evaluated by the compiler in the
probe (see codegen.probe): this handles casts, xen_mk_ulong(), references to
other macros and to enumerators without a home-made evaluator, and
keeps the C type. Values are written back as plain literals with the
matching suffix (U, UL, ...), wrapped in XEN_ABI_C() so the header also works
from assembly, where suffixes are not allowed.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from fnmatch import fnmatchcase

from codegen.errors import CodegenError

_DEFINE = re.compile(r"#define ([A-Za-z_]\w*)(\([^)]*\))? ?(.*)")
_STRING = re.compile(r'(\s*"(?:[^"\\]|\\.)*"\s*)+')
_SUFFIX = {
    "int": "",
    "unsigned int": "U",
    "long": "L",
    "unsigned long": "UL",
    "long long": "LL",
    "unsigned long long": "ULL",
}


@dataclass(frozen=True)
class MacroTable:
    """Object-like macros (name -> body) from `cc -E -dM`, plus the names of function-like ones."""

    objects: dict[str, str]
    functions: frozenset[str]


@dataclass(frozen=True)
class Constant:
    """One generated constant: its name, the C spelling of its value, and its Python value."""

    name: str
    group: str
    c_value: str
    py_value: int | str
    ctype: str  # C type name, or "string"
    source: str  # the macro body in Xen's headers (for comments), or "" for our own


def parse_dm(text: str) -> MacroTable:
    """Parse `#define` lines as printed by -dM."""
    objects: dict[str, str] = {}
    functions: set[str] = set()
    for line in text.splitlines():
        m = _DEFINE.match(line)
        if not m:
            continue
        if m.group(2) is not None:
            functions.add(m.group(1))
        else:
            objects[m.group(1)] = m.group(3).strip()
    return MacroTable(objects, frozenset(functions))


def is_string(body: str) -> bool:
    return bool(body) and _STRING.fullmatch(body) is not None


def select(table: MacroTable, groups: tuple[tuple[str, tuple[str, ...]], ...]) -> list[tuple[str, str]]:
    """(group, name) of every object-like macro matched by a pattern; a pattern matching nothing is an error."""
    chosen: dict[str, str] = {}
    for group, patterns in groups:
        for pat in patterns:
            hits = sorted(n for n in table.objects if fnmatchcase(n, pat) and table.objects[n])
            if not hits:
                if pat in table.functions:
                    raise CodegenError(f"constant '{pat}' (group {group}) is a function-like macro; drop it from the declared list")
                raise CodegenError(
                    f"constant pattern '{pat}' (group {group}) matches no macro in Xen's headers; fix or remove it in the declared list (enumerators come with their enum under 'enums')"
                )
            for n in hits:
                chosen.setdefault(n, group)
    return [(g, n) for n, g in chosen.items()]


def _spelled_hex(name: str, table: MacroTable, depth: int = 0) -> bool:
    body = table.objects.get(name, "")
    if re.search(r"\b0[xX][0-9a-fA-F]", body):
        return True
    if depth > 8:
        return False
    return any(_spelled_hex(tok, table, depth + 1) for tok in re.findall(r"[A-Za-z_]\w*", body) if tok in table.objects)


def c_literal(value: int, ctype: str, hex_form: bool) -> str:
    """A C literal of `ctype` with `value`, assembler-safe through XEN_ABI_C(value, suffix)."""
    digits = f"{value:#x}" if hex_form and value >= 0 else str(value)
    suffix = _SUFFIX[ctype]
    text = f"XEN_ABI_C({digits}, {suffix})" if suffix else digits
    return f"({text})" if value < 0 else text


def make_constant(group: str, name: str, table: MacroTable, values: dict[str, tuple[int, str]]) -> Constant | None:
    """Build the constant for a selected macro, or None if it is neither a string nor an integer constant."""
    body = table.objects[name]
    if is_string(body):
        return Constant(name, group, body, _unquote(body), "string", body)
    if name not in values:
        return None
    value, ctype = values[name]
    return Constant(name, group, c_literal(value, ctype, _spelled_hex(name, table)), value, ctype, body)


def own_constant(group: str, name: str, value: int | str) -> Constant:
    """One of our own constants from the declared list's [extra] table."""
    if isinstance(value, str):
        quoted = '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
        return Constant(name, group, quoted, value, "string", "")
    ctype = "int" if -(2**31) <= value < 2**31 else "unsigned long long"
    return Constant(name, group, c_literal(value, ctype, False), value, ctype, "")


def _unquote(body: str) -> str:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"', body)
    return "".join(bytes(p, "utf-8").decode("unicode_escape") for p in parts)
