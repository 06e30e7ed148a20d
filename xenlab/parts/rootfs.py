"""Assembling the dom0 root file system tree (xenlab.parts), before it is packed.

A merged-/usr skeleton, files copied from the host or from unpacked .debs,
busybox's applet links, and the shared libraries every ELF file needs
(found with ldd, with LD_LIBRARY_PATH pointing into the unpacked .debs so
Xen's own libraries come from the pinned packages, not from the host).
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

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


def host_path(rel: str) -> Path:
    """Where file `/rel` is on the host (also tried without /usr, for unmerged hosts)."""
    candidates = [Path("/") / rel]
    if rel.startswith("usr/"):
        candidates.append(Path("/") / rel[4:])
    for c in candidates:
        if c.exists():
            return c
    raise PartsError(f"host file /{rel} not found; scripts/bootstrap.sh installs the Debian "
                     "packages the dom0 image copies from the host (see APT_PACKAGES)")


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


def parse_ldd(text: str) -> tuple[list[str], list[str]]:
    """(paths of libraries found, names not found) from ldd's output."""
    found: list[str] = []
    missing: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if "=>" in line:
            name, _, rest = line.partition("=>")
            rest = rest.strip()
            if rest.startswith("not found"):
                missing.append(name.strip())
            elif rest.startswith("/"):
                found.append(rest.split()[0])
        elif line.startswith("/"):
            found.append(line.split()[0])
    return found, missing


def is_elf(path: Path) -> bool:
    with path.open("rb") as fh:
        return fh.read(4) == b"\x7fELF"


def elf_files(root: Path) -> list[Path]:
    """Regular ELF files in the tree, kernel modules excluded."""
    return [p for p in sorted(root.rglob("*"))
            if p.is_file() and not p.is_symlink() and p.suffix != ".ko" and is_elf(p)]


def add_libraries(root: Path, trees: list[Path], log_hint: str) -> list[str]:
    """Copy every library that the tree's ELF files need; return the in-tree paths added.

    `trees` are unpacked .debs: libraries found there are copied to their
    path relative to the tree, others come from the same path on the host.
    """
    lib_path = ":".join(str(t / d) for t in trees
                        for d in ("usr/lib/x86_64-linux-gnu", "lib/x86_64-linux-gnu")
                        if (t / d).is_dir())
    added: list[str] = []
    for elf in elf_files(root):
        out = capture(["ldd", elf], env={"LD_LIBRARY_PATH": lib_path})
        if out.returncode != 0:
            continue  # static (busybox) or not a program
        found, missing = parse_ldd(out.stdout)
        if missing:
            raise PartsError(f"{elf.relative_to(root)} needs {', '.join(missing)}, found neither "
                             f"in the unpacked packages nor on the host. {log_hint}")
        for lib in found:
            rel = in_tree_path(Path(lib), trees)
            dest = root / rel
            if not (dest.exists() or dest.is_symlink()):
                copy_into(root, Path(lib), rel)
                added.append(rel)
    return added


def in_tree_path(lib: Path, trees: list[Path]) -> str:
    """The path a library gets inside the initramfs."""
    for t in trees:
        if lib.is_relative_to(t):
            return lib.relative_to(t).as_posix()
    return lib.as_posix().lstrip("/")
