"""The kernel's shell (`xenolith> `) as integration tests talk to it.

`Shell` wraps one console: `run(command)` sends a line and returns what came
back before the next prompt (with `drop_echo=True`, without the echoed
command line); `selftest(suite)` runs one suite and returns (PASS|FAIL|SKIP,
detail); `suites()` is the kernel's `selftest list`, `run_suites(stems)` runs
the suites of a part's files (`<stem>_selftest.c`). Result lines are read by
xenlab.selftest_results, the one parser of them. `domu_shell` and `dom0_shell` boot Xenolith to its prompt and yield
a `Shell` (the domU is destroyed afterwards; `Shell.boot` is what it printed
while booting). Small helpers: `lines(out)`, `make_image(...)`,
`build_static_peer(...)` (a gcc -static program copied into dom0),
`serve_host(lab)` (the body of a fixture that yields a running Xen + dom0). Whole
checks that more than one test module runs (the main suite, and the smoke on
another Xen release): `dom0_selftest_all`, `domu_selftest_all`,
`grub_with_vif_and_disk`.

Imported by the test modules next to it as `from kshell import ...` (pytest's
default "prepend" import mode puts tests/integration on sys.path).
"""

from __future__ import annotations

import contextlib
import re
import shutil
import time
import warnings
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from xenlab import ExitReason, Guest, GuestSpec, Host, Lab
from xenlab.console import Console
from xenlab.cprog import build_static
from xenlab.host import copy_into_share
from xenlab.host import domain_mib as host_domain_mib
from xenlab.selftest_results import (
    SUMMARY_LINE,
    XTF_RESULT_LINE,
    KnownFailure,
    Suite,
    SuiteResult,
    known_failures,
    of_files,
    problems,
    suite_list,
    suite_result,
    suite_results,
    summary,
    xtf_result,
)

PROMPT = "xenolith> "
BANNER = r"Xenolith \S+ booting as {mode}"
SUMMARY = SUMMARY_LINE.pattern
XTF_RESULT = XTF_RESULT_LINE.pattern  # XTF's line, after the summary
BOOT_TIMEOUT = 120
SELFTEST_TIMEOUT = 300
EXIT_TIMEOUT = 60
DEFAULT_COMMAND_TIMEOUT = 120
SECTOR = 512


@dataclass
class Shell:
    """The kernel's shell on one console; `log` is the file to read when a test fails."""

    console: Console
    log: Path
    command_timeout: float = DEFAULT_COMMAND_TIMEOUT
    guest: Guest | None = None  # the domU, when the shell is a domU's
    drop_echo: bool = False  # run() returns only what the command printed
    boot: str = ""  # what the kernel printed before its first prompt (domu_shell)

    def wait_prompt(self, timeout: float) -> str:
        """Wait for the next prompt; return what came before it."""
        self.console.expect([re.escape(PROMPT)], timeout)
        return self.console.before

    def run(self, command: str, timeout: float | None = None) -> str:
        """Send one command line; return what came back before the next prompt (echo included
        unless `drop_echo`)."""
        self.console.send(command + "\r")
        out = self.wait_prompt(self.command_timeout if timeout is None else timeout)
        if self.drop_echo:
            return out.split("\n", 1)[1] if "\n" in out else ""
        return out

    def selftest(self, suite: str) -> tuple[str, str]:
        """Run one suite from the shell: (PASS|FAIL|SKIP, detail)."""
        out = self.run(f"selftest {suite}")
        r = suite_result(out, suite)
        assert r, f"no result line for suite {suite!r} in:\n{out}\nlog: {self.log}"
        return r.verdict, r.detail

    def suites(self) -> list[Suite]:
        """The kernel's suites, as `selftest list` gives them."""
        listed = suite_list(self.run("selftest list"))
        assert listed, f"`selftest list` listed nothing; log: {self.log}"
        return listed

    def run_suites(self, stems: tuple[str, ...]) -> dict[str, SuiteResult]:
        """Run, in one `selftest` command, every suite of the files `<stem>_selftest.c`;
        their results by name (each suite listed has one)."""
        names = of_files(self.suites(), stems)
        assert names, f"no suites in files {stems}; log: {self.log}"
        out = self.run(f"selftest {','.join(names)}", timeout=SELFTEST_TIMEOUT)
        results = suite_results(out)
        missing = [n for n in names if n not in results]
        assert not missing, f"no result line for {missing} in:\n{out}\nlog: {self.log}"
        return {n: results[n] for n in names}

    def alive(self) -> None:
        out = self.run("echo alive")
        assert re.search(r"^alive\r*$", out, re.MULTILINE), f"shell did not answer: {out!r}; log {self.log}"


def domain_mib(host: Host, guest_mib: int) -> int:
    """The domain size (as `xl list` shows it) that gives Xenolith about `guest_mib` MiB:
    through the PV shim the domain holds the shim too (SHIM_MIB)."""
    return host_domain_mib(guest_mib, host.shim)


def guest_pages(shell: Shell, host: Host, guest_mib: int) -> int:
    """The pages Xenolith has when given `guest_mib` (kshell's domain_mib): all of them
    classically; through the shim, the domain's less the shim's share, as `mem` reports the
    two (the share depends on the shim's build, so it is read, not assumed)."""
    if not host.shim:
        return guest_mib * 256
    out = shell.run("mem")
    m = re.search(r"toolstack target (\d+) pages \(\d+ MiB\) for the domain, of which (\d+) "
                  r"pages", out)
    assert m, f"`mem` does not give the domain's target and the shim's share:\n{out}"
    return int(m.group(1)) - int(m.group(2))


@contextlib.contextmanager
def domu_shell(host: Host, kernel: Path, name: str, memory_mib: int, boot_timeout: float,
               command_timeout: float = DEFAULT_COMMAND_TIMEOUT, *, cmdline: str = "",
               vifs: tuple[str, ...] = (), disks: tuple[tuple[Path, str], ...] = (),
               drop_echo: bool = False, vcpus: int = 1) -> Iterator[Shell]:
    """Xenolith as a domU of the Linux dom0 (console through `xl console`), at its prompt.

    `cmdline`, `vifs`, `disks` and `vcpus` are GuestSpec's; `memory_mib` is the kernel's (the domain
    also holds the shim, if any: domain_mib); the shell's `boot` is the boot text."""
    guest = host.create(GuestSpec(kernel=kernel, name=name,
                                  memory_mib=domain_mib(host, memory_mib),
                                  cmdline=cmdline, vifs=vifs, disks=disks, vcpus=vcpus))
    try:
        sh = Shell(guest.console, host.log, command_timeout, guest, drop_echo)
        sh.boot = sh.wait_prompt(boot_timeout)
        yield sh
    finally:
        guest.destroy()


@contextlib.contextmanager
def dom0_shell(lab: Lab, kernel: Path, cmdline: str, memory_mib: int, boot_timeout: float,
               command_timeout: float = DEFAULT_COMMAND_TIMEOUT) -> Iterator[Shell]:
    """Xenolith as dom0 (its console is Xen's serial line), at its prompt."""
    with lab.boot_dom0_kernel(kernel, cmdline, memory_mib) as run:
        run.console.expect([re.escape(PROMPT)], timeout=boot_timeout)
        yield Shell(run.console, run.log, command_timeout)


def lines(out: str) -> list[str]:
    """What a command printed, without its echoed line (stripped, blank lines dropped)."""
    return [ln.strip() for ln in out.replace("\r", "").split("\n")[1:] if ln.strip()]


def make_image(path: Path, probe: bytes, sectors: int) -> Path:
    """A disk image of `sectors` zeroed 512-byte sectors with `probe` at the start of sector 5."""
    data = bytearray(sectors * SECTOR)
    data[5 * SECTOR:5 * SECTOR + len(probe)] = probe
    path.write_bytes(bytes(data))
    return path


def serve_host(lab: Lab, memory_mib: int = 2048) -> Iterator[Host]:
    """A fixture's body: `yield from serve_host(lab)` starts Xen + dom0 of `lab`, yields the
    Host, and closes it when the fixture's scope ends."""
    host = lab.up(memory_mib=memory_mib)
    try:
        yield host
    finally:
        host.close()


def build_static_peer(host: Host, src: Path, out_dir: Path) -> str:
    """Build `src` with gcc -static on the host (skip without gcc), copy it into dom0 as
    /run/xenlab/<stem> (executable); return that dom0 path."""
    if not shutil.which("gcc"):
        pytest.skip(f"gcc is needed to build {src.name}")
    out = build_static(src, out_dir / src.stem)
    copy_into_share(host.share, out, src.stem)
    host.check(f"mkdir -p /run/xenlab && cp /host/{src.stem} /run/xenlab/ && "
               f"chmod +x /run/xenlab/{src.stem}")
    return f"/run/xenlab/{src.stem}"


def check_selftest_output(text: str, mode: str, log: Path,
                          known: tuple[KnownFailure, ...] = ()) -> None:
    """A `selftest=all` run in `mode`: each listed suite has its line, none failed (but as
    `known` says), those of the other mode skipped (xenlab.selftest_results.problems)."""
    wrong = problems(text, mode, known)
    assert not wrong, f"{wrong}; log: {log}"
    assert re.search(r"console: long line [a-z]{200} end \(200\)", text), (
        f"the console suite's long line did not arrive whole; log: {log}")


def dom0_selftest_all(lab: Lab, kernel: Path, memory_mib: int = 64, vcpus: int = 1) -> str:
    """Xenolith `selftest=all` as dom0 (with `vcpus` vCPUs): every suite passes and Xen
    sees a poweroff. Returns the serial log's text."""
    with lab.boot_dom0_kernel(kernel, "selftest=all", memory_mib, vcpus=vcpus) as run:
        run.console.expect([BANNER.format(mode="dom0")], BOOT_TIMEOUT)
        run.console.expect([SUMMARY], SELFTEST_TIMEOUT)
        run.console.expect([XTF_RESULT], EXIT_TIMEOUT)
        reason = run.wait_exit(EXIT_TIMEOUT)
        text = run.log.read_text(errors="replace")
        check_selftest_output(text, "dom0", run.log)
        assert xtf_result(text) == "SUCCESS", f"log: {run.log}"
        counts = summary(text)
        assert counts and counts.failed == 0, f"{counts}; log: {run.log}"
        assert reason is ExitReason.POWEROFF, f"exit {reason}; log: {run.log}"
        return text


def domu_selftest_all(host: Host, kernel: Path, name: str, memory_mib: int = 32, *,
                      cmdline: str = "", vifs: tuple[str, ...] = (),
                      disks: tuple[tuple[Path, str], ...] = (),
                      known: tuple[KnownFailure, ...] = (), vcpus: int = 1) -> str:
    """Xenolith `selftest=all` as a domU (with `vifs`, `disks` and `vcpus`): every suite
    passes but those of `known` that fail as the lab makes them (Lab.known_failures: each is
    reported as a warning), and `xl` sees a poweroff. Returns the console text up to the
    summary."""
    guest = host.create(GuestSpec(kernel=kernel, name=name,
                                  memory_mib=domain_mib(host, memory_mib),
                                  cmdline=f"selftest=all {cmdline}".strip(), vifs=vifs,
                                  disks=disks, vcpus=vcpus))
    try:
        guest.console.expect([BANNER.format(mode="domU")], BOOT_TIMEOUT)
        guest.console.expect([SUMMARY], SELFTEST_TIMEOUT)
        text = guest.console.before + guest.console.child.match.group(0)
        guest.console.expect([XTF_RESULT], EXIT_TIMEOUT)
        result = guest.console.child.match.group(1)
        # Which suite failed first (the log stays behind on a CI machine), then the verdict.
        check_selftest_output(text, "domU", host.log, known)
        happened = known_failures(text, known)
        for k in happened:
            warnings.warn(f"selftest {k.suite} failed as the lab makes it: {k.why}", stacklevel=2)
        want = "FAILURE" if happened else "SUCCESS"
        assert result == want, f"Test result: {result}; log: {host.log}"
        guest.console.expect([r"shutdown: \w+"], EXIT_TIMEOUT)
        reason = guest.wait_shutdown(EXIT_TIMEOUT)
        counts = summary(text)
        assert counts and counts.failed == len(happened), f"{counts}; log: {host.log}"
        # A run with a failure ends in a crash, for a toolstack to see (kernel/main.c).
        want_exit = ExitReason.CRASH if happened else ExitReason.POWEROFF
        assert reason is want_exit, f"xl says {reason}; log: {host.log}"
        return text
    finally:
        guest.destroy()


def grub_with_vif_and_disk(host: Host, grub: Path, tmp_path: Path, name: str) -> None:
    """Debian's GRUB i386-xen (a 32-bit PV guest that is not ours) with a vif and a disk:
    its prompt, both backends connected by the stock hotplug scripts, the disk's data."""
    disk = tmp_path / "disk.img"
    disk.write_bytes(b"XENLAB-DISK".ljust(4 * 1024 * 1024, b"\0"))
    guest = host.create(GuestSpec(kernel=grub, name=name, memory_mib=domain_mib(host, 16),
                                  vifs=("xenbr0",), disks=((disk, "w"),)))
    try:
        guest.console.expect([r"grub>"], timeout=60)
        assert guest.reason() is None
        deadline = time.monotonic() + 30
        while True:
            out = host.dom0("xenstore-ls -f /local/domain/0/backend").output
            vbd = re.search(r"backend/vbd/\d+/\d+/state = \"(\d)\"", out)
            vif = re.search(r"backend/vif/\d+/\d+/state = \"(\d)\"", out)
            if vbd and vif and vbd.group(1) in "24" and vif.group(1) in "24":
                break
            assert time.monotonic() < deadline, out
            time.sleep(1)
        assert out.count('hotplug-status = "connected"') >= 2, out
        back = tmp_path / "back.img"
        host.copy_out(f"/run/xenlab/disks/{name}.disk0", back)
        assert back.read_bytes()[:11] == b"XENLAB-DISK"
    finally:
        guest.destroy()
    assert name not in host.dom0("xl list").output


def resource_counts(shell: Shell) -> tuple[int, int]:
    """(grant references in use, free pages): what must come back after a device goes.
    `blk rescan` first joins the watch threads that ended, so their stacks count as free."""
    shell.run("blk rescan")
    grants = re.search(r"(\d+) in use, \d+ free", shell.run("grants"))
    free = re.search(r"page allocator \d+ pages, free (\d+) pages", shell.run("mem"))
    assert grants and free, f"no grant or page counts; log {shell.log}"
    return int(grants.group(1)), int(free.group(1))
