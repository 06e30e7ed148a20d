"""Assembling the dom0 root file system tree (xenlab.parts), before it is packed.

A merged-/usr skeleton, files copied from unpacked .debs, busybox's applet
links, and the shared libraries every ELF file needs (found from each file's
PT_INTERP, DT_NEEDED and DT_RUNPATH with pyelftools, in the unpacked .debs
only: the image never takes a library from the host, whose release may not
be the flavour's).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from elftools.elf.dynamic import DynamicSection
from elftools.elf.elffile import ELFFile

from xenlab.parts.errors import PartsError
from xenlab.parts.run import capture

MERGED_USR = {"bin": "usr/bin", "sbin": "usr/sbin", "lib": "usr/lib", "lib64": "usr/lib64"}
DIRS = ["dev", "proc", "sys", "run", "root", "etc", "var/lib", "var/log", "host",
        "usr/lib/x86_64-linux-gnu"]


def make_skeleton(root: Path) -> None:
    """The empty tree: merged /usr links, standard folders, /tmp (1777), /var/run -> /run."""
    for link, target in MERGED_USR.items():
        (root / target).mkdir(parents=True, exist_ok=True)
        (root / link).symlink_to(target)
    for d in DIRS:
        (root / d).mkdir(parents=True, exist_ok=True)
    (root / "tmp").mkdir()
    (root / "tmp").chmod(0o1777)
    (root / "var/run").symlink_to("../run")
    (root / "var/lock").symlink_to("../run/lock")
    (root / "etc/mtab").symlink_to("/proc/mounts")


def copy_into(root: Path, src: Path, rel: str, mode: int | None = None) -> Path:
    """Copy file `src` (symlinks followed) to `/rel` inside `root`."""
    dest = root / rel.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.is_symlink() or dest.exists():
        dest.unlink()
    shutil.copy2(src, dest)
    if mode is not None:
        dest.chmod(mode)
    return dest


def copy_tree(root: Path, src: Path) -> None:
    """Copy the files and symlinks of folder `src` into `root`, keeping relative paths."""
    for path in sorted(src.rglob("*")):
        rel = path.relative_to(src).as_posix()
        if path.is_symlink():
            dest = root / rel
            dest.parent.mkdir(parents=True, exist_ok=True)
            dest.symlink_to(os.readlink(path))
        elif path.is_file():
            copy_into(root, path, rel, path.stat().st_mode & 0o7777)


def link_busybox(root: Path, busybox_rel: str, skip: set[str]) -> int:
    """Create busybox's applet links (those not already present or skipped); return the count."""
    out = capture([root / busybox_rel, "--list-full"])
    if out.returncode != 0:
        raise PartsError(f"busybox --list-full failed: {out.stderr.strip()}")
    made = 0
    for rel in out.stdout.split():
        name = rel.rsplit("/", 1)[-1]
        dest = root / rel
        if name in skip or dest.exists() or dest.is_symlink():
            continue
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.symlink_to("/" + busybox_rel)
        made += 1
    return made


def is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def elf_files(root: Path) -> list[Path]:
    """Regular ELF files in the tree, kernel modules excluded."""
    return [p for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.suffix != ".ko" and is_elf(p)]


LIB_DIRS = ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu", "usr/lib64", "lib64",
            "usr/lib", "lib")


def elf_links(path: Path) -> tuple[str, list[str], list[str]]:
    """(PT_INTERP, DT_NEEDED names, DT_RUNPATH/DT_RPATH folders) of one ELF file."""
    interp, needed, runpath = "", [], []
    with path.open("rb") as fh:
        elf = ELFFile(fh)
        for seg in elf.iter_segments():
            if seg.header.p_type == "PT_INTERP":
                interp = seg.get_interp_name()
        dynamic = elf.get_section_by_name(".dynamic")
        if isinstance(dynamic, DynamicSection):
            for tag in dynamic.iter_tags():
                if tag.entry.d_tag == "DT_NEEDED":
                    needed.append(tag.needed)
                elif tag.entry.d_tag in ("DT_RUNPATH", "DT_RPATH"):
                    value = tag.runpath if tag.entry.d_tag == "DT_RUNPATH" else tag.rpath
                    runpath += [d for d in value.split(":") if d and "$" not in d]
    return interp, needed, runpath


def tree_file(tree: Path, rel: str) -> Path | None:
    """The regular file `/rel` names inside the unpacked tree, following symlinks (absolute
    ones from the tree's root, not the host's; merged-/usr spellings tried both ways)."""
    rel = rel.lstrip("/")
    spellings = [rel, rel[4:] if rel.startswith("usr/") else "usr/" + rel]
    for spelling in spellings:
        path = tree / spelling
        for _ in range(16):
            if not path.is_symlink():
                break
            target = os.readlink(path)
            path = tree / target.lstrip("/") if target.startswith("/") else path.parent / target
        if path.is_file() and not path.is_symlink():
            return path
    return None


def find_library(tree: Path, name: str, runpath: list[str]) -> Path | None:
    """Where the loader would find library `name` in the tree (RUNPATH first)."""
    for folder in [*runpath, *LIB_DIRS]:
        found = tree_file(tree, f"{folder}/{name}")
        if found:
            return found
    return None


def add_libraries(root: Path, tree: Path, log_hint: str) -> list[str]:
    """Copy into `root` every library (and the loader) its ELF files need, all taken from the
    unpacked packages in `tree`, never from the host; return the in-root paths added.

    Libraries go to the canonical folder (usr/lib/x86_64-linux-gnu), the loader to the
    path its programs name (PT_INTERP); libraries' own needs are followed too.
    """
    added: list[str] = []
    todo = elf_files(root)
    while todo:
        elf = todo.pop()
        interp, needed, runpath = elf_links(elf)
        # The loader where the program names it, else wherever libc6 put it.
        loader = interp and (tree_file(tree, interp) or find_library(tree, Path(interp).name, []))
        wanted = [(interp, loader)] if interp else []
        wanted += [(f"usr/lib/x86_64-linux-gnu/{n}", find_library(tree, n, runpath))
                   for n in needed]
        missing = [rel.rsplit("/", 1)[-1] for rel, src in wanted if src is None]
        if missing:
            raise PartsError(f"{elf.relative_to(root)} needs {', '.join(missing)}, which no "
                             f"unpacked package has: add its package to the flavour's userland "
                             f"(xenlab/parts/flavours.py). {log_hint}")
        for rel, src in wanted:
            dest = root / rel.lstrip("/")
            if src is not None and not (dest.exists() or dest.is_symlink()):
                todo.append(copy_into(root, src, rel))
                added.append(rel.lstrip("/"))
    return added
