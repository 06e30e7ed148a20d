"""The table of every hypercall and sub-op the kernel makes, read from its sources.

`python -m codegen.hypercall_table [--root DIR] [--out docs/hypercalls.md] [--check]`
scans kernel/ and drivers/ (*.c, *.h, *.S) with comments and string literals
removed and finds three shapes of call:

- `HYPERVISOR_<name>(...)`: the generated wrapper (<abi/hypercalls.h>);
- `multicall_add(..., __HYPERVISOR_<name>)`: an entry of a batch;
- `__HYPERVISOR_<name> * ...`: a jump or call straight into the hypercall
  page (assembly, inline assembly).

The sub-op of a call is the constant of its family (XENMEM_, EVTCHNOP_, ...)
written in the call's arguments; when the argument is a variable, the
constants of that family in the enclosing function, else in the file, marked
so. The enclosing function is the C function around the call, or the
assembly label or `.macro` before it. `make` regenerates the table
(mk/codegen.mk) and tests/unit/test_hypercall_table.py fails when the
committed docs/hypercalls.md differs from what this produces.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType

# The constant families of the hypercalls that take a sub-op (Xen's public
# headers: xen.h, memory.h, event_channel.h, grant_table.h, sched.h,
# version.h, physdev.h, callback.h, vcpu.h).
SUBOP_PREFIXES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "callback_op": ("CALLBACKOP_",),
    "console_io": ("CONSOLEIO_",),
    "event_channel_op": ("EVTCHNOP_",),
    "grant_table_op": ("GNTTABOP_",),
    "memory_op": ("XENMEM_",),
    "mmuext_op": ("MMUEXT_",),
    "physdev_op": ("PHYSDEVOP_",),
    "sched_op": ("SCHEDOP_",),
    "vcpu_op": ("VCPUOP_",),
    "vm_assist": ("VMASST_CMD_", "VMASST_TYPE_"),
    "xen_version": ("XENVER_",),
})
SCANNED_DIRS = ("kernel", "drivers")
SCANNED_SUFFIXES = (".c", ".h", ".S")
DEFAULT_OUT = Path("docs/hypercalls.md")

CALL_RE = re.compile(r"(?<![\w])HYPERVISOR_([a-z][a-z0-9_]*)\s*\(")
BATCH_RE = re.compile(r"\bmulticall_add\s*\([^;]*?__HYPERVISOR_([a-z][a-z0-9_]*)")
STUB_RE = re.compile(r"\b__HYPERVISOR_([a-z][a-z0-9_]*)\s*\*")
ASM_CONTEXT_RE = re.compile(r"^\s*(?:\.macro\s+(\w+)|(\w+):)", re.MULTILINE)
FUNC_NAME_RE = re.compile(r"\b([A-Za-z_]\w*)\s*\(")
# A block opened by a macro (SELFTEST(name), SELFTEST_IN(name, where)) is named with its first argument.
MACRO_BLOCK_RE = re.compile(r"\b([A-Z][A-Z0-9_]*)\s*\(\s*(\w+)")


@dataclass(frozen=True, order=True)
class Use:
    """One call site: which hypercall, sub-ops, where, and how the sub-ops were found."""

    hypercall: str
    subops: tuple[str, ...]
    path: str
    function: str
    how: str  # "call", "batch" or "stub"
    subop_source: str  # "args", "function", "file" or "" (no sub-op family)


def strip_comments_and_strings(text: str) -> str:
    """Blank comments and string/char literals, keeping offsets and newlines."""
    out = list(text)
    i, n = 0, len(text)

    def blank(a: int, b: int) -> None:
        for k in range(a, b):
            if out[k] != "\n":
                out[k] = " "

    while i < n:
        c = text[i]
        if text.startswith("/*", i):
            j = text.find("*/", i + 2)
            j = n if j < 0 else j + 2
            blank(i, j)
            i = j
        elif text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            blank(i, j)
            i = j
        elif c in "\"'":
            j = i + 1
            while j < n and text[j] != c and text[j] != "\n":
                j += 2 if text[j] == "\\" else 1
            blank(i + 1, min(j, n))
            i = j + 1
        else:
            i += 1
    return "".join(out)


def top_level_blocks(code: str) -> list[tuple[int, int, str]]:
    """(start, end, function name) of each brace block at file level."""
    blocks: list[tuple[int, int, str]] = []
    depth, start, last_end = 0, 0, 0
    for i, c in enumerate(code):
        if c == "{":
            if depth == 0:
                start = i
            depth += 1
        elif c == "}" and depth > 0:
            depth -= 1
            if depth == 0:
                header = code[last_end:start]
                header = header[max(header.rfind(";"), header.rfind("#")) + 1:]
                names = [m for m in FUNC_NAME_RE.findall(header) if not m.startswith("__attribute")]
                macro = MACRO_BLOCK_RE.search(header)
                name = f"{macro.group(1)}({macro.group(2)})" if macro and names and names[0] == macro.group(1) else (names[0] if names else "")
                blocks.append((start, i + 1, name))
                last_end = i + 1
        elif c == ";" and depth == 0:
            last_end = i + 1
    return blocks


def enclosing(code: str, blocks: list[tuple[int, int, str]], pos: int) -> tuple[str, int, int]:
    """The function (name, start, end) around pos: a C function, else an assembly label or macro."""
    for start, end, name in blocks:
        if start <= pos < end and name:
            return name, start, end
    ctx = ""
    for m in ASM_CONTEXT_RE.finditer(code, 0, pos):
        ctx = f".macro {m.group(1)}" if m.group(1) else m.group(2)
    return ctx, 0, len(code)


def call_args(code: str, open_paren: int) -> str:
    """The text between the parenthesis at open_paren and its match."""
    depth = 0
    for i in range(open_paren, len(code)):
        if code[i] == "(":
            depth += 1
        elif code[i] == ")":
            depth -= 1
            if depth == 0:
                return code[open_paren + 1:i]
    return code[open_paren + 1:]


def constants(text: str, prefixes: Iterable[str]) -> tuple[str, ...]:
    """The sub-op constants of the families in text. Sub-op names are lower case
    after the prefix (XENVER_version, not XENVER_MAJOR_SHIFT), except MMUEXT_'s."""
    found = set()
    for p in prefixes:
        rest = r"[A-Z]\w*" if p == "MMUEXT_" else r"[a-z]\w*"
        found.update(re.findall(r"\b" + re.escape(p) + rest, text))
    return tuple(sorted(found))


def uses_in(path: str, text: str) -> list[Use]:
    """Every hypercall use in one source file (path as shown in the table)."""
    code = strip_comments_and_strings(text)
    blocks = top_level_blocks(code)
    found: list[Use] = []
    for how, rx in (("call", CALL_RE), ("batch", BATCH_RE), ("stub", STUB_RE)):
        for m in rx.finditer(code):
            name = m.group(1)
            func, fstart, fend = enclosing(code, blocks, m.start())
            prefixes = SUBOP_PREFIXES.get(name, ())
            subops: tuple[str, ...] = ()
            source = ""
            if prefixes:
                args = call_args(code, m.end() - 1) if how == "call" else ""
                for source, scope in (("args", args), ("function", code[fstart:fend]), ("file", code)):
                    subops = constants(scope, prefixes)
                    if subops:
                        break
                else:
                    source = ""
            found.append(Use(name, subops, path, func, how, source))
    return found


def scan(root: Path) -> list[Use]:
    uses: set[Use] = set()
    for d in SCANNED_DIRS:
        for f in sorted((root / d).rglob("*")):
            if f.suffix in SCANNED_SUFFIXES and f.is_file():
                uses.update(uses_in(f.relative_to(root).as_posix(), f.read_text(encoding="utf-8")))
    return sorted(uses)


MARKS: Mapping[str, str] = MappingProxyType({"args": "", "function": " (f)", "file": " (F)", "": ""})
HOW: Mapping[str, str] = MappingProxyType({"call": "", "batch": " (multicall)", "stub": " (hypercall page)"})


def render(uses: list[Use]) -> str:
    lines = [
        "# Hypercalls the kernel makes",
        "",
        "<!-- Generated by `python -m codegen.hypercall_table` (run by `make`); do not edit. -->",
        "",
        "Every hypercall and sub-op used in `kernel/` and `drivers/`, with the file and",
        "function that uses it, read from the sources by `codegen/hypercall_table.py`.",
        "`make` regenerates this file and `make check` fails when the committed copy",
        "is stale. A sub-op is the constant written in the call; when the call passes",
        "a variable, the constants of that family in the same function are listed",
        "with (f), or in the same file with (F) (the caller picks one of them).",
        "\"(multicall)\" is an entry of a batch (`xen/multicall.c`), \"(hypercall page)\"",
        "a jump or call straight into the stub. `*_selftest.c` and `*_bench.c` are",
        "self-tests and benchmarks, left out of `make tiny`.",
        "",
    ]
    by_call: dict[str, list[Use]] = {}
    for u in uses:
        by_call.setdefault(u.hypercall, []).append(u)
    lines.append("| Hypercall | Sub-op | File | Function |")
    lines.append("|---|---|---|---|")
    for name in sorted(by_call):
        rows: dict[tuple[str, str, str], None] = {}
        for u in by_call[name]:
            subs = ", ".join(f"`{s}`" for s in u.subops) + MARKS[u.subop_source] if u.subops else "-"
            func = f"`{u.function}`" if u.function else "-"
            rows[(subs, f"`{u.path}`", func + HOW[u.how])] = None
        for subs, path, func in rows:
            lines.append(f"| `{name}` | {subs} | {path} | {func} |")
    lines.append("")
    lines.append(f"{len(by_call)} hypercalls, {len(uses)} call sites.")
    lines.append("")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m codegen.hypercall_table", description=__doc__.splitlines()[0])
    ap.add_argument("--root", type=Path, default=Path("."), help="the repository (with kernel/, drivers/)")
    ap.add_argument("--out", type=Path, default=DEFAULT_OUT, help="the Markdown file to write (under --root)")
    ap.add_argument("--check", action="store_true", help="write nothing; exit 1 if the file is stale")
    args = ap.parse_args(argv)
    text = render(scan(args.root))
    out = args.root / args.out
    if args.check:
        if not out.is_file() or out.read_text(encoding="utf-8") != text:
            print(f"{out}: stale; run `make` (or python -m codegen.hypercall_table)", file=sys.stderr)
            return 1
        return 0
    if not out.is_file() or out.read_text(encoding="utf-8") != text:
        out.write_text(text, encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
