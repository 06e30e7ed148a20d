"""A running Xen + Linux dom0: commands through the agent, guests through xl."""

from __future__ import annotations

import dataclasses
import re
import shlex
import shutil
import time
from dataclasses import dataclass, field
from pathlib import Path

from xenlab.agent import Agent, CommandResult
from xenlab.console import Console
from xenlab.errors import GuestError, LabError
from xenlab.exits import ExitReason, parse_xl_list_v
from xenlab.kernelcheck import check_pv_kernel
from xenlab.machine import Machine, attach_console, run_socket

# What the PV shim keeps of its domain's memory, rounded up: about 22 MiB (its boot line
# `shim used pages ...`, plus 1 MiB of slack). A shim guest of N MiB is a domain of N + this.
SHIM_MIB = 32
GUEST_MIB = 32  # a guest's memory when none is asked for (Xenolith's needs, with room)
READY = "XENLAB-DOM0-READY"
PROMPT = "dom0# "
MOUNT_9P = "mkdir -p /host && (mountpoint -q /host || mount -t 9p -o trans=virtio,version=9p2000.L host /host)"


@dataclass(frozen=True)
class GuestSpec:
    """A domU: kernel file, name, memory, `extra=` command line, vifs (bridges), disks, an
    initramfs (`ramdisk=`) for kernels that want one, and `shim`: run the 32-bit PV kernel
    inside the PV shim (a PVH domain whose Xen runs the guest), as on a stock Xen host;
    None: the host's default (the shim on a stock Xen, which has no 32-bit PV). `vcpus`:
    the domain's vCPUs (xl's vcpus= and maxvcpus=, so `xl vcpu-set` can go back up to it)."""

    kernel: Path
    name: str = "guest"
    memory_mib: int = 32
    cmdline: str = ""
    vifs: tuple[str, ...] = ()
    disks: tuple[tuple[Path, str], ...] = field(default_factory=tuple)  # (host file, "w"|"r")
    ramdisk: Path | None = None
    shim: bool | None = None
    vcpus: int = 1


def domain_mib(guest_mib: int, shim: bool) -> int:
    """The domain's memory for a kernel that needs `guest_mib`: through the PV shim the
    domain holds the shim too."""
    return guest_mib + (SHIM_MIB if shim else 0)


def guest_config(spec: GuestSpec, kernel: str, disks: list[str], ramdisk: str | None = None
                 ) -> str:
    """The xl config text (`ramdisk`: dom0's path of the initramfs); shutdowns are preserved
    so their reason can be read."""
    # The shim's path is libxl's default (the toolstack's boot/xen-shim), as on a Debian host.
    kind = ['type = "pvh"', "pvshim = 1"] if spec.shim else ['type = "pv"']
    lines = [f'name = "{spec.name}"', *kind, f'kernel = "{kernel}"',
             f"memory = {spec.memory_mib}", f'extra = "{spec.cmdline}"',
             'on_poweroff = "preserve"', 'on_reboot = "preserve"', 'on_crash = "preserve"']
    if spec.vcpus != 1:
        lines += [f"vcpus = {spec.vcpus}", f"maxvcpus = {spec.vcpus}"]
    if ramdisk:
        lines.append(f'ramdisk = "{ramdisk}"')
    if spec.vifs:
        lines.append("vif = [" + ", ".join(f'"bridge={b}"' for b in spec.vifs) + "]")
    if disks:
        lines.append("disk = [" + ", ".join(f'"{d}"' for d in disks) + "]")
    return "\n".join(lines) + "\n"


def copy_into_share(share: Path, src: Path, name: str) -> Path:
    """Copy a host file into the 9p share (so dom0 sees it at /host/<name>)."""
    if not src.is_file():
        raise GuestError(f"{src} does not exist or is not a file: build it or fix the path")
    dst = share / name
    shutil.copyfile(src, dst)
    return dst


def no_such_domain(output: str) -> bool:
    """True if xl's error output says the domain does not exist."""
    out = output.lower()
    return "not found" in out or "invalid" in out or "does not exist" in out


class Host:
    """Xen + dom0: `dom0(cmd)`, `create(spec)`, `xl_list()`, `xl_dmesg()`, `domid()`, `copy_out()`."""

    def __init__(self, machine: Machine, share: Path, console: Console, agent: Agent,
                 shim: bool = False) -> None:
        self.machine = machine
        self.share = share
        self.console = console
        self.agent = agent
        self.log = machine.serial_log
        self.shim = shim  # guests run through the PV shim unless their spec says

    @classmethod
    def start(cls, machine: Machine, share: Path, fresh: bool, shim: bool = False) -> Host:
        console = machine.console()
        machine.resume()
        if fresh:
            try:
                console.expect([READY], timeout=180)
                console.expect([re.escape(PROMPT)], timeout=30)
            except LabError as exc:
                raise LabError(f"dom0 did not come up: {exc}") from None
        agent = Agent(run_socket(machine.run_dir, "ctl"), machine.serial_log)
        host = cls(machine, share, console, agent, shim)
        host.dom0("true", timeout=60)
        if fresh:
            machine.savevm()
        res = host.dom0(MOUNT_9P + " && mkdir -p /run/xenlab/disks", timeout=30)
        if res.status:
            raise LabError(f"mounting the 9p share in dom0 failed: {res.output.strip()}")
        host.set_wall_clock()
        return host

    def set_wall_clock(self) -> None:
        """Set dom0's clock, and so Xen's wall clock, from this machine's.

        A restored snapshot brings back the time it was taken at; a PV Linux dom0 passes
        settimeofday on to Xen (XENPF_settime), and every guest reads its wall clock from
        Xen. The command goes out just before a second begins and names that second, so
        the clock is right to within the agent's latency (~0.1 s)."""
        now = time.time()
        time.sleep(1 - (now - int(now)))
        res = self.dom0(f"date -u -s @{int(now) + 1} >/dev/null", timeout=30)
        if res.status:
            raise LabError(f"setting dom0's clock failed: {res.output.strip()}")

    @classmethod
    def attach(cls, run_dir: Path, share: Path) -> tuple[Console, Agent]:
        """Console + agent of a lab started by `xenlab up` (another process)."""
        return attach_console(run_dir), Agent(run_socket(run_dir, "ctl"), run_dir / "serial.log")

    def dom0(self, command: str, timeout: float = 60) -> CommandResult:
        return self.agent.run(command, timeout)

    def check(self, command: str, timeout: float = 60) -> str:
        return self._checked(command, self.dom0(command, timeout))

    def _checked(self, command: str, res: CommandResult) -> str:
        if res.status:
            raise LabError(f"dom0 command {command!r} failed ({res.status}): {res.output.strip()}"
                           f"; serial log: {self.log}")
        return res.output

    def xl_list(self, name: str | None = None) -> str:
        """`xl list -v`, of every domain or of `name` only ("" when there is no such domain)."""
        if name is None:
            return self.check("xl list -v")
        command = f"xl list -v {shlex.quote(name)}"
        res = self.dom0(command)
        if res.status and no_such_domain(res.output):
            return ""
        return self._checked(command, res)

    def domid(self, name: str) -> int:
        """The domain id of domain `name` (`xl domid`)."""
        return int(self.check(f"xl domid {shlex.quote(name)}").strip())

    def xl_dmesg(self) -> str:
        return self.check("xl dmesg")

    def copy_out(self, dom0_path: str, host_path: Path) -> None:
        """Copy a dom0 file to the host through the 9p share."""
        name = f"out-{time.monotonic_ns()}"
        self.check(f"cp {shlex.quote(dom0_path)} /host/{name} && sync")
        shutil.move(str(self.share / name), host_path)

    def create(self, spec: GuestSpec, timeout: float = 60) -> Guest:
        """`xl create` (paused), attach `xl console` on hvc0, unpause."""
        check_pv_kernel(spec.kernel)
        if spec.shim is None:
            spec = dataclasses.replace(spec, shim=self.shim)
        copy_into_share(self.share, spec.kernel, f"{spec.name}.kernel")
        disks, copies = [], [f"cp /host/{spec.name}.kernel /host/{spec.name}.cfg /run/xenlab/"]
        for i, (path, mode) in enumerate(spec.disks):
            copy_into_share(self.share, path, f"{spec.name}.disk{i}")
            copies.append(f"cp /host/{spec.name}.disk{i} /run/xenlab/disks/{spec.name}.disk{i}")
            disks.append(f"file:/run/xenlab/disks/{spec.name}.disk{i},xvd{chr(97 + i)},{mode}")
        ramdisk = None
        if spec.ramdisk:
            copy_into_share(self.share, spec.ramdisk, f"{spec.name}.ramdisk")
            copies.append(f"cp /host/{spec.name}.ramdisk /run/xenlab/")
            ramdisk = f"/run/xenlab/{spec.name}.ramdisk"
        cfg = guest_config(spec, f"/run/xenlab/{spec.name}.kernel", disks, ramdisk)
        (self.share / f"{spec.name}.cfg").write_text(cfg)
        # One round trip: copies, then xl create (each agent call costs ~0.3 s under TCG).
        script = " && ".join([*copies, f"xl create -p /run/xenlab/{spec.name}.cfg"])
        res = self.dom0(script, timeout=timeout)
        if res.status:
            tail = self.dom0("tail -n 20 /var/log/xen/xen-hotplug.log 2>/dev/null").output
            raise GuestError(f"xl create of {spec.name} failed ({res.status}): {res.output.strip()}"
                             f"\nhotplug log tail:\n{tail}\nserial log: {self.log}")
        self.attach_console(spec.name)
        self.check(f"xl unpause {spec.name}")
        return Guest(self, spec)

    def attach_console(self, name: str) -> None:
        """`xl console NAME` on dom0's hvc0 (the console tests read): at create, and again
        after the domain was restored or migrated (a new domain, whose console is new)."""
        self.console.send(f"xl console {name}\r")
        self.console.expect([re.escape(f"xl console {name}") + r"\r*\n"], timeout=10)
        time.sleep(0.2)

    def close(self) -> None:
        self.agent.close()
        self.console.close()
        self.machine.close()


class Guest:
    """A domU: `console` (xl console on dom0's hvc0), `wait_shutdown()`, `destroy()`."""

    def __init__(self, host: Host, spec: GuestSpec) -> None:
        self.host = host
        self.spec = spec
        self.name = spec.name
        self.console = host.console

    def describe(self) -> str:
        """One line for the user: the guest's name and how it runs."""
        how = "inside the PV shim (type=pvh, pvshim=1)" if self.spec.shim else "as a PV guest"
        return f"{self.name} ({self.spec.kernel.name}, {how})"

    def reason(self) -> ExitReason | None:
        return parse_xl_list_v(self.host.xl_list(self.name), self.name)

    def wait_shutdown(self, timeout: float = 60) -> ExitReason:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            reason = self.reason()
            if reason is not None:
                return reason
            time.sleep(0.5)
        return ExitReason.TIMEOUT

    def destroy(self) -> None:
        self.host.console.send("\x1d")
        res = self.host.dom0(f"xl destroy {self.name}")
        if res.status and not no_such_domain(res.output):
            raise GuestError(f"xl destroy {self.name} failed: {res.output.strip()}")
        self.host.console.send("\r")
