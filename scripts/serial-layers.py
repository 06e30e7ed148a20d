"""Which layer of the lab's serial path writes a byte twice: an experiment (docs/lab.md).

Xenolith boots as dom0 on QEMU's serial chardev configured as the lab had it until the
console was made byte-exact: a unix socket with QEMU's own `logfile=`. The kernel writes
`bench console LINES` (predictable bytes, xenlab/console_pattern.py) through
CONSOLEIO_write -> Xen's ns16550 driver -> QEMU's 16550 -> the chardev, which hands each
byte to the socket and to its log file. A reader of ours takes the socket's bytes,
pausing PAUSE seconds after every read (a busy test process). Two copies of one stream
are compared with what the kernel wrote: the socket's (what Xen and the UART sent) and
QEMU's log (the chardev's own copy of the same writes). When the output stops short, the
reader asks the kernel `echo alive`: an answer means the rest was dropped on the way, not
held up. With STRACE=1, strace also counts the writes to the socket that QEMU got EAGAIN
for (ptrace slows QEMU down a lot: for short runs).

    .venv/bin/python scripts/serial-layers.py build/kernel.elf [LINES] [PAUSE[:sync] ...]

PAUSE[:sync]: the reader's pause, and with `:sync` Xen booted with `sync_console`.
"""

from __future__ import annotations

import os
import re
import shutil
import socket
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from xenlab.console_pattern import END, check_pattern, pattern_line
from xenlab.lab import Lab, LabConfig
from xenlab.machine import (
    XEN_COM1,
    Machine,
    MachineSpec,
    _die_with_parent,
    qemu_argv,
    run_socket,
)


def logged_argv(spec: MachineSpec, run_dir: Path) -> list[str]:
    """The lab's command line with QEMU's log file on the serial chardev."""
    argv = qemu_argv(spec, run_dir, None, False)
    i = argv.index("-serial") - 1
    argv[i] += f",logfile={run_dir}/qemu-serial.log,logappend=on"
    return argv


def run(kernel: Path, lines: int, pause: float, sync: bool) -> str:
    lab = Lab(LabConfig())
    console = f"console=com1 {XEN_COM1}" + (" sync_console" if sync else "")
    spec = MachineSpec(xen=lab.xen(), modules=((kernel.resolve(), ""),), memory_mib=192,
                       xen_cmdline=f"{console} dom0_mem=64M,max:64M "
                                   "dom0_max_vcpus=1 loglvl=all guest_loglvl=all noreboot")
    run_dir = lab.run_dir("serial-layers")
    how = (f"Xen's console {'synchronous' if sync else 'buffered (default)'}, reader pausing "
           f"{pause * 1000:.0f} ms after each read")
    argv = logged_argv(spec, run_dir)
    machine = Machine.__new__(Machine)
    machine.spec, machine.run_dir = spec, run_dir
    machine.serial_log = run_dir / "qemu-serial.log"
    machine.qemu_log = run_dir / "qemu.log"
    with open(machine.qemu_log, "ab") as log:
        machine.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=log,
                                        stderr=subprocess.STDOUT,
                                        preexec_fn=_die_with_parent)  # noqa: PLW1509
    machine._qmp = None
    machine._wait_socket(run_socket(run_dir, "qmp"))
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(str(run_socket(run_dir, "serial")))
    got = bytearray()
    lock = threading.Lock()

    def reader() -> None:
        while True:
            try:
                data = sock.recv(4096)
            except OSError:
                return
            if not data:
                return
            with lock:
                got.extend(data)
            if pause:
                time.sleep(pause)

    threading.Thread(target=reader, daemon=True).start()
    trace = run_dir / "strace.txt"
    trace.write_text("")
    strace = None
    if os.environ.get("STRACE") == "1":
        strace = subprocess.Popen(["strace", "-f", "-qq", "-e", "trace=sendmsg", "-e",
                                   "status=failed", "-o", str(trace), "-p",
                                   str(machine.proc.pid)])
        time.sleep(1.0)
    machine.resume()
    try:
        _wait(got, lock, re.compile(rb"xenolith> "))
        sock.sendall(f"bench console {lines}\r".encode())
        try:
            _wait(got, lock, re.compile(END.pattern.encode()), quiet=20)
        except TimeoutError:
            sock.sendall(b"echo alive\r")
            _wait(got, lock, re.compile(rb"\nalive\r"))
            text = got.decode(errors="replace")
            whole = sum(1 for n in range(lines) if f"{pattern_line(n)}\r\n" in text)
            return (f"{how}: the output stopped after {len(got)} bytes; the kernel still "
                    f"answers (`echo alive`), so the rest was dropped: {whole} of {lines} "
                    f"lines arrived, the `end` line did not; run folder {run_dir}")
        time.sleep(1.0)
    except TimeoutError as exc:
        return f"{how}: {exc}; run folder {run_dir}"
    finally:
        if strace is not None:
            strace.terminate()
            strace.wait()
        machine.close()
        sock.close()
    (run_dir / "socket.raw").write_bytes(bytes(got))
    eagain = sum("EAGAIN" in ln for ln in trace.read_text(errors="replace").splitlines())
    sock_check = check_pattern(got.decode(errors="replace"))
    log_check = check_pattern(machine.serial_log.read_text(errors="replace"))
    counted = f"{eagain} writes to the socket got EAGAIN" if strace else "EAGAINs not counted"
    return (f"{how}: {counted}\n  socket: {sock_check.describe()}\n  QEMU's log: {log_check.describe()}"
            f"\n  kernel: {sock_check.kernel_us / 1e6:.1f} s; run folder {run_dir}")


def _wait(buf: bytearray, lock: threading.Lock, pattern: re.Pattern[bytes],
          quiet: float = 60) -> None:
    """Until `pattern` arrives; TimeoutError once nothing has arrived for `quiet` s."""
    seen, since = -1, time.monotonic()
    while True:
        with lock:
            if pattern.search(buf):
                return
            size = len(buf)
        if size != seen:
            seen, since = size, time.monotonic()
        elif time.monotonic() - since > quiet:
            raise TimeoutError(f"the serial line stalled: nothing for {quiet:.0f} s after "
                               f"{size} bytes, before {pattern.pattern!r}")
        time.sleep(0.2)


def main() -> int:
    if os.environ.get("STRACE") == "1" and not shutil.which("strace"):
        print("serial-layers: needs strace (apt-get install strace)", file=sys.stderr)
        return 1
    kernel = Path(sys.argv[1])
    lines = int(sys.argv[2]) if len(sys.argv) > 2 else 20000
    for spec in sys.argv[3:] or ["0", "0.05", "0.05:sync"]:
        pause, _, mode = spec.partition(":")
        print(run(kernel, lines, float(pause), mode == "sync"), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
