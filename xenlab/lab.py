"""The lab: dom0-mode boots (our kernel as Xen's dom0) and Xen + Linux dom0 hosts for domUs."""

from __future__ import annotations

import os
import shutil
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from xenlab.console import Console
from xenlab.errors import LabError
from xenlab.exits import DOM0_EXIT_PATTERNS, ExitReason
from xenlab.host import Host
from xenlab.kernelcheck import check_pv_kernel
from xenlab.machine import RUN_DISK, XEN_CONSOLE, Machine, MachineSpec, qemu_version
from xenlab.parts import Progress, build_dom0, build_xen, default_cache, stderr_progress
from xenlab.parts.dom0 import DOM0_CMDLINE
from xenlab.parts.flavours import Flavour, flavour, nearest_flavour
from xenlab.parts.xen import binary_version, own_xen
from xenlab.selftest_results import KnownFailure


@dataclass(frozen=True)
class LabConfig:
    """Where things go: `build` (logs, runs, share) and `cache` (parts, snapshots); which Xen:
    `xen` names the flavour ("4.17", "4.20"; None: the default), `xen_binary` a hypervisor of
    your own (then the dom0 is the flavour's, by default that of the nearest release)."""

    build: Path = Path("build")
    cache: Path = field(default_factory=default_cache)
    progress: Progress = stderr_progress
    xen: str | None = None
    xen_binary: Path | None = None

    @property
    def flavour(self) -> Flavour:
        if self.xen is None and self.xen_binary is not None:
            version = binary_version(self.xen_binary)
            if version:
                return nearest_flavour(version)
        return flavour(self.xen)


# Two bugs meet only in the lab. QEMU 10's TCG checks every `mov from %crN` of an SVM
# guest against the CR0-read intercept (its new x86 decoder adds the register's number to
# the intercept's only when that is not 0, and CR0 reads' is 0); Xen intercepts CR0 reads,
# so the PV shim's `mov %cr2` in its page-fault handler exits to the Xen below it as a CR0
# read. Xen emulates the instruction and answers from its copy of the guest's CR2, which
# before 4.20.4 it never refreshed from the VMCB ("x86/svm: Always sync guest CR2 on
# VMExit"): 0 in Debian 12's 4.17. The shim then handles a fault at address 0, so a store
# it should emulate into a read-only page table goes back to its guest as a page fault with
# cr2 0, and so does every page fault the shim passes on (docs/lab.md, "The PV shim in
# the lab"). On a real AMD CPU CR2 reads do not exit. The self-tests that read a page
# fault's address see 0:
SHIM_CR2_ON_QEMU10_WHY = ("QEMU 10 turns the shim's CR2 reads into CR0-read exits, which Xen "
                          "4.17 answers with a stale 0 (real CPUs do not exit on CR2 reads)")
SHIM_CR2_ON_QEMU10 = (
    KnownFailure("traps", r"^cr2 0x0, expected ", SHIM_CR2_ON_QEMU10_WHY),
    KnownFailure("mm_writable_pt", r"came back as page faults \(error 0x3, cr2 0;",
                 SHIM_CR2_ON_QEMU10_WHY),
    KnownFailure("user_fault", r"^cr2 0, the program wrote at ", SHIM_CR2_ON_QEMU10_WHY),
)


def no_dom0_message(fl: Flavour) -> str:
    return (f"Xen {fl.name} is Debian's own build, without 32-bit PV: a 32-bit PV kernel runs "
            f"there only as a domU through the PV shim, and no shim serves a dom0. Boot "
            f"Xenolith as dom0 on the rebuilt flavour: --xen {fl.series}-pv32")


class DomZeroRun:
    """A dom0-mode boot: `console` (Xen's serial), `wait_exit()`, `machine`."""

    def __init__(self, machine: Machine, console: Console) -> None:
        self.machine = machine
        self.console = console
        self.log = machine.serial_log

    def wait_exit(self, timeout: float = 120) -> ExitReason:
        """Wait for Xen's "Hardware Dom0 ..." line and map it to an ExitReason."""
        pats = [p for p, _ in DOM0_EXIT_PATTERNS]
        try:
            return DOM0_EXIT_PATTERNS[self.console.expect(pats, timeout)][1]
        except LabError:
            if not self.machine.alive():
                raise
            return ExitReason.TIMEOUT


class Lab:
    """Entry point: `boot_dom0_kernel(...)` and `up(...)`."""

    def __init__(self, config: LabConfig | None = None) -> None:
        self.config = config or LabConfig()

    @property
    def flavour(self) -> Flavour:
        return self.config.flavour

    def known_failures(self, shim: bool) -> tuple[KnownFailure, ...]:
        """Self-test FAILs that this lab causes for a guest (through the shim or not),
        not the kernel: for the tests, which accept them by their exact detail."""
        if shim and self.flavour.series == "4.17" and qemu_version() >= (10, 0):
            return SHIM_CR2_ON_QEMU10
        return ()

    def xen(self) -> Path:
        """The hypervisor to boot: the user's own, or the flavour's (built once)."""
        if self.config.xen_binary is not None:
            return own_xen(self.config.xen_binary)
        return build_xen(self.config.cache, self.config.progress, self.flavour.name)

    def run_dir(self, kind: str) -> Path:
        stamp = time.strftime("%Y%m%d-%H%M%S") + f"-{os.getpid()}-{time.monotonic_ns() % 100000}"
        path = (self.config.build / "lab" / f"{kind}-{stamp}").resolve()
        path.mkdir(parents=True)
        logs = (self.config.build / "logs").resolve()
        logs.mkdir(parents=True, exist_ok=True)
        link = logs / path.name
        link.unlink(missing_ok=True)
        link.symlink_to(path)
        return path

    @contextmanager
    def boot_dom0_kernel(self, kernel: Path, cmdline: str = "", memory_mib: int = 256, *,
                         machine_mib: int | None = None, vcpus: int = 1
                         ) -> Iterator[DomZeroRun]:
        """Boot Xen with `kernel` as dom0 (its console is Xen's serial).

        `machine_mib`: the machine's RAM, when it must be more than dom0 needs (Xen gives
        a domain its highest free frames first, so a machine above 16 GiB puts dom0's
        frames there). Xen then does not scrub free memory at boot (`no-bootscrub`), so
        QEMU, which allocates guest RAM as it is touched, takes only what is used.
        `vcpus`: dom0's vCPUs, as `dom0_max_vcpus=N-N` (the minimum too: Xen caps the
        maximum alone at its physical CPUs, and the lab's Xen has one)."""
        if self.flavour.stock and self.config.xen_binary is None:
            raise LabError(no_dom0_message(self.flavour))
        check_pv_kernel(kernel)
        xen = self.xen()
        mem = max(memory_mib, 64)
        dom0_vcpus = "1" if vcpus == 1 else f"{vcpus}-{vcpus}"
        scrub = "" if machine_mib is None else " no-bootscrub"
        spec = MachineSpec(xen=xen, modules=((kernel.resolve(), cmdline),),
                           memory_mib=machine_mib or mem + 128,
                           xen_cmdline=f"{XEN_CONSOLE} dom0_mem={mem}M,max:{mem}M "
                                       f"dom0_max_vcpus={dom0_vcpus} loglvl=all guest_loglvl=all noreboot{scrub}")
        machine = Machine(spec, self.run_dir("dom0"))
        try:
            console = machine.console()
            machine.resume()
            yield DomZeroRun(machine, console)
        finally:
            machine.close()

    def up(self, memory_mib: int = 2048, detached: bool = False, run_dir: Path | None = None
           ) -> Host:
        """Xen + Linux dom0, restored from a snapshot when one matches; caller closes it.

        QEMU's memory is `memory_mib` rounded up to whole GiB (at least 2 GiB, dom0 has
        1 GiB of it), so guests of similar sizes share one snapshot.
        """
        xen = self.xen()
        dom0 = build_dom0(self.config.cache, self.config.progress, self.flavour.name)
        share = (self.config.build / "lab" / "share").resolve()
        share.mkdir(parents=True, exist_ok=True)
        spec = MachineSpec(xen=xen, modules=((dom0.kernel, DOM0_CMDLINE), (dom0.initrd, "")),
                           memory_mib=max(2048, -(-memory_mib // 1024) * 1024), share=share,
                           control=True)
        snapdir = self.config.cache / "snapshots"
        snapdir.mkdir(parents=True, exist_ok=True)
        snap = snapdir / f"dom0-{spec.key(dom0.key)}.qcow2"
        restore = snap.exists() and os.environ.get("XENLAB_NO_SNAPSHOT") != "1"
        rdir = run_dir or self.run_dir("host")
        rdir.mkdir(parents=True, exist_ok=True)
        # Every host has its own qcow2 (QEMU locks it for writing): a restore copies
        # the shared snapshot (~0.3 s), a fresh boot writes a new one that is
        # published by an atomic rename once `savevm` succeeded. So hosts can run
        # side by side (several test runs, `xenlab up` next to `make test`).
        own = rdir / RUN_DISK
        if restore:
            shutil.copyfile(snap, own)
        else:
            _qemu_img(own)
        machine = Machine(spec, rdir, snapshot=own, loadvm=restore, detached=detached)
        try:
            host = Host.start(machine, share, fresh=not restore, shim=self.flavour.stock)
        except BaseException:
            machine.close()
            raise
        if not restore:
            tmp = snapdir / f".tmp-{os.getpid()}-{snap.name}"
            shutil.copyfile(own, tmp)
            tmp.rename(snap)
        return host

def _qemu_img(path: Path) -> None:
    import subprocess
    res = subprocess.run(["qemu-img", "create", "-f", "qcow2", str(path), "64M"],
                         capture_output=True, text=True, check=False)
    if res.returncode:
        raise LabError(f"qemu-img create {path} failed: {res.stderr.strip()}")

