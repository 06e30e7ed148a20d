"""codegen.elfcheck: accepts a well-formed 32-bit PAE PV kernel and refuses broken ones, one message per problem.

The kernels are tiny ELFs this test builds itself with gcc (as) and ld: a
"Xen" note per XEN_ELFNOTE_* in a PT_NOTE segment, an entry point and a
page-aligned hypercall page in one PT_LOAD segment at VIRT_BASE.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from codegen.generate import Inputs, generate
from codegen.manifest import load_manifest

REPO = Path(__file__).resolve().parents[2]
XEN = Path("/usr/include/xen")

pytestmark = pytest.mark.skipif(
    not (XEN / "xen.h").is_file() or shutil.which("gcc") is None or shutil.which("ld") is None,
    reason="needs libxen-dev, gcc and binutils",
)

BASE = 0xC0000000
GOOD_NOTES: dict[str, tuple[str, str]] = {
    # note name: (assembler directive(s), value)
    "GUEST_OS": (".asciz", '"Xenolith"'),
    "XEN_VERSION": (".asciz", '"xen-3.0"'),
    "LOADER": (".asciz", '"generic"'),
    "PAE_MODE": (".asciz", '"yes"'),
    "FEATURES": (".asciz", '"!writable_page_tables|pae_pgdir_above_4gb"'),
    "VIRT_BASE": (".long", f"{BASE:#x}"),
    "PADDR_OFFSET": (".long", f"{BASE:#x}"),
    "ENTRY": (".long", "_start"),
    "HYPERCALL_PAGE": (".long", "hypercall_page; .long 0"),  # 8 bytes
}

LINKER_SCRIPT = """ENTRY(_start)
PHDRS {{ load PT_LOAD; {note_phdr} }}
SECTIONS {{
  . = {base:#x};
  .text : {{ *(.text) }} :load
  .note : {{ *(.note.Xen) }} :load {note_ref}
  .rodata : {{ *(.rodata) }} :load
  .data : {{ *(.data) }} :load
  .bss : {{ *(.bss) }} :load
  /DISCARD/ : {{ *(.note.gnu.*) }}
}}
"""


@pytest.fixture(scope="module")
def abi_path(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("gen")
    generate(Inputs(XEN, out, load_manifest(), "gcc"))
    return out / "python" / "xen_abi.py"


def build_kernel(
    tmp: Path,
    gen_include: Path,
    notes: dict[str, tuple[str, str]] | None = None,
    *,
    note_phdr: bool = True,
    elf64: bool = False,
    hypercall_misalign: int = 0,
    base: int = BASE,
) -> Path:
    notes = GOOD_NOTES if notes is None else notes
    lines = ["#include <abi/elfnote.h>", '.section .note.Xen, "a", @note']
    for name, (directive, value) in notes.items():
        lines += [".balign 4", f".long 4, 2f - 1f, XEN_ELFNOTE_{name}", '.asciz "Xen"', f"1: {directive} {value}", "2: .balign 4"]
    lines += [
        ".text", ".globl _start", "_start: jmp _start",
        ".balign 4096", f".fill {hypercall_misalign}, 1, 0x90",
        ".globl hypercall_page", "hypercall_page: .fill 4096, 1, 0xc3",
        ".section .rodata", 'msg: .asciz "hello"', ".data", "d: .long 1", ".bss", "b: .fill 100",
    ]  # fmt: skip
    src = tmp / "k.S"
    src.write_text("\n".join(lines) + "\n")
    lds = tmp / "k.ld"
    lds.write_text(LINKER_SCRIPT.format(base=base, note_phdr="note PT_NOTE;" if note_phdr else "",
                                        note_ref=":note" if note_phdr else ""))  # fmt: skip
    obj, elf = tmp / "k.o", tmp / "k.elf"
    subprocess.run(["gcc", "-m64" if elf64 else "-m32", f"-I{gen_include}", "-c", str(src), "-o", str(obj)], check=True)
    subprocess.run(["ld", "-m", "elf_x86_64" if elf64 else "elf_i386", "--no-warn-rwx-segments", "-T", str(lds), "-o", str(elf),
                    str(obj)], check=True)  # fmt: skip
    return elf


def elfcheck(abi_path: Path, elf: Path, *extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "codegen.elfcheck", "--abi", str(abi_path), *extra, str(elf)],
                          cwd=REPO, capture_output=True, text=True, check=False)  # fmt: skip


def _include(abi_path: Path) -> Path:
    return abi_path.parents[1] / "include"


def test_good_kernel(abi_path: Path, tmp_path: Path) -> None:
    r = elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path)))
    assert r.returncode == 0, r.stderr
    assert "OK" in r.stdout
    for row in ("XEN_VERSION", "'xen-3.0'", "HYPERCALL_PAGE", "0xc0001000", "VIRT_BASE", "0xc0000000", "FEATURES"):
        assert row in r.stdout
    for kind in ("text", "rodata", "data", "bss", "total"):
        assert kind in r.stdout
    assert "text           8192" in r.stdout and "bss             100" in r.stdout


def test_good_kernel_brief(abi_path: Path, tmp_path: Path) -> None:
    r = elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path)), "--brief")
    assert r.returncode == 0 and len(r.stdout.strip().splitlines()) == 1 and "total=" in r.stdout


def _problems(r: subprocess.CompletedProcess[str]) -> list[str]:
    assert r.returncode == 1, r.stdout
    return [ln.split(": ", 2)[2] for ln in r.stderr.strip().splitlines()]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"LOADER": None}, "missing Xen ELF note XEN_ELFNOTE_LOADER (a string)"),
        ({"HYPERCALL_PAGE": None}, "missing Xen ELF note XEN_ELFNOTE_HYPERCALL_PAGE (a number)"),
        ({"XEN_VERSION": (".asciz", '"xen-2.0"')}, "note XEN_ELFNOTE_XEN_VERSION is 'xen-2.0'; Xen needs 'xen-3.0'"),
        ({"PAE_MODE": (".asciz", '"no"')}, "note XEN_ELFNOTE_PAE_MODE is 'no'; Xen needs 'yes' or 'bimodal' or 'yes,bimodal'"),
        ({"ENTRY": (".long", "0xd0000000")}, "entry point 0xd0000000 (XEN_ELFNOTE_ENTRY) is outside every PT_LOAD segment"),
        ({"FEATURES": (".asciz", '"writable_page_tables|!no_such_feature"')},
         "note XEN_ELFNOTE_FEATURES names unknown feature 'no_such_feature' (see XENFEAT_* in abi/consts.h)"),
        ({"VIRT_BASE": (".short", "1")}, "note XEN_ELFNOTE_VIRT_BASE has 2 bytes; a number must have 4 or 8"),
    ],
)
def test_broken_notes(abi_path: Path, tmp_path: Path, change: dict[str, tuple[str, str] | None], message: str) -> None:
    notes = {k: v for k, v in {**GOOD_NOTES, **change}.items() if v is not None}
    assert _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), notes))) == [message]


def test_missing_notes(abi_path: Path, tmp_path: Path) -> None:
    problems = _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), note_phdr=False)))
    assert problems == ["no PT_NOTE segment; put the Xen notes in a PT_NOTE program header (PHDRS ... PT_NOTE)"]


def test_elfclass64(abi_path: Path, tmp_path: Path) -> None:
    problems = _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), elf64=True)))
    assert len(problems) == 1 and problems[0].startswith("ELF class is ELFCLASS64")


def test_hypercall_page_unaligned(abi_path: Path, tmp_path: Path) -> None:
    problems = _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), hypercall_misalign=16)))
    assert problems == ["hypercall page 0xc0001010 (XEN_ELFNOTE_HYPERCALL_PAGE) is not aligned to 4096 bytes"]


def test_above_hypervisor_hole(abi_path: Path, tmp_path: Path) -> None:
    base = 0xF5800000 - 0x1000  # the image runs into HYPERVISOR_VIRT_START
    notes = {**GOOD_NOTES, "VIRT_BASE": (".long", f"{base:#x}"), "PADDR_OFFSET": (".long", f"{base:#x}")}
    problems = _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), notes, base=base)))
    assert len(problems) == 1 and "reaches HYPERVISOR_VIRT_START 0xf5800000" in problems[0]


def test_several_problems_each_reported(abi_path: Path, tmp_path: Path) -> None:
    notes = {k: v for k, v in GOOD_NOTES.items() if k not in ("GUEST_OS", "FEATURES")}
    problems = _problems(elfcheck(abi_path, build_kernel(tmp_path, _include(abi_path), notes, hypercall_misalign=8)))
    assert len(problems) == 3


def test_not_an_elf_and_no_mirror(abi_path: Path, tmp_path: Path) -> None:
    junk = tmp_path / "junk"
    junk.write_text("hello")
    assert _problems(elfcheck(abi_path, junk)) == ["not an ELF file"]
    r = subprocess.run([sys.executable, "-m", "codegen.elfcheck", "--abi", str(tmp_path / "none.py"), str(junk)],
                       cwd=REPO, capture_output=True, text=True, check=False)  # fmt: skip
    assert r.returncode == 1 and "run 'make gen' first" in r.stderr
