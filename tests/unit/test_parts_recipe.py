"""Unit tests of xenlab.parts' pure logic: recipe hashing, kconfig edits, multiboot check,
module ordering, cpio encoding, library resolution in unpacked packages, flavours."""

import gzip
import io
import shutil
import struct
from pathlib import Path

import pytest

from xenlab.parts import cache, cpio, dom0, flavours, modules, rootfs, xen
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
    fl = flavours.flavour()
    before = xen.xen_dir(tmp_path, fl)
    monkeypatch.setattr(xen, "CONFIG_EDITS", {"CONFIG_PV32": "y", "CONFIG_DEBUG": "y"})
    assert xen.xen_dir(tmp_path, fl) != before
    assert fl.xen_version in before.name


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


def test_tree_file_follows_links_inside_the_tree(tmp_path: Path) -> None:
    lib = tmp_path / "lib" / "x86_64-linux-gnu"
    lib.mkdir(parents=True)
    (lib / "libz.so.1.3").write_bytes(b"\x7fELF")
    (lib / "libz.so.1").symlink_to("libz.so.1.3")
    (tmp_path / "lib64").mkdir()
    # An absolute link is read from the tree's root, never the host's.
    (tmp_path / "lib64" / "ld.so").symlink_to("/lib/x86_64-linux-gnu/libz.so.1")
    assert rootfs.tree_file(tmp_path, "usr/lib/x86_64-linux-gnu/libz.so.1") == lib / "libz.so.1.3"
    assert rootfs.tree_file(tmp_path, "/lib64/ld.so") == lib / "libz.so.1.3"
    assert rootfs.tree_file(tmp_path, "usr/lib/none.so") is None
    assert rootfs.find_library(tmp_path, "libz.so.1", []) == lib / "libz.so.1.3"


def _host_tree(tree: Path, program: str) -> None:
    """A fake unpacked-packages tree made of one host program and the libraries it names."""
    for path in [Path(program), *(Path(p) for p in _host_needs(Path(program)))]:
        dest = tree / str(path).lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, dest)


def _host_needs(program: Path) -> list[str]:
    interp, needed, _ = rootfs.elf_links(program)
    found = [interp]
    for name in needed:
        lib = Path("/usr/lib/x86_64-linux-gnu") / name
        found.append(str(lib))
        found += _host_needs(lib)[1:]
    return found


def test_add_libraries_takes_every_library_from_the_tree(tmp_path: Path) -> None:
    tree, root = tmp_path / "tree", tmp_path / "root"
    _host_tree(tree, "/usr/bin/stat")
    rootfs.make_skeleton(root)
    rootfs.copy_into(root, tree / "usr/bin/stat", "usr/bin/stat")
    added = rootfs.add_libraries(root, tree, "")
    assert "usr/lib/x86_64-linux-gnu/libc.so.6" in added
    assert any(a.endswith("ld-linux-x86-64.so.2") for a in added)
    (root / "usr/lib/x86_64-linux-gnu/libc.so.6").unlink()
    (tree / "usr/lib/x86_64-linux-gnu/libc.so.6").unlink()
    with pytest.raises(PartsError, match=r"needs libc\.so\.6, which no unpacked package has"):
        rootfs.add_libraries(root, tree, "")


def test_flavours_and_the_nearest_release(tmp_path: Path) -> None:
    assert flavours.DEFAULT_FLAVOUR == "4.17-pv32" == flavours.default_flavour()
    assert flavours.flavour().pv32 and flavours.flavour().guest_mode == "pv"
    stock = flavours.flavour("4.20")
    assert stock.release == "trixie" and stock.stock and stock.guest_mode == "shim"
    assert stock.tools_dir == "usr/lib/xen-4.20/bin"
    assert stock.shim_path == "usr/lib/xen-4.20/boot/xen-shim"
    assert stock.xen_pin.package == "xen-hypervisor-4.20-amd64"
    assert flavours.flavour("4.20-pv32").xen_pin.package == "xen"
    assert [f.name for f in flavours.FLAVOURS.values() if f.stock] == ["4.17", "4.20"]
    with pytest.raises(PartsError, match="choose one of 4.17, 4.17-pv32, 4.20, 4.20-pv32"):
        flavours.flavour("4.99")
    # Someone's own hypervisor gets the dom0 of the nearest rebuild.
    assert flavours.nearest_flavour("4.20.4").name == "4.20-pv32"
    assert flavours.nearest_flavour("4.19.1").name == "4.17-pv32"
    assert flavours.nearest_flavour("4.21-unstable").name == "4.20-pv32"
    assert flavours.nearest_flavour("4.16.2").name == "4.17-pv32"
    xen_elf = tmp_path / "xen" / "xen"
    xen_elf.parent.mkdir()
    xen_elf.write_bytes(b"\0" * 64 + b"Xen 4.20.4\0")
    assert xen.binary_version(xen_elf) == "4.20.4"
    (xen_elf.parent / ".config").write_text("#\n# Xen/x86 4.21-unstable Configuration\n#\n")
    assert xen.binary_version(xen_elf) == "4.21-unstable"


def test_each_flavour_has_its_own_xen_and_dom0_parts(tmp_path: Path) -> None:
    old, new = flavours.flavour("4.17-pv32"), flavours.flavour("4.20-pv32")
    assert xen.xen_dir(tmp_path, old) != xen.xen_dir(tmp_path, new)
    assert new.xen_version in xen.xen_dir(tmp_path, new).name
    images = {dom0.dom0_image(tmp_path, dom0.Dom0Versions(f)).initrd.parent for f in (old, new)}
    assert len(images) == 2
    # Stock and rebuild of one release: two hypervisors, one dom0 (the same packages).
    stock = flavours.flavour("4.17")
    assert xen.xen_dir(tmp_path, stock) != xen.xen_dir(tmp_path, old)
    assert "binary" in xen.xen_recipe(stock) and "edits" not in xen.xen_recipe(stock)
    assert dom0.dom0_image(tmp_path, dom0.Dom0Versions(stock)) == \
        dom0.dom0_image(tmp_path, dom0.Dom0Versions(old))
