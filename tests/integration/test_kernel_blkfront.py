"""blkfront: virtual disks through a real Linux blkback.

Kernel side: drivers/blkfront/{xenbus,ring,blkfront,blk_cmd,blkfront_selftest}.c,
kernel/xen/frontend.c. One Xenolith domU (module-scoped, in file order) gets
two disk images made here: xvda read-write, xvdb read-only, each with a known
text in sector 5 written before boot. What the guest reads is judged from its
console; what it writes is read back from the image in dom0
(/run/xenlab/disks/NAME.diskN). Bad values from the backend are injected by
rewriting the backend's XenStore keys from dom0 and asking the guest to
re-read them (`blk rescan`): a clear "blkfront: backend sent ..." line, the
old size kept, and the shell still answering. A second guest without disks
says so.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, domu_shell, lines, make_image

from xenlab import Host

BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
GUEST_MIB = 32
SECTOR = 512
SECTORS = 8192  # 4 MiB images
GUEST = f"xblk-{os.getpid()}"
RW_PROBE = b"xenolith-disk-probe-rw-sector-5"
RO_PROBE = b"xenolith-disk-probe-ro-sector-5"
HELLO = "hello-from-xenolith"


def fnv1a(data: bytes) -> int:
    h = 2166136261
    for b in data:
        h = ((h ^ b) * 16777619) & 0xFFFFFFFF
    return h


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("blk")
    return make_image(d / "rw.img", RW_PROBE, SECTORS), make_image(d / "ro.img", RO_PROBE, SECTORS)


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path, images: tuple[Path, Path]) -> Iterator[Shell]:
    rw, ro = images
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    disks=((rw, "w"), (ro, "r"))) as sh:
        yield sh


@pytest.fixture(scope="module")
def domid(xen_host: Host, domu: Shell) -> int:
    return xen_host.domid(GUEST)


def vbd_paths(host: Host, domid: int) -> list[tuple[str, str]]:
    """(frontend dir, backend dir) of each of the guest's vbds."""
    front = f"/local/domain/{domid}/device/vbd"
    ids = host.check(f"xenstore-list {front}").split()
    return [(f"{front}/{i}", host.check(f"xenstore-read {front}/{i}/backend").strip())
            for i in ids]


def disk_bytes(host: Host, index: int, sector: int, count: int = 1) -> bytes:
    """Sectors of the guest's disk image, read in dom0."""
    out = host.check(f"dd if=/run/xenlab/disks/{GUEST}.disk{index} bs={SECTOR} skip={sector} "
                     f"count={count} 2>/dev/null | od -An -tx1 -v")
    return bytes.fromhex("".join(out.split()))


def test_guest_without_disk(xen_host: Host, kernel_elf: Path) -> None:
    """First in the file: the console is shared, so it runs before the module's guest boots."""
    name = f"xblk-none-{os.getpid()}"
    with domu_shell(xen_host, kernel_elf, name, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT) as sh:
        out = sh.run("blk")
        assert "blk: no disks" in out, out
        status, detail = sh.selftest("blkfront")
        assert status == "PASS" and "no disk for the rest" in detail, detail


def test_both_disks_listed(domu: Shell) -> None:
    out = domu.run("blk")
    rows = {ln.split()[0]: ln for ln in lines(out)}
    assert set(rows) == {"xvda", "xvdb"}, out
    assert re.search(rf"\b{SECTORS} sectors x\s+{SECTOR} bytes", rows["xvda"]), out
    assert " rw" in rows["xvda"] and "Connected" in rows["xvda"], out
    assert " ro" in rows["xvdb"] and "Connected" in rows["xvdb"], out


def test_xenstore_states_connected(xen_host: Host, domu: Shell, domid: int) -> None:
    paths = vbd_paths(xen_host, domid)
    assert len(paths) == 2, paths
    for front, back in paths:
        assert xen_host.check(f"xenstore-read {front}/state").strip() == "4", front
        assert xen_host.check(f"xenstore-read {back}/state").strip() == "4", back
        assert xen_host.check(f"xenstore-read {front}/ring-ref").strip().isdigit()
        assert xen_host.check(f"xenstore-read {front}/event-channel").strip().isdigit()


def test_read_sees_data_written_before_boot(domu: Shell) -> None:
    out = domu.run("blk read xvda 5")
    assert f'blk: text "{RW_PROBE.decode()}"' in out, out
    assert "78 65 6e 6f 6c 69 74 68" in out, out  # "xenolith" in the hexdump
    sector = RW_PROBE + bytes(SECTOR - len(RW_PROBE))
    assert f"fnv1a 0x{fnv1a(sector):08x}" in out, out
    out = domu.run("blk read xvdb 5")
    assert f'blk: text "{RO_PROBE.decode()}"' in out, out


def test_multi_sector_read_checksum(domu: Shell) -> None:
    """Sectors 0..63 (64 x 512 bytes, 8 pages in one request): checksum of the image's bytes."""
    data = bytearray(64 * SECTOR)
    data[5 * SECTOR:5 * SECTOR + len(RW_PROBE)] = RW_PROBE
    out = domu.run("blk read xvda 0 64")
    assert f"fnv1a 0x{fnv1a(bytes(data)):08x}" in out, out


def test_write_reaches_the_image_in_dom0(xen_host: Host, domu: Shell) -> None:
    out = domu.run(f"blk write xvda 7 {HELLO}")
    assert f"blk: wrote {len(HELLO)} bytes" in out, out
    got = disk_bytes(xen_host, 0, 7)
    assert got == HELLO.encode() + bytes(SECTOR - len(HELLO)), got[:64]
    out = domu.run("blk read xvda 7")
    assert f'blk: text "{HELLO}"' in out, out


def test_read_only_disk_refuses_write(xen_host: Host, domu: Shell) -> None:
    out = domu.run("blk write xvdb 7 must-not-land")
    assert "blkfront: xvdb is read-only: write refused" in out, out
    assert "-EROFS" in out, out
    domu.alive()
    assert disk_bytes(xen_host, 1, 7) == bytes(SECTOR)


def test_check_restores_last_sector(xen_host: Host, domu: Shell) -> None:
    out = domu.run("blk check xvda")
    assert f"blk: check xvda: OK (sector {SECTORS - 1}" in out, out
    assert disk_bytes(xen_host, 0, SECTORS - 1) == bytes(SECTOR)


def test_read_past_the_end_is_refused(domu: Shell) -> None:
    out = domu.run(f"blk read xvda {SECTORS}")
    assert "outside the disk" in out and "-ERANGE" in out, out
    out = domu.run("blk read xvdz 0")
    assert "blk: no disk named 'xvdz'" in out, out
    domu.alive()


def test_selftest_blkfront(xen_host: Host, domu: Shell) -> None:
    status, detail = domu.selftest("blkfront")
    assert status == "PASS", detail
    assert detail.startswith("xvda: last sector and"), detail
    m = re.search(r"\((\d+) requests", detail)
    assert m and int(m.group(1)) >= 3, detail  # > 22 pages: at least 3 requests
    # Restored: the last 177 sectors are zero again.
    assert disk_bytes(xen_host, 0, SECTORS - 177, 177) == bytes(177 * SECTOR)


@pytest.mark.parametrize(("key", "value", "message"), [
    ("sectors", "12abc", r"blkfront: backend sent \S+/sectors = '12abc', not a number"),
    ("sectors", "0", r"blkfront: backend sent sectors 0 for xvda: an empty disk"),
    ("sector-size", "1000", r"blkfront: backend sent sector-size 1000 for xvda: not a power of two"),
    ("sector-size", "256", r"blkfront: backend sent sector-size 256 for xvda: not a power of two"),
])
def test_bogus_backend_value_on_rescan(xen_host: Host, domu: Shell, domid: int, key: str,
                                       value: str, message: str) -> None:
    back = dict(vbd_paths(xen_host, domid))
    backend = next(b for f, b in back.items() if xen_host.check(
        f"xenstore-read {b}/dev").strip() == "xvda")
    old = xen_host.check(f"xenstore-read {backend}/{key}").strip()
    xen_host.check(f"xenstore-write {backend}/{key} {value}")
    try:
        out = domu.run("blk rescan")
        assert re.search(message, out), out
        assert f"blkfront: xvda: keeping {SECTORS} sectors of {SECTOR} bytes" in out, out
    finally:
        xen_host.check(f"xenstore-write {backend}/{key} {old}")
    domu.alive()
    out = domu.run("blk rescan")
    assert "backend sent" not in out, out
    out = domu.run("blk read xvda 5")  # the disk still works
    assert f'blk: text "{RW_PROBE.decode()}"' in out, out


def test_hotplugged_disk_found_by_rescan(xen_host: Host, domu: Shell) -> None:
    """`xl block-attach` while the guest runs; `blk rescan` connects the new disk."""
    img = f"/run/xenlab/disks/{GUEST}.hot"
    xen_host.check(f"dd if=/dev/zero of={img} bs={SECTOR} count=2048 2>/dev/null && "
                   f"printf hot-plugged | dd of={img} bs={SECTOR} seek=3 conv=notrunc 2>/dev/null && "
                   f"xl block-attach {GUEST} file:{img},xvdc,w", timeout=120)
    out = domu.run("blk rescan")
    assert re.search(r"blkfront: xvdc: 2048 sectors of 512 bytes, rw", out), out
    assert re.search(r"^xvdc\s.*Connected", "\n".join(lines(out)), re.MULTILINE), out
    out = domu.run("blk read xvdc 3")
    assert 'blk: text "hot-plugged"' in out, out
