"""The cross-release smoke: Xenolith and GRUB on every Xen release other than the session's.

`make test` runs the full suite on one flavour (XEN=, default 4.17) and this
module on each other one (`other_xen`): Xenolith's `selftest=all` as dom0,
and as a domU with a vif and a disk on that release's Linux dom0 (toolstack
and userland from that release's Debian packages), and Debian's GRUB
i386-xen as a foreign 32-bit PV guest with both devices. The same checks as
the main suite's (kshell.py). A flavour whose hypervisor cannot be built (its
Debian source not served) is skipped with the reason: run the suite on it
with your own build instead (`make test XEN=4.20 XEN_BINARY=...`, then this
module smokes the other releases); `make test-matrix` runs the full suite on
each flavour.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kshell import (
    dom0_selftest_all,
    domu_selftest_all,
    grub_with_vif_and_disk,
    make_image,
    serve_host,
)

from xenlab import Host, Lab
from xenlab.parts import PartsError
from xenlab.selftest_results import suite_results


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
    text = dom0_selftest_all(other_lab, kernel_elf)
    assert re.search(rf"Xen version {re.escape(other_lab.flavour.name)}\.", text), (
        "the hypervisor is not of the flavour's release")


def test_dom0_runs_the_releases_toolstack(other_host: Host, other_lab: Lab) -> None:
    fl = other_lab.flavour
    info = other_host.check("xl info")
    assert re.search(rf"xen_version\s+: {re.escape(fl.name)}\.", info), info
    assert "xen-3.0-x86_32p" in info, info
    # The dom0's C library is the release's own, not this machine's.
    libc = other_host.check("/lib64/ld-linux-x86-64.so.2 --version | head -1")
    want = fl.userland["libc6"].split("-")[0]
    assert f"GLIBC {want}" in libc, libc


def test_domu_selftest_all_with_vif_and_disk(other_host: Host, kernel_elf: Path,
                                             tmp_path: Path) -> None:
    disk = make_image(tmp_path / "disk.img", b"XENOLITH-SMOKE", 32768)
    text = domu_selftest_all(other_host, kernel_elf, f"xrel-{os.getpid()}",
                             cmdline="ip=10.0.0.2/24", vifs=("xenbr0",), disks=((disk, "w"),))
    results = suite_results(text)
    for suite in ("blkfront", "netfront", "xenstore", "xenbus"):
        r = results.get(suite)
        assert r and r.verdict == "PASS", f"{suite} did not run: {r}; {text[-2000:]}"
        assert not r.detail.startswith("skipped"), f"{suite}: {r.detail}"


def test_grub_with_vif_and_disk(other_host: Host, grub_pv: Path, tmp_path: Path) -> None:
    grub_with_vif_and_disk(other_host, grub_pv, tmp_path, f"xrel-grub-{os.getpid()}")
