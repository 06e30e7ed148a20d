"""One guest boot as the bench sees it: `xl create -c` typed on dom0's console, timed to
the guest's ready marker, with the guest's files staged in dom0 beforehand.

Staging (kernel, initramfs, config) happens once per peer and outside the
timed part, so a 50 MB Linux image costs no copying time in its boot figure.
The clock runs from the moment the command line is echoed back by dom0's
shell until the marker arrives: xl's domain building, the hotplug scripts
(when there are devices) and the guest's own boot.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import dataclass

import pexpect

from xenlab.bench.peers import Peer
from xenlab.errors import LabError
from xenlab.exits import parse_xl_list_v
from xenlab.host import GuestSpec, Host, guest_config

Say = Callable[[str], None]  # a progress line's sink
STAGE = "/run/xenlab/bench"
DOM0_PROMPT = "dom0# "
# Text after which waiting any longer is pointless: a guest that died.
FAILURES = [r"Kernel panic", r"\*\*\* FATAL", r"PANIC", r"libxl: error"]
POLL = 3.0  # seconds between looks at `xl list` while waiting for a marker
LAST_WORDS = 15.0  # seconds to wait for a stopped guest's output to come through


@dataclass
class Booted:
    """A guest that came up (`seconds`: command to marker) or did not (`error`)."""

    name: str
    seconds: float | None
    text: str  # the console output up to the marker
    error: str = ""
    marker: str = ""  # the text that matched the marker


def stage(host: Host, peer: Peer) -> None:
    """Copy the peer's kernel (and initramfs) into dom0's STAGE folder, once."""
    names = [f"{peer.name}.kernel"] + ([f"{peer.name}.ramdisk"] if peer.ramdisk else [])
    for src, name in zip(peer.images(), names, strict=True):
        (host.share / name).write_bytes(src.read_bytes())
    host.check(f"mkdir -p {STAGE} && cp " + " ".join(f"/host/{n}" for n in names) + f" {STAGE}/",
               timeout=120)


def boot(host: Host, peer: Peer, name: str, timeout: float, *, memory_mib: int | None = None,
         cmdline: str | None = None, vifs: tuple[str, ...] = (), disks: tuple[str, ...] = (),
         vcpus: int = 1) -> Booted:
    """Create `name` from the staged peer, attached to its console, and wait for the marker.

    `disks` are xl disk specs of files already in dom0 ("file:/run/x.img,xvda,r").
    The guest is left running (destroy() it); on failure it is destroyed here."""
    spec = GuestSpec(kernel=peer.kernel, name=name,
                     memory_mib=memory_mib or peer.memory_mib,
                     cmdline=peer.cmdline if cmdline is None else cmdline, vifs=vifs,
                     shim=host.shim if peer.shim is None else peer.shim, vcpus=vcpus)
    ramdisk = f"{STAGE}/{peer.name}.ramdisk" if peer.ramdisk else None
    cfg = guest_config(spec, f"{STAGE}/{peer.name}.kernel", list(disks), ramdisk)
    (host.share / f"{name}.cfg").write_text(cfg)
    host.check(f"cp /host/{name}.cfg {STAGE}/")
    command = f"xl create -c {STAGE}/{name}.cfg"
    drain(host)
    host.console.send(command + "\r")
    host.console.expect([re.escape(command) + r"\r*\n"], timeout=10)
    start = time.monotonic()
    patterns = [peer.marker, re.escape(DOM0_PROMPT), *FAILURES]
    deadline = start + timeout
    seen = ""
    while True:
        wait = min(POLL, max(0.1, deadline - time.monotonic()))
        try:
            i = host.console.child.expect(patterns, timeout=wait)
        except pexpect.EOF:
            raise LabError(f"dom0's console closed while {name} booted; log {host.log}") from None
        except pexpect.TIMEOUT:  # look at the domain, then go on waiting
            reason = parse_xl_list_v(host.xl_list(name), name)
            if reason is not None and deadline - time.monotonic() > LAST_WORDS:
                # The console lags the domain's state (xenconsoled, xl console, dom0's
                # hvc0, the serial line): what it printed before stopping still counts.
                deadline = time.monotonic() + LAST_WORDS
                continue
            if reason is not None or time.monotonic() >= deadline:
                seen += str(host.console.child.before or "")
                why = f"guest stopped ({reason.name.lower()})" if reason else \
                    f"no ready marker within {timeout:.0f} s"
                destroy(host, name)
                return Booted(name, None, seen, why)
            continue
        took = time.monotonic() - start
        seen += host.console.before
        if i == 0:
            return Booted(name, took, seen, marker=str(host.console.child.after))
        what = "xl create returned to the dom0 prompt" if i == 1 else \
            f"the guest printed {FAILURES[i - 2]!r}"
        destroy(host, name)
        return Booted(name, None, seen, what)


def destroy(host: Host, name: str) -> None:
    """Leave the console (Ctrl-]), destroy the guest (fine if it is gone already), and wait
    for dom0's prompt: a guest's last words must not reach the next boot's markers."""
    host.console.send("\x1d")
    host.dom0(f"xl destroy {name} 2>/dev/null; true", timeout=60)
    host.console.send("\r")
    try:
        host.console.child.expect([re.escape(DOM0_PROMPT)], timeout=60)
    except (pexpect.TIMEOUT, pexpect.EOF):
        pass
    drain(host)


def drain(host: Host, quiet: float = 0.5, limit: float = 10.0) -> None:
    """Read away what is still on its way to the console, until it is quiet for `quiet` s."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        try:
            host.console.child.read_nonblocking(65536, timeout=quiet)
        except (pexpect.TIMEOUT, pexpect.EOF):
            return


def shell(host: Host, command: str, expect: str, timeout: float) -> str | None:
    """Type `command` on the guest's console; what came before `expect`, None on timeout."""
    host.console.send(command + "\r")
    try:
        host.console.expect([expect], timeout)
    except LabError:
        return None
    return host.console.before
