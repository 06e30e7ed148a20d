"""Detach and hot-plug: the toolstack takes a device away and gives one back.

Kernel side: kernel/xen/frontend.c (frontend_watch_backend: a thread of the
driver watches the backend's `state`; frontend_close), drivers/blkfront/
xenbus.c (backend_gone) and drivers/netfront/xenbus.c (vif_gone). One
Xenolith domU of its own (module-scoped, in file order) with two disks and
a vif on dom0's bridge xenbr0, `ip=10.0.0.7/24` (an address no other test
uses). What is judged, from outside:
  - `xl block-detach` / `xl network-detach` in dom0 succeed quickly: the
    backend reaches Closed because the guest answers its Closing (libxl
    would otherwise wait for its own 10 s timeout and force the removal);
  - the guest says so, stops listing the device, refuses I/O on it with a
    clear error and keeps answering; its XenStore directory is gone or
    Closed (6);
  - `xl block-attach` / `xl network-attach` + `blk rescan` / `net rescan`
    connect a device again, and it works (data read, dom0 pings the guest:
    the guest's gratuitous ARP has replaced the MAC dom0 held for it);
  - a backend directory removed from XenStore behind the toolstack's back is
    handled the same way.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from kshell import Shell, domu_shell, lines, make_image

from xenlab import Host

GUEST = f"xhotplug-{os.getpid()}"
GUEST_MIB = 32
GUEST_IP = "10.0.0.7"
DOM0_IP = "10.0.0.1"
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
DETACH_LIMIT_S = 30  # what the toolstack may take at most
SECTOR = 512
SECTORS = 2048  # 1 MiB images
PROBE_A = b"hotplug-disk-a-sector-5"
PROBE_B = b"hotplug-disk-b-sector-5"
XVDB = 51728  # xvdb's vdev: (202 << 8) | (1 << 4)
XVDC = 51744
OLD_MAC = "02:de:ad:00:00:01"  # locally administered: never a vif's (libxl uses 00:16:3e)


def disk_names(out: str) -> set[str]:
    """The disks `blk` lists (rows start with the name, then "vbd")."""
    return {m.group(1) for m in re.finditer(r"^(\w+)\s+vbd\s", "\n".join(lines(out)), re.MULTILINE)}


def wait_console(sh: Shell, pattern: str, timeout: float = 30) -> str:
    """Wait for a line the guest prints by itself; return what came before it and the match."""
    sh.console.expect([pattern], timeout)
    return sh.console.before


def frontend_state(host: Host, path: str) -> str | None:
    """The frontend's `state`, or None when its directory is gone."""
    res = host.dom0(f"xenstore-read {path}/state")
    return res.output.strip() if res.status == 0 else None


def detach(host: Host, domu: Shell, command: str, message: str, timeout: float = 90) -> str:
    """Run an `xl ...-detach` in dom0: it must succeed within DETACH_LIMIT_S and the
    guest must print `message` (a regex); returns the console text before it."""
    start = time.monotonic()
    res = host.dom0(command, timeout=timeout)
    took = time.monotonic() - start
    assert res.status == 0, res.output
    assert took < DETACH_LIMIT_S, f"{command} took {took:.1f} s: {res.output}"
    return wait_console(domu, message)


def new_image(host: Host, name: str, text: str) -> str:
    """A 1 MiB image in dom0 with `text` in sector 3."""
    img = f"/run/xenlab/disks/{GUEST}.{name}"
    host.check(f"dd if=/dev/zero of={img} bs={SECTOR} count={SECTORS} 2>/dev/null && "
               f"printf {text} | dd of={img} bs={SECTOR} seek=3 conv=notrunc 2>/dev/null")
    return img


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    d = tmp_path_factory.mktemp("hotplug")
    return make_image(d / "a.img", PROBE_A, SECTORS), make_image(d / "b.img", PROBE_B, SECTORS)


@pytest.fixture(scope="module")
def domu(xen_host: Host, kernel_elf: Path, images: tuple[Path, Path]) -> Iterator[Shell]:
    a, b = images
    with domu_shell(xen_host, kernel_elf, GUEST, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",),
                    disks=((a, "w"), (b, "w"))) as sh:
        yield sh


@pytest.fixture(scope="module")
def domid(xen_host: Host, domu: Shell) -> int:
    return xen_host.domid(GUEST)


def test_everything_connected_at_boot(xen_host: Host, domu: Shell) -> None:
    out = domu.run("blk")
    assert disk_names(out) == {"xvda", "xvdb"}, out
    assert out.count("Connected") == 2, out
    out = domu.run("net")
    assert re.search(r"net: vif device/vif/0: connected", out), out
    out = domu.run("threads")
    assert "blkfront-watch" in out and "netfront-watch" in out, out
    res = xen_host.dom0(f"ping -c 2 -W 5 {GUEST_IP}", timeout=60)
    assert res.status == 0, res.output


def test_block_detach(xen_host: Host, domu: Shell, domid: int) -> None:
    front = f"/local/domain/{domid}/device/vbd/{XVDB}"
    before = detach(xen_host, domu, f"xl block-detach {domid} xvdb",
                    r"blkfront: xvdb is detached \(vbd \d+")
    assert "blkfront: xvdb: backend Closing: detaching" in before, before
    out = domu.run("blk")
    assert disk_names(out) == {"xvda"}, out
    out = domu.run("blk read xvdb 0")
    assert "blkfront: xvdb is detached" in out and "-ENODEV" in out, out
    domu.alive()
    assert frontend_state(xen_host, front) in (None, "6"), front
    assert f"{XVDB}" not in xen_host.check(f"xl block-list {domid}"), "libxl still lists xvdb"
    out = domu.run("blk read xvda 5")  # the other disk is untouched
    assert f'blk: text "{PROBE_A.decode()}"' in out, out


def test_block_attach_again(xen_host: Host, domu: Shell) -> None:
    img = new_image(xen_host, "again", "attached-again")
    xen_host.check(f"xl block-attach {GUEST} file:{img},xvdb,w", timeout=120)
    out = domu.run("blk rescan")
    assert re.search(rf"blkfront: xvdb: {SECTORS} sectors of {SECTOR} bytes, rw", out), out
    assert disk_names(out) == {"xvda", "xvdb"}, out
    out = domu.run("blk read xvdb 3")
    assert 'blk: text "attached-again"' in out, out
    out = domu.run("blk write xvdb 4 written-after-reattach")
    assert "blk: wrote" in out, out


def test_backend_vanishes(xen_host: Host, domu: Shell, domid: int) -> None:
    """The backend's directory removed from dom0 behind the toolstack: same outcome."""
    img = new_image(xen_host, "vanish", "short-lived")
    xen_host.check(f"xl block-attach {GUEST} file:{img},xvdc,w", timeout=120)
    out = domu.run("blk rescan")
    assert disk_names(out) == {"xvda", "xvdb", "xvdc"}, out
    front = f"/local/domain/{domid}/device/vbd/{XVDC}"
    back = xen_host.check(f"xenstore-read {front}/backend").strip()
    xen_host.check(f"xenstore-rm {back}")
    try:
        before = wait_console(domu, r"blkfront: xvdc is detached \(vbd \d+")
        assert "blkfront: xvdc: backend gone from XenStore: detaching" in before, before
        out = domu.run("blk")
        assert disk_names(out) == {"xvda", "xvdb"}, out
        out = domu.run("blk read xvdc 3")
        assert "blkfront: xvdc is detached" in out, out
        domu.alive()
        assert frontend_state(xen_host, front) in (None, "6"), front
    finally:  # let the toolstack forget it too (its backend is gone: it may complain)
        xen_host.dom0(f"xl block-detach {domid} xvdc; xenstore-rm {front}", timeout=120)
    out = domu.run("blk read xvdb 3")  # the others still work
    assert 'blk: text "attached-again"' in out, out


def test_network_detach(xen_host: Host, domu: Shell, domid: int) -> None:
    front = f"/local/domain/{domid}/device/vif/0"
    before = detach(xen_host, domu, f"xl network-detach {domid} 0",
                    r"netfront: vif detached \(device/vif/0\)")
    assert "netfront: device/vif/0: backend Closing: detaching" in before, before
    out = domu.run("net")
    assert re.search(r"net: vif -: no vif \(detached\): device/vif/0 detached", out), out
    assert "rings:" not in out, out
    res = xen_host.dom0(f"ping -c 2 -W 2 {GUEST_IP}", timeout=60)
    assert res.status != 0, res.output  # nobody answers now
    out = domu.run(f"ping {DOM0_IP} 1")
    assert "ping: no network link" in out, out
    domu.alive()
    assert frontend_state(xen_host, front) in (None, "6"), front


def dom0_neighbour(host: Host) -> str:
    """dom0's neighbour entry for the guest on xenbr0 (empty when it has none)."""
    return host.dom0(f"ip neigh show {GUEST_IP} dev xenbr0").output.strip().lower()


def test_network_attach_again(xen_host: Host, domu: Shell) -> None:
    xen_host.check(f"xl network-attach {GUEST} bridge=xenbr0", timeout=120)
    # A new vif has a new MAC. Make sure dom0 still believes an old one when the
    # guest comes up (adding the port to xenbr0 may have flushed its entry):
    # only the guest's gratuitous ARP, sent when the link comes up, can put it right.
    xen_host.check(f"ip neigh replace {GUEST_IP} lladdr {OLD_MAC} dev xenbr0 nud stale")
    assert OLD_MAC in dom0_neighbour(xen_host)
    out = domu.run("net rescan")
    m = re.search(r"netfront: (device/vif/\d+) connected: mac ([0-9a-f:]{17})", out)
    assert m, out
    new_mac = m.group(2)
    assert re.search(rf"net: vif {m.group(1)}: connected", out), out
    assert f"net: vif0 up: gratuitous ARP for {GUEST_IP} at {new_mac}" in out, out
    assert "gratuitous ARP sent 2" in out, out  # one at boot, one now
    deadline = time.monotonic() + 10
    while new_mac not in (neigh := dom0_neighbour(xen_host)) and time.monotonic() < deadline:
        time.sleep(0.5)
    assert new_mac in neigh, f"dom0 did not take the gratuitous ARP: {neigh!r}"
    res = xen_host.dom0(f"ping -c 3 -W 5 {GUEST_IP}", timeout=90)
    assert res.status == 0, res.output
    out = domu.run(f"ping {DOM0_IP} 2")
    assert "2 packets transmitted, 2 received" in out, out
    assert "FATAL" not in domu.run("net"), "the guest crashed"
