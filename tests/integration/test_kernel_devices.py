"""Several devices of each kind in one guest, bulk disk integrity, attach/detach cycles.

Kernel side: drivers/blkfront/ (the asynchronous block API, `blk crc`, `blk fill`),
drivers/netfront/ (one entry per vif), drivers/net/ (one interface per vif, routing by
subnet). One Xenolith domU (module-scoped, in file order) gets two vifs, vif 0 on
dom0's xenbr0 (10.0.0.1/24) and vif 1 on a bridge made here, xenbr1 (10.1.0.1/24),
with `ip=10.0.0.9/24,10.1.0.9/24`, and three disks: xvda, 64 MiB of random bytes;
xvdb, 8 MiB of zeros, the scratch disk that fills write; xvdc, a small one. The
verdict is dom0's: pings answered on both subnets, CRC-32s equal to Python's zlib over
the images, the scratch image read back from dom0 holding exactly the filled bytes and
nothing else, and grants and free pages where they started after attach/detach
cycles (XENOLITH_CYCLES of each, 10 by default; `make test-long` runs 100).
"""

from __future__ import annotations

import os
import random
import re
import struct
import time
import zlib
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, domu_shell, lines, make_image, resource_counts

from xenlab import Host

GUEST = f"xdev-{os.getpid()}"
GUEST_MIB = 32
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 180
SECTOR = 512
BIG_SECTORS = 131072  # 64 MiB
SCRATCH_SECTORS = 16384  # 8 MiB
SMALL_SECTORS = 2048
IPS = ("10.0.0.9", "10.1.0.9")
DOM0_IPS = ("10.0.0.1", "10.1.0.1")
BRIDGE1 = "xenbr1"
CYCLES = int(os.environ.get("XENOLITH_CYCLES", "10"))
QD = 32
# (first sector, sectors, seed): one sector to 1 MiB, aligned and not, the last sector.
FILLS = ((0, 1, 11), (3, 7, 12), (64, 2048, 13), (5001, 2047, 14), (9001, 33, 15),
         (SCRATCH_SECTORS - 1, 1, 16))
M32 = 0xFFFFFFFF


def pattern(seed: int, offset: int, nbytes: int) -> bytes:
    """What `blk fill` writes at byte `offset`: word w of the disk is mix(seed, w)."""
    out = bytearray()
    for w in range(offset // 4, (offset + nbytes) // 4):
        v = ((w * 0x9E3779B1) & M32) ^ (w >> 32) ^ seed
        v ^= v >> 15
        v = (v * 0x85EBCA77) & M32
        v ^= v >> 13
        out += struct.pack("<I", v)
    return bytes(out)


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path, Path]:
    d = tmp_path_factory.mktemp("devices")
    big = d / "big.img"
    big.write_bytes(random.Random(20261201).randbytes(BIG_SECTORS * SECTOR))
    return (big, make_image(d / "scratch.img", b"", SCRATCH_SECTORS),
            make_image(d / "small.img", b"small disk", SMALL_SECTORS))


@pytest.fixture(scope="module")
def bridge1(xen_host: Host) -> Iterator[str]:
    xen_host.check(f"ip link add {BRIDGE1} type bridge && ip addr add {DOM0_IPS[1]}/24 dev "
                   f"{BRIDGE1} && ip link set {BRIDGE1} up")
    try:
        yield BRIDGE1
    finally:
        xen_host.dom0(f"ip link del {BRIDGE1}")


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path, images: tuple[Path, Path, Path],
         bridge1: str) -> Iterator[Shell]:
    big, scratch, small = images
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={IPS[0]}/24,{IPS[1]}/24", vifs=("xenbr0", bridge1),
                    disks=((big, "w"), (scratch, "w"), (small, "w"))) as sh:
        yield sh


@pytest.fixture(scope="module")
def domid(xen_host: Host, domu: Shell) -> int:
    return xen_host.domid(GUEST)


def crc_line(out: str) -> int:
    m = re.search(r"blk: crc \S+ \d+\+\d+: crc32 0x([0-9a-f]{8})", out)
    assert m, out
    return int(m.group(1), 16)


def test_two_vifs_each_answer(xen_host: Host, domu: Shell) -> None:
    boot = domu.boot
    assert f"net: address {IPS[0]}/24" in boot and f"net: address {IPS[1]}/24 on interface 1" \
        in boot, boot
    out = domu.run("net")
    assert re.search(r"net: vif device/vif/0: connected", out), out
    assert re.search(r"net: vif1 device/vif/1: connected", out), out
    for ip in IPS:
        assert f"ip {ip}/24" in out, out
    for ip in IPS:
        res = xen_host.dom0(f"ping -c 3 -W 5 {ip}", timeout=90)
        assert res.status == 0, res.output
    for ip in DOM0_IPS:  # routed out of the interface whose subnet holds it
        out = domu.run(f"ping {ip} 2")
        assert "2 packets transmitted, 2 received" in out, out


def test_three_disks_crc_as_dom0_computes(domu: Shell, images: tuple[Path, Path, Path]) -> None:
    out = domu.run("blk")
    names = {m.group(1) for m in re.finditer(r"^(\w+)\s+vbd\s", "\n".join(lines(out)),
                                             re.MULTILINE)}
    assert names == {"xvda", "xvdb", "xvdc"}, out
    for name, image, sectors in zip(("xvda", "xvdb", "xvdc"), images,
                                    (BIG_SECTORS, SCRATCH_SECTORS, SMALL_SECTORS), strict=True):
        out = domu.run(f"blk crc {name} 0 {sectors} {QD}")
        assert crc_line(out) == zlib.crc32(image.read_bytes()), out
    # a range that starts and ends inside a request, and one of one sector
    data = images[0].read_bytes()
    out = domu.run(f"blk crc xvda 12345 6789 {QD}")
    assert crc_line(out) == zlib.crc32(data[12345 * SECTOR:(12345 + 6789) * SECTOR]), out
    out = domu.run("blk crc xvda 77 1 1")
    assert crc_line(out) == zlib.crc32(data[77 * SECTOR:78 * SECTOR]), out


def test_fills_change_exactly_their_bytes(xen_host: Host, domu: Shell, tmp_path: Path) -> None:
    for lba, n, seed in FILLS:
        out = domu.run(f"blk fill xvdb {lba} {n} {seed} {QD}")
        assert f"blk: fill xvdb {lba}+{n} seed {seed}: {n * SECTOR} bytes" in out, out
    back = tmp_path / "scratch.img"
    xen_host.copy_out(f"/run/xenlab/disks/{GUEST}.disk1", back)
    got = back.read_bytes()
    want = bytearray(SCRATCH_SECTORS * SECTOR)
    for lba, n, seed in FILLS:
        want[lba * SECTOR:(lba + n) * SECTOR] = pattern(seed, lba * SECTOR, n * SECTOR)
    assert len(got) == len(want)
    bad = [i // SECTOR for i in range(0, len(want), SECTOR)
           if got[i:i + SECTOR] != want[i:i + SECTOR]]
    assert not bad, f"{len(bad)} sectors differ from what the fills wrote, first {bad[:8]}"
    # and the guest reads the same back
    out = domu.run(f"blk crc xvdb 0 {SCRATCH_SECTORS} {QD}")
    assert crc_line(out) == zlib.crc32(bytes(want)), out


def newest_vif(host: Host) -> str:
    rows = [ln.split() for ln in host.check(f"xl network-list {GUEST}").splitlines()[1:]]
    return max((r[0] for r in rows if r and r[0].isdigit()), key=int)


def test_attach_detach_cycles_leave_nothing_behind(xen_host: Host, domu: Shell,
                                                    domid: int) -> None:
    img = f"/run/xenlab/disks/{GUEST}.cycle"
    xen_host.check(f"dd if=/dev/zero of={img} bs={SECTOR} count=64 2>/dev/null && "
                   f"printf cycle-disk | dd of={img} bs={SECTOR} seek=3 conv=notrunc 2>/dev/null")
    before = resource_counts(domu)
    for cycle in range(CYCLES):
        xen_host.check(f"xl block-attach {GUEST} file:{img},xvdd,w", timeout=120)
        out = domu.run("blk rescan")
        assert "xvdd" in out, f"cycle {cycle}: {out}"
        out = domu.run("blk read xvdd 3")
        assert 'blk: text "cycle-disk"' in out, f"cycle {cycle}: {out}"
        xen_host.check(f"xl block-detach {domid} xvdd", timeout=120)
        domu.console.expect([r"blkfront: xvdd is detached"], 60)

        xen_host.check(f"xl network-attach {GUEST} bridge=xenbr0", timeout=120)
        devid = newest_vif(xen_host)
        out = domu.run("net rescan")
        assert re.search(rf"netfront: device/vif/{devid} connected", out), f"cycle {cycle}: {out}"
        xen_host.check(f"xl network-detach {domid} {devid}", timeout=120)
        domu.console.expect([rf"netfront: vif detached \(device/vif/{devid}\)"], 60)
    time.sleep(1)
    assert resource_counts(domu) == before
    for ip in IPS:  # the vifs that stayed still answer
        res = xen_host.dom0(f"ping -c 2 -W 5 {ip}", timeout=90)
        assert res.status == 0, res.output


def test_detaching_one_vif_leaves_the_other(xen_host: Host, domu: Shell, domid: int) -> None:
    xen_host.check(f"xl network-detach {domid} 1", timeout=120)
    domu.console.expect([r"netfront: vif detached \(device/vif/1\)"], 60)
    res = xen_host.dom0(f"ping -c 3 -W 5 {IPS[0]}", timeout=90)
    assert res.status == 0, res.output
    res = xen_host.dom0(f"ping -c 2 -W 2 {IPS[1]}", timeout=60)
    assert res.status != 0, res.output
    out = domu.run("net")
    assert re.search(r"net: vif device/vif/0: connected", out), out
    domu.alive()
