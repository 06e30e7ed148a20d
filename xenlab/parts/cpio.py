"""A tiny cpio "newc" writer for the dom0 initramfs (xenlab.parts).

Written here rather than calling cpio(1) so the archive is reproducible
(owner root, mtime 0, sorted) and can hold device nodes (/dev/console)
without root rights on the build host.
"""

from __future__ import annotations

import gzip
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Entry:
    """One archive member: a path inside the archive, its mode, and its data."""

    name: str  # without a leading '/'
    mode: int  # file type and permission bits, as in st_mode
    data: bytes = b""  # file contents, or a symlink's target
    rdev: tuple[int, int] = (0, 0)  # major, minor of a device node


def _pad4(n: int) -> bytes:
    return b"\0" * (-n % 4)


def encode_entry(entry: Entry, ino: int) -> bytes:
    """The newc header, name and data of one member (each padded to 4 bytes)."""
    name = entry.name.encode() + b"\0"
    fields = [ino, entry.mode, 0, 0, 1, 0, len(entry.data), 0, 0,
              entry.rdev[0], entry.rdev[1], len(name), 0]
    header = b"070701" + b"".join(f"{f:08x}".encode() for f in fields)
    head = header + name
    return head + _pad4(len(head)) + entry.data + _pad4(len(entry.data))


def encode_archive(entries: list[Entry]) -> bytes:
    """A whole newc archive, trailer included."""
    chunks = [encode_entry(e, i + 1) for i, e in enumerate(entries)]
    chunks.append(encode_entry(Entry("TRAILER!!!", 0), 0))
    return b"".join(chunks)


def tree_entries(root: Path) -> Iterator[Entry]:
    """Entries for everything under `root` (parents before children, sorted, symlinks kept)."""
    for dirpath, dirnames, filenames in os.walk(root):
        dirnames.sort()
        base = Path(dirpath)
        for name in sorted(dirnames + filenames):
            path = base / name
            rel = path.relative_to(root).as_posix()
            st = path.lstat()
            if stat.S_ISLNK(st.st_mode):
                yield Entry(rel, stat.S_IFLNK | 0o777, os.readlink(path).encode())
            elif stat.S_ISDIR(st.st_mode):
                yield Entry(rel, stat.S_IFDIR | (st.st_mode & 0o7777))
            elif stat.S_ISREG(st.st_mode):
                yield Entry(rel, stat.S_IFREG | (st.st_mode & 0o7777), path.read_bytes())


def write_initramfs(root: Path, extra: list[Entry], out: Path) -> None:
    """Write `root` plus `extra` members (e.g. device nodes) as a gzip'd newc archive."""
    entries = list(tree_entries(root)) + extra
    with gzip.GzipFile(out, "wb", compresslevel=6, mtime=0) as fh:
        fh.write(encode_archive(entries))
