"""Thread-stack guard pages and canaries under real Xen (kernel/stack.c,
kernel/arch/x86_32/traps.c).

Every thread but main runs on a 16 KiB stack in the stack area with 48 KiB of unmapped
guard below it; the lowest 256 bytes of every stack hold a canary, checked at each switch.

- `fault stack`: a thread recurses until its stack runs into the guard. The domain must
  crash right there (`xl list -v`). The fault is taken with %esp already inside the
  guard, so Xen cannot write our exception frame and crashes the domain itself, from
  compat_create_bounce_frame, with a page walk of the faulting address in its log
  (`xl dmesg`): that address must lie in this thread's guard.
- `fault guard`: a thread reads the word just below its stack while %esp still has room,
  the guard hit Xen can deliver; our #PF handler moves to its emergency stack and prints
  `*** FATAL stack overflow in thread stackhog (guard page at 0x...)` and the dump.
- `fault stackdeep`: a thread recurses until its stack pointer is inside the canary,
  short of the guard, comes back up and switches away (a 1 ms sleep). The switch finds the canary damaged:
  `*** FATAL stack overflow in thread stackhog: canary at 0x... overwritten (high-water N
  of 16384 bytes)`, then the domain crashes.
"""

from __future__ import annotations

import re
from pathlib import Path

from kshell import Shell, domu_shell

from xenlab import ExitReason, Host

BOOT_TIMEOUT = 240
EXIT_TIMEOUT = 120
GUEST_MIB = 32
GUARD_BYTES = 48 * 1024  # sched_priv.h: STACK_GUARD_PAGES
STACK_LINE = r"fault: thread stackhog {} its stack 0x([0-9a-f]{{8}})-0x([0-9a-f]{{8}})"
GUEST_REPORT = r"\*\*\* FATAL stack overflow in thread stackhog \(guard page at 0x([0-9a-f]{8})\)"
STACK_BYTES = 16 * 1024  # sched_priv.h: THREAD_STACK_SIZE
CANARY_BYTES = 256  # sched.h: STACK_CANARY_BYTES
CANARY_REPORT = (r"\*\*\* FATAL stack overflow in thread stackhog: canary at 0x([0-9a-f]{8}) "
                 r"overwritten \(high-water (\d+) of (\d+) bytes\)")


def start(sh: Shell, kind: str, verb: str) -> int:
    """Run `fault KIND`; return the lowest address of stackhog's stack."""
    sh.console.send(f"fault {kind}\r")
    sh.console.expect([STACK_LINE.format(verb)], EXIT_TIMEOUT)
    return int(sh.console.child.match.group(1), 16)


def test_recursion_into_the_guard_crashes_the_domain(xen_host: Host, kernel_elf: Path) -> None:
    xen_host.check("xl dmesg -c > /dev/null")
    with domu_shell(xen_host, kernel_elf, "xguard-rec", GUEST_MIB, BOOT_TIMEOUT) as sh:
        assert sh.guest is not None
        lowest = start(sh, "stack", "recursing on")
        assert sh.guest.wait_shutdown(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {sh.log}"
        if xen_host.shim:
            # The Xen that crashes the guest is the shim's, and its console is the guest's.
            sh.console.expect([r"domain_crash_sync called from entry.S"], EXIT_TIMEOUT)
            dmesg = sh.console.before + str(sh.console.child.after)
        else:
            dmesg = xen_host.xl_dmesg()
        assert "domain_crash_sync called from entry.S" in dmesg, dmesg
        walk = re.search(r"Pagetable walk from ([0-9a-f]{8,16}):", dmesg)
        assert walk, dmesg
        addr = int(walk.group(1), 16)
        assert lowest - GUARD_BYTES <= addr < lowest, f"{addr:#x} not in the guard below {lowest:#x}"


def test_guard_fault_prints_the_overflow_report(xen_host: Host, kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "xguard-rd", GUEST_MIB, BOOT_TIMEOUT) as sh:
        assert sh.guest is not None
        lowest = start(sh, "guard", "reading below")
        sh.console.expect([GUEST_REPORT], EXIT_TIMEOUT)
        page = int(sh.console.child.match.group(1), 16)
        assert page == lowest - 4096, f"guard page {page:#x}, stack from {lowest:#x}"
        sh.console.expect([r"shutdown: crash"], EXIT_TIMEOUT)
        dump = sh.console.before
        guard = f"its guard is 0x{lowest - GUARD_BYTES:08x}-0x{lowest - 1:08x}"
        assert guard in dump, dump
        esp = re.search(r"esp ([0-9a-f]{8})", dump)
        assert esp and lowest <= int(esp.group(1), 16) < lowest + 16 * 1024, dump
        assert f"cr2 0x{lowest - 4:08x} (not present, read, kernel mode)" in dump, dump
        assert re.search(r"<fault_stack_thread\+0x[0-9a-f]+>", dump), dump
        assert sh.guest.wait_shutdown(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {sh.log}"


def test_canary_reports_a_near_overflow(xen_host: Host, kernel_elf: Path) -> None:
    with domu_shell(xen_host, kernel_elf, "xguard-canary", GUEST_MIB, BOOT_TIMEOUT) as sh:
        assert sh.guest is not None
        out = sh.run("threads")
        assert re.search(r"main\s+running\s+\d+\s+<?\d+/16384", out), out
        assert "canaries (lowest 256 bytes) intact" in out, out
        lowest = start(sh, "stackdeep", "recursing into the canary of")
        sh.console.expect([CANARY_REPORT], EXIT_TIMEOUT)
        m = sh.console.child.match
        canary, high_water, size = int(m.group(1), 16), int(m.group(2)), int(m.group(3))
        assert lowest <= canary < lowest + CANARY_BYTES, f"canary {canary:#x}, stack from {lowest:#x}"
        assert size == STACK_BYTES and high_water == lowest + STACK_BYTES - canary, m.group(0)
        sh.console.expect([r"shutdown: crash"], EXIT_TIMEOUT)
        dump = sh.console.before
        assert "stackhog at its last switch:" in dump, dump  # its backtrace, from its saved frame
        # Saved in its sleep, or (when the recursion ran whole before any switch, as seen
        # through the shim) at its exit.
        assert re.search(r"<sleep_ms\+0x[0-9a-f]+>\s+0x[0-9a-f]{8} <fault_stack_thread\+"
                         r"|<thread_exit\+0x[0-9a-f]+>\s+0x[0-9a-f]{8} <thread_start\+", dump), dump
        assert sh.guest.wait_shutdown(EXIT_TIMEOUT) is ExitReason.CRASH, f"log: {sh.log}"  # xl list -v
