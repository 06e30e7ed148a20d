"""Xenolith's own fixtures for boots under real Xen (see docs/lab.md). The lab's general
fixtures come from the lab's pytest plugin (xenlab.pytest_plugin, loaded by its entry
point): `lab`, `dom0_lab`, `make_lab(xen)`, `xen_hosts`, `xen_host`, `boot_dom0`,
`boot_kernel`; the session's flavour is $XENLAB_XEN (make XEN=; default 4.17-pv32), its
hypervisor $XENLAB_XEN_BINARY (make XEN_BINARY=), runs and logs under build/ (pyproject's
`xenlab_build`). Here:

- `other_xen`: parametrizes a test module over every flavour but the session's (the
  cross-release smoke, test_xen_releases.py, with `make_lab`).
- `kernel_elf`: build/kernel.elf (or $XENOLITH_KERNEL); missing -> skip, or
  fail when XENOLITH_REQUIRE_KERNEL=1.
- `tiny_kernel_elf`: build/tiny/kernel.elf (`make tiny`: no self-tests, no
  benchmarks, no symbol table; or $XENOLITH_TINY_KERNEL); missing -> skip, or
  fail when XENOLITH_REQUIRE_KERNEL=1.
- `grub_pv`: Debian's grub-i386-xen.bin (a 32-bit PV guest that is not ours).
`xen_host` is shared by every domU test: `xen_host.create(GuestSpec(...))`,
`xen_host.dom0("cmd")`, `xen_host.xl_list()`, `xen_host.domid(name)`; kshell.py has the
shell helpers (`domu_shell`, ...). Each test must destroy its guests (use unique names).
Every test gets a pytest-timeout backstop; the logs say where to look.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from xenlab.parts import build_grub_pv, default_cache, stderr_progress
from xenlab.parts.flavours import FLAVOURS
from xenlab.pytest_plugin import lab_config

ROOT = Path(__file__).resolve().parents[2]


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if "integration" in str(item.fspath) and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(900))


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """`other_xen`: every flavour but the session's (the smoke on other Xen releases)."""
    if "other_xen" in metafunc.fixturenames:
        mine = lab_config(metafunc.config).xen
        metafunc.parametrize("other_xen", [x for x in sorted(FLAVOURS) if x != mine],
                             scope="module")


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
