"""One QEMU machine running Xen: command line, start paused, serial + QMP, snapshots, cleanup.

The serial port (Xen's com1) is a unix socket chardev without QEMU's own log
file (it doubles bytes: xenlab/console.py). QEMU starts paused (-S); the
caller attaches the console (`console()`), whose reader writes every byte to
`serial.log`, then `resume()`s. A detached machine (`xenlab up`) outlives
its process, so its reader is a process of its own (xenlab.serial_keeper),
started before the machine runs, and consoles attach through it.
"""

from __future__ import annotations

import ctypes
import hashlib
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from qemu.qmp.legacy import QEMUMonitorProtocol

from xenlab.console import Console
from xenlab.errors import LabError

# Xen's serial: COM1 at 115200, polled (irq 0), and synchronous (sync_console).
# By default Xen writes a byte straight to the UART only while its 16 KiB
# transmit buffer is empty; once the UART is busy (QEMU's socket is full because
# the lab's reader fell behind) it buffers, drains the buffer 16 bytes per poll
# (1 ms), and when the buffer fills it drops output until half of it has gone
# (xen/drivers/char/serial.c, tx_quench). sync_console makes Xen wait for the
# UART instead, so the serial line is lossless: a slow reader slows the writer
# down, nothing is lost (docs/lab.md, "A byte-exact console"). Its cost is Xen's
# three-second warning countdown at boot.
XEN_COM1 = "com1=115200,8n1,0x3f8,0"
XEN_CONSOLE = f"console=com1 {XEN_COM1} sync_console"
XEN_CMDLINE = (f"{XEN_CONSOLE} dom0_mem=1024M,max:1024M dom0_max_vcpus=1 "
               "loglvl=all guest_loglvl=all noreboot")
SNAPSHOT_TAG = "dom0ready"
# One CPU for Xen. Xen cannot trust the TSC that QEMU/TCG gives it (TCG ignores
# TSC writes, so Xen finds it "only partially writable" and clears
# CONSTANT_TSC), so every second it recalibrates each CPU's clock from a
# rendezvous in which the CPUs read the platform timer and their TSC "at the
# same moment". Under TCG each CPU is a host thread that the host may preempt
# between those reads, and with two CPUs the CPUs' clocks then disagree and
# step by up to Xen's one-second epoch; a PV guest's TSC is emulated by Xen
# and kept monotonic per domain, so a step back freezes the guest's clock for
# as long. With one CPU the calibration reads both back to back.
XEN_CPUS = 1
# QEMU's CPU model: AMD, because TCG emulates AMD's SVM (with nested paging) and not
# Intel's VMX, and the PV shim runs as a PVH guest, which needs one of them (Debian's
# Xen has no shadow paging, so PVH needs NPT). EPYC is the model, with each flag
# removed for a failure seen without its removal (docs/lab.md, "The CPU model"):
#   -smap     the Linux PV dom0 crashes at boot (#PF in Xen's create_bounce_frame)
#   -monitor  Xen's idle loop uses MWAIT, which TCG does not emulate (#GP in mwait_idle)
#   -xsave    the 4.20 shim stops at "Xen BUG at xstate.c" (TCG's XSAVE state sizes)
#   -rdtscp   TCG's SVM gives no next-RIP for the RDTSCP exit ("SVM Insn len emulation
#             failed", a #GP in the shim's guest)
# and +svm,+npt (the shim's PVH domain) and +nrip-save (intercepted instructions'
# lengths from the VMCB, not decoded by Xen) added.
QEMU = "qemu-system-x86_64"
CPU_MODEL = "EPYC,+svm,+npt,+nrip-save,-smap,-monitor,-xsave,-rdtscp"


@dataclass(frozen=True)
class MachineSpec:
    """Everything that makes up the machine (and so the snapshot key)."""

    xen: Path
    modules: tuple[tuple[Path, str], ...]
    memory_mib: int
    xen_cmdline: str = XEN_CMDLINE
    share: Path | None = None
    control: bool = False
    extra: tuple[str, ...] = field(default_factory=tuple)
    cpus: int = XEN_CPUS
    cpu: str = CPU_MODEL

    def key(self, salt: str = "") -> str:
        """Hash of the machine: files' identity (QEMU's own among them: a snapshot loads
        only into the QEMU that saved it), command lines, memory, devices."""
        h = hashlib.sha256(salt.encode())
        for path in [qemu_binary(), self.xen, *(m for m, _ in self.modules)]:
            st = path.stat()
            h.update(f"{path.resolve()}:{st.st_size}:{st.st_mtime_ns}".encode())
        h.update(repr((self.modules, self.memory_mib, self.xen_cmdline, self.share is not None,
                       self.control, self.extra, self.cpus, self.cpu)).encode())
        return h.hexdigest()[:16]


def qemu_binary() -> Path:
    """The QEMU that qemu_argv runs (the first on PATH)."""
    found = shutil.which(QEMU)
    if found is None:
        raise LabError(f"{QEMU} is not on PATH (make bootstrap installs qemu-system-x86)")
    return Path(found)


def qemu_version() -> tuple[int, int]:
    """QEMU's (major, minor), from `--version`."""
    res = subprocess.run([QEMU, "--version"], capture_output=True, text=True, check=False)
    found = re.search(r"version (\d+)\.(\d+)", res.stdout)
    if res.returncode or found is None:
        raise LabError(f"{QEMU} --version said {res.stdout.strip()!r} {res.stderr.strip()!r}")
    return int(found.group(1)), int(found.group(2))


def _initrd_arg(modules: tuple[tuple[Path, str], ...]) -> str:
    parts = []
    for path, cmdline in modules:
        if "," in str(path) or "," in cmdline:
            raise LabError(f"QEMU's -initrd cannot carry a comma in {path} {cmdline!r}: "
                           "rename the file or drop the comma from its command line")
        parts.append(f"{path} {cmdline}".strip())
    return ",".join(parts)


def qemu_argv(spec: MachineSpec, run_dir: Path, snapshot: Path | None, loadvm: bool) -> list[str]:
    """The QEMU command line for `spec`, with its sockets in `run_dir`."""
    argv = [QEMU, "-machine", "q35,accel=tcg", "-cpu", spec.cpu,
            "-m", str(spec.memory_mib), "-smp", str(spec.cpus), "-nographic", "-monitor", "none", "-S",
            "-no-reboot",
            "-chardev", f"socket,id=ser0,path={run_socket(run_dir, 'serial')},server=on,wait=off",
            "-serial", "chardev:ser0",
            "-qmp", f"unix:{run_socket(run_dir, 'qmp')},server=on,wait=off",
            "-kernel", str(spec.xen), "-append", spec.xen_cmdline,
            "-initrd", _initrd_arg(spec.modules)]
    if spec.control:
        argv += ["-device", "virtio-serial-pci",
                 "-chardev", f"socket,id=ctl,path={run_socket(run_dir, 'ctl')},server=on,wait=off",
                 "-device", "virtserialport,chardev=ctl,name=xenlab.ctl"]
    if spec.share is not None:
        argv += ["-virtfs", f"local,path={spec.share},mount_tag=host,security_model=none,id=host0"]
    if snapshot is not None:
        argv += ["-drive", f"if=none,id=snap,format=qcow2,file={snapshot}"]
        if loadvm:
            argv += ["-loadvm", SNAPSHOT_TAG]
    return argv + list(spec.extra)


def _die_with_parent() -> None:
    """Runs in the child before exec: QEMU gets SIGKILL when its parent dies."""
    libc = ctypes.CDLL("libc.so.6", use_errno=True)
    libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG


class Machine:
    """A running QEMU: started paused; `resume()`, `qmp()`, `savevm()`, `close()`."""

    def __init__(self, spec: MachineSpec, run_dir: Path, snapshot: Path | None = None,
                 loadvm: bool = False, detached: bool = False) -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.detached = detached
        self.serial_log = run_dir / "serial.log"
        self.qemu_log = run_dir / "qemu.log"
        run_dir.mkdir(parents=True, exist_ok=True)
        for name in ("serial", "qmp", "ctl", "console"):
            run_socket(run_dir, name).unlink(missing_ok=True)
        argv = qemu_argv(spec, run_dir, snapshot, loadvm)
        (run_dir / "qemu.cmdline").write_text(" ".join(argv) + "\n")
        with open(self.qemu_log, "ab") as log:
            self.proc = subprocess.Popen(
                argv, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                start_new_session=detached, preexec_fn=None if detached else _die_with_parent)  # noqa: PLW1509
        (run_dir / "qemu.pid").write_text(f"{self.proc.pid}\n")
        self._qmp: QEMUMonitorProtocol | None = None
        self._wait_socket(run_socket(run_dir, "qmp"))
        if detached:
            self._wait_socket(run_socket(run_dir, "serial"))
            with open(self.qemu_log, "ab") as log:
                subprocess.Popen([sys.executable, "-m", "xenlab.serial_keeper", str(run_dir)],
                                 stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                 start_new_session=True, cwd=Path(__file__).resolve().parent.parent)
            self._wait_socket(run_socket(run_dir, "console"))

    def _wait_socket(self, path: Path, timeout: float = 20.0) -> None:
        deadline = time.monotonic() + timeout
        while not path.exists():
            if self.proc.poll() is not None:
                raise LabError(f"QEMU exited with status {self.proc.returncode} at start: see "
                               f"{self.qemu_log} (command line in {self.run_dir}/qemu.cmdline)")
            if time.monotonic() > deadline:
                self.close()
                raise LabError(f"QEMU did not open {path} in {timeout:.0f} s: see {self.qemu_log}")
            time.sleep(0.02)

    def qmp(self, cmd: str, **args: object) -> object:
        """One QMP command; returns its result."""
        if self._qmp is None:
            self._qmp = QEMUMonitorProtocol(str(run_socket(self.run_dir, "qmp")))
            self._qmp.connect()
        return self._qmp.cmd(cmd, **args) if args else self._qmp.cmd(cmd)

    def hmp(self, line: str) -> str:
        """One human-monitor command through QMP; returns its text output."""
        res = self.qmp("human-monitor-command", **{"command-line": line})
        return str(res.get("return", "")) if isinstance(res, dict) else str(res)

    def resume(self) -> None:
        self.qmp("cont")

    def status(self) -> str:
        res = self.qmp("query-status")
        return str(res.get("return", {}).get("status")) if isinstance(res, dict) else "?"

    def savevm(self) -> None:
        out = self.hmp(f"savevm {SNAPSHOT_TAG}")
        if out.strip():
            raise LabError(f"savevm failed: {out.strip()} (see {self.qemu_log})")

    def alive(self) -> bool:
        return self.proc.poll() is None

    def connect(self, name: str) -> socket.socket:
        """A connected unix socket to the chardev `name` (serial or ctl)."""
        return connect_socket(self.run_dir, name)

    def console(self) -> Console:
        """Xen's serial console: read here and recorded to serial.log, or, for a detached
        machine, through its keeper (which records it)."""
        if self.detached:
            return attach_console(self.run_dir)
        return Console(self.connect("serial"), self.serial_log)

    def close(self) -> None:
        """Quit QEMU (QMP quit, then SIGKILL if it lingers)."""
        if self.alive():
            try:
                self.qmp("quit")
                self.proc.wait(timeout=5)
            except Exception as exc:  # noqa: BLE001 - any failure: kill it below
                (self.run_dir / "quit-error.txt").write_text(f"QMP quit failed: {exc}\n")
        if self.alive():
            self.proc.kill()
            self.proc.wait(timeout=10)
        if self._qmp is not None:
            try:
                self._qmp.close()
            except Exception as exc:  # noqa: BLE001
                (self.run_dir / "quit-error.txt").write_text(f"QMP close failed: {exc}\n")
            self._qmp = None
        remove_run_disk(self.run_dir)


RUN_DISK = "dom0.qcow2"  # a host's own copy of the dom0 snapshot (see Lab.up)


def remove_run_disk(run_dir: Path) -> None:
    """Delete a stopped host's snapshot copy (~200 MB); its logs stay."""
    (run_dir / RUN_DISK).unlink(missing_ok=True)


def kill_run_dir(run_dir: Path) -> bool:
    """Kill the QEMU whose pid is recorded in `run_dir` (used by `down`). True if one was killed."""
    pidfile = run_dir / "qemu.pid"
    if not pidfile.exists():
        return False
    pid = int(pidfile.read_text())
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
    except FileNotFoundError:
        return False
    if b"qemu-system" not in cmdline or str(run_dir).encode() not in cmdline:
        return False
    os.kill(pid, signal.SIGKILL)
    remove_run_disk(run_dir)
    return True


def attach_console(run_dir: Path) -> Console:
    """The console of a detached machine, through its keeper (xenlab.serial_keeper)."""
    return Console(connect_socket(run_dir, "console"), run_dir / "serial.log", record=False)


def run_socket(run_dir: Path, name: str) -> Path:
    """A unix socket in a run folder: QEMU's serial, qmp and ctl, the keeper's console."""
    return run_dir / f"{name}.sock"


def connect_socket(run_dir: Path, name: str) -> socket.socket:
    """A connected unix socket to the run folder's socket `name`."""
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(run_socket(run_dir, name)))
    return sock
