"""Every flavour other than the session's: classic PV on the rebuilds, the PV shim on Debian's own.

`make test` runs the full suite on one flavour (XEN=, default 4.17-pv32) and
this module on each other one (`other_xen`), with that release's Linux dom0
(toolstack and userland from its Debian packages):
- Xenolith's `selftest=all` as dom0 (a rebuild), or the lab's refusal to try,
  with the reason (a stock Xen has no 32-bit PV, and no shim serves a dom0);
- `xl info`: the release's Xen, with 32-bit PV (rebuild) or without (stock);
- Xenolith's `selftest=all` as a domU with a vif and a disk: through the PV
  shim on a stock flavour, every suite passes or skips with the shim's reason;
- one guest's life cycle with a vif and a disk: dom0's ping, data the guest
  wrote read back from the image in dom0, `xl save` + `xl restore` after which
  all of it holds again, `xl mem-set` followed as `xl list` shows, `xl
  shutdown` ending in poweroff;
- Debian's GRUB i386-xen, a 32-bit PV guest that is not ours, with both devices.
A flavour whose hypervisor cannot be had (a rebuild whose Debian source is not
served) is skipped with the reason: run the suite on it with your own build
instead (`make test XEN=4.20-pv32 XEN_BINARY=...`); `make test-matrix` runs
the full suite on each flavour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kshell import (
    dom0_selftest_all,
    domain_mib,
    domu_selftest_all,
    domu_shell,
    grub_with_vif_and_disk,
    make_image,
    serve_host,
)
from lifecycle import check_carries_on, first_baseline

from xenlab import Host, Lab
from xenlab.errors import LabError
from xenlab.exits import ExitReason
from xenlab.parts import PartsError
from xenlab.selftest_results import suite_results

GUEST_MIB = 64  # the kernel's (kshell.domain_mib adds the shim's share of the domain)
GUEST_IP = "10.0.0.2"
BOOT_TIMEOUT = 240
COMMAND_TIMEOUT = 120
STEP_TIMEOUT = 300


@pytest.fixture(scope="module")
def other_lab(other_xen: str, make_lab: Callable[[str], Lab]) -> Lab:
    lab = make_lab(other_xen)
    try:
        lab.xen()
    except PartsError as exc:
        pytest.skip(f"no Xen {other_xen} hypervisor here: {exc}")
    return lab


@pytest.fixture(scope="module")
def other_host(other_lab: Lab) -> Iterator[Host]:
    yield from serve_host(other_lab)


def test_dom0_selftest_all(other_lab: Lab, kernel_elf: Path) -> None:
    if other_lab.flavour.stock:
        with pytest.raises(LabError, match="without 32-bit PV"):
            dom0_selftest_all(other_lab, kernel_elf)
        return
    text = dom0_selftest_all(other_lab, kernel_elf)
    assert re.search(rf"Xen version {re.escape(other_lab.flavour.series)}\.", text), (
        "the hypervisor is not of the flavour's release")


def test_dom0_runs_the_releases_toolstack(other_host: Host, other_lab: Lab) -> None:
    fl = other_lab.flavour
    info = other_host.check("xl info")
    assert re.search(rf"xen_version\s+: {re.escape(fl.series)}\.", info), info
    caps = re.search(r"xen_caps\s+: (.*)", info)
    assert caps, info
    # A stock Xen runs no 32-bit PV guest: that is why its guests go through the shim.
    assert ("xen-3.0-x86_32p" in caps.group(1)) == fl.pv32, caps.group(0)
    other_host.check(f"test -s /{fl.shim_path}")
    # The dom0's C library is the release's own, not this machine's.
    libc = other_host.check("/lib64/ld-linux-x86-64.so.2 --version | head -1")
    want = fl.userland["libc6"].split("-")[0]
    assert f"GLIBC {want}" in libc, libc


def test_domu_selftest_all_with_vif_and_disk(other_host: Host, other_lab: Lab,
                                             kernel_elf: Path, tmp_path: Path) -> None:
    disk = make_image(tmp_path / "disk.img", b"XENOLITH-SMOKE", 32768)
    text = domu_selftest_all(other_host, kernel_elf, f"xrel-{os.getpid()}", GUEST_MIB,
                             cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",),
                             disks=((disk, "w"),),
                             known=other_lab.known_failures(shim=other_host.shim))
    results = suite_results(text)
    for suite in ("blkfront", "netfront", "xenstore", "xenbus", "grant_table"):
        r = results.get(suite)
        assert r and r.verdict == "PASS", f"{suite} did not run: {r}; {text[-2000:]}"
        assert not r.detail.startswith("skipped"), f"{suite}: {r.detail}"
    if other_lab.flavour.stock:
        # The shim maps no grants for its guest; the suite says so instead of failing.
        assert "self-map skipped: GNTTABOP_map_grant_ref: -EOPNOTSUPP" in \
            results["grant_table"].detail, results["grant_table"]


@pytest.mark.timeout(4 * STEP_TIMEOUT)
def test_domu_life_cycle(other_host: Host, other_lab: Lab, kernel_elf: Path,
                         tmp_path: Path) -> None:
    name = f"xrel-life-{os.getpid()}"
    image = make_image(tmp_path / "disk.img", b"life", 2048)
    with domu_shell(other_host, kernel_elf, name, GUEST_MIB, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    cmdline=f"ip={GUEST_IP}/24", vifs=("xenbr0",), disks=((image, "w"),),
                    drop_echo=True) as shell:
        if other_lab.flavour.stock:
            assert re.search(r"not ours \(the PV shim's\)", shell.boot), shell.boot[-1500:]
        base = first_baseline(other_host, shell, name, GUEST_IP)
        other_host.check(f"xl save {name} /run/{name}.save", timeout=STEP_TIMEOUT)
        other_host.check(f"xl restore -p /run/{name}.save && rm /run/{name}.save",
                         timeout=STEP_TIMEOUT)
        other_host.attach_console(name)
        other_host.check(f"xl unpause {name}")
        shell.console.expect([r"suspend: resumed in a new domain"], STEP_TIMEOUT)
        check_carries_on(other_host, shell, base, "restore")
        # The balloon after a restore (through the shim, the page-table walk must not trust
        # what the shim's resume rewrote), followed as `xl list` shows it.
        smaller = domain_mib(other_host, GUEST_MIB) - 16
        other_host.check(f"xl mem-set {name} {smaller}")
        shell.console.expect([rf"balloon: memory/target {smaller * 1024} KiB: reservation"],
                             STEP_TIMEOUT)
        out = other_host.check(f"xl list {name}")
        assert int(out.strip().splitlines()[-1].split()[2]) == smaller, out
        shell.alive()
        other_host.check(f"xl shutdown -w {name}", timeout=STEP_TIMEOUT)
        assert shell.guest is not None
        reason = shell.guest.wait_shutdown(STEP_TIMEOUT)
        assert reason is ExitReason.POWEROFF, f"xl says {reason}; log {other_host.log}"


def test_grub_with_vif_and_disk(other_host: Host, grub_pv: Path, tmp_path: Path) -> None:
    grub_with_vif_and_disk(other_host, grub_pv, tmp_path, f"xrel-grub-{os.getpid()}")
