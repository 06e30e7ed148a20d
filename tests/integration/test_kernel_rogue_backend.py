"""blkfront against a hostile backend: the project's own rogue (blk_rogue.c) in dom0.

One guest with a real disk (xvda, blkback) and, per scenario, a second disk
xvdb whose backend is the rogue: the test writes both ends' XenStore nodes
itself, the guest finds the disk with `blk rescan`, the rogue maps its ring
and answers as the scenario says. The verdict is from outside: the guest names
the misbehaving disk and refuses its data, its shell and its real disk go on
working, the rogue saw no byte beside the sectors it was given, and once the
rogue's disk is detached the guest's grants and free pages are where they
were (except pages the rogue kept mapped, which the guest leaks on purpose).
"""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, build_static_peer, domu_shell, make_image

from xenlab import Host

GUEST = "xrogue"
ROGUE_VDEV = 51728  # xvdb
ROGUE_SECTORS = 2048
ROGUE_SECONDS = 120
BOOT_TIMEOUT = 240
CONNECT_TIMEOUT = 30
SRC = Path(__file__).with_name("blk_rogue.c")


@pytest.fixture(scope="module")
def guest(xen_host: Host, kernel_elf: Path,
          tmp_path_factory: pytest.TempPathFactory) -> Iterator[Shell]:
    image = make_image(tmp_path_factory.mktemp("rogue") / "real.img", b"real disk", 256)
    with domu_shell(xen_host, kernel_elf, GUEST, 32, BOOT_TIMEOUT, disks=((image, "w"),),
                    drop_echo=True) as shell:
        yield shell


@pytest.fixture(scope="module")
def rogue(xen_host: Host, guest: Shell, tmp_path_factory: pytest.TempPathFactory) -> str:
    return build_static_peer(xen_host, SRC, tmp_path_factory.mktemp("rogue-bin"))


def counts(shell: Shell) -> tuple[int, int]:
    """(grant references in use, free pages)."""
    shell.run("blk rescan")  # joins ended watch threads, so their stacks are counted free
    grants = re.search(r"(\d+) in use, \d+ free", shell.run("grants"))
    free = re.search(r"page allocator \d+ pages, free (\d+) pages", shell.run("mem"))
    assert grants and free
    return int(grants.group(1)), int(free.group(1))


class RogueDisk:
    """xvdb, its backend played by blk_rogue in one scenario."""

    def __init__(self, host: Host, shell: Shell, rogue: str, scenario: str) -> None:
        self.host, self.shell = host, shell
        self.domid = host.domid(GUEST)
        self.fe = f"/local/domain/{self.domid}/device/vbd/{ROGUE_VDEV}"
        self.be = f"/local/domain/0/backend/vbd/{self.domid}/{ROGUE_VDEV}"
        self.log = f"/run/xenlab/rogue-{scenario}.log"
        d = self.domid
        backend = (f"xenstore-write {self.be}/frontend {self.fe} {self.be}/frontend-id {d} "
                   f"{self.be}/state 2 {self.be}/sectors {ROGUE_SECTORS} "
                   f"{self.be}/sector-size 512 {self.be}/info 0 {self.be}/mode w "
                   f"{self.be}/dev xvdb")
        frontend = (f"xenstore-write {self.fe}/backend {self.be} {self.fe}/backend-id 0 "
                    f"{self.fe}/state 1 {self.fe}/virtual-device {ROGUE_VDEV} "
                    f"{self.fe}/device-type disk")
        host.check(f"{backend} && xenstore-chmod -r {self.be} n0 r{d} && {frontend} && "
                   f"xenstore-chmod -r {self.fe} n{d}")
        shell.console.send("blk rescan\r")
        deadline = time.monotonic() + CONNECT_TIMEOUT
        while host.dom0(f"xenstore-read {self.fe}/state").output.strip() != "3":
            assert time.monotonic() < deadline, "the guest never published its ring"
            time.sleep(0.3)
        ref = host.check(f"xenstore-read {self.fe}/ring-ref").strip()
        port = host.check(f"xenstore-read {self.fe}/event-channel").strip()
        host.check(f"({rogue} {d} {ref} {port} {scenario} {ROGUE_SECONDS} >{self.log} 2>&1 &)")
        self.wait_log("rogue: ready")
        host.check(f"xenstore-write {self.be}/state 4")
        shell.wait_prompt(CONNECT_TIMEOUT)

    def wait_log(self, text: str, timeout: float = 30) -> str:
        deadline = time.monotonic() + timeout
        while True:
            out = self.host.dom0(f"cat {self.log}").output
            if text in out:
                return out
            assert time.monotonic() < deadline, f"no {text!r} in the rogue's log:\n{out}"
            time.sleep(0.3)

    def leave(self) -> str:
        """The rogue stops (unmapping what it still maps, as a backend that closes does), its
        backend says Closed, and the guest detaches xvdb."""
        self.host.dom0("killall blk_rogue")
        log = self.wait_log("rogue: done")
        self.host.check(f"xenstore-write {self.be}/state 6")
        self.shell.console.expect([r"blkfront: xvdb is detached"], 60)
        self.host.check(f"xenstore-rm {self.be} && xenstore-rm {self.fe}")
        return log


def real_disk_works(shell: Shell) -> None:
    out = shell.run("blk read xvda 5")
    assert 'blk: text "real disk"' in out, out


def test_honest_rogue_sees_nothing_beside_the_request(xen_host: Host, guest: Shell,
                                                      rogue: str) -> None:
    before = counts(guest)
    disk = RogueDisk(xen_host, guest, rogue, "honest")
    out = guest.run("blk write xvdb 9 secret-next-to-nothing")
    assert "blk: wrote" in out, out
    out = guest.run("blk read xvdb 3 16")
    assert 'blk: text "rogue sector 3"' in out, out
    log = disk.leave()
    assert "rogue: leak" not in log, log
    assert re.search(r"rogue: done, \d+ requests, 0 leaked bytes", log), log
    real_disk_works(guest)
    assert counts(guest) == before


def test_runaway_producer_index_stops_the_disk(xen_host: Host, guest: Shell,
                                               rogue: str) -> None:
    before = counts(guest)
    disk = RogueDisk(xen_host, guest, rogue, "overrun")
    out = guest.run("blk read xvdb 0")
    assert re.search(r"blkfront: .*xvdb.*(rsp_prod|stopped)", out), out
    guest.alive()
    out = guest.run("blk read xvdb 0")
    assert "stopped after a protocol error" in out or "not connected" in out, out
    real_disk_works(guest)
    disk.leave()
    assert counts(guest) == before


def test_unknown_ids_are_refused(xen_host: Host, guest: Shell, rogue: str) -> None:
    before = counts(guest)
    disk = RogueDisk(xen_host, guest, rogue, "badid")
    out = guest.run("blk read xvdb 0", timeout=120)
    assert "blk: text \"rogue sector" not in out, out
    assert re.search(r"blkfront: .*(id|no answer)", out), out
    guest.alive()
    real_disk_works(guest)
    disk.leave()
    assert counts(guest)[0] == before[0]


def test_pages_kept_mapped_are_not_trusted(xen_host: Host, guest: Shell, rogue: str) -> None:
    disk = RogueDisk(xen_host, guest, rogue, "keepmap")
    out = guest.run("blk read xvdb 4")
    assert "kept a page mapped after answering" in out, out
    assert 'blk: text "rogue sector 4"' not in out, out
    guest.alive()
    real_disk_works(guest)
    log = disk.leave()
    assert re.search(r"rogue: done, \d+ requests, 0 leaked bytes, [1-9]\d* pages still", log), log
