"""Fixtures for boots under real Xen (see docs/lab.md).

- `lab` (session): a `xenlab.Lab` writing under build/ (logs in build/logs/), of the
  flavour $XENLAB_XEN (make XEN=; default 4.17-pv32), booting $XENLAB_XEN_BINARY (make
  XEN_BINARY=) when given (without XEN=, the flavour of its nearest release). On a
  stock flavour (4.17, 4.20) every domU runs through the PV shim (the host's default).
- `dom0_lab` (session): `lab`, for tests of Xenolith as dom0; skipped with the reason
  on a stock flavour, whose hypervisor has no 32-bit PV.
- `other_xen` (parametrizes a test module over every other flavour) and `make_lab`
  (factory: `make_lab(xen)` -> that flavour's Lab, with Debian's Xen):
  for the cross-release smoke (test_xen_releases.py).
- `xen_host` (session): one Xen + Linux dom0 (`xenlab.Host`) shared by every
  domU test, restored from a QEMU snapshot when one matches. Use
  `xen_host.create(GuestSpec(...))`, `xen_host.dom0("cmd")`, `xen_host.xl_list()`,
  `xen_host.domid(name)`; kshell.py has the shell helpers (`domu_shell`, ...).
  Each test must destroy its guests (use unique names).
- `boot_dom0` (function): factory `boot_dom0(kernel, cmdline="", memory_mib=256)`
  returning a started `DomZeroRun` (`.console.expect(...)`, `.wait_exit()`);
  QEMU is stopped when the test ends.
- `kernel_elf`: build/kernel.elf (or $XENOLITH_KERNEL); missing -> skip, or
  fail when XENOLITH_REQUIRE_KERNEL=1.
- `tiny_kernel_elf`: build/tiny/kernel.elf (`make tiny`: no self-tests, no
  benchmarks, no symbol table; or $XENOLITH_TINY_KERNEL); missing -> skip, or
  fail when XENOLITH_REQUIRE_KERNEL=1.
- `grub_pv`: Debian's grub-i386-xen.bin (a 32-bit PV guest that is not ours).
Every test gets a pytest-timeout backstop; the logs say where to look.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kshell import serve_host

from xenlab import DomZeroRun, Host, Lab, LabConfig
from xenlab.lab import no_dom0_message
from xenlab.parts import build_grub_pv, default_cache, stderr_progress
from xenlab.parts.flavours import FLAVOURS

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))


def lab_config(xen: str | None) -> LabConfig:
    """The lab of flavour `xen`, or (None) the session's: $XENLAB_XEN, with
    $XENLAB_XEN_BINARY as its hypervisor (then, without $XENLAB_XEN, the flavour of
    the binary's nearest release: LabConfig.flavour). Other flavours use Debian's Xen."""
    binary = os.environ.get("XENLAB_XEN_BINARY")
    session = LabConfig(build=ROOT / "build", xen=os.environ.get("XENLAB_XEN") or None,
                        xen_binary=Path(binary) if binary else None)
    if xen is None or xen == session.flavour.name:
        return LabConfig(build=session.build, xen=session.flavour.name,
                         xen_binary=session.xen_binary)
    return LabConfig(build=session.build, xen=xen)


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`other_xen`: every flavour but the session's (the smoke on other Xen releases)."""
    if "other_xen" in metafunc.fixturenames:
        mine = lab_config(None).xen
        metafunc.parametrize("other_xen", [x for x in sorted(FLAVOURS) if x != mine],
                             scope="module")


@pytest.fixture(scope="session")
def lab() -> Lab:
    return Lab(lab_config(None))


@pytest.fixture(scope="session")
def dom0_lab(lab: Lab) -> Lab:
    """`lab`, for Xenolith as dom0: skipped, with the reason, on a stock flavour (a
    hypervisor without 32-bit PV runs no 32-bit dom0, and no shim serves one)."""
    if lab.flavour.stock and lab.config.xen_binary is None:
        pytest.skip(no_dom0_message(lab.flavour))
    return lab


@pytest.fixture(scope="session")
def make_lab() -> Callable[[str], Lab]:
    return lambda xen: Lab(lab_config(xen))


@pytest.fixture(scope="session")
def xen_host(lab: Lab) -> Iterator[Host]:
    yield from serve_host(lab)


@pytest.fixture
def boot_dom0(dom0_lab: Lab) -> Iterator[Callable[..., DomZeroRun]]:
    with contextlib.ExitStack() as stack:
        def boot(kernel: Path, cmdline: str = "", memory_mib: int = 256, vcpus: int = 1
                 ) -> DomZeroRun:
            return stack.enter_context(dom0_lab.boot_dom0_kernel(kernel, cmdline, memory_mib,
                                                                 vcpus=vcpus))
        yield boot


def built_kernel(variable: str, default: Path, target: str) -> Path:
    """The kernel named by $variable (or default); missing -> skip, or fail when required."""
    path = Path(os.environ.get(variable, default))
    if not path.exists():
        msg = f"{path} is missing: run `make {target}`"
        if os.environ.get("XENOLITH_REQUIRE_KERNEL") == "1":
            pytest.fail(msg)
        pytest.skip(msg)
    return path


@pytest.fixture(scope="session")
def kernel_elf() -> Path:
    return built_kernel("XENOLITH_KERNEL", ROOT / "build" / "kernel.elf", "kernel")


@pytest.fixture(scope="session")
def tiny_kernel_elf() -> Path:
    return built_kernel("XENOLITH_TINY_KERNEL", ROOT / "build" / "tiny" / "kernel.elf", "tiny")


@pytest.fixture(scope="session")
def grub_pv() -> Path:
    return build_grub_pv(default_cache(), stderr_progress)
