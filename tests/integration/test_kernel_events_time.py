"""Events, time and threads under real Xen (kernel/xen/evtchn/evtchn.c, time.c, schedop.c,
multicall.c, kernel/timer.c, sched.c, thread.c, stack.c, thread_cmd.c,
kernel/arch/x86_32/upcall.S, switch.S, fpu.c).

Inside: the self-test suites of this part pass as dom0 and as a domU.
Outside: `sleep 2` takes about 2 s of real time (and the VCPU sleeps meanwhile),
`date` agrees with the clock of the machine running QEMU, Xen's debug key 'q'
reaches the kernel as VIRQ_DEBUG, `threads` / `events` / `timers` describe the
running kernel. Boots are slow, so each mode boots one kernel and the tests of
that mode share it (class-scoped fixtures, in file order).
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from kshell import SUMMARY, Shell, build_static_peer, domu_shell

from xenlab import DomZeroRun, ExitReason, Guest, Host, Lab
from xenlab.selftest_results import of_files, suite_list, suite_results

PEER_SRC = Path(__file__).with_name("evtchn_peer.c")
# This part's suites: those of <stem>_selftest.c, as the kernel lists them.
PART = ("evtchn", "time", "timer", "schedop", "multicall", "sched", "fpu")
BOOT_TIMEOUT = 180
COMMAND_TIMEOUT = 60
SLEEP_S = 2
SLEEP_MIN_S, SLEEP_MAX_S = 1.5, 6.0  # TCG is slow: generous above, never ~0
DATE_TOLERANCE_S = 2
# As dom0, Xen read the wall clock from the CMOS RTC (whole seconds) at its boot
# and we compare with the host's clock through QEMU: one second more of slack.
DOM0_DATE_TOLERANCE_S = 3
SLEEP_CPU_MAX_S = 1.0  # VCPU time used during `sleep 2`: it blocks, never spins
XEN_CONSWITCH = "\x01\x01\x01"
STORM_S = 8           # how long evtchn_peer notifies without pause
STORM_PROBES = 10     # shell round trips measured meanwhile
STORM_ANSWER_S = 1.0  # each within this  # Ctrl-A three times: serial input to Xen and back


def echoless_shell(run: DomZeroRun) -> Shell:
    """The shell on a dom0 run's console, at its prompt; run() drops the echoed command line."""
    shell = Shell(run.console, run.log, COMMAND_TIMEOUT, drop_echo=True)
    shell.wait_prompt(BOOT_TIMEOUT)
    return shell


def guest_unix_time(date_output: str) -> float:
    m = re.search(r"(\d{4})-(\d\d)-(\d\d) (\d\d):(\d\d):(\d\d) UTC unix=(\d+)\.(\d{3})", date_output)
    assert m, f"no date in {date_output!r}"
    return int(m.group(7)) + int(m.group(8)) / 1000


def check_threads(out: str) -> None:
    rows = {m.group(2): m.group(3) for m in
            re.finditer(r"^\s*(\d+)\s+(\S+)\s+(free|runnable|running|blocked|dead)\b", out, re.MULTILINE)}
    assert rows.get("main") == "running", out
    assert rows.get("idle") in ("runnable", "running"), out
    assert re.search(r"main .*<- current", out), out
    assert re.search(r"\d+ switches; #NM \d+, FPU state loads \d+", out), out


def check_events(out: str, min_timer_events: int) -> None:
    timer = re.search(r"^\s*(\d+)\s+virq 0 \(VIRQ_TIMER\) vcpu 0\s+(\d+)\s+yes", out, re.MULTILINE)
    debug = re.search(r"^\s*(\d+)\s+virq \d+ \(VIRQ_DEBUG\) vcpu 0\s+(\d+)\s+yes", out, re.MULTILINE)
    assert timer and debug, out
    assert int(timer.group(2)) >= min_timer_events, out
    assert re.search(r"\d+ ports; \d+ upcalls, \d+ events", out), out


def timed_sleep(shell: Shell) -> float:
    start = time.monotonic()
    out = shell.run(f"sleep {SLEEP_S}", timeout=SLEEP_MAX_S * 5)
    took = time.monotonic() - start
    assert "usage" not in out, out
    return took


# ---- dom0 mode: our kernel is Xen's dom0, its console is Xen's serial ----

def test_suites_pass_as_dom0(dom0_lab: Lab, kernel_elf: Path) -> None:
    """Every suite of this part passes (evtchn_storm may SKIP on a machine too slow for it)."""
    with dom0_lab.boot_dom0_kernel(kernel_elf, "selftest=all", 256) as run:
        run.console.expect([SUMMARY], timeout=BOOT_TIMEOUT)
        text = run.console.before
    names = of_files(suite_list(text), PART)
    results = suite_results(text)
    missing = [s for s in names if s not in results]
    failed = {s: r for s, r in results.items() if s in names and r.verdict == "FAIL"}
    assert names and not missing and not failed, \
        f"missing {missing}, failed {failed}; log {run.log}"


@pytest.fixture(scope="class")
def dom0_shell(dom0_lab: Lab, kernel_elf: Path) -> Iterator[tuple[DomZeroRun, Shell]]:
    with dom0_lab.boot_dom0_kernel(kernel_elf, "", 256) as run:
        yield run, echoless_shell(run)


class TestDom0Shell:
    def test_sleep_takes_real_time(self, dom0_shell: tuple[DomZeroRun, Shell]) -> None:
        _, shell = dom0_shell
        took = timed_sleep(shell)
        assert SLEEP_MIN_S <= took <= SLEEP_MAX_S, f"sleep {SLEEP_S} took {took:.2f} s"

    def test_date_matches_host(self, dom0_shell: tuple[DomZeroRun, Shell]) -> None:
        _, shell = dom0_shell
        before = time.time()
        guest = guest_unix_time(shell.run("date"))
        after = time.time()
        assert before - DOM0_DATE_TOLERANCE_S <= guest <= after + DOM0_DATE_TOLERANCE_S, \
            f"guest {guest:.3f}, host {before:.3f}..{after:.3f}"

    def test_debug_key_delivers_virq_debug(self, dom0_shell: tuple[DomZeroRun, Shell]) -> None:
        run, shell = dom0_shell
        run.console.send(XEN_CONSWITCH)
        run.console.expect([r"Serial input to Xen"], timeout=30)
        run.console.send("q")
        run.console.expect([r"event: VIRQ_DEBUG received \(n=1, port \d+\)"], timeout=120)
        run.console.send(XEN_CONSWITCH)
        run.console.expect([r"Serial input to DOM0"], timeout=30)
        out = shell.run("events")
        check_events(out, min_timer_events=1)
        assert re.search(r"VIRQ_DEBUG\) vcpu 0\s+1\s+yes", out), out

    def test_threads_and_timers(self, dom0_shell: tuple[DomZeroRun, Shell]) -> None:
        _, shell = dom0_shell
        check_threads(shell.run("threads"))
        out = shell.run("timers")
        assert re.search(r"\d+ armed; VIRQ_TIMER \d+, fired \d+, set_timer_op \d+", out), out


def test_failsafe_callback_reports_and_crashes(boot_dom0: Callable[..., DomZeroRun],
                                               kernel_elf: Path) -> None:
    run = boot_dom0(kernel_elf)
    echoless_shell(run)
    run.console.send("failsafe\r")
    fatal = (r"\*\*\* FATAL (panic: )?failsafe callback: .*ds=[0-9a-f]{4} es=[0-9a-f]{4} "
             r"fs=[0-9a-f]{4} gs=[0-9a-f]{4} eip=[0-9a-f]{8}")
    run.console.expect([fatal], timeout=60)
    assert run.wait_exit(60) is ExitReason.CRASH


# ---- domU mode: xl create on a Linux dom0; its console is `xl console` ----

FAILSAFE_SEL = 0x21  # gdt.h: SCRATCH_SEL, GDT slot 4, RPL 1


def test_failsafe_callback_for_real_crashes_domu(xen_host: Host, kernel_elf: Path) -> None:
    """`failsafe real` (kernel/arch/x86_32/failsafe.c): %gs holds a selector whose descriptor
    is then made not present; `xl pause` makes Xen save our state, so after `xl unpause` the
    next run is a full context switch, Xen's load_segments() cannot reload %gs and enters
    the failsafe callback (Xen 4.17 xen/arch/x86/domain.c)."""
    if xen_host.shim:
        pytest.skip("through the PV shim the guest is the shim's only vCPU: `xl pause` stops "
                    "the shim's PVH domain, and the shim never switches the guest's context out "
                    "(Xen switches lazily while only its idle vCPU runs between: "
                    "context_switch() in xen/arch/x86/domain.c), so %gs is never reloaded; "
                    "the dom0-mode test shows the failsafe callback")
    name = "failsafe-real"
    with domu_shell(xen_host, kernel_elf, name, 32, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    drop_echo=True) as shell:
        assert shell.guest is not None
        guest = shell.guest
        guest.console.send("failsafe real 120\r")
        guest.console.expect([rf"failsafe: armed: %gs = {FAILSAFE_SEL:#x}"], timeout=60)
        xen_host.check(f"xl pause {name} && sleep 1 && xl unpause {name}")
        fatal = (r"\*\*\* FATAL (panic: )?failsafe callback: .*ds=[0-9a-f]{4} es=[0-9a-f]{4} "
                 rf"fs=[0-9a-f]{{4}} gs={FAILSAFE_SEL:04x} eip=[0-9a-f]{{8}}")
        guest.console.expect([fatal], timeout=120)
        assert guest.wait_shutdown(60) is ExitReason.CRASH, f"log: {xen_host.log}"


@pytest.fixture(scope="class")
def domu(xen_host: Host, kernel_elf: Path) -> Iterator[tuple[Guest, Shell]]:
    with domu_shell(xen_host, kernel_elf, "evtime", 32, BOOT_TIMEOUT, COMMAND_TIMEOUT,
                    drop_echo=True) as shell:
        assert shell.guest is not None
        yield shell.guest, shell


def vcpu_seconds(host: Host, name: str) -> float:
    """CPU time Xen has charged to the guest's VCPU 0 (`xl vcpu-list`)."""
    out = host.check(f"xl vcpu-list {name}")
    for line in out.splitlines():
        words = line.split()
        if len(words) >= 6 and words[0] == name and words[2] == "0":
            return float(words[5])
    raise AssertionError(f"no VCPU 0 for {name} in {out!r}")


class TestDomU:
    def test_suites_pass(self, domu: tuple[Guest, Shell]) -> None:
        _, shell = domu
        failed = {n: r for n, r in shell.run_suites(PART).items() if r.verdict == "FAIL"}
        assert not failed, failed

    def test_sleep_blocks_in_xen(self, xen_host: Host, domu: tuple[Guest, Shell]) -> None:
        guest, shell = domu
        cpu0 = vcpu_seconds(xen_host, guest.name)
        took = timed_sleep(shell)
        cpu = vcpu_seconds(xen_host, guest.name) - cpu0
        assert SLEEP_MIN_S <= took <= SLEEP_MAX_S, f"sleep {SLEEP_S} took {took:.2f} s"
        assert cpu < SLEEP_CPU_MAX_S, f"the VCPU ran {cpu:.2f} s during sleep {SLEEP_S}"

    def test_idle_shell_blocks_in_xen(self, xen_host: Host, domu: tuple[Guest, Shell]) -> None:
        """At the prompt the kernel waits in wait_for_event: its VCPU is blocked, not polling."""
        guest, shell = domu
        shell.run("uptime")
        cpu0 = vcpu_seconds(xen_host, guest.name)
        time.sleep(SLEEP_S)
        cpu = vcpu_seconds(xen_host, guest.name) - cpu0
        assert cpu < SLEEP_CPU_MAX_S, f"the idle VCPU ran {cpu:.2f} s in {SLEEP_S} s"

    def test_date_matches_this_machine(self, domu: tuple[Guest, Shell]) -> None:
        # Against the clock of the machine running QEMU, not dom0's: dom0's is a PV
        # guest's clock too, and after a snapshot restore it is the snapshot's until
        # the lab sets it (Host.set_wall_clock).
        _, shell = domu
        before = time.time()
        guest = guest_unix_time(shell.run("date"))
        after = time.time()
        assert before - DATE_TOLERANCE_S <= guest <= after + DATE_TOLERANCE_S, \
            f"guest {guest:.3f}, this machine {before:.3f}..{after:.3f}"

    def test_debug_key_delivers_virq_debug(self, xen_host: Host,
                                           domu: tuple[Guest, Shell]) -> None:
        guest, shell = domu
        if xen_host.shim:
            pytest.skip("through the PV shim a VIRQ is bound in the shim's own Xen (only the "
                        "port comes from L0: EVTCHNOP_bind_virq in xen/arch/x86/pv/shim.c), so "
                        "L0's VIRQ_DEBUG from `xl debug-keys` goes to the shim, not its guest")
        xen_host.check("xl debug-keys q")
        guest.console.expect([r"event: VIRQ_DEBUG received \(n=1, port \d+\)"], timeout=120)
        out = shell.run("events")
        check_events(out, min_timer_events=1)
        assert re.search(r"VIRQ_DEBUG\) vcpu 0\s+1\s+yes", out), out

    def test_threads_uptime_timers(self, domu: tuple[Guest, Shell]) -> None:
        _, shell = domu
        check_threads(shell.run("threads"))
        assert re.search(r"up \d+\.\d{3} s", shell.run("uptime"))
        out = shell.run("timers")
        assert re.search(r"\d+ armed; VIRQ_TIMER \d+, fired \d+, set_timer_op \d+", out), out

    def test_interdomain_with_dom0(self, xen_host: Host, domu: tuple[Guest, Shell],
                                   tmp_path: Path) -> None:
        """dom0 binds to a port we offer, and events go both ways (evtchn_peer.c)."""
        guest, shell = domu
        peer = build_static_peer(xen_host, PEER_SRC, tmp_path)
        domid = xen_host.domid(guest.name)
        out = shell.run("evtchn alloc 0")
        m = re.search(r"evtchn: port (\d+) unbound, for dom 0", out)
        assert m, out
        port = int(m.group(1))
        xen_host.check(f"({peer} {domid} {port} 60 >/run/xenlab/peer.log 2>&1 &)")
        guest.console.expect([rf"event: port {port} \(n=1\)"], timeout=60)
        wait_dom0_file(xen_host, "/run/xenlab/peer.log", "peer: notified")
        out = shell.run("events")  # Xen's view while the peer holds its end
        assert re.search(rf"^\s*{port}\s+interdomain, dom 0 port \d+\s+1\s+yes", out,
                         re.MULTILINE), out
        assert f"evtchn: send port {port} ok" in shell.run(f"evtchn send {port}")
        log = wait_dom0_file(xen_host, "/run/xenlab/peer.log", "peer: event on port")
        assert "peer: ready" in log, log
        # The peer has exited: Linux closed its end, ours is unbound again.
        assert re.search(rf"^\s*{port}\s+unbound, for dom 0", shell.run("events"), re.MULTILINE)
        assert f"evtchn: close port {port} ok" in shell.run(f"evtchn close {port}")


    def test_event_storm_costs_bounded_cpu(self, xen_host: Host, domu: tuple[Guest, Shell],
                                           tmp_path: Path) -> None:
        """A peer that notifies without pause (evtchn_peer.c's storm mode): the shell keeps
        answering within a second, and the events did arrive. (With the lab's one CPU, dom0
        and the guest take turns, so the guest sees fewer events than the storm guard's
        threshold; the `evtchn_storm` suite drives the guard past it.)"""
        guest, shell = domu
        peer = build_static_peer(xen_host, PEER_SRC, tmp_path)
        out = shell.run("evtchn alloc 0")
        m = re.search(r"evtchn: port (\d+) unbound, for dom 0", out)
        assert m, out
        port = int(m.group(1))
        xen_host.check(f"({peer} {xen_host.domid(guest.name)} {port} 60 storm {STORM_S} "
                       ">/run/xenlab/storm.log 2>&1 &)")
        wait_dom0_file(xen_host, "/run/xenlab/storm.log", "peer: ready")
        slowest = 0.0
        for _ in range(STORM_PROBES):
            start = time.monotonic()
            shell.alive()
            slowest = max(slowest, time.monotonic() - start)
        log = wait_dom0_file(xen_host, "/run/xenlab/storm.log", "peer: storm done",
                             timeout=STORM_S + 60)
        assert slowest < STORM_ANSWER_S, f"the shell took {slowest:.2f} s during the storm"
        out = shell.run("events")
        row = re.search(rf"^\s*{port}\s+\S.*?\s(\d+)\s+yes", out, re.MULTILINE)
        assert row and int(row.group(1)) > 0, f"{log}\n{out}"
        shell.alive()
        assert f"evtchn: close port {port} ok" in shell.run(f"evtchn close {port}")


def wait_dom0_file(host: Host, path: str, text: str, timeout: float = 60) -> str:
    deadline = time.monotonic() + timeout
    while True:
        content = host.dom0(f"cat {path}").output
        if text in content:
            return content
        assert time.monotonic() < deadline, f"{text!r} not in {path}: {content!r}"
        time.sleep(0.5)
