"""Unit tests of xenlab.parts' pure logic: recipe hashing, kconfig edits, multiboot check,
module ordering, cpio encoding, ldd parsing."""

import gzip
import io
import struct
from pathlib import Path

import pytest

from xenlab.parts import cache, cpio, modules, rootfs, xen
from xenlab.parts.errors import PartsError


def test_recipe_key_is_stable_and_order_free() -> None:
    a = cache.recipe_key({"x": 1, "y": [1, 2]})
    assert a == cache.recipe_key({"y": [1, 2], "x": 1})
    assert a != cache.recipe_key({"x": 2, "y": [1, 2]})
    assert len(a) == 12


def test_part_dir_names_version_and_key(tmp_path: Path) -> None:
    d = cache.part_dir(tmp_path, "busybox", "1:1.35.0-4", "abc")
    assert d == tmp_path / "busybox-1_1.35.0-4-abc"


def test_xen_recipe_changes_with_config_edits(monkeypatch: pytest.MonkeyPatch,
                                              tmp_path: Path) -> None:
    before = xen.xen_dir(tmp_path)
    monkeypatch.setattr(xen, "CONFIG_EDITS", {"CONFIG_PV32": "y", "CONFIG_DEBUG": "y"})
    assert xen.xen_dir(tmp_path) != before
    assert xen.XEN_VERSION in before.name


def test_default_cache_follows_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XENOLITH_CACHE", str(tmp_path))
    assert cache.default_cache() == tmp_path


def test_edit_config_sets_and_unsets() -> None:
    text = "CONFIG_A=y\n# CONFIG_PV32 is not set\nCONFIG_B=m\n"
    out = xen.edit_config(text, {"CONFIG_PV32": "y", "CONFIG_B": "n"})
    values = xen.config_values(out)
    assert values == {"CONFIG_A": "y", "CONFIG_PV32": "y", "CONFIG_B": "n"}


def test_multiboot_header_detection() -> None:
    flags = 0x3
    header = struct.pack("<III", xen.MULTIBOOT1_MAGIC, flags,
                         (-(xen.MULTIBOOT1_MAGIC + flags)) & 0xFFFFFFFF)
    assert xen.has_multiboot1_header(b"\0" * 64 + header)
    assert not xen.has_multiboot1_header(b"\0" * 66 + header)  # not 4-aligned
    assert not xen.has_multiboot1_header(b"\0" * 64 + header[:8] + b"\0\0\0\0")


def test_load_order_puts_dependencies_first_and_skips_builtin() -> None:
    deps = {"bridge": ["stp", "llc"], "stp": ["llc"], "llc": [], "xenfs": ["xen_privcmd"],
            "xen_privcmd": [], "loop": []}
    available = {name: Path(f"{name}.ko") for name in deps}
    order = modules.load_order(["xenfs", "bridge", "loop", "xen-privcmd"], available, {"loop"},
                               lambda ko: deps[ko.stem])
    assert [p.stem for p in order] == ["xen_privcmd", "xenfs", "llc", "stp", "bridge"]


def test_load_order_names_a_missing_module() -> None:
    with pytest.raises(PartsError, match="'nosuch'.*DOM0_MODULES"):
        modules.load_order(["nosuch"], {}, set(), lambda ko: [])


def test_cpio_archive_round_trips_through_python_reader(tmp_path: Path) -> None:
    root = tmp_path / "root"
    (root / "usr/bin").mkdir(parents=True)
    (root / "bin").symlink_to("usr/bin")
    (root / "usr/bin/hello").write_text("hi\n")
    out = tmp_path / "initrd.gz"
    cpio.write_initramfs(root, [cpio.Entry("dev/console", 0o020600, rdev=(5, 1))], out)
    data = gzip.decompress(out.read_bytes())
    names = []
    stream = io.BytesIO(data)
    while True:
        head = stream.read(110)
        assert head[:6] == b"070701"
        fields = [int(head[6 + 8 * i:14 + 8 * i], 16) for i in range(13)]
        name = stream.read(fields[11])[:-1].decode()
        stream.read(-(110 + fields[11]) % 4)
        body = stream.read(fields[6])
        stream.read(-fields[6] % 4)
        if name == "TRAILER!!!":
            break
        names.append((name, fields[1] >> 12, body, fields[9:11]))
    assert ("bin", 0o12, b"usr/bin", [0, 0]) in names
    assert ("usr/bin/hello", 0o10, b"hi\n", [0, 0]) in names
    assert ("dev/console", 0o2, b"", [5, 1]) in names
    assert [n for n, *_ in names].index("usr") < [n for n, *_ in names].index("usr/bin/hello")


def test_parse_ldd() -> None:
    text = """\tlinux-vdso.so.1 (0x00007ffd)
\tlibxenctrl.so.4.17 => /tmp/x/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17 (0x00007f08)
\tlibyajl.so.2 => not found
\t/lib64/ld-linux-x86-64.so.2 (0x00007f08)
"""
    found, missing = rootfs.parse_ldd(text)
    assert found == ["/tmp/x/usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17",
                     "/lib64/ld-linux-x86-64.so.2"]
    assert missing == ["libyajl.so.2"]
    assert rootfs.in_tree_path(Path(found[0]), [Path("/tmp/x")]) == \
        "usr/lib/x86_64-linux-gnu/libxenctrl.so.4.17"
    assert rootfs.in_tree_path(Path(found[1]), [Path("/tmp/x")]) == \
        "lib64/ld-linux-x86-64.so.2"
