"""The lab as a pytest plugin (entry point `pytest11`): a test boots its PV kernel under
real Xen in QEMU in a few lines (docs/ci.md).

    def test_boots(boot_kernel):
        run = boot_kernel("build/kernel.elf", mode="domu", cmdline="quiet", vifs=("xenbr0",))
        run.console.expect(["hello"], timeout=60)
        assert run.wait_exit() is ExitReason.POWEROFF

Options (each defaults to its environment variable): `--xenlab-xen FLAVOUR`
($XENLAB_XEN; 4.17-pv32 when unset), `--xenlab-xen-binary PATH` ($XENLAB_XEN_BINARY: a
hypervisor of your own), and the ini option `xenlab_build` (run folders and the serial
logs in its logs/; default <rootdir>/build/xenlab). Parts are cached in $XENOLITH_CACHE
(~/.cache/xenolith) and built on first use.

Marker: `@pytest.mark.xenlab(xen=FLAVOUR, timeout=SECONDS)`: the test boots under Xen;
`boot_kernel` then uses that flavour, and pytest-timeout stops the test after
`timeout` (default 900 s) when nothing else set one.

Fixtures:
- `lab` (session): the session's `xenlab.Lab`; `dom0_lab`: the same, skipped with the
  reason on a stock flavour (its hypervisor has no 32-bit PV, so no 32-bit dom0);
  `make_lab(xen)` (session): the Lab of another flavour, with Debian's Xen.
- `xen_hosts` (session): running Xen + Linux dom0 hosts, one per flavour, started on first
  use (restored from a QEMU snapshot when one matches) and closed at the session's end;
  `xen_host`: the session flavour's. Tests must destroy the guests they create there.
- `boot_dom0` (function): `boot_dom0(kernel, cmdline="", memory_mib=256, vcpus=1)` -> a started
  `DomZeroRun` (the kernel as Xen's dom0); stopped when the test ends.
- `boot_kernel` (function): `boot_kernel(kernel, mode="domu"|"dom0", cmdline="", **spec)`
  -> `KernelRun`; in domU mode `spec` is any `xenlab.GuestSpec` field (memory_mib,
  vifs, disks, shim, ...; name defaults to one unique to the test) and the guest is
  destroyed when the test ends; in dom0 mode only memory_mib and vcpus apply.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import os
import re
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from xenlab.console import Console, log_end, log_since
from xenlab.exits import ExitReason
from xenlab.host import GUEST_MIB, Guest, GuestSpec, Host, domain_mib
from xenlab.lab import DomZeroRun, Lab, LabConfig, no_dom0_message
from xenlab.parts.flavours import FLAVOURS

MARKER = "xenlab"
DEFAULT_TIMEOUT = 900
HOST_MIB = 2048


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("xenlab", "boots under real Xen in QEMU (xenlab)")
    binary = os.environ.get("XENLAB_XEN_BINARY")
    group.addoption("--xenlab-xen", default=os.environ.get("XENLAB_XEN") or None,
                    choices=sorted(FLAVOURS), metavar="FLAVOUR", help="the lab's Xen ($XENLAB_XEN; default 4.17-pv32)")
    group.addoption("--xenlab-xen-binary", type=Path, default=Path(binary) if binary else None,
                    metavar="PATH", help="boot this hypervisor ($XENLAB_XEN_BINARY)")
    parser.addini("xenlab_build", "the lab's run folders and logs (default build/xenlab)",
                  type="paths")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", f"{MARKER}(xen=None, timeout={DEFAULT_TIMEOUT}): the test boots under real "
        "Xen in QEMU; boot_kernel uses flavour `xen`; a pytest-timeout backstop")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not config.pluginmanager.hasplugin("timeout"):
        return
    for item in items:
        mark = item.get_closest_marker(MARKER)
        if mark is not None and item.get_closest_marker("timeout") is None:
            item.add_marker(pytest.mark.timeout(mark.kwargs.get("timeout", DEFAULT_TIMEOUT)))


def lab_config(config: pytest.Config, xen: str | None = None) -> LabConfig:
    """The Lab of flavour `xen`, or (None) the session's: --xenlab-xen, with
    --xenlab-xen-binary as its hypervisor (then, without a flavour, that of the binary's
    nearest release: LabConfig.flavour). Other flavours use Debian's Xen."""
    builds = config.getini("xenlab_build")
    build = Path(builds[0]) if builds else config.rootpath / "build" / "xenlab"
    session = LabConfig(build=build, xen=config.getoption("xenlab_xen"),
                        xen_binary=config.getoption("xenlab_xen_binary"))
    if xen is None or xen == session.flavour.name:
        return LabConfig(build=build, xen=session.flavour.name, xen_binary=session.xen_binary)
    return LabConfig(build=build, xen=xen)


def dom0_capable(lab: Lab) -> Lab:
    """`lab`, or a skip with the reason when its hypervisor runs no 32-bit PV dom0."""
    if lab.flavour.stock and lab.config.xen_binary is None:
        pytest.skip(no_dom0_message(lab.flavour))
    return lab


class XenHosts:
    """Running hosts by flavour (None: the session's), started on first use."""

    def __init__(self, make_lab: Callable[[str | None], Lab]) -> None:
        self.make_lab = make_lab
        self.hosts: dict[str, Host] = {}

    def get(self, xen: str | None = None) -> Host:
        lab = self.make_lab(xen)
        name = lab.flavour.name
        if name not in self.hosts:
            self.hosts[name] = lab.up(memory_mib=HOST_MIB)
        return self.hosts[name]

    def close(self) -> None:
        for host in self.hosts.values():
            host.close()
        self.hosts.clear()


@dataclasses.dataclass
class KernelRun:
    """One boot of a kernel: `console` to expect on, `log` (the serial log to read when a
    test fails), `wait_exit()`, `text()` (what the console printed since the boot began);
    `guest` in domU mode, `dom0` in dom0 mode."""

    console: Console
    log: Path
    start: int
    guest: Guest | None = None
    dom0: DomZeroRun | None = None

    def wait_exit(self, timeout: float = 120) -> ExitReason:
        if self.dom0 is not None:
            return self.dom0.wait_exit(timeout)
        assert self.guest is not None
        return self.guest.wait_shutdown(timeout)

    def text(self) -> str:
        return log_since(self.log, self.start)


@pytest.fixture(scope="session")
def make_lab(pytestconfig: pytest.Config) -> Callable[[str | None], Lab]:
    """`make_lab(xen)`: the Lab of flavour `xen` (None: the session's)."""
    return lambda xen=None: Lab(lab_config(pytestconfig, xen))


@pytest.fixture(scope="session")
def lab(make_lab: Callable[[str | None], Lab]) -> Lab:
    """The session's Lab (--xenlab-xen, --xenlab-xen-binary)."""
    return make_lab(None)


@pytest.fixture(scope="session")
def dom0_lab(lab: Lab) -> Lab:
    """`lab`, for a kernel as dom0; a skip with the reason on a stock flavour."""
    return dom0_capable(lab)


@pytest.fixture(scope="session")
def xen_hosts(make_lab: Callable[[str | None], Lab]) -> Iterator[XenHosts]:
    """`xen_hosts.get(xen)`: a running Xen + Linux dom0 of that flavour, one per session."""
    hosts = XenHosts(make_lab)
    try:
        yield hosts
    finally:
        hosts.close()


@pytest.fixture(scope="session")
def xen_host(xen_hosts: XenHosts) -> Host:
    """The session flavour's running Xen + Linux dom0 (`create(GuestSpec)`, `dom0(cmd)`)."""
    return xen_hosts.get()


@pytest.fixture
def boot_dom0(dom0_lab: Lab) -> Iterator[Callable[..., DomZeroRun]]:
    """`boot_dom0(kernel, cmdline="", memory_mib=256, vcpus=1)`: the kernel as Xen's dom0."""
    with contextlib.ExitStack() as stack:
        def boot(kernel: Path, cmdline: str = "", memory_mib: int = 256, vcpus: int = 1
                 ) -> DomZeroRun:
            return stack.enter_context(dom0_lab.boot_dom0_kernel(kernel, cmdline, memory_mib,
                                                                 vcpus=vcpus))
        yield boot


@pytest.fixture
def boot_kernel(request: pytest.FixtureRequest, make_lab: Callable[[str | None], Lab],
                xen_hosts: XenHosts) -> Iterator[Callable[..., KernelRun]]:
    """`boot_kernel(kernel, mode="domu"|"dom0", cmdline="", **GuestSpec fields)` -> KernelRun."""
    mark = request.node.get_closest_marker(MARKER)
    xen = mark.kwargs.get("xen") if mark else None
    names = (f"{re.sub(r'[^A-Za-z0-9_-]', '-', request.node.name)[:40]}-{os.getpid()}-{n}"
             for n in itertools.count())
    with contextlib.ExitStack() as stack:
        def boot(kernel: str | Path, mode: str = "domu", cmdline: str = "",
                 **spec: object) -> KernelRun:
            if mode == "dom0":
                lab = dom0_capable(make_lab(xen))
                memory = int(spec.pop("memory_mib", 256))  # type: ignore[call-overload]
                vcpus = int(spec.pop("vcpus", 1))  # type: ignore[call-overload]
                if spec:
                    raise TypeError(f"a dom0 boot takes memory_mib and vcpus only, not "
                                    f"{sorted(spec)}")
                run = stack.enter_context(lab.boot_dom0_kernel(Path(kernel), cmdline, memory,
                                                               vcpus=vcpus))
                return KernelRun(run.console, run.log, 0, dom0=run)
            if mode != "domu":
                raise ValueError(f"mode must be dom0 or domu, not {mode!r}")
            host = xen_hosts.get(xen)
            shim = host.shim if spec.get("shim") is None else bool(spec["shim"])
            spec.setdefault("name", next(names))
            spec.setdefault("memory_mib", domain_mib(GUEST_MIB, shim))
            guest_spec = GuestSpec(kernel=Path(kernel), cmdline=cmdline, **spec)  # type: ignore[arg-type]
            start = log_end(host.log)
            guest = host.create(guest_spec)
            stack.callback(guest.destroy)
            return KernelRun(guest.console, host.log, start, guest=guest)
        yield boot
